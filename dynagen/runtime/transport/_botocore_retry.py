"""Deadline-aware retry waits for botocore clients: botocore sleeps its retry backoff (up to 20 s for
throttling) before any ``before-send`` hook can refuse the attempt, so the handler that decides the
sleep is wrapped here. Imported when a ``BotocoreTransport`` is made, not with the runtime.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

from dynagen._typing import TYPE_CHECKING, Any
from dynagen.errors import (
    DeadlineExceededError,
)
from dynagen.runtime.transport._bounds import current_deadline

if TYPE_CHECKING:

    from dynagen.runtime.transport._interface import Transport as Transport

__all__ = []


# --- deadline-aware retry backoff ------------------------------------------------------------

_guarded: weakref.WeakSet[Any] = weakref.WeakSet()


_guarded_lock = threading.Lock()


class _DeadlineAwareRetry:
    """Wraps botocore's standard retry handler: refuse a retry whose backoff sleep outlasts the deadline.

    ``BotocoreTransport``'s ``before-send`` hook refuses an attempt once the deadline has passed, but
    botocore sleeps its backoff (up to 20 s for throttling) *before* that hook runs. Here the sleep is
    known: if it would end past the usable time, raise now instead of sleeping into the margin.
    """

    def __init__(self, inner: Callable[..., Any]) -> None:
        self._inner = inner

    def __call__(self, **kwargs: Any) -> Any:
        delay = self._inner(**kwargs)
        deadline = current_deadline.get()
        is_delay = isinstance(delay, (int, float)) and not isinstance(delay, bool)  # False means "no retry"
        if deadline is not None and is_delay and delay >= deadline.usable():
            raise DeadlineExceededError(operation="SDK retry")
        return delay


def _refuse_after_rate_limiter(**_: Any) -> None:
    deadline = current_deadline.get()
    if deadline is not None:
        deadline.check("SDK attempt")


def guard_retry_sleep(client: Any) -> bool:
    """Make a botocore client's standard/adaptive retry waits respect ``current_deadline``.

    Replaces the client's ``retry-config`` handler on ``needs-retry`` with a wrapped one built by
    ``botocore.retries.standard.register_retry_handler`` (same max attempts), and checks the deadline
    once more on the generic ``before-send`` event: botocore runs that after the more specific
    ``before-send.dynamodb`` hook of ``BotocoreTransport`` and after the adaptive rate limiter, which
    may sleep there. Idempotent. Returns False (and changes nothing) for legacy retries or a client
    without botocore events.
    """
    events = getattr(getattr(client, "meta", None), "events", None)
    retries = getattr(getattr(client, "meta", None), "config", None)
    retries = getattr(retries, "retries", None) or {}
    if events is None or retries.get("mode") not in ("standard", "adaptive"):
        return False
    with _guarded_lock:
        if client in _guarded:
            return True
        from botocore.retries import standard  # type: ignore[import-untyped, unused-ignore]  # lazy

        name = client.meta.service_model.service_id.hyphenize()
        event, unique_id = f"needs-retry.{name}", f"retry-config-{name}"
        # register_retry_handler re-registers under the same unique_id, which would be a no-op while
        # the original is there: remove it, build ours, then swap in the wrapper.
        events.unregister(event, unique_id=unique_id)
        handler = standard.register_retry_handler(client, max_attempts=retries.get("total_max_attempts"))
        events.unregister(event, unique_id=unique_id)
        events.register(event, _DeadlineAwareRetry(handler.needs_retry), unique_id=unique_id)
        # Registered after the client's own handlers, so it runs after the rate limiter's wait.
        events.register("before-send", _refuse_after_rate_limiter, unique_id="dynagen-deadline-after-limiter")
        _guarded.add(client)
        return True

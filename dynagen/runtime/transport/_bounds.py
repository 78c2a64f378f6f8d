"""What bounds one request: the deadline (stop starting requests once too little of the Lambda's time
is left) and the largest response either transport accepts.
"""

from __future__ import annotations

import contextvars
import time

from dynagen._typing import TYPE_CHECKING, Any
from dynagen.errors import DeadlineExceededError

if TYPE_CHECKING:
    from typing import Protocol

    class LambdaContext(Protocol):
        """What the deadline needs of Lambda's context object (a protocol for type checkers only)."""

        def get_remaining_time_in_millis(self) -> int: ...


__all__ = ["DEFAULT_MARGIN", "Deadline"]

# 500 ms: one DynamoDB round trip inside a region is ~5-20 ms, but a connect timeout plus a
# retry backoff can take a few hundred; stopping half a second early leaves the handler time to
# log, return a partial result and let Lambda flush, instead of being killed mid-write.
DEFAULT_MARGIN = 0.5


class Deadline:
    """A point in (monotonic) time, minus a safety margin, after which no request may start."""

    __slots__ = ("_clock", "_expires_at", "margin")

    def __init__(self, expires_at: float, *, margin: float = DEFAULT_MARGIN, clock: Any = time.monotonic) -> None:
        if margin < 0:
            raise ValueError("margin must be >= 0")
        self._expires_at = expires_at
        self._clock = clock
        self.margin = margin

    @classmethod
    def from_seconds(cls, seconds: float, *, margin: float = DEFAULT_MARGIN, clock: Any = time.monotonic) -> Deadline:
        return cls(clock() + seconds, margin=margin, clock=clock)

    @classmethod
    def from_context(cls, context: LambdaContext, *, margin: float = DEFAULT_MARGIN, clock: Any = time.monotonic) -> Deadline:
        return cls(clock() + context.get_remaining_time_in_millis() / 1000.0, margin=margin, clock=clock)

    def remaining(self) -> float:
        """Seconds left before the hard deadline (not counting the margin); may be negative."""
        return float(self._expires_at - self._clock())

    def usable(self) -> float:
        """Seconds a request may still take: remaining time minus the margin."""
        return self.remaining() - self.margin

    def expired(self) -> bool:
        return self.usable() <= 0

    def check(self, operation: str = "", *, completed: Any = None, remaining: Any = None) -> None:
        """Raise ``DeadlineExceededError`` if no request may start now."""
        if self.usable() <= 0:
            raise DeadlineExceededError(operation=operation, completed=completed, remaining=remaining)

    def __repr__(self) -> str:
        return f"Deadline(remaining={self.remaining():.3f}s, margin={self.margin}s)"


# The largest response body either transport accepts by default. DynamoDB's largest answers are
# BatchGetItem's (up to 16 MB of item data, more as JSON: type tags, base64 for binary values);
# everything else stays near 1 MB (a Query/Scan page) or 4 MB (TransactGetItems). Twice the 16 MB
# leaves room for the JSON overhead while a hostile or broken endpoint cannot make a small Lambda
# hold hundreds of megabytes.
DEFAULT_MAX_RESPONSE_BYTES = 32 << 20


# The deadline of the call in progress on this thread/task. botocore's per-attempt hook reads it,
# so SDK-internal retries are refused too, without a client per deadline.
current_deadline: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("dynagen_deadline", default=None)

"""Retry policy of the lean transport: AWS SDK "standard" mode, as botocore implements it.

- Retryable: throttling error codes (botocore's list), transient codes and HTTP 500/502/503/504,
  HTTP 429 without a known code, ``ReplicatedWriteConflictException`` (modeled retryable), CRC32
  mismatches, and network failures under the safety rules in ``LeanTransport`` (a request that may
  have reached DynamoDB is resent only when resending cannot change the outcome).
- Delay: full jitter, ``random() * min(base * 2 ** (attempt - 1), max_backoff)``, with base 1 s for
  throttling and 25 ms otherwise (botocore's DynamoDB values), raised to ``x-amz-retry-after`` when
  the service sends one (at most 5 s above the computed delay).
- Retry quota: a token bucket of 500 shared by all calls of a transport; a retry costs 5 (throttling)
  or 14 (other errors); a success without retry gives 1 back, a success after retries gives back
  what its retry took. An empty bucket means no more retries, so an outage fails fast instead of
  multiplying load.
"""

from __future__ import annotations

import threading

from dynagen._record import Record, init
from dynagen._typing import Any
from dynagen.runtime.transport._errors import (
    THROTTLING_CODES,
    TRANSIENT_CODES,
    TRANSIENT_STATUS,
    is_throttling,
    is_transient,
)

__all__ = [
    "THROTTLING_CODES",
    "TRANSIENT_CODES",
    "TRANSIENT_STATUS",
    "RetryPolicy",
    "RetryQuota",
    "is_throttling",
    "is_transient",
]

class RetryQuota:
    """The standard-mode retry token bucket (thread-safe)."""

    __slots__ = ("_available", "_lock", "capacity")

    def __init__(self, capacity: int = 500) -> None:
        self.capacity = capacity
        self._available = capacity
        self._lock = threading.Lock()

    @property
    def available(self) -> int:
        return self._available

    def acquire(self, amount: int) -> bool:
        """Take ``amount`` for one retry; False (and nothing taken) when the bucket is too low."""
        with self._lock:
            if amount > self._available:
                return False
            self._available -= amount
            return True

    def release(self, amount: int) -> None:
        """Give capacity back after a success (never above ``capacity``)."""
        if self._available >= self.capacity:
            return  # the common case, no lock needed
        with self._lock:
            self._available = min(self.capacity, self._available + amount)


class RetryPolicy(Record):
    """How many attempts, how long to wait between them, and what a retry costs (immutable).

    ``policy.__replace__(base_delay=0.01)`` (``copy.replace`` from Python 3.13) copies it with changes.
    """

    __slots__ = (  # noqa: RUF023 - the fields' order
        "max_attempts",
        "base_delay",
        "throttling_base_delay",
        "max_backoff",
        "retry_after_max_extra",
        "retry_cost",
        "throttling_retry_cost",
        "no_retry_increment",
    )
    max_attempts: int
    base_delay: float
    throttling_base_delay: float
    max_backoff: float
    retry_after_max_extra: float
    retry_cost: int
    throttling_retry_cost: int
    no_retry_increment: int

    def __init__(
        self,
        max_attempts: int = 3,
        base_delay: float = 0.025,
        throttling_base_delay: float = 1.0,
        max_backoff: float = 20.0,
        retry_after_max_extra: float = 5.0,
        retry_cost: int = 14,
        throttling_retry_cost: int = 5,
        no_retry_increment: int = 1,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        init(self, "max_attempts", max_attempts)
        init(self, "base_delay", base_delay)
        init(self, "throttling_base_delay", throttling_base_delay)
        init(self, "max_backoff", max_backoff)
        init(self, "retry_after_max_extra", retry_after_max_extra)
        init(self, "retry_cost", retry_cost)
        init(self, "throttling_retry_cost", throttling_retry_cost)
        init(self, "no_retry_increment", no_retry_increment)

    def __replace__(self, **changes: Any) -> RetryPolicy:
        return RetryPolicy(**{**dict(zip(self.__slots__, self._fields(), strict=True)), **changes})

    def delay(self, attempt: int, *, throttled: bool, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based), full jitter."""
        base = self.throttling_base_delay if throttled else self.base_delay
        import random  # on the retry path only: keeps it out of the cold start

        delay: float = random.random() * min(base * 2.0 ** (attempt - 1), self.max_backoff)
        if retry_after is not None and retry_after >= 0:
            delay = max(delay, min(retry_after, delay + self.retry_after_max_extra))
        return delay

    def cost(self, *, throttled: bool) -> int:
        return self.throttling_retry_cost if throttled else self.retry_cost

"""Observability without dependencies: log context and optional CloudWatch Embedded Metric Format.

Log context: the partner, X-Ray trace id, AWS request id and function name of the work in progress
live in context variables (so threads and asyncio tasks each see their own). ``LogContextFilter``
copies them onto every log record as ``partner``, ``trace_id``, ``aws_request_id`` and
``function_name``, ready for a format string or a JSON formatter::

    install_log_context()                   # once, at init: adds the filter to the root handlers

    def handler(event, context):
        with invocation(context):           # request id, function name, trace id
            with bind_log_context(partner="acme"):
                ...

Metrics: ``ObservedTransport(inner)`` times every call and, when metrics are on (argument
``metrics=True`` or ``DYNAGEN_METRICS=1``; off by default), prints one EMF JSON line per call to
stdout, which CloudWatch Logs turns into metrics ``Operations``, ``Latency``, ``Throttles``,
``Retries`` and ``Errors`` (dimension ``Operation``). Only operation and table names, timings,
counts and error codes are ever logged: never credentials, keys or item contents.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
import threading
import time
from contextlib import contextmanager

from dynagen._typing import TYPE_CHECKING, Any
from dynagen.runtime.aws_lambda._context import current_partner
from dynagen.runtime.aws_lambda._environment import current_trace_id
from dynagen.runtime.transport._errors import THROTTLING_CODES  # the transports' list: metrics count what they retry

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from typing import TextIO

    from dynagen.runtime.transport._bounds import Deadline
    from dynagen.runtime.transport._interface import Transport

__all__ = [
    "LOG_CONTEXT_FIELDS",
    "THROTTLING_CODES",
    "EmfEmitter",
    "LogContextFilter",
    "ObservedTransport",
    "bind_log_context",
    "current_aws_request_id",
    "current_function_name",
    "current_partner",
    "current_trace_id_var",
    "install_log_context",
    "invocation",
    "log_context",
    "metrics_enabled",
    "record_attempt",
]

logger = logging.getLogger("dynagen.runtime")

current_trace_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("dynagen_trace_id", default=None)
current_aws_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "dynagen_aws_request_id", default=None
)
current_function_name: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "dynagen_function_name", default=None
)

LOG_CONTEXT_FIELDS = ("partner", "trace_id", "aws_request_id", "function_name")



def log_context() -> dict[str, str | None]:
    """The current log context; the trace id falls back to ``_X_AMZN_TRACE_ID``, read now."""
    return {
        "partner": current_partner.get() or None,
        "trace_id": current_trace_id_var.get() or current_trace_id(),
        "aws_request_id": current_aws_request_id.get(),
        "function_name": current_function_name.get() or os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or None,
    }


@contextmanager
def bind_log_context(
    *,
    partner: str | None = None,
    trace_id: str | None = None,
    aws_request_id: str | None = None,
    function_name: str | None = None,
) -> Iterator[None]:
    """Set the given fields (None leaves a field as it is) for the duration of the block."""
    pairs: list[tuple[contextvars.ContextVar[Any], str | None]] = [
        (current_partner, partner),
        (current_trace_id_var, trace_id),
        (current_aws_request_id, aws_request_id),
        (current_function_name, function_name),
    ]
    tokens = [(var, var.set(value)) for var, value in pairs if value is not None]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


@contextmanager
def invocation(context: Any = None) -> Iterator[None]:
    """Bind one Lambda invocation: request id and function name from ``context``, trace id from the env."""
    with bind_log_context(
        trace_id=current_trace_id(),
        aws_request_id=getattr(context, "aws_request_id", None),
        function_name=getattr(context, "function_name", None),
    ):
        yield


class LogContextFilter(logging.Filter):
    """Adds ``partner``, ``trace_id``, ``aws_request_id``, ``function_name`` to each record.

    A field the record already has (the Lambda runtime sets ``aws_request_id`` itself) is kept.
    Never filters anything out.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in log_context().items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


def install_log_context(target: logging.Logger | logging.Handler | None = None) -> LogContextFilter:
    """Add a ``LogContextFilter`` to a handler, to a logger and its handlers, or (None) to the root logger's.

    Filters on a logger only see records logged on that very logger, so handlers are where it belongs.
    Installing twice is harmless (one filter per target).
    """
    targets: list[logging.Logger | logging.Handler]
    if target is None:
        root = logging.getLogger()
        targets = [root, *root.handlers]
    elif isinstance(target, logging.Logger):
        targets = [target, *target.handlers]
    else:
        targets = [target]
    installed = LogContextFilter()
    for item in targets:
        existing = next((f for f in item.filters if isinstance(f, LogContextFilter)), None)
        if existing is None:
            item.addFilter(installed)
    return installed


def metrics_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """True when ``DYNAGEN_METRICS`` is 1/true/yes/on."""
    env = os.environ if environ is None else environ
    return env.get("DYNAGEN_METRICS", "").strip().lower() in ("1", "true", "yes", "on")


class EmfEmitter:
    """Writes CloudWatch Embedded Metric Format lines (one JSON object per line) to a stream."""

    def __init__(
        self,
        *,
        namespace: str = "dynagen",
        dimensions: Sequence[Sequence[str]] = (("Operation",),),
        stream: TextIO | None = None,
        clock: Any = time.time,
    ) -> None:
        self.namespace = namespace
        self.dimensions = [list(d) for d in dimensions]
        self._stream = stream
        self._clock = clock
        self._lock = threading.Lock()

    def line(
        self,
        operation: str,
        *,
        latency_ms: float,
        throttles: int = 0,
        retries: int = 0,
        errors: int = 0,
        properties: Mapping[str, str | int | float | None] | None = None,
    ) -> str:
        """The EMF JSON line for one call (without the newline)."""
        record: dict[str, Any] = {
            "_aws": {
                "Timestamp": int(self._clock() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": self.dimensions,
                        "Metrics": [
                            {"Name": "Operations", "Unit": "Count"},
                            {"Name": "Latency", "Unit": "Milliseconds"},
                            {"Name": "Throttles", "Unit": "Count"},
                            {"Name": "Retries", "Unit": "Count"},
                            {"Name": "Errors", "Unit": "Count"},
                        ],
                    }
                ],
            },
        }
        # Properties first, so a property can never overwrite a metric or the dimension value.
        for key, value in (properties or {}).items():
            if value is not None:
                record[key] = value
        record.update(
            {
                "Operation": operation,
                "Operations": 1,
                "Latency": round(latency_ms, 3),
                "Throttles": throttles,
                "Retries": retries,
                "Errors": errors,
            }
        )
        return json.dumps(record, separators=(",", ":"))

    def emit(self, operation: str, **kwargs: Any) -> str:
        """Write one EMF line (see ``line``) and return it."""
        text = self.line(operation, **kwargs)
        stream = self._stream if self._stream is not None else sys.stdout  # looked up now: may be redirected
        with self._lock:  # one whole line at a time, even from many threads
            stream.write(text + "\n")
            stream.flush()
        return text


class _Attempts:
    __slots__ = ("attempts", "throttles")

    def __init__(self) -> None:
        self.attempts = 0
        self.throttles = 0


_attempts: contextvars.ContextVar[_Attempts | None] = contextvars.ContextVar("dynagen_attempts", default=None)


def record_attempt(*, throttled: bool = False) -> None:
    """Count one HTTP attempt of the observed call in progress (transports call this per attempt)."""
    stats = _attempts.get()
    if stats is not None:
        stats.attempts += 1
        if throttled:
            stats.throttles += 1


def _on_botocore_attempt(response: Any = None, caught_exception: Any = None, **_: Any) -> None:
    # botocore's needs-retry event fires after every attempt, successful or not.
    if caught_exception is not None and type(caught_exception).__name__ == "DeadlineExceededError":
        return  # refused by the deadline guard before sending: not an attempt
    code = None
    if isinstance(response, tuple) and len(response) == 2 and isinstance(response[1], dict):
        code = (response[1].get("Error") or {}).get("Code")
    record_attempt(throttled=code in THROTTLING_CODES)


def _error_code(exc: BaseException) -> str:
    code = getattr(exc, "code", None)  # dynagen ServiceError
    if isinstance(code, str) and code:
        return code
    response = getattr(exc, "response", None) or getattr(exc.__cause__, "response", None)
    if isinstance(response, dict):
        error_code = (response.get("Error") or {}).get("Code")
        if isinstance(error_code, str) and error_code:
            return error_code
    return type(exc).__name__


class ObservedTransport:
    """A Transport that times each call of ``inner``, logs it at DEBUG and optionally emits EMF metrics.

    With a botocore-backed inner transport, every HTTP attempt is counted through botocore's
    ``needs-retry`` event, so retries and throttled attempts that were retried away show up too.
    Other transports report attempts with ``record_attempt()``.
    """

    __slots__ = ("_emitter", "inner", "metrics")

    def __init__(self, inner: Transport, *, metrics: bool | None = None, emitter: EmfEmitter | None = None) -> None:
        self.inner = inner
        self.metrics = metrics_enabled() if metrics is None else metrics
        self._emitter = emitter or EmfEmitter()
        events = getattr(getattr(getattr(inner, "client", None), "meta", None), "events", None)
        if events is not None:
            # First among the dynamodb handlers, so it sees an attempt even if a later handler raises.
            events.register_first("needs-retry.dynamodb", _on_botocore_attempt, unique_id="dynagen-observe-attempts")

    def call(self, operation: str, request: Mapping[str, Any], *, deadline: Deadline | None = None) -> dict[str, Any]:
        """Forward to ``inner``, timing the call; errors are re-raised unchanged."""
        stats = _Attempts()
        token = _attempts.set(stats)
        error: BaseException | None = None
        start = time.perf_counter()
        try:
            return self.inner.call(operation, request, deadline=deadline)
        except BaseException as exc:
            error = exc
            raise
        finally:
            latency_ms = (time.perf_counter() - start) * 1000.0
            _attempts.reset(token)
            self._report(operation, request, latency_ms, stats, error)

    def _report(
        self,
        operation: str,
        request: Mapping[str, Any],
        latency_ms: float,
        stats: _Attempts,
        error: BaseException | None,
    ) -> None:
        code = _error_code(error) if error is not None else None
        throttles = stats.throttles
        if code in THROTTLING_CODES and throttles == 0:
            throttles = 1  # the transport did not report attempts, but the call ended throttled
        retries = max(stats.attempts - 1, 0)
        table = request.get("TableName")
        table = table if isinstance(table, str) else None
        logger.debug(
            "dynagen %s table=%s %.1f ms attempts=%d throttles=%d outcome=%s",
            operation,
            table,
            latency_ms,
            stats.attempts,
            throttles,
            code or "ok",
        )
        if not self.metrics:
            return
        context = log_context()
        try:
            self._emitter.emit(
                operation,
                latency_ms=latency_ms,
                throttles=throttles,
                retries=retries,
                errors=1 if error is not None else 0,
                properties={
                    "TableName": table,
                    "Outcome": code or "ok",
                    "Attempts": stats.attempts,
                    "Partner": context["partner"],
                    "TraceId": context["trace_id"],
                    "RequestId": context["aws_request_id"],
                },
            )
        except (OSError, ValueError):
            # A closed or broken stdout must never fail the caller's request.
            logger.debug("dynagen: could not write an EMF line", exc_info=True)

    def __repr__(self) -> str:
        return f"ObservedTransport({self.inner!r}, metrics={self.metrics})"

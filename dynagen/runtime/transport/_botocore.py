"""``BotocoreTransport``: a botocore/boto3 DynamoDB client behind the ``Transport`` interface.

It takes an operation name (``"GetItem"``) and a wire-format request (the low-level client's
``{"S": ...}`` shapes, as keyword arguments of that call) and returns the wire-format response.
Service answers and network failures become the dynagen errors the lean transport raises for the
same event; the deadline bounds every attempt, SDK retries included (``_botocore_retry``).
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping

from dynagen._typing import TYPE_CHECKING, Any, cast
from dynagen.errors import (
    DynagenError,
    InvalidValueError,
    ServiceError,
    ThrottlingError,
    TransportError,
)
from dynagen.runtime.transport._bounds import DEFAULT_MAX_RESPONSE_BYTES, Deadline, current_deadline
from dynagen.runtime.transport._errors import is_throttling, is_transient, map_dynamodb_error

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from dynagen.runtime.transport._interface import Transport as Transport

__all__ = ["BotocoreTransport", "as_transport", "map_botocore_error"]


_OPERATION_METHODS = {
    "BatchGetItem": "batch_get_item",
    "BatchWriteItem": "batch_write_item",
    "CreateTable": "create_table",
    "DeleteItem": "delete_item",
    "DeleteTable": "delete_table",
    "DescribeTable": "describe_table",
    "DescribeTimeToLive": "describe_time_to_live",
    "GetItem": "get_item",
    "ListTables": "list_tables",
    "PutItem": "put_item",
    "Query": "query",
    "Scan": "scan",
    "TransactGetItems": "transact_get_items",
    "TransactWriteItems": "transact_write_items",
    "UpdateItem": "update_item",
    "UpdateTimeToLive": "update_time_to_live",
}


def _refuse_late_attempt(**_: Any) -> None:
    # On the generic before-send event, registered after the client's own handlers, so it also runs
    # after the adaptive retry mode's rate limiter has waited.
    deadline = current_deadline.get()
    if deadline is not None:
        deadline.check("SDK attempt")


class BotocoreTransport:
    """Wraps a low-level botocore/boto3 DynamoDB client (yours or one from the client cache).

    ``max_response_bytes`` caps every response body of the client (default 32 MiB; None: no cap),
    enforced before the body is read whole (see ``dynagen.runtime.transport._botocore_guard``): it applies to
    the client itself, also when called directly; the latest transport over a client sets it.
    """

    __slots__ = ("_parse_state", "client")

    def __init__(self, client: DynamoDBClient, *, max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES) -> None:
        if max_response_bytes is not None and max_response_bytes < 1:
            raise InvalidValueError("max_response_bytes", f"must be >= 1, got {max_response_bytes}")
        self.client = client
        # Registered once per client: unique_id makes a second registration a no-op.
        client.meta.events.register("before-send", _refuse_late_attempt, unique_id="dynagen-deadline")
        # botocore sleeps its retry backoff before before-send fires: keep that sleep inside the deadline.
        from dynagen.runtime.transport._botocore_retry import guard_retry_sleep

        guard_retry_sleep(client)
        # Set when the client's responses are guarded: the flag telling parser failures apart.
        self._parse_state: contextvars.ContextVar[list[bool] | None] | None = None
        if hasattr(client, "_endpoint"):  # a real botocore client (tests may pass stand-ins)
            from dynagen.runtime.transport import _botocore_guard

            if _botocore_guard.install(client, max_response_bytes):
                self._parse_state = _botocore_guard.parse_state

    def call(self, operation: str, request: Mapping[str, Any], *, deadline: Deadline | None = None) -> dict[str, Any]:
        method = getattr(self.client, _OPERATION_METHODS.get(operation) or _snake(operation))
        token = current_deadline.set(deadline)
        parse_state = self._parse_state
        parsing = [False]
        parse_token = parse_state.set(parsing) if parse_state is not None else None
        try:
            if deadline is not None:
                deadline.check(operation)
            response: dict[str, Any] = method(**request)
        except Exception as exc:
            if parsing[0] and not isinstance(exc, DynagenError):
                # botocore's parser failed on the body (wrong shapes, bad UTF-8, nesting): a damaged response.
                raise TransportError(f"{operation}: unreadable response: {type(exc).__name__}: {exc}") from exc
            mapped = map_botocore_error(exc)
            if mapped is None:
                raise
            raise mapped from exc
        finally:
            current_deadline.reset(token)
            if parse_state is not None and parse_token is not None:
                parse_state.reset(parse_token)
        response.pop("ResponseMetadata", None)
        return response

    def __repr__(self) -> str:
        return f"BotocoreTransport({self.client.meta.region_name!r}, {self.client.meta.endpoint_url!r})"


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def map_botocore_error(exc: BaseException) -> DynagenError | None:
    """The dynagen error for a botocore exception, or None to re-raise it unchanged.

    Service answers and network failures become the errors the lean transport raises for the same
    event (``ServiceError``/``ThrottlingError``, ``TransportError``), with botocore's exception as
    ``__cause__``; the rest (bad parameters, missing credentials) is re-raised as botocore raised it.
    """
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return _map_botocore_failure(exc)
    error = response.get("Error") or {}
    code, message = str(error.get("Code", "")), str(error.get("Message", ""))
    mapped = map_dynamodb_error(code, message, response)
    if mapped is not None:
        return mapped
    metadata = response.get("ResponseMetadata") or {}
    status = int(metadata.get("HTTPStatusCode") or 0)
    throttled = is_throttling(code, status)
    cls = ThrottlingError if throttled else ServiceError
    return cls(
        code,
        message,
        status=status,
        retryable=throttled or is_transient(code, status),
        request_id=str(metadata.get("RequestId", "")),
    )


def _map_botocore_failure(exc: BaseException) -> DynagenError | None:
    if not any(cls.__module__.startswith("botocore") for cls in type(exc).__mro__):
        return None
    from botocore.exceptions import ConnectionError as BotocoreConnectionError  # type: ignore[import-untyped, unused-ignore]
    from botocore.exceptions import HTTPClientError  # type: ignore[import-untyped, unused-ignore]

    if isinstance(exc, BotocoreConnectionError | HTTPClientError):  # refused, reset, timed out, closed
        return TransportError(f"{type(exc).__name__}: {exc}")
    return None


def as_transport(client: Any) -> Transport:
    """Accept either a transport or a low-level botocore client."""
    # What isinstance() against the runtime-checkable Protocol checks, without its ~10 us on
    # Python 3.11: this runs on every repository created in a warm invocation.
    if callable(getattr(type(client), "call", None)):
        return cast("Transport", client)
    if callable(getattr(client, "call", None)):  # a transport whose ``call`` is set on the instance
        return cast("Transport", client)
    if hasattr(client, "meta") and hasattr(client, "get_item"):
        return BotocoreTransport(client)
    raise TypeError(f"expected a DynamoDB low-level client or a dynagen Transport, got {type(client).__name__}")



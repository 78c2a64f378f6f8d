"""Parsing DynamoDB error responses for the lean transport.

The mapping of codes to ``dynagen.errors`` lives in ``dynagen.runtime.transport._errors.map_dynamodb_error``,
shared with the botocore transport. It takes the error code, message and the parsed response (botocore's
``ClientError.response``, or the lean transport's decoded error body: both carry ``Item`` and
``CancellationReasons`` at the top level, with bytes for binary values), so the botocore transport
and the lean transport raise the same errors for the same responses.
"""

from __future__ import annotations

from dynagen._typing import TYPE_CHECKING, Any
from dynagen.errors import DynagenError, ServiceError, ThrottlingError
from dynagen.runtime.transport._errors import map_dynamodb_error

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["error_code_and_message", "map_dynamodb_error", "service_error"]


def error_code_and_message(status: int, body: Mapping[str, Any], error_type_header: str | None) -> tuple[str, str]:
    """The error code and message of a JSON 1.0 error response, parsed as botocore parses them.

    ``__type`` looks like ``com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException``; the
    code is what follows ``#`` (and precedes any ``:``). Without one, ``x-amzn-ErrorType``, then the
    HTTP status, stand in.
    """
    raw = body.get("__type")
    if not isinstance(raw, str) or not raw:  # absent, or not even text in a malformed body
        raw = error_type_header or str(status)
    code = raw.split(":", 1)[0].rsplit("#", 1)[-1]
    message = body.get("message", body.get("Message", ""))
    return code, message if isinstance(message, str) else ""


def service_error(
    code: str,
    message: str,
    response: Mapping[str, Any],
    *,
    status: int,
    request_id: str,
    retryable: bool,
    throttled: bool,
) -> DynagenError:
    """The dynagen error to raise for a final (not or no longer retried) error response."""
    mapped = map_dynamodb_error(code, message, response)
    if mapped is not None:
        return mapped
    cls = ThrottlingError if throttled else ServiceError
    return cls(code, message, status=status, retryable=retryable, request_id=request_id)

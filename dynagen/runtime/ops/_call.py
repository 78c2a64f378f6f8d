"""Sending one request within a deadline, and what every wire-level operation shares.

Every operation of this folder is stateless, takes a ``Transport`` first and works on wire-format
items (``{"S": ...}`` shapes). With ``deadline=``, no request starts once the deadline's usable time
is gone; a multi-request call stopped that way raises ``DeadlineExceededError`` whose ``completed``
and ``remaining`` say what was done and where to resume (see each function).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dynagen._typing import TYPE_CHECKING, Any, TypeVar
from dynagen.errors import DeadlineExceededError, InvalidValueError, ServiceError
from dynagen.runtime.transport._bounds import Deadline
from dynagen.runtime.wire._expressions import (
    Condition,
    Placeholders,
)

if TYPE_CHECKING:
    from dynagen.runtime.transport._interface import Transport

__all__ = ["add_condition", "call", "check_key", "error_code", "finish"]

T = TypeVar("T")
U = TypeVar("U")


# --------------------------------------------------------------------------------------------------
# Shared plumbing


def call(
    transport: Transport,
    operation: str,
    request: Mapping[str, Any],
    deadline: Deadline | None,
    progress: Callable[[], tuple[Any, Any]] | None = None,
) -> dict[str, Any]:
    """Send one request, refusing to start it once ``deadline`` has passed.

    ``progress`` returns ``(completed, remaining)`` of the multi-step call in progress; it is only
    called when the deadline stops the call, and its answer goes into the ``DeadlineExceededError``.
    The transport checks the deadline again (and before SDK retries); its refusal gets the same
    progress report.
    """
    if deadline is not None and deadline.expired():
        completed, remaining = progress() if progress is not None else (None, None)
        raise DeadlineExceededError(operation=operation, completed=completed, remaining=remaining)
    try:
        return transport.call(operation, request, deadline=deadline)
    except DeadlineExceededError as exc:
        if progress is None or exc.completed is not None or exc.remaining is not None:
            raise
        completed, remaining = progress()
        raise DeadlineExceededError(operation=operation, completed=completed, remaining=remaining) from exc


def error_code(exc: BaseException) -> str:
    """The AWS error code of an exception from either transport (``""`` when it has none)."""
    if isinstance(exc, ServiceError):
        return exc.code
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error")
        if isinstance(error, dict):
            return str(error.get("Code", ""))
    return ""


def add_condition(request: dict[str, Any], condition: Condition | None, placeholders: Placeholders) -> None:
    if condition is not None:
        request["ConditionExpression"] = condition.render(placeholders)
        # The current item comes back inside ConditionFailedError.item.
        request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"


def finish(request: dict[str, Any], placeholders: Placeholders) -> dict[str, Any]:
    request.update(placeholders.expression_attributes())
    return request


def check_key(key: Mapping[str, Any], field_name: str = "key") -> dict[str, Any]:
    if not isinstance(key, Mapping) or not key:
        raise InvalidValueError(field_name, "a key is a non-empty mapping of wire-format attribute values")
    return dict(key)


# --------------------------------------------------------------------------------------------------
# Single items


# --------------------------------------------------------------------------------------------------
# Queries and scans


# --------------------------------------------------------------------------------------------------
# Tables



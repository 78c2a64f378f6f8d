"""TransactWriteItems and TransactGetItems from small immutable action objects.

Every write action asks for ``ReturnValuesOnConditionCheckFailure=ALL_OLD``, so a cancelled
transaction's ``TransactionCanceledError.reasons[i].item`` holds the stored item that failed
action ``i``'s condition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dynagen._typing import TYPE_CHECKING, Any
from dynagen.errors import InvalidValueError
from dynagen.runtime.ops._call import call
from dynagen.runtime.transport._bounds import Deadline
from dynagen.runtime.wire._expressions import AttributePath, Condition, Item, Placeholders, Update
from dynagen.runtime.wire._expressions import projection as render_projection

if TYPE_CHECKING:
    from dynagen.runtime.transport._interface import Transport

__all__ = [
    "MAX_TRANSACT_ITEMS",
    "TransactAction",
    "TransactConditionCheck",
    "TransactDelete",
    "TransactGet",
    "TransactPut",
    "TransactUpdate",
    "transact_get",
    "transact_write",
]

MAX_TRANSACT_ITEMS = 100


def _with_condition(body: dict[str, Any], condition: Condition | None, placeholders: Placeholders) -> dict[str, Any]:
    if condition is not None:
        body["ConditionExpression"] = condition.render(placeholders)
    body.update(placeholders.expression_attributes())
    body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return body


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not value:
        raise InvalidValueError(what, "expected a non-empty mapping of wire-format attribute values")
    return dict(value)


@dataclass(frozen=True)
class TransactPut:
    """Put ``item`` (optionally only if ``condition`` holds)."""

    table: str
    item: Mapping[str, Any]
    condition: Condition | None = None

    def to_wire(self) -> dict[str, Any]:
        """The ``TransactItems`` entry."""
        body = {"TableName": self.table, "Item": _mapping(self.item, "item")}
        return {"Put": _with_condition(body, self.condition, Placeholders())}


@dataclass(frozen=True)
class TransactUpdate:
    """Apply ``update`` to the item under ``key`` (optionally only if ``condition`` holds)."""

    table: str
    key: Mapping[str, Any]
    update: Update
    condition: Condition | None = None

    def to_wire(self) -> dict[str, Any]:
        """The ``TransactItems`` entry."""
        placeholders = Placeholders()
        body = {
            "TableName": self.table,
            "Key": _mapping(self.key, "key"),
            "UpdateExpression": self.update.render(placeholders),
        }
        return {"Update": _with_condition(body, self.condition, placeholders)}


@dataclass(frozen=True)
class TransactDelete:
    """Delete the item under ``key`` (optionally only if ``condition`` holds)."""

    table: str
    key: Mapping[str, Any]
    condition: Condition | None = None

    def to_wire(self) -> dict[str, Any]:
        """The ``TransactItems`` entry."""
        body = {"TableName": self.table, "Key": _mapping(self.key, "key")}
        return {"Delete": _with_condition(body, self.condition, Placeholders())}


@dataclass(frozen=True)
class TransactConditionCheck:
    """Write nothing, but cancel the transaction unless ``condition`` holds on the item under ``key``."""

    table: str
    key: Mapping[str, Any]
    condition: Condition

    def to_wire(self) -> dict[str, Any]:
        """The ``TransactItems`` entry."""
        placeholders = Placeholders()
        body = {
            "TableName": self.table,
            "Key": _mapping(self.key, "key"),
            "ConditionExpression": self.condition.render(placeholders),
        }
        body.update(placeholders.expression_attributes())
        body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {"ConditionCheck": body}


TransactAction = TransactPut | TransactUpdate | TransactDelete | TransactConditionCheck


@dataclass(frozen=True)
class TransactGet:
    """Read the item under ``key``, optionally only the ``projection`` attributes."""

    table: str
    key: Mapping[str, Any]
    projection: Sequence[AttributePath] | None = None

    def to_wire(self) -> dict[str, Any]:
        """The ``TransactItems`` entry."""
        body: dict[str, Any] = {"TableName": self.table, "Key": _mapping(self.key, "key")}
        if self.projection is not None:
            placeholders = Placeholders()
            body["ProjectionExpression"] = render_projection(self.projection, placeholders)
            body.update(placeholders.expression_attributes())
        return {"Get": body}


def _check_count(actions: Sequence[Any], what: str) -> None:
    if not 1 <= len(actions) <= MAX_TRANSACT_ITEMS:
        raise InvalidValueError(what, f"a transaction holds 1 to {MAX_TRANSACT_ITEMS} actions, got {len(actions)}")


def transact_write(
    transport: Transport,
    actions: Sequence[TransactAction],
    *,
    client_token: str | None = None,
    deadline: Deadline | None = None,
) -> None:
    """Apply 1 to 100 actions atomically.

    A cancelled transaction raises ``TransactionCanceledError`` with one reason per action, in order
    (``code`` ``"None"`` for actions that were fine, ``"ConditionalCheckFailed"`` with the stored item
    for a failed condition). ``client_token`` makes retries idempotent for 10 minutes.
    """
    actions = list(actions)
    _check_count(actions, "actions")
    request: dict[str, Any] = {"TransactItems": [action.to_wire() for action in actions]}
    if client_token is not None:
        request["ClientRequestToken"] = client_token
    call(transport, "TransactWriteItems", request, deadline)


def transact_get(
    transport: Transport,
    gets: Sequence[TransactGet],
    *,
    deadline: Deadline | None = None,
) -> list[Item | None]:
    """Read 1 to 100 items as one consistent snapshot; ``None`` where no item exists, in request order."""
    gets = list(gets)
    _check_count(gets, "gets")
    response = call(transport, "TransactGetItems", {"TransactItems": [g.to_wire() for g in gets]}, deadline)
    # DynamoDB answers one entry per get, in order; an entry without "Item" is a miss.
    return [entry.get("Item") or None for entry in response.get("Responses") or [{} for _ in gets]]

"""Single items: GetItem, PutItem, UpdateItem and DeleteItem on wire-format keys and items.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dynagen._typing import TYPE_CHECKING, Any, TypeVar
from dynagen.runtime.ops._call import add_condition, call, check_key, finish
from dynagen.runtime.transport._bounds import Deadline
from dynagen.runtime.wire._expressions import (
    AttributePath,
    AttributeValue,
    Condition,
    Item,
    Placeholders,
    Update,
)
from dynagen.runtime.wire._expressions import projection as render_projection

if TYPE_CHECKING:
    from dynagen.runtime.transport._interface import Transport

__all__ = ["delete_item", "get_item", "put_item", "update_item"]

T = TypeVar("T")
U = TypeVar("U")


# --------------------------------------------------------------------------------------------------
# Shared plumbing


# --------------------------------------------------------------------------------------------------
# Single items


def get_item(
    transport: Transport,
    table: str,
    key: Mapping[str, AttributeValue],
    *,
    consistent: bool = False,
    projection: Sequence[AttributePath] | None = None,
    deadline: Deadline | None = None,
) -> Item | None:
    """The item under ``key``, or None when there is none."""
    placeholders = Placeholders()
    request: dict[str, Any] = {"TableName": table, "Key": check_key(key)}
    if consistent:
        request["ConsistentRead"] = True
    if projection is not None:
        request["ProjectionExpression"] = render_projection(projection, placeholders)
    response = call(transport, "GetItem", finish(request, placeholders), deadline)
    item: Item | None = response.get("Item")
    return item


def put_item(
    transport: Transport,
    table: str,
    item: Mapping[str, AttributeValue],
    *,
    condition: Condition | None = None,
    return_old: bool = False,
    deadline: Deadline | None = None,
) -> Item | None:
    """Write ``item`` whole; a failed ``condition`` raises ``ConditionFailedError`` carrying the stored item.

    With ``return_old``, return the item it replaced (None when there was none).
    """
    placeholders = Placeholders()
    request: dict[str, Any] = {"TableName": table, "Item": check_key(item, "item")}
    if return_old:
        request["ReturnValues"] = "ALL_OLD"
    add_condition(request, condition, placeholders)
    response = call(transport, "PutItem", finish(request, placeholders), deadline)
    old: Item | None = response.get("Attributes") if return_old else None
    return old


def update_item(
    transport: Transport,
    table: str,
    key: Mapping[str, AttributeValue],
    update: Update,
    *,
    condition: Condition | None = None,
    deadline: Deadline | None = None,
) -> Item:
    """Apply ``update`` to the item under ``key`` (creating it if missing, as DynamoDB does) and return the new item.

    Use ``condition=Field(pk).exists()`` to refuse creating a missing item.
    """
    placeholders = Placeholders()
    request: dict[str, Any] = {
        "TableName": table,
        "Key": check_key(key),
        "UpdateExpression": update.render(placeholders),
        "ReturnValues": "ALL_NEW",
    }
    add_condition(request, condition, placeholders)
    response = call(transport, "UpdateItem", finish(request, placeholders), deadline)
    attributes: Item = response.get("Attributes") or {}
    return attributes


def delete_item(
    transport: Transport,
    table: str,
    key: Mapping[str, AttributeValue],
    *,
    condition: Condition | None = None,
    return_old: bool = False,
    deadline: Deadline | None = None,
) -> Item | None:
    """Delete the item under ``key`` (no error when missing); with ``return_old``, return what was deleted."""
    placeholders = Placeholders()
    request: dict[str, Any] = {"TableName": table, "Key": check_key(key)}
    if return_old:
        request["ReturnValues"] = "ALL_OLD"
    add_condition(request, condition, placeholders)
    response = call(transport, "DeleteItem", finish(request, placeholders), deadline)
    old: Item | None = response.get("Attributes") if return_old else None
    return old


# --------------------------------------------------------------------------------------------------
# Queries and scans


# --------------------------------------------------------------------------------------------------
# Tables



"""The state and checks every repository operation shares (``RepositoryBase``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from dynagen._typing import TYPE_CHECKING, Any, Generic, TypeVar, cast
from dynagen.errors import (
    InvalidValueError,
    ItemDecodeError,
)
from dynagen.runtime import ops
from dynagen.runtime.ops._reads import Page
from dynagen.runtime.repository._checks import check_info, known_attributes, unknown_attribute
from dynagen.runtime.repository._key_range import Keep
from dynagen.runtime.repository._model import M, ModelInfo, utc_now
from dynagen.runtime.transport._bounds import Deadline
from dynagen.runtime.wire._checks import check_item
from dynagen.runtime.wire._expressions import (
    Condition,
    Field,
    SortCondition,
    format_path,
)

if TYPE_CHECKING:
    from typing import ClassVar, Self

    from mypy_boto3_dynamodb import DynamoDBClient

    from dynagen.runtime.transport._interface import Transport
    from dynagen.runtime.wire._expressions import Item
    from dynagen.runtime.wire._types import AttributeValue


__all__ = ["RepositoryBase", "decode_all", "stored_nulls"]

U = TypeVar("U")

def decode_all(page: Page[Item], decode: Callable[[Mapping[str, Any]], U]) -> Page[U]:
    """Every item of ``page`` decoded; items that cannot be are reported together, never dropped unseen.

    One undecodable item (written by another tool, or by an older schema) does not hide the rest:
    ``ItemDecodeError`` carries the page of every item that did decode (with the cursor past the
    whole page, to go on from) and each failure with its stored item.
    """
    decoded: list[U] = []
    failures: list[tuple[Item, InvalidValueError]] = []
    for item in page.items:
        try:
            decoded.append(decode(item))
        except InvalidValueError as exc:
            failures.append((item, exc))
    result = Page(decoded, page.cursor, len(decoded), page.scanned_count)
    if failures:
        raise ItemDecodeError(result, failures)
    return result


def _as_transport(client: Any) -> Transport:
    from dynagen.runtime.transport._botocore import as_transport

    return as_transport(client)


def stored_nulls(stored: Mapping[str, Any] | None, attributes: Iterable[str | None]) -> frozenset[str]:
    """Which of ``attributes`` the ``stored`` item holds as NULL (a set stored empty, which ADD/DELETE refuse)."""
    if stored is None:
        return frozenset()
    return frozenset(a for a in attributes if a is not None and stored.get(a) == {"NULL": True})


class RepositoryBase(Generic[M]):
    """What every repository operation shares: the transport, table and deadline, decoding, the checks
    of names and values, and lifecycle stamps. ``Repository`` adds the operations, one concern a class."""

    __slots__ = ("deadline", "table_name", "transport")
    model: ClassVar[ModelInfo[Any]]
    clock: ClassVar[Callable[[], datetime]] = staticmethod(utc_now)

    def __init__(
        self, client: DynamoDBClient | Transport, *, table_name: str | None = None, deadline: Deadline | None = None
    ) -> None:
        # A transport as it is (the common case, checked inline); a botocore client through as_transport,
        # whose module (the botocore transport) a lean function then never loads.
        self.transport: Transport = client if callable(getattr(type(client), "call", None)) else _as_transport(client)
        name = table_name if table_name is not None else self.model.table
        if not isinstance(name, str) or not 3 <= len(name) <= 255:
            raise InvalidValueError("table_name", f"table names are 3 to 255 characters, got {name!r}")
        self.table_name: str = name
        self.deadline: Deadline | None = deadline

    def with_deadline(self, deadline: Deadline | None) -> Self:
        """A copy bound to ``deadline``: no request starts once too little time is left."""
        clone = object.__new__(type(self))
        clone.transport = self.transport
        clone.table_name = self.table_name
        clone.deadline = deadline
        return clone

    def __repr__(self) -> str:
        return f"{type(self).__name__}(table_name={self.table_name!r}, transport={self.transport!r})"

    def _decode(self, item: Mapping[str, Any]) -> M:
        info = self.model
        if info.entity_attribute is not None:
            stored = item.get(info.entity_attribute)
            if stored != {"S": info.entity}:
                got = stored.get("S") if isinstance(stored, Mapping) else stored
                raise InvalidValueError(
                    info.entity_attribute, f"item is a {got!r}, not a {info.entity!r} ({info.name})"
                )
        return cast("M", info.from_item(item))

    def _known(self, condition: Condition | None, what: str) -> Condition | None:
        """``condition``, once every attribute it names is one of this model's (else ``InvalidValueError``).

        Only the first segment of a path is checked (``address.city``: ``address``); nested names are data.
        """
        if condition is None:
            return None
        if not isinstance(condition, Condition):
            raise InvalidValueError(what, f"expected a Condition, got {type(condition).__name__}")
        info = self.model
        known = known_attributes(info)
        for segments in condition.attribute_paths():
            name = segments[0]
            if name not in known:
                raise InvalidValueError(
                    format_path(segments),
                    f"{what} names {name!r}, which {info.name} does not have: {unknown_attribute(info, str(name), known)}",
                )
        return condition

    def _projected_only(self, condition: Condition, index: str) -> None:
        """Refuse a filter on an attribute ``index`` does not hold (DynamoDB answers a ValidationException)."""
        info = self.model
        held = set(info.key_attributes(index)) | set(info.projected[index])
        for segments in (self._known(condition, "filter") or condition).attribute_paths():
            if segments[0] not in held:
                what = "only its keys" if not info.projected[index] else "its keys and " + ", ".join(info.projected[index])
                raise InvalidValueError(
                    format_path(segments),
                    f"filter names {segments[0]!r}, which index {index} does not hold ({what}): filter the results "
                    "in Python, or project the attribute",
                )

    def _entity_filter(self, condition: Condition | None) -> Condition | None:
        info = self.model
        condition = self._known(condition, "filter")
        if info.entity_attribute is None:
            return condition
        mine = Field(info.entity_attribute).eq({"S": info.entity})
        return mine if condition is None else mine & condition

    def _query_page(
        self,
        index: str | None,
        partition: tuple[str, AttributeValue],
        sort: tuple[str, SortCondition, Keep | None] | None,
        filter: Condition | None,
        limit: int | None,
        cursor: str | None,
        descending: bool,
        consistent: bool,
        entity_filter: bool,
        *,
        keys_only: bool = False,
    ) -> Page[Item]:
        info = self.model
        self._check_key_values({partition[0]: partition[1]}, "partition key")
        if index is not None and filter is not None and index in info.projected:
            self._projected_only(filter, index)
        if sort is not None:
            for value in sort[1].values:
                self._check_key_values({sort[0]: value}, "sort key")
        projection = None
        if keys_only:
            # Only the primary key is read back (an index may hold no more); the entity filter needs no projection.
            projection = list(info.key_attributes(index))
        return ops.query(
            self.transport,
            self.table_name,
            partition=partition,
            key_attributes=info.key_attributes(index),
            sort=None if sort is None else (sort[0], sort[1]),
            index=index,
            filter=self._entity_filter(filter) if entity_filter else self._known(filter, "filter"),
            projection=projection,
            limit=limit,
            cursor=cursor,
            forward=not descending,
            consistent=consistent,
            keep=None if sort is None else sort[2],
            deadline=self.deadline,
        )

    def _decode_page(self, page: Page[Item]) -> Page[M]:
        return decode_all(page, self._decode)

    def _checked(self, item: dict[str, AttributeValue], where: str = "") -> dict[str, AttributeValue]:
        """``item``, once ``check_item`` found nothing DynamoDB would refuse (before any request)."""
        names, keys = check_info(self.model)
        check_item(item, names=names, keys=keys, where=where)
        return item

    def _check_key_values(self, key: Mapping[str, Any], what: str = "key") -> None:
        """Refuse key values DynamoDB would (types, empty strings, over its key size limits), naming the field."""
        names, keys = check_info(self.model)
        check_item(key, names=names, keys=keys, where=what)

    def _stamp_new(self, m: M, version: int | None = None) -> M:
        """``m`` with created_at/updated_at set to now and, for a versioned model, ``version``.

        created_at is kept when it is part of the primary key and already set (see below)."""
        info = self.model
        now = type(self).clock()
        changes: dict[str, Any] = {}
        if info.created_at and not (info.created_at in info.key_fields and getattr(m, info.created_at) is not None):
            # A created_at in the primary key is the item's identity: a model that has one keeps it (put
            # replaces that item instead of writing a second one under a new key).
            changes[info.created_at] = now
        if info.updated_at:
            changes[info.updated_at] = now
        if info.version and version is not None:
            changes[info.version] = version
        if not changes:
            return m
        # dataclasses here, not at import: it is loaded by now (models are dataclasses), and a runtime
        # used without generated modules never pays for it (it imports inspect, ast and dis: ~10 ms).
        from dataclasses import replace

        return replace(m, **changes)  # type: ignore[type-var]

    def _not_exists(self) -> Condition:
        return Field(self.model.partition_key).not_exists()

    def _put_version(self, m: M) -> tuple[int | None, Condition | None]:
        """The version a put of ``m`` writes (one above ``m``'s) and the condition that the item still has ``m``'s.

        A put never lowers or repeats a stored version: a stale model is refused, so a holder of an
        old version can never win later. DMS models are strict (an item without a version attribute
        does not match, as in DynamORM); native models also accept an item that has no version yet
        (one written before the model had a version field), as ``update`` does.
        """
        info = self.model
        if not info.version:
            return None, None
        current = getattr(m, info.version)
        if isinstance(current, bool) or not isinstance(current, int) or current < 0:
            raise InvalidValueError(info.version, f"a version is an int >= 0, got {current!r}")
        attribute = Field(info.attributes[info.version])
        missing = self._not_exists() if info.strict_version else attribute.not_exists()
        return current + 1, missing | attribute.eq({"N": str(current)})

    def _identity(self, key: Mapping[str, Any], where: str) -> str:
        """A canonical text of a wire-format key, to match keys with items and to find duplicates."""
        if not isinstance(key, Mapping) or not key:
            raise InvalidValueError(where, "a key is a non-empty mapping of wire-format values (use Model.make_key)")
        self._check_key_values(key, where)
        try:
            from dynagen.runtime.wire._cursor import wire_to_json  # here: batches and duplicates only

            return json.dumps(wire_to_json(key), separators=(",", ":"))
        except InvalidValueError as exc:
            raise InvalidValueError(where, exc.reason) from None

"""Writing one item: create, put, update (from a model), delete; versions and lifecycle stamps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from dynagen._typing import TYPE_CHECKING, Any, overload
from dynagen.errors import (
    ConditionFailedError,
    InvalidValueError,
    VersionConflictError,
)
from dynagen.runtime import ops
from dynagen.runtime.repository._base import RepositoryBase, stored_nulls
from dynagen.runtime.repository._checks import refuse_defaulted_key_part
from dynagen.runtime.repository._model import M
from dynagen.runtime.wire._expressions import (
    Condition,
    Field,
    Update,
)
from dynagen.runtime.wire._typed import _encode_with, required_removal
from dynagen.runtime.wire._values import format_datetime

if TYPE_CHECKING:
    from typing import Literal

    from dynagen.runtime.wire._types import AttributeValue


__all__ = ["Writes"]

class Writes(RepositoryBase[M]):
    """Writing one item from a model: ``create``, ``put``, ``update``, ``delete``."""

    __slots__ = ()

    def create(self, m: M, *, if_not_exists: bool = False, condition: Condition | None = None) -> M:
        """Write a new item: stamps created_at/updated_at (now) and, for a versioned model, version 0.

        With ``if_not_exists``, ``ConditionFailedError`` when an item with this key exists. A versioned
        model always needs that (writing version 0 over a stored item would lower its version; use
        ``put`` to replace an item). Returns the stamped model.
        """
        condition = self._known(condition, "condition")
        stamped = self._stamp_new(m, 0)
        if if_not_exists or self.model.version:
            condition = self._not_exists() if condition is None else self._not_exists() & condition
        item = self._checked(stamped.to_item())
        ops.put_item(self.transport, self.table_name, item, condition=condition, deadline=self.deadline)
        return stamped

    @overload
    def put(self, m: M, *, condition: Condition | None = None, return_old: Literal[False] = False) -> M: ...

    @overload
    def put(self, m: M, *, condition: Condition | None = None, return_old: Literal[True]) -> tuple[M, M | None]: ...

    def put(self, m: M, *, condition: Condition | None = None, return_old: bool = False) -> M | tuple[M, M | None]:
        """Write the item whole, replacing any item with its key (an upsert); stamps created_at/updated_at.

        A versioned model writes its version + 1, and only over an item that still has its version (or
        none): a stale model raises ``VersionConflictError``. Returns the stamped model; with
        ``return_old=True``, ``(stamped model, the item it replaced or None)``.
        """
        condition = self._known(condition, "condition")
        version, expected = self._put_version(m)
        stamped = self._stamp_new(m, version)
        if expected is not None:
            condition = expected if condition is None else expected & condition
        item = self._checked(stamped.to_item())
        try:
            old = ops.put_item(
                self.transport, self.table_name, item, condition=condition, return_old=return_old, deadline=self.deadline
            )
        except ConditionFailedError as exc:
            if exc.item is None:
                raise
            raise self._explain_failure(m, exc) from exc
        if return_old:
            return stamped, None if old is None else self._decode(old)
        return stamped

    def update(
        self,
        m: M,
        fields: Iterable[str],
        *,
        remove: Iterable[str] = (),
        add: Mapping[str, Any] | None = None,
        delete: Mapping[str, Any] | None = None,
        append: Mapping[str, Any] | None = None,
        set_if_missing: Iterable[str] = (),
        condition: Condition | None = None,
    ) -> M:
        """Update the stored item of ``m`` and return the item as stored afterwards.

        ``fields``: fields of ``m`` to SET (a None value REMOVEs the attribute); ``remove``: fields to
        REMOVE; ``add``: numbers to add or set members to add; ``delete``: set members to remove;
        ``append``: list elements to append; ``set_if_missing``: fields of ``m`` to SET only where the
        stored item has none. updated_at is stamped; a versioned model must still have the stored
        version (else ``VersionConflictError``) and the version goes up by one atomically. An
        update never creates an item: a missing one is a ``ConditionFailedError``.
        """
        # Lists: the request may be built twice (see below).
        fields = fields if isinstance(fields, str) else list(fields)
        remove, set_if_missing = list(remove), list(set_if_missing)
        update, cond = self._update_request(m, fields, remove, add, delete, append, set_if_missing, condition)
        try:
            item = ops.update_item(
                self.transport, self.table_name, m.key(), update, condition=cond, deadline=self.deadline
            )
        except ConditionFailedError as exc:
            nulls = stored_nulls(exc.item, (self.model.attributes.get(n) for n in [*(add or {}), *(delete or {})]))
            if not nulls:
                raise self._explain_failure(m, exc) from exc
            # A set it adds to or deletes from is stored empty (NULL): once more, in the form for that.
            update, cond = self._update_request(
                m, fields, remove, add, delete, append, set_if_missing, condition, null_sets=nulls
            )
            try:
                item = ops.update_item(
                    self.transport, self.table_name, m.key(), update, condition=cond, deadline=self.deadline
                )
            except ConditionFailedError as again:
                raise self._explain_failure(m, again) from again
        return self._decode(item)

    def _update_request(
        self,
        m: M,
        fields: Iterable[str],
        remove: Iterable[str],
        add: Mapping[str, Any] | None,
        delete: Mapping[str, Any] | None,
        append: Mapping[str, Any] | None,
        set_if_missing: Iterable[str],
        condition: Condition | None,
        null_sets: frozenset[str] = frozenset(),
    ) -> tuple[Update, Condition]:
        """The update expression and condition of ``update``; ``null_sets``: set attributes known to hold NULL."""
        info = self.model
        condition = self._known(condition, "condition")
        owned = {info.created_at, info.updated_at, info.version} - {None}
        if isinstance(fields, str):
            raise InvalidValueError("fields", "give a list of field names, not one string")
        now = type(self).clock()
        stamped = m
        if info.updated_at:
            from dataclasses import replace  # loaded by now: see RepositoryBase._stamp_new

            stamped = replace(m, **{info.updated_at: now})  # type: ignore[type-var]
        item = stamped.to_item()
        update = Update()
        touched: list[str] = []
        sent: dict[str, AttributeValue] = {}  # every value the update carries, checked once below

        def check(name: str, what: str) -> str:
            attribute = info.attribute(name)
            if name in info.key_fields:
                raise InvalidValueError(name, f"{name!r} is part of {info.name}'s primary key and cannot be {what}")
            if name in owned:
                raise InvalidValueError(name, f"{name!r} is maintained by dynagen and cannot be {what}")
            touched.append(name)
            return attribute

        for name in fields:
            attribute = check(name, "updated")
            value = item.get(attribute)
            if value is not None:
                sent[attribute] = value
            update = update.remove(attribute) if value is None else update.set(attribute, value)
        for name in set_if_missing:
            attribute = check(name, "updated")
            if name in info.derived:
                # if_not_exists may keep the stored value while the index keys built from it are rewritten.
                raise InvalidValueError(name, f"{name!r} builds index keys; update it with fields=[...]")
            value = item.get(attribute)
            if value is not None:
                sent[attribute] = value
                update = update.set_if_not_exists(attribute, value)
        removed: set[str] = set()
        for name in remove:
            attribute = check(name, "removed")
            ref = info.refs.get(name)
            if ref is not None and ref._required:  # from_item could not read the item back
                raise required_removal(name)
            refuse_defaulted_key_part(info, name)
            removed.add(name)
            update = update.remove(attribute)
        guards: list[Condition] = []
        for clause, values in (("add", add), ("delete", delete), ("append", append)):
            for name, value in (values or {}).items():
                attribute = check(name, f"changed with {clause}")
                if name in info.derived:
                    raise InvalidValueError(name, f"{name!r} builds index keys; update it with fields=[...]")
                encoded = _encode_with(info.encoders[name], value, None, where=name)
                wire = self._checked({attribute: encoded})[attribute]
                kind = next((k for k in ("SS", "NS", "BS") if k in wire), None)
                if kind is not None and clause != "append":
                    # An empty set is stored as NULL, which ADD and DELETE refuse ("incorrect data type"): say
                    # which form the update expects, so that a NULL fails the condition and is retried as such.
                    if attribute in null_sets:
                        guards.append(Field(attribute).attribute_type("NULL"))
                        if clause == "add":  # members added to an empty set: the set is those members
                            update = update.set(attribute, wire)
                        continue  # members deleted from an empty set: nothing to do
                    guards.append(Field(attribute).not_exists() | Field(attribute).attribute_type(kind))
                update = {"add": update.add, "delete": update.delete, "append": update.append}[clause](attribute, wire)
        # Index keys built from updated fields follow them; one built from a removed field goes (the item
        # leaves that sparse index), whatever the model still holds for the field.
        for key_attribute in dict.fromkeys(k for name in touched for k in info.derived.get(name, ())):
            if key_attribute in update.attributes:
                continue
            value = None if any(key_attribute in info.derived.get(n, ()) for n in removed) else item.get(key_attribute)
            if value is not None:
                sent[key_attribute] = value
            update = update.remove(key_attribute) if value is None else update.set(key_attribute, value)
        self._checked(sent)
        expected = getattr(m, info.version) if info.version else None
        return self._lifecycle(update, now, expected, guards, condition)

    def _lifecycle(
        self,
        update: Update,
        now: datetime,
        expected: int | None,
        guards: Iterable[Condition],
        condition: Condition | None,
        where: str | None = None,
    ) -> tuple[Update, Condition]:
        """``update`` with updated_at stamped and the version moved on, and its condition.

        The condition: the item exists, has version ``expected`` (when given; ``where`` names it in
        errors), and ``guards`` and the caller's ``condition`` hold. Every update adds 1 to the
        version, so that a holder of the old one cannot write over the change.
        """
        info = self.model
        if info.updated_at:
            update = update.set(info.attributes[info.updated_at], {"S": format_datetime(now, info.updated_at)})
        cond: Condition = Field(info.partition_key).exists()
        if info.version:
            if expected is not None:
                cond = cond & self._version_condition(expected, where)
            update = update.add(info.attributes[info.version], {"N": "1"})
        elif expected is not None:
            raise InvalidValueError(where or "version", f"{info.name} has no version field")
        for guard in guards:
            cond = cond & guard
        if condition is not None:
            cond = cond & condition
        return update, cond

    def _explain_failure(self, m: M, exc: ConditionFailedError) -> ConditionFailedError:
        version = getattr(m, self.model.version) if self.model.version else None
        return self._explained(m.key(), version, exc)

    def _explained(
        self, key: Mapping[str, AttributeValue], expected: int | None, exc: ConditionFailedError
    ) -> ConditionFailedError:
        """Why a write's condition failed: no item, another version, or (``exc`` itself) the caller's condition."""
        info = self.model
        if exc.item is None:
            return ConditionFailedError(f"no {info.name} item with key {dict(key)!r} to change")
        if info.version and expected is not None:
            stored = exc.item.get(info.attributes[info.version])
            if stored is not None and stored.get("N") != str(expected):
                return VersionConflictError(
                    f"{info.name} version conflict: expected {expected}, stored {stored.get('N')}", item=exc.item
                )
        return exc

    def _version_condition(self, expected: int, where: str | None = None) -> Condition:
        """The stored version is ``expected`` (at 0, native models also accept an item written before versioning).

        ``where`` names the value in errors (default: the model's version field).
        """
        info = self.model
        if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
            raise InvalidValueError(where or info.version or "", f"a version is an int >= 0, got {expected!r}")
        attribute = Field(info.attributes[info.version or ""])
        same = attribute.eq({"N": str(expected)})
        return same | attribute.not_exists() if expected == 0 and not info.strict_version else same

    def _delete(
        self,
        key: Mapping[str, AttributeValue],
        *,
        expected_version: int | None = None,
        condition: Condition | None = None,
        return_old: bool = False,
    ) -> M | None:
        """Delete the item under ``key``; with ``return_old``, return it as it was (None: there was none)."""
        info = self.model
        self._check_key_values(key)
        cond = self._delete_condition(expected_version, condition)
        try:
            old = ops.delete_item(
                self.transport, self.table_name, key, condition=cond, return_old=return_old, deadline=self.deadline
            )
        except ConditionFailedError as exc:
            if expected_version is not None and exc.item is not None:
                stored = exc.item.get(info.attributes[info.version or ""], {}).get("N")
                if stored != str(expected_version):
                    raise VersionConflictError(
                        f"{info.name} version conflict: expected {expected_version}, stored {stored}", item=exc.item
                    ) from exc
            raise
        return None if old is None else self._decode(old)

    def _delete_condition(self, expected_version: int | None, condition: Condition | None) -> Condition | None:
        info = self.model
        condition = self._known(condition, "condition")
        if expected_version is None:
            return condition
        if not info.version:
            raise InvalidValueError("expected_version", f"{info.name} has no version field")
        if isinstance(expected_version, bool) or not isinstance(expected_version, int):
            raise InvalidValueError("expected_version", f"expected an int, got {expected_version!r}")
        same = Field(info.attributes[info.version]).eq({"N": str(expected_version)})
        return same if condition is None else same & condition

    def delete_model(self, m: M, *, condition: Condition | None = None) -> None:
        """Delete the stored item of ``m``; a versioned model must still have the stored version."""
        version = getattr(m, self.model.version) if self.model.version else None
        self._delete(m.key(), expected_version=version, condition=condition)

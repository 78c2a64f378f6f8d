"""Updating an item by its key, without reading it first, from typed update actions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dynagen._typing import TYPE_CHECKING, Any
from dynagen.errors import (
    ConditionFailedError,
    InvalidValueError,
)
from dynagen.runtime import ops
from dynagen.runtime.repository._base import stored_nulls
from dynagen.runtime.repository._checks import fields_of, refuse_defaulted_key_part, unknown_attribute
from dynagen.runtime.repository._model import M
from dynagen.runtime.repository._writes import Writes
from dynagen.runtime.wire._expressions import (
    Condition,
    Field,
    Update,
    UpdateAction,
)

if TYPE_CHECKING:


    from dynagen.runtime.ops._transact import (
        TransactUpdate,
    )
    from dynagen.runtime.wire._types import AttributeValue


__all__ = ["KeyUpdates"]

class KeyUpdates(Writes[M]):
    """``update_by_key``: typed actions on the item under a key; index keys follow."""

    __slots__ = ()

    def _update_by_key(
        self,
        key: Mapping[str, AttributeValue],
        key_values: Mapping[str, Any],
        actions: Sequence[UpdateAction],
        *,
        expected_version: int | None = None,
        condition: Condition | None = None,
    ) -> M:
        """Apply typed ``actions`` (``PaymentFields.status.set(...)``) to the item under ``key`` and return it.

        ``key_values``: the primary key fields by name (the generated method's arguments; index keys
        built from them and from fields the update sets are rewritten). updated_at is stamped, the
        version goes up by one (checked first when ``expected_version`` is given), and the item must
        exist (``ConditionFailedError`` otherwise; ``VersionConflictError`` for another version).
        """
        self._check_key_values(key)
        update, cond = self._key_update(key_values, actions, expected_version, condition)
        try:
            item = ops.update_item(self.transport, self.table_name, key, update, condition=cond, deadline=self.deadline)
        except ConditionFailedError as exc:
            nulls = stored_nulls(exc.item, (str(a.segments[0]) for a in actions if a.clause in ("ADD", "DELETE") and len(a.segments) == 1))
            if not nulls:
                raise self._explained(key, expected_version, exc) from exc
            # A set it adds to or deletes from is stored empty (NULL): once more, in the form for that.
            update, cond = self._key_update(key_values, actions, expected_version, condition, nulls)
            try:
                item = ops.update_item(
                    self.transport, self.table_name, key, update, condition=cond, deadline=self.deadline
                )
            except ConditionFailedError as again:
                raise self._explained(key, expected_version, again) from again
        return self._decode(item)

    def _transact_update_by_key(
        self,
        key: Mapping[str, AttributeValue],
        key_values: Mapping[str, Any],
        actions: Sequence[UpdateAction],
        *,
        expected_version: int | None = None,
        condition: Condition | None = None,
    ) -> TransactUpdate:
        """``_update_by_key`` as a transaction action (a set stored empty, NULL, cancels it)."""
        self._check_key_values(key)
        update, cond = self._key_update(key_values, actions, expected_version, condition)
        from dynagen.runtime.ops._transact import TransactUpdate
        return TransactUpdate(self.table_name, dict(key), update, cond)

    def _key_update(
        self,
        key_values: Mapping[str, Any],
        actions: Sequence[UpdateAction],
        expected_version: int | None,
        condition: Condition | None,
        null_sets: frozenset[str] = frozenset(),
    ) -> tuple[Update, Condition]:
        """The update expression and condition of an update by key (see ``_update_by_key``)."""
        info = self.model
        if not info.refs:
            raise InvalidValueError(info.name, "this module was generated without field references: compile it again")
        condition = self._known(condition, "condition")
        if not actions:
            raise InvalidValueError("actions", f"an update of {info.name} needs at least one action")
        fields = fields_of(info)
        owned = {info.created_at, info.updated_at, info.version} - {None}
        given = dict(key_values)  # field -> Python value, for the index keys
        removed: set[str] = set()
        touched: list[str] = []
        sent: dict[str, Any] = {}  # top-level values, checked once below (key attributes' limits)
        guards: list[Condition] = []
        update = Update()
        for action in actions:
            if not isinstance(action, UpdateAction):
                raise InvalidValueError("actions", f"expected an UpdateAction, got {type(action).__name__}")
            first = action.segments[0]
            name = fields.get(first) if isinstance(first, str) else None
            attribute = str(first)
            if name is None:
                known = frozenset(info.attributes.values())
                raise InvalidValueError(
                    action.path, f"{info.name} has no field stored as {attribute!r}: {unknown_attribute(info, str(attribute), known)}"
                )
            if name in info.key_fields:
                raise InvalidValueError(name, f"{name!r} is part of {info.name}'s primary key and cannot be changed")
            if name in owned:
                raise InvalidValueError(name, f"{name!r} is maintained by dynagen and cannot be changed")
            whole = len(action.segments) == 1
            if name in info.derived:
                keys = " and ".join(info.derived[name])
                if not whole or action.form not in ("set", "remove"):
                    # The stored result (an ADD, if_not_exists, a part) is unknown here: so would the keys be.
                    raise InvalidValueError(
                        name, f"{name!r} builds index key {keys}: set() or remove() the whole field, not {action.form}"
                    )
                if action.form == "set":
                    given[name] = action.source
                else:
                    refuse_defaulted_key_part(info, name)
                    removed.add(name)
                touched.append(name)
            if whole and action.value is not None and action.clause == "SET" and action.form == "set":
                sent[attribute] = action.value
            kind = next(iter(action.value), None) if action.value is not None else None
            if whole and action.clause in ("ADD", "DELETE") and kind in ("SS", "NS", "BS"):
                # An empty set is stored as NULL, which ADD and DELETE refuse ("incorrect data type"): say
                # which form the update expects, so that a NULL fails the condition and is retried as such.
                if attribute in null_sets:
                    guards.append(Field(attribute).attribute_type("NULL"))
                    if action.clause == "DELETE":
                        continue  # members deleted from an empty set: nothing to do
                    # members added to an empty set: the set is those members
                    action = UpdateAction("SET", "set", action.segments, action.value, action.source)
                else:
                    guards.append(Field(attribute).not_exists() | Field(attribute).attribute_type(str(kind)))
            update = update.with_actions(action)
        # Every index key built from a field the update changes follows it, from the values it sets and the key.
        for key_attribute in dict.fromkeys(k for name in touched for k in info.derived[name]):
            parts = info.key_parts[key_attribute]
            if any(part in removed for part in parts):
                update = update.remove(key_attribute)  # a part is gone: so is the key (the item leaves the index)
                continue
            missing = [part for part in parts if part not in given]
            if missing:
                changed = [part for part in parts if part in given and part not in key_values]
                raise InvalidValueError(
                    missing[0],
                    f"index key {key_attribute} is built from {', '.join(parts)}; this update sets "
                    f"{', '.join(changed)} but not {', '.join(missing)}: set {'them' if len(missing) > 1 else 'it'} "
                    "too (to the stored value if it does not change), or update the model",
                )
            value = info.index_keys[key_attribute](*(given[part] for part in parts))
            sent[key_attribute] = value
            update = update.set(key_attribute, value)
        self._checked(sent)
        return self._lifecycle(update, type(self).clock(), expected_version, guards, condition, "expected_version")

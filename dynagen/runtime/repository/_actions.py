"""Transaction actions in model terms: what ``transact_write`` / ``transact_get`` send.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from dynagen._typing import TYPE_CHECKING, Any
from dynagen.errors import (
    InvalidValueError,
)
from dynagen.runtime.repository._key_updates import KeyUpdates
from dynagen.runtime.repository._model import M
from dynagen.runtime.wire._expressions import (
    AttributePath,
    Condition,
)

if TYPE_CHECKING:


    from dynagen.runtime.ops._transact import (
        TransactAction,
        TransactConditionCheck,
        TransactDelete,
        TransactPut,
        TransactUpdate,
    )
    from dynagen.runtime.repository._transactions import ModelGet
    from dynagen.runtime.wire._types import AttributeValue


__all__ = ["Transactions"]

class Transactions(KeyUpdates[M]):
    """Transaction actions with the same stamps and conditions as their one-item counterparts."""

    __slots__ = ()

    def transact_put(self, m: M, *, condition: Condition | None = None) -> TransactPut:
        """Put ``m`` whole, stamped and version-checked like ``put`` (``M.from_item(action.item)`` is the stamped model)."""
        condition = self._known(condition, "condition")
        version, expected = self._put_version(m)
        if expected is not None:
            condition = expected if condition is None else expected & condition
        from dynagen.runtime.ops._transact import TransactPut
        return TransactPut(self.table_name, self._checked(self._stamp_new(m, version).to_item()), condition)

    def transact_create(self, m: M, *, condition: Condition | None = None) -> TransactPut:
        """Put ``m`` stamped like ``create``, only if no item has its key (and ``condition`` holds)."""
        condition = self._known(condition, "condition")
        cond = self._not_exists() if condition is None else self._not_exists() & condition
        from dynagen.runtime.ops._transact import TransactPut
        return TransactPut(self.table_name, self._checked(self._stamp_new(m, 0).to_item()), cond)

    def transact_update(
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
    ) -> TransactUpdate:
        """The ``update`` of ``m`` as a transaction action: same clauses, updated_at, version condition and +1.

        The item must exist and (versioned models) still have ``m``'s version, else the transaction
        is cancelled. Read the item again afterwards for its new state.
        """
        update, cond = self._update_request(m, fields, remove, add, delete, append, set_if_missing, condition)
        from dynagen.runtime.ops._transact import TransactUpdate
        return TransactUpdate(self.table_name, m.key(), update, cond)

    def transact_delete(
        self,
        key: Mapping[str, AttributeValue],
        *,
        expected_version: int | None = None,
        condition: Condition | None = None,
    ) -> TransactDelete:
        """Delete the item under ``key`` (from ``Model.make_key``); with ``expected_version``, only if it matches."""
        self._identity(key, "key")
        from dynagen.runtime.ops._transact import TransactDelete
        return TransactDelete(self.table_name, dict(key), self._delete_condition(expected_version, condition))

    def transact_check(self, key: Mapping[str, AttributeValue], condition: Condition) -> TransactConditionCheck:
        """Write nothing, but cancel the transaction unless ``condition`` holds on the item under ``key``."""
        self._identity(key, "key")
        if condition is None:
            raise InvalidValueError("condition", "a condition check needs a Condition")
        self._known(condition, "condition")
        from dynagen.runtime.ops._transact import TransactConditionCheck
        return TransactConditionCheck(self.table_name, dict(key), condition)

    def transact_get(
        self, key: Mapping[str, AttributeValue], *, projection: Sequence[AttributePath] | None = None
    ) -> ModelGet[M]:
        """Read the item under ``key`` in a ``transact_get``; it comes back as an ``M`` (None when absent).

        With ``projection``, every attribute ``M.from_item`` requires must be projected.
        """
        self._identity(key, "key")
        from dynagen.runtime.ops._transact import TransactGet
        from dynagen.runtime.repository._transactions import ModelGet
        return ModelGet(TransactGet(self.table_name, dict(key), projection), self._decode)

    def transact_write(self, actions: Sequence[TransactAction], *, client_token: str | None = None) -> None:
        """Send ``actions`` (of any repositories) as one transaction through this repository's transport."""
        from dynagen.runtime.ops import _transact
        _transact.transact_write(self.transport, actions, client_token=client_token, deadline=self.deadline)

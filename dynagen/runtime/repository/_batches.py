"""Batches of many items (BatchGetItem, BatchWriteItem) in model terms; nothing is dropped unseen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dynagen._typing import TYPE_CHECKING, Any
from dynagen.errors import (
    DeadlineExceededError,
    InvalidValueError,
    UnprocessedItemsError,
)
from dynagen.runtime.ops._reads import Page
from dynagen.runtime.repository._base import RepositoryBase, decode_all
from dynagen.runtime.repository._key_range import Keep
from dynagen.runtime.repository._model import M
from dynagen.runtime.wire._expressions import (
    Condition,
    SortCondition,
)

if TYPE_CHECKING:


    from dynagen.runtime.wire._types import AttributeValue


__all__ = ["Batches"]

class Batches(RepositoryBase[M]):
    """``get_many``, ``batch_put``, ``batch_delete``, and index queries read whole with a batch get."""

    __slots__ = ()


    def _before_batch(self, operation: str) -> None:
        """An expired deadline stops a batch before it encodes anything (thousands of models cost real time).

        Nothing was done: ``completed`` is empty and ``remaining`` None (everything given remains).
        """
        if self.deadline is not None and self.deadline.expired():
            raise DeadlineExceededError(operation=operation, completed={}, remaining=None)

    def _table_key(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self.model.key_attributes() if name in item}

    def get_many(
        self,
        keys: Iterable[Mapping[str, AttributeValue]],
        *,
        consistent: bool = False,
        max_attempts: int = 8,
        base_delay: float = 0.05,
        max_delay: float = 2.0,
    ) -> list[M]:
        """The items under ``keys`` (from ``Model.make_key(...)``), in the order of ``keys``.

        Keys without an item are skipped (compare lengths, or use ``find`` for one key); a key given
        twice is read once. Sent as BatchGetItem requests of up to 100 keys. Keys still unprocessed
        after the retries raise ``UnprocessedItemsError``: ``unprocessed`` is
        ``{table_name: [key, ...]}`` and ``completed`` the list of models that were read.
        """
        self._before_batch("BatchGetItem")
        wanted: list[dict[str, Any]] = []
        order: dict[str, int] = {}
        for i, key in enumerate(keys):
            identity = self._identity(key, f"keys[{i}]")
            if identity not in order:
                order[identity] = len(wanted)
                wanted.append(dict(key))
        if not wanted:
            return []
        from dynagen.runtime.ops import _batch

        def found(items: Mapping[str, list[Any]], _: object = None) -> list[M]:
            ranked = sorted(
                items.get(self.table_name, []),
                key=lambda item: order.get(self._identity(self._table_key(item), "item"), len(order)),
            )
            return decode_all(Page(ranked, None, len(ranked)), self._decode).items

        result = _batch.batch_get(
            self.transport,
            {self.table_name: wanted},
            consistent=consistent,
            max_attempts=max_attempts,
            base_delay=base_delay,
            max_delay=max_delay,
            deadline=self.deadline,
            completed_as=found,
        )
        models = found(result.items)
        if result.unprocessed:
            raise UnprocessedItemsError(result.unprocessed, completed=models)
        return models

    def batch_put(
        self,
        models: Iterable[M],
        *,
        overwrite_versions: bool = False,
        max_attempts: int = 8,
        base_delay: float = 0.05,
        max_delay: float = 2.0,
    ) -> list[M]:
        """Write many items whole (upserts, no conditions), stamped like ``create``; returns the stamped models.

        Sent as BatchWriteItem requests of up to 25 puts. Two models with the same key are an
        ``InvalidValueError`` (DynamoDB would refuse them, or keep either). A batch cannot carry
        conditions: a versioned model is refused unless ``overwrite_versions=True`` (each item is then
        written at version 0, whatever is stored). Writes still unprocessed
        after the retries raise ``UnprocessedItemsError``: ``unprocessed`` is
        ``{table_name: [{"PutRequest": {"Item": item}}, ...]}`` and ``completed`` the stamped models
        that were written.
        """
        from dynagen.runtime.ops import _batch

        self._before_batch("BatchWriteItem")
        models = list(models)
        if self.model.version and models and not overwrite_versions:
            raise InvalidValueError(
                "models",
                f"{self.model.name} is versioned, and BatchWriteItem cannot check versions: a batch put would "
                "write version 0 over any stored item, so a stale holder could win later; use put or "
                "transact_write, or pass overwrite_versions=True for items you know are new (or mean to reset)",
            )
        stamped = [self._stamp_new(m, 0) for m in models]
        seen: dict[str, int] = {}
        requests: list[dict[str, Any]] = []
        for i, m in enumerate(stamped):
            identity = self._identity(m.key(), f"models[{i}]")
            if identity in seen:
                raise InvalidValueError(f"models[{i}]", f"same key as models[{seen[identity]}]: {m.key()!r}")
            seen[identity] = i
            requests.append(_batch.put_request(self._checked(m.to_item(), f"models[{i}]")))
        if not requests:
            return []

        def done(_: object, unprocessed: Mapping[str, list[Any]]) -> list[M]:
            left = {
                self._identity(self._table_key(r["PutRequest"]["Item"]), "unprocessed")
                for r in unprocessed.get(self.table_name, [])
            }
            return [m for m in stamped if self._identity(m.key(), "model") not in left]

        result = _batch.batch_write(
            self.transport,
            {self.table_name: requests},
            max_attempts=max_attempts,
            base_delay=base_delay,
            max_delay=max_delay,
            deadline=self.deadline,
            key_attributes={self.table_name: self.model.key_attributes()},
            completed_as=done,
        )
        if result.unprocessed:
            raise UnprocessedItemsError(result.unprocessed, completed=done(None, result.unprocessed))
        return stamped

    def batch_delete(
        self,
        keys: Iterable[Mapping[str, AttributeValue]],
        *,
        max_attempts: int = 8,
        base_delay: float = 0.05,
        max_delay: float = 2.0,
    ) -> None:
        """Delete the items under ``keys`` (from ``Model.make_key(...)``; missing ones are no-ops).

        Sent as BatchWriteItem requests of up to 25 deletes, without conditions (use ``delete`` with
        ``expected_version`` for a versioned delete); a key given twice is sent once. Deletes still
        unprocessed after the retries raise ``UnprocessedItemsError``: ``unprocessed`` is
        ``{table_name: [{"DeleteRequest": {"Key": key}}, ...]}`` and ``completed`` the keys deleted.
        """
        self._before_batch("BatchWriteItem")
        wanted: dict[str, dict[str, Any]] = {}
        for i, key in enumerate(keys):
            wanted.setdefault(self._identity(key, f"keys[{i}]"), dict(key))
        if not wanted:
            return
        from dynagen.runtime.ops import _batch

        def done(_: object, unprocessed: Mapping[str, list[Any]]) -> list[dict[str, Any]]:
            left = {
                self._identity(r["DeleteRequest"]["Key"], "unprocessed")
                for r in unprocessed.get(self.table_name, [])
            }
            return [key for identity, key in wanted.items() if identity not in left]

        result = _batch.batch_write(
            self.transport,
            {self.table_name: [_batch.delete_request(key) for key in wanted.values()]},
            max_attempts=max_attempts,
            base_delay=base_delay,
            max_delay=max_delay,
            deadline=self.deadline,
            completed_as=done,
        )
        if result.unprocessed:
            raise UnprocessedItemsError(result.unprocessed, completed=done(None, result.unprocessed))

    def _query_items(
        self,
        *,
        index: str | None,
        partition: tuple[str, AttributeValue],
        sort: tuple[str, SortCondition, Keep | None] | None,
        filter: Condition | None,
        limit: int | None,
        cursor: str | None,
        descending: bool,
        consistent: bool,
        entity_filter: bool = True,
    ) -> Page[M]:
        """A query on an index that does not hold whole items: its keys, then the items with BatchGetItem.

        The page keeps the query's order and cursor; an item deleted between the two reads is left out.
        """
        page = self._query_page(
            index, partition, sort, filter, limit, cursor, descending, consistent, entity_filter, keys_only=True
        )
        keys = [self._table_key(item) for item in page.items]
        models = self.get_many(keys, consistent=consistent) if keys else []
        return Page(models, page.cursor, len(models), page.scanned_count)

"""Reading items: by key, queries (models or their keys), scans and counts, chosen fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from dynagen._typing import TYPE_CHECKING, Any, TypeVar
from dynagen.errors import (
    InvalidValueError,
    ItemNotFoundError,
)
from dynagen.runtime import ops
from dynagen.runtime.ops._reads import Page
from dynagen.runtime.repository._base import RepositoryBase, decode_all
from dynagen.runtime.repository._checks import fields_of
from dynagen.runtime.repository._key_range import Keep
from dynagen.runtime.repository._model import M
from dynagen.runtime.wire._expressions import (
    Condition,
    SortCondition,
)
from dynagen.runtime.wire._typed import Projection, Ref

if TYPE_CHECKING:


    from dynagen.runtime.wire._types import AttributeValue


__all__ = ["Reads"]

K = TypeVar("K")

class Reads(RepositoryBase[M]):
    """Reading: ``get``/``find`` (through the generated methods), queries, scans, counts."""

    __slots__ = ()

    def _find(self, key: Mapping[str, AttributeValue], *, consistent: bool = False) -> M | None:
        self._check_key_values(key)
        item = ops.get_item(self.transport, self.table_name, key, consistent=consistent, deadline=self.deadline)
        return None if item is None else self._decode(item)

    def _get(self, key: Mapping[str, AttributeValue], *, consistent: bool = False) -> M:
        found = self._find(key, consistent=consistent)
        if found is None:
            raise ItemNotFoundError(self.table_name, key)
        return found

    def _query(
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
        page = self._query_page(index, partition, sort, filter, limit, cursor, descending, consistent, entity_filter)
        return self._decode_page(page)

    def _query_keys(
        self,
        read: Callable[[Mapping[str, AttributeValue]], K],
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
    ) -> Page[K]:
        """A query whose results are the primary key fields of each item (``read``: the model's key record)."""
        page = self._query_page(
            index, partition, sort, filter, limit, cursor, descending, consistent, entity_filter, keys_only=True
        )
        return decode_all(page, read)

    def scan(
        self,
        *,
        filter: Condition | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        segment: int | None = None,
        total_segments: int | None = None,
        consistent: bool = False,
    ) -> Page[M]:
        """One page of this model's items in the whole table (or one segment of it)."""
        page = ops.scan(
            self.transport,
            self.table_name,
            key_attributes=self.model.key_attributes(),
            filter=self._entity_filter(filter),
            limit=limit,
            cursor=cursor,
            consistent=consistent,
            segment=segment,
            total_segments=total_segments,
            deadline=self.deadline,
        )
        return self._decode_page(page)

    def iter_scan(self, *, filter: Condition | None = None, page_size: int | None = None) -> Iterator[M]:
        """Every item of this model in the table, page after page."""
        pages = ops.scan_pages(
            self.transport,
            self.table_name,
            key_attributes=self.model.key_attributes(),
            filter=self._entity_filter(filter),
            limit=page_size,
            deadline=self.deadline,
        )
        for page in pages:
            yield from self._decode_page(page).items

    def parallel_scan(
        self, total_segments: int, *, filter: Condition | None = None, max_workers: int | None = None
    ) -> list[M]:
        """Every item of this model, read as ``total_segments`` segments on worker threads."""
        items = ops.parallel_scan(
            self.transport,
            self.table_name,
            total_segments=total_segments,
            key_attributes=self.model.key_attributes(),
            max_workers=max_workers,
            filter=self._entity_filter(filter),
            deadline=self.deadline,
        )
        return decode_all(Page(items, None, len(items)), self._decode).items

    def count(self, *, filter: Condition | None = None) -> int:
        """How many items of this model the table holds (a full scan: use sparingly)."""
        return ops.scan_count(
            self.transport,
            self.table_name,
            key_attributes=self.model.key_attributes(),
            filter=self._entity_filter(filter),
            deadline=self.deadline,
        )

    def _get_fields(
        self, key: Mapping[str, AttributeValue], refs: Sequence[Ref[Any]], *, consistent: bool = False
    ) -> Projection[M]:
        """Only the fields of ``refs`` (top-level references of this model) of the item under ``key``."""
        info = self.model
        fields = fields_of(info)
        read: dict[str, tuple[str, Ref[Any]]] = {}
        for ref in refs:
            if not isinstance(ref, Ref):
                raise InvalidValueError("fields", f"expected field references, got {type(ref).__name__}")
            segments = ref._segments
            attribute = segments[0] if len(segments) == 1 else None
            name = fields.get(attribute) if isinstance(attribute, str) else None
            if name is None or info.refs.get(name) is not ref or ref._decode is None:
                raise InvalidValueError(
                    ref.path, f"get_fields reads whole fields of {info.name} (its {info.name}Fields references), not {ref!r}"
                )
            read[str(attribute)] = (name, ref)
        if not read:
            raise InvalidValueError("fields", "name at least one field to read")
        self._check_key_values(key)
        item = ops.get_item(
            self.transport, self.table_name, key, consistent=consistent, projection=[(a,) for a in read], deadline=self.deadline
        )
        if item is None:
            raise ItemNotFoundError(self.table_name, key)
        return Projection(info.name, item, read)

"""What the runtime knows about one generated model (``ModelInfo``, computed at compile time), and the clock
lifecycle stamps use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from dynagen._record import Record, init
from dynagen._typing import TYPE_CHECKING, Any, Generic, TypeVar
from dynagen.errors import (
    InvalidValueError,
)
from dynagen.runtime.wire._typed import Ref, ref_name

if TYPE_CHECKING:
    from typing import Protocol

    from dynagen.runtime.wire._typed import RecordRef
    from dynagen.runtime.wire._types import AttributeValue

    class _Model(Protocol):
        def to_item(self) -> dict[str, AttributeValue]: ...

        def key(self) -> dict[str, AttributeValue]: ...

__all__ = ["FACTORY", "M", "ModelInfo", "utc_now"]

M = TypeVar("M", bound="_Model")


class _Factory:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<factory>"  # as dataclasses shows such a default in a signature

    def __reduce__(self) -> str:
        return "FACTORY"  # one instance, also after pickling


# The __init__ default of a generated model's field whose default is built per instance (a set, a
# list, an empty record): ``tags: set[str] = FACTORY``, then ``set() if tags is FACTORY else tags``.
# Typed Any so that it stands for a default of any field type.
FACTORY: Any = _Factory()


T = TypeVar("T")


K = TypeVar("K")


U = TypeVar("U")


def utc_now() -> datetime:
    """The clock lifecycle stamps use (tests replace ``Repository.clock``)."""
    return datetime.now(UTC)


class ModelInfo(Record, Generic[M]):
    """What the runtime needs to know about one generated model, computed at compile time.

    ``fields`` is the model's ``<Model>Fields`` class: its references carry each field's one encoder
    (``encoders`` and ``refs`` are read from it) and, for ``get_fields``, its decoder. ``index_keys``
    builds each templated index key attribute from the fields ``key_parts`` names, in that order (an
    update by key rewrites the index keys of the fields it sets). Modules generated before the
    references existed give ``encoders`` instead of ``fields``; they have no update by key.
    """

    __slots__ = (
        "attributes",
        "created_at",
        "derived",
        "encoders",
        "entity",
        "entity_attribute",
        "fields",
        "from_item",
        "index_keys",
        "indexes",
        "key_fields",
        "key_parts",
        "name",
        "partition_key",
        "projected",
        "refs",
        "sort_key",
        "strict_version",
        "table",
        "ttl",
        "updated_at",
        "version",
    )
    name: str
    table: str
    partition_key: str
    sort_key: str | None
    indexes: Mapping[str, tuple[str, str | None]]
    attributes: Mapping[str, str]  # Python field -> attribute name
    key_fields: tuple[str, ...]  # fields the primary key is built from
    key_parts: Mapping[str, tuple[str, ...]]  # templated key attribute -> the fields it is built from
    derived: Mapping[str, tuple[str, ...]]  # field -> index key attributes built from it
    entity_attribute: str | None
    entity: str | None
    created_at: str | None
    updated_at: str | None
    version: str | None
    ttl: str | None
    strict_version: bool  # an item without a version attribute never matches (DMS, as DynamORM)
    from_item: Callable[[Mapping[str, AttributeValue]], M]
    fields: type[RecordRef[Any]] | None
    refs: Mapping[str, Ref[Any]]  # Python field -> its reference (empty without ``fields``)
    encoders: Mapping[str, Callable[[Any], AttributeValue]]  # Python field -> its whole-value encoder
    index_keys: Mapping[str, Callable[..., AttributeValue]]  # templated index key attribute -> its builder
    # Index -> the attributes it holds besides the keys, for indexes that do not project every
    # attribute (KEYS_ONLY: none; INCLUDE: its list). A filter there may name only these and keys.
    projected: Mapping[str, tuple[str, ...]]

    def __init__(
        self,
        *,
        name: str,
        table: str,
        partition_key: str,
        sort_key: str | None,
        indexes: Mapping[str, tuple[str, str | None]],
        attributes: Mapping[str, str],
        key_fields: tuple[str, ...],
        key_parts: Mapping[str, tuple[str, ...]] | None = None,
        derived: Mapping[str, tuple[str, ...]],
        entity_attribute: str | None,
        entity: str | None,
        created_at: str | None,
        updated_at: str | None,
        version: str | None,
        ttl: str | None,
        strict_version: bool = False,
        from_item: Callable[[Mapping[str, AttributeValue]], M],
        fields: type[RecordRef[Any]] | None = None,
        index_keys: Mapping[str, Callable[..., AttributeValue]] | None = None,
        encoders: Mapping[str, Callable[[Any], AttributeValue]] | None = None,
        projected: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        init(self, "name", name)
        init(self, "table", table)
        init(self, "partition_key", partition_key)
        init(self, "sort_key", sort_key)
        init(self, "indexes", indexes)
        init(self, "attributes", attributes)
        init(self, "key_fields", key_fields)
        init(self, "key_parts", key_parts or {})
        init(self, "derived", derived)
        init(self, "entity_attribute", entity_attribute)
        init(self, "entity", entity)
        init(self, "created_at", created_at)
        init(self, "updated_at", updated_at)
        init(self, "version", version)
        init(self, "ttl", ttl)
        init(self, "strict_version", strict_version)
        init(self, "from_item", from_item)
        init(self, "fields", fields)
        refs: dict[str, Ref[Any]] = {}
        if fields is not None:
            for field in attributes:
                ref = getattr(fields, ref_name(field))
                if ref._segments != (attributes[field],):
                    raise InvalidValueError(field, f"{fields.__name__}.{ref_name(field)} is not {name}'s field {field!r}")
                refs[field] = ref
        init(self, "refs", refs)
        init(self, "encoders", encoders if encoders is not None else {f: ref._encode for f, ref in refs.items()})
        init(self, "index_keys", index_keys or {})
        init(self, "projected", projected or {})

    def key_attributes(self, index: str | None = None) -> tuple[str, ...]:
        """The attributes of a LastEvaluatedKey on the table or an index."""
        names = [self.partition_key] + ([self.sort_key] if self.sort_key else [])
        if index is not None:
            pk, sk = self.indexes[index]
            names += [n for n in (pk, sk) if n and n not in names]
        return tuple(names)

    def attribute(self, field: str, what: str = "field") -> str:
        try:
            return self.attributes[field]
        except KeyError:
            import difflib  # the error path only

            close = difflib.get_close_matches(field, list(self.attributes), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InvalidValueError(field, f"{self.name} has no {what} {field!r}{hint}") from None

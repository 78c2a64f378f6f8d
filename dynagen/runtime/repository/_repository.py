"""The base of every generated repository: lifecycle stamping, versioning, entity filtering.

Generated subclasses add the typed surface (``get(**key)``, one method per access pattern) and a
``ModelInfo`` that tells this class, once, everything it needs about the model: no reflection at
run time. Requests go through the stateless wire-level functions of ``dynagen.runtime.ops``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from dynagen._record import Record, init
from dynagen._typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload
from dynagen.errors import (
    ConditionFailedError,
    DeadlineExceededError,
    InvalidValueError,
    ItemDecodeError,
    ItemNotFoundError,
    UnprocessedItemsError,
    VersionConflictError,
)
from dynagen.runtime import ops
from dynagen.runtime.ops._reads import Page
from dynagen.runtime.transport._botocore import as_transport
from dynagen.runtime.transport._bounds import Deadline
from dynagen.runtime.wire._checks import check_item
from dynagen.runtime.wire._cursor import wire_to_json
from dynagen.runtime.wire._expressions import (
    AttributePath,
    Condition,
    Field,
    SortCondition,
    Update,
    UpdateAction,
    format_path,
)
from dynagen.runtime.wire._typed import Projection, Ref, _encode_with, ref_name
from dynagen.runtime.wire._values import enum_error, format_datetime

if TYPE_CHECKING:
    from typing import ClassVar, Literal, Protocol, Self

    from mypy_boto3_dynamodb import DynamoDBClient

    from dynagen.runtime.ops._transact import (
        TransactAction,
        TransactConditionCheck,
        TransactDelete,
        TransactPut,
        TransactUpdate,
    )
    from dynagen.runtime.repository._transactions import ModelGet
    from dynagen.runtime.transport._interface import Transport
    from dynagen.runtime.wire._expressions import Item
    from dynagen.runtime.wire._typed import RecordRef
    from dynagen.runtime.wire._types import AttributeValue

    class _Model(Protocol):
        def to_item(self) -> dict[str, AttributeValue]: ...

        def key(self) -> dict[str, AttributeValue]: ...


__all__ = ["ModelInfo", "Repository", "enum_error", "key_range", "utc_now"]


M = TypeVar("M", bound="_Model")
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


# U+10FFFF sorts after every character a key can hold (DynamoDB compares UTF-8 bytes, which order
# like code points); the bounds below rely on no key holding it.
_TOP = "\U0010ffff"
# User-facing suffix of each sort-key condition, for error messages.
_SUFFIX = {"eq": "_eq", "begins_with": "_prefix", "ge": "_from", "gt": "_after", "le": "_to", "lt": "_before"}


def _following(text: str) -> str:
    """The least string greater than every string that starts with ``text``."""
    while text:
        code = ord(text[-1]) + 1
        if code <= 0x10FFFF:
            return text[:-1] + chr(0xE000 if 0xD800 <= code <= 0xDFFF else code)
        text = text[:-1]
    return _TOP


def _preceding(text: str) -> str:
    """The greatest string below ``text`` (up to strings holding U+10FFFF after it)."""
    if not text:
        return text
    code = ord(text[-1]) - 1
    if code < 0:
        return text[:-1]
    return text[:-1] + chr(0xD7FF if 0xD800 <= code <= 0xDFFF else code) + _TOP


Keep = Callable[[Mapping[str, Any]], bool]


def key_range(
    attribute: str,
    prefix: str,
    *,
    field: str = "",
    encode: Callable[[T], str | AttributeValue] | None = None,
    tail: str = "",
    more: bool = False,
    text: bool = False,
    eq: T | None = None,
    gt: T | None = None,
    ge: T | None = None,
    lt: T | None = None,
    le: T | None = None,
    begins_with: str | None = None,
) -> tuple[str, SortCondition, Keep | None] | None:
    """The sort-key condition of an access pattern: the template's fixed ``prefix``, narrowed on one field.

    Keys of the pattern are ``prefix + <field text> + tail`` and, with ``more``, further key parts
    (``PAYMENT#{created_on}#{payment_id}``: prefix ``PAYMENT#``, tail ``#``, more). ``encode`` turns a
    field value into its key text, or (a numeric or binary sort key holding the field itself) into
    its attribute value. ``eq``/``gt``/``ge``/``lt``/``le`` compare the field, ``begins_with`` its
    text; they are exact for keys that continue after the field (``gt=2024-05-01`` skips every
    ``PAYMENT#2024-05-01#...``). DynamoDB takes one sort-key condition per query: ``eq`` or
    ``begins_with`` alone, or a lower (``ge``/``gt``) and an upper (``le``/``lt``) bound, which
    become one ``BETWEEN``. Anything else is an ``InvalidValueError`` naming the method's parameters
    (``<field>_eq``, ``_prefix``, ``_from``, ``_after``, ``_to``, ``_before``), before any request.

    Returns ``(attribute, condition, keep)``. ``text``: the field is free text (a string or an enum)
    followed by ``tail``; such text does not sort as its value once the tail follows (``"a b#"`` sorts
    before ``"a#"``), so bounds and prefixes ask DynamoDB for a superset and ``keep`` (a test of a
    returned item) drops what lies outside. Typed parts are written to sort (fixed widths), so their
    conditions are exact and ``keep`` is None.
    """
    given = {
        name: value
        for name, value in (("eq", eq), ("begins_with", begins_with), ("ge", ge), ("gt", gt), ("le", le), ("lt", lt))
        if value is not None
    }
    if not given:
        return (attribute, SortCondition.begins_with({"S": prefix}), None) if prefix else None
    _one_condition(field, given)
    if encode is None:
        raise InvalidValueError(field, "this access pattern has no range field")
    if begins_with is not None:
        if not isinstance(begins_with, str) or not (prefix or begins_with):
            raise InvalidValueError(field + "_prefix", f"expected a non-empty str, got {begins_with!r}")
        if tail and tail[0] in begins_with:  # it would run on into the next key part
            raise InvalidValueError(field + "_prefix", f"{begins_with!r} holds {tail[0]!r}, the separator after {field}")
        keep = _text_keep(attribute, prefix, tail, {"begins_with": begins_with}) if text else None
        return attribute, SortCondition.begins_with({"S": prefix + begins_with}), keep
    wire = {name: encode(cast("T", value)) for name, value in given.items()}
    if any(isinstance(value, Mapping) for value in wire.values()):
        return attribute, _direct(field, cast("dict[str, AttributeValue]", wire)), None
    texts = cast("dict[str, str]", wire)
    if "eq" in texts:
        key = prefix + texts["eq"] + tail
        return attribute, (SortCondition.begins_with({"S": key}) if more else SortCondition.eq({"S": key})), None
    if text:
        return _text_bounds(attribute, prefix, tail, field, given, texts)
    # Bounds: every key of a field value v lies in [prefix + v, prefix + v + tail (+ anything, with more)].
    lower: str | None = None
    upper: str | None = None
    strict = ""
    if "ge" in texts:
        lower = prefix + texts["ge"]
    elif "gt" in texts:
        last = prefix + texts["gt"] + tail
        lower, strict = (_following(last), "") if more else (last + "\x00", last)
    if "le" in texts:
        upper = prefix + texts["le"] + tail + (_TOP if more else "")
    elif "lt" in texts:
        upper = prefix + texts["lt"] + tail
        if prefix or lower is not None:
            upper = _preceding(upper)
        else:
            return attribute, SortCondition.lt({"S": upper}), None
    if upper is None:
        if not prefix:
            assert lower is not None
            return attribute, (SortCondition.gt({"S": strict}) if strict else SortCondition.ge({"S": lower})), None
        upper = prefix + _TOP
    if lower is None:
        if not prefix:
            # DynamoDB refuses an empty string in a key condition: no lower bound is "<= upper".
            return attribute, SortCondition.le({"S": upper}), None
        lower = prefix
    if lower > upper:
        _no_key_between(field, given)
    return attribute, SortCondition.between({"S": lower}, {"S": upper}), None


def _no_key_between(field: str, given: Mapping[str, object]) -> None:
    names = " and ".join(field + _SUFFIX[n] for n in given)
    raise InvalidValueError(field + _SUFFIX[next(iter(given))], f"{names} leave no key between them")


def _text_bounds(
    attribute: str, prefix: str, tail: str, field: str, given: Mapping[str, object], texts: dict[str, str]
) -> tuple[str, SortCondition, Keep | None]:
    """Bounds on a free-text part followed by ``tail``: a superset range, made exact by ``keep``."""
    low = texts.get("ge", texts.get("gt"))
    high = texts.get("le", texts.get("lt"))
    if low is not None and high is not None and (low > high or (low == high and ("gt" in texts or "lt" in texts))):
        _no_key_between(field, given)
    lower = prefix + low if low is not None else prefix
    upper: str | None = None
    if high is not None:
        # A part p <= high either differs from high at a lower character (its key sorts below prefix + high)
        # or is a start of high, whose key continues with the tail: take the greatest of those.
        separator = tail[0]
        upper = max([prefix + high] + [prefix + high[:k] + separator + _TOP for k in range(1, len(high) + 1)])
    elif prefix:
        upper = prefix + _TOP
    keep = _text_keep(attribute, prefix, tail, texts)
    if not lower:
        assert upper is not None
        return attribute, SortCondition.le({"S": upper}), keep
    if upper is None:
        return attribute, SortCondition.ge({"S": lower}), keep
    return attribute, SortCondition.between({"S": lower}, {"S": upper}), keep


def _text_keep(attribute: str, prefix: str, tail: str, texts: Mapping[str, str]) -> Keep:
    """A test of a returned item: does its key's text part (between ``prefix`` and ``tail``) meet ``texts``?"""
    separator = tail[0]
    start = len(prefix)
    tests = list(texts.items())

    def keep(item: Mapping[str, Any]) -> bool:
        value = item.get(attribute)
        key = value.get("S") if isinstance(value, Mapping) else None
        if not isinstance(key, str) or not key.startswith(prefix):
            return False
        end = key.find(separator, start)
        part = key[start:] if end < 0 else key[start:end]
        for name, bound in tests:
            if not (
                (name == "ge" and part >= bound)
                or (name == "gt" and part > bound)
                or (name == "le" and part <= bound)
                or (name == "lt" and part < bound)
                or (name == "begins_with" and part.startswith(bound))
            ):
                return False
        return True

    return keep


def _one_condition(field: str, given: Mapping[str, object]) -> None:
    """Refuse combinations DynamoDB cannot express as one sort-key condition."""
    names = [field + _SUFFIX[n] for n in given]
    alone = [n for n in ("eq", "begins_with") if n in given]
    if (alone and len(given) > 1) or ("ge" in given and "gt" in given) or ("le" in given and "lt" in given):
        raise InvalidValueError(
            names[0],
            f"{' and '.join(names)} cannot be combined: a query takes one sort-key condition "
            f"({field}_eq, or {field}_prefix, or at most one lower bound ({field}_from/{field}_after) "
            f"and one upper bound ({field}_to/{field}_before))",
        )


def _direct(field: str, wire: dict[str, AttributeValue]) -> SortCondition:
    """The condition on a numeric (or binary) sort key holding the field itself: plain comparisons."""
    if len(wire) == 1:
        ((name, value),) = wire.items()
        make = {"eq": SortCondition.eq, "gt": SortCondition.gt, "ge": SortCondition.ge}
        make |= {"lt": SortCondition.lt, "le": SortCondition.le}
        return make[name](value)
    if set(wire) == {"ge", "le"}:
        low, high = wire["ge"], wire["le"]
        if "N" in low and "N" in high and Decimal(low["N"]) > Decimal(high["N"]):
            raise InvalidValueError(field + "_from", f"{field}_from is greater than {field}_to")
        return SortCondition.between(low, high)
    names = " and ".join(field + _SUFFIX[n] for n in wire)
    raise InvalidValueError(
        field + _SUFFIX[next(iter(wire))],
        f"{names} cannot be combined: this sort key holds {field} itself, and a query takes one comparison "
        f"on it (a range is {field}_from with {field}_to)",
    )


# Per model (by identity; the model is kept alive with its entry): attribute -> field names, and every
# key attribute of the table and its indexes. Computed once, on the first write.
_CHECKS: dict[int, tuple[ModelInfo[Any], dict[str, str], dict[str, int]]] = {}
# Per model, likewise: every attribute a condition or filter may name (the model's, the key attributes
# of the table and its indexes, the entity attribute).
_KNOWN: dict[int, tuple[ModelInfo[Any], frozenset[str]]] = {}


# DynamoDB's limits on one key value, in bytes: partition keys (of the table and of global indexes)
# and sort keys (of the table and of every index).
_PARTITION_KEY_BYTES = 2048
_SORT_KEY_BYTES = 1024


def _check_info(info: ModelInfo[Any]) -> tuple[dict[str, str], dict[str, int]]:
    """Attribute -> field names, and each key attribute (table and indexes) -> its size limit in bytes."""
    entry = _CHECKS.get(id(info))
    if entry is None or entry[0] is not info:
        names = {attribute: field for field, attribute in info.attributes.items()}
        for attribute, parts in info.key_parts.items():  # a key's errors name the field(s) it is built from
            names.setdefault(attribute, parts[0] if len(parts) == 1 else f"{attribute} ({', '.join(parts)})")
        keys = {info.partition_key: _PARTITION_KEY_BYTES}
        for pk, sk in [(info.partition_key, info.sort_key), *info.indexes.values()]:
            keys[pk] = _PARTITION_KEY_BYTES
            if sk:
                keys.setdefault(sk, _SORT_KEY_BYTES)
        entry = (info, names, keys)
        _CHECKS[id(info)] = entry
    return entry[1], entry[2]


def _known_attributes(info: ModelInfo[Any]) -> frozenset[str]:
    entry = _KNOWN.get(id(info))
    if entry is None or entry[0] is not info:
        names, keys = _check_info(info)
        known = set(names) | set(keys) | ({info.entity_attribute} if info.entity_attribute else set())
        entry = (info, frozenset(known))
        _KNOWN[id(info)] = entry
    return entry[1]


# Per model, likewise: attribute -> Python field name.
_FIELDS: dict[int, tuple[ModelInfo[Any], dict[str, str]]] = {}


def _fields_of(info: ModelInfo[Any]) -> dict[str, str]:
    entry = _FIELDS.get(id(info))
    if entry is None or entry[0] is not info:
        entry = (info, {attribute: field for field, attribute in info.attributes.items()})
        _FIELDS[id(info)] = entry
    return entry[1]


def _unknown_attribute(info: ModelInfo[Any], name: str, known: frozenset[str]) -> str:
    """Why ``name`` is not an attribute of the model, with the nearest ones."""
    mapped = info.attributes.get(name)
    if mapped is not None:
        return f"{name!r} is the Python field of attribute {mapped!r}: Field takes stored names, use Field({mapped!r})"
    # Match Python field names too (``partnerid`` -> ``partner_id`` -> ``partnerId``).
    candidates = {a: a for a in sorted(known)} | dict(info.attributes)
    import difflib  # the error path only

    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f"did you mean {candidates[close[0]]!r}?" if close else f"its attributes are {sorted(known)}"


def _decode_all(page: Page[Item], decode: Callable[[Mapping[str, Any]], U]) -> Page[U]:
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


class Repository(Generic[M]):
    """Typed access to one model's items. Cheap to create; hold one per handler (or per partner)."""

    __slots__ = ("deadline", "table_name", "transport")
    model: ClassVar[ModelInfo[Any]]
    clock: ClassVar[Callable[[], datetime]] = staticmethod(utc_now)

    def __init__(
        self, client: DynamoDBClient | Transport, *, table_name: str | None = None, deadline: Deadline | None = None
    ) -> None:
        self.transport: Transport = as_transport(client)
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

    # -- reading -----------------------------------------------------------------------------------

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

    def _find(self, key: Mapping[str, AttributeValue], *, consistent: bool = False) -> M | None:
        self._check_key_values(key)
        item = ops.get_item(self.transport, self.table_name, key, consistent=consistent, deadline=self.deadline)
        return None if item is None else self._decode(item)

    def _get(self, key: Mapping[str, AttributeValue], *, consistent: bool = False) -> M:
        found = self._find(key, consistent=consistent)
        if found is None:
            raise ItemNotFoundError(self.table_name, key)
        return found

    def _known(self, condition: Condition | None, what: str) -> Condition | None:
        """``condition``, once every attribute it names is one of this model's (else ``InvalidValueError``).

        Only the first segment of a path is checked (``address.city``: ``address``); nested names are data.
        """
        if condition is None:
            return None
        if not isinstance(condition, Condition):
            raise InvalidValueError(what, f"expected a Condition, got {type(condition).__name__}")
        info = self.model
        known = _known_attributes(info)
        for segments in condition.attribute_paths():
            name = segments[0]
            if name not in known:
                raise InvalidValueError(
                    format_path(segments),
                    f"{what} names {name!r}, which {info.name} does not have: {_unknown_attribute(info, str(name), known)}",
                )
        return condition

    def _entity_filter(self, condition: Condition | None) -> Condition | None:
        info = self.model
        condition = self._known(condition, "filter")
        if info.entity_attribute is None:
            return condition
        mine = Field(info.entity_attribute).eq({"S": info.entity})
        return mine if condition is None else mine & condition

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
        return _decode_all(page, read)

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
        return _decode_all(page, self._decode)

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
        return _decode_all(Page(items, None, len(items)), self._decode).items

    def count(self, *, filter: Condition | None = None) -> int:
        """How many items of this model the table holds (a full scan: use sparingly)."""
        return ops.scan_count(
            self.transport,
            self.table_name,
            key_attributes=self.model.key_attributes(),
            filter=self._entity_filter(filter),
            deadline=self.deadline,
        )

    # -- writing -----------------------------------------------------------------------------------

    def _checked(self, item: dict[str, AttributeValue], where: str = "") -> dict[str, AttributeValue]:
        """``item``, once ``check_item`` found nothing DynamoDB would refuse (before any request)."""
        names, keys = _check_info(self.model)
        check_item(item, names=names, keys=keys, where=where)
        return item

    def _check_key_values(self, key: Mapping[str, Any], what: str = "key") -> None:
        """Refuse key values DynamoDB would (types, empty strings, over its key size limits), naming the field."""
        names, keys = _check_info(self.model)
        check_item(key, names=names, keys=keys, where=what)

    def _stamp_new(self, m: M, version: int | None = None) -> M:
        """``m`` with created_at/updated_at set to now and, for a versioned model, ``version``."""
        info = self.model
        now = type(self).clock()
        changes: dict[str, Any] = {}
        if info.created_at:
            changes[info.created_at] = now
        if info.updated_at:
            changes[info.updated_at] = now
        if info.version and version is not None:
            changes[info.version] = version
        return replace(m, **changes) if changes else m  # type: ignore[type-var]

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
            nulls = self._null_sets(exc.item, add, delete)
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

    def _null_sets(
        self, stored: Mapping[str, Any] | None, add: Mapping[str, Any] | None, delete: Mapping[str, Any] | None
    ) -> frozenset[str]:
        """The set attributes an update adds to or deletes from that the stored item holds as NULL."""
        if stored is None:
            return frozenset()
        names = [*(add or {}), *(delete or {})]
        attributes = (self.model.attributes.get(name) for name in names)
        return frozenset(a for a in attributes if a is not None and stored.get(a) == {"NULL": True})

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
        stamped = replace(m, **{info.updated_at: now}) if info.updated_at else m  # type: ignore[type-var]
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
        for name in remove:
            update = update.remove(check(name, "removed"))
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
        # Index keys built from updated fields follow them.
        for name in touched:
            for key_attribute in info.derived.get(name, ()):
                value = item.get(key_attribute)
                if key_attribute not in update.attributes:
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

    # -- update by key: typed actions, no read first ------------------------------------------------

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
            nulls = self._null_set_attributes(exc.item, [a for a in actions if a.clause in ("ADD", "DELETE")])
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

    @staticmethod
    def _null_set_attributes(stored: Mapping[str, Any] | None, actions: Iterable[UpdateAction]) -> frozenset[str]:
        """The top-level set attributes ``actions`` add to or delete from that ``stored`` holds as NULL."""
        if stored is None:
            return frozenset()
        return frozenset(
            name for a in actions if len(a.segments) == 1 and stored.get(name := str(a.segments[0])) == {"NULL": True}
        )

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
        fields = _fields_of(info)
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
                    action.path, f"{info.name} has no field stored as {attribute!r}: {_unknown_attribute(info, str(attribute), known)}"
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

    # -- projections -------------------------------------------------------------------------------

    def _get_fields(
        self, key: Mapping[str, AttributeValue], refs: Sequence[Ref[Any]], *, consistent: bool = False
    ) -> Projection[M]:
        """Only the fields of ``refs`` (top-level references of this model) of the item under ``key``."""
        info = self.model
        fields = _fields_of(info)
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

    # -- batches -----------------------------------------------------------------------------------
    #
    # Batches never drop work: whatever DynamoDB still leaves unprocessed after ``max_attempts`` sends
    # (exponential backoff with full jitter between them) raises ``UnprocessedItemsError`` whose
    # ``unprocessed`` holds the wire-format keys / write requests per table, and whose ``completed``
    # holds what did succeed (models or keys, see each method). ``BatchInterruptedError`` (another
    # error stopped the batch part-way) is an ``UnprocessedItemsError`` with ``completed`` in the same
    # terms (``completed_as``), so one ``except UnprocessedItemsError`` handles both.
    # Bound to a deadline, a batch stops with ``DeadlineExceededError`` (``completed`` / ``remaining``
    # per table, wire format) instead of starting a request it cannot finish.

    def _identity(self, key: Mapping[str, Any], where: str) -> str:
        """A canonical text of a wire-format key, to match keys with items and to find duplicates."""
        if not isinstance(key, Mapping) or not key:
            raise InvalidValueError(where, "a key is a non-empty mapping of wire-format values (use Model.make_key)")
        self._check_key_values(key, where)
        try:
            return json.dumps(wire_to_json(key), separators=(",", ":"))
        except InvalidValueError as exc:
            raise InvalidValueError(where, exc.reason) from None

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
            return _decode_all(Page(ranked, None, len(ranked)), self._decode).items

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

    # -- transactions ------------------------------------------------------------------------------
    #
    # These build actions only; send any mix of them (several models, several tables) with
    # ``dynagen.runtime.transact_write(client, actions)`` / ``transact_get(client, gets)``, or with
    # this repository's ``transact_write`` (its transport and deadline). Write actions carry the same
    # stamps and conditions as their one-item counterparts; a failed condition cancels the whole
    # transaction with ``TransactionCanceledError`` (``reasons[i].item``: the stored item).

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

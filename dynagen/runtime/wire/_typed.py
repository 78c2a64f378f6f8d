"""Typed references to a model's fields: conditions, filters and update actions in Python values.

A generated module declares, for every model, a ``<Model>Fields`` class (a ``RecordRef``) whose
attributes are references to the model's fields. Each reference knows its stored attribute path
and the field's encoder (the function ``to_item`` uses for one value), and is typed with the
field's Python type, so a condition takes Python values and mypy refuses a value of another type::

    PaymentFields.status.eq(PaymentStatus.CAPTURED) & (PaymentFields.amount >= Decimal("10"))
    CustomerFields.address.city.begins_with("Lon")          # a field of an embedded record
    OrderFields.line_items[0].sku.eq("A-1")                 # a list element, then a record field
    OrderFields.tags["env"].eq("prod")                      # a map entry
    Update.of(PaymentFields.attempts.add(1), PaymentFields.labels.delete({"old"}))

Conditions are the ``Condition`` trees of ``_expressions``: they combine with ``&``, ``|`` and
``~``, also with stored-name ``Field`` conditions, and render with placeholders only. Update
actions are ``UpdateAction`` records; ``Update.of(*actions)`` makes an update of them.

How paths are built: a reference is also a descriptor. Read on a ``Fields`` class
(``PaymentFields.amount``), it is the reference itself, rooted at the item's top level; read on a
record reference that sits at a path (``OrderFields.billing``, at ``billing``), it is a copy rooted
under that path (``billing.city``). List and map references make their element references with
``[index]`` / ``["key"]`` from a prototype (a reference made with ``None`` for its attribute).

Every value is encoded with the field's encoder and checked before any request: a value of the
wrong type, a ``None`` (never stored: use ``not_exists()`` / ``remove()``), an empty set or an IN
list of more than 100 values is an ``InvalidValueError`` naming the path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from datetime import datetime
from decimal import Decimal

from dynagen._typing import TYPE_CHECKING, Any, Generic, TypeVar, cast
from dynagen.errors import InvalidValueError
from dynagen.runtime.wire._checks import check_item
from dynagen.runtime.wire._expressions import (
    ATTRIBUTE_TYPES,
    Condition,
    Equality,
    OrderOperators,
    Segments,
    Size,
    UpdateAction,
    _Between,
    _Compare,
    _Function,
    _In,
    _Operand,
    format_path,
)

if TYPE_CHECKING:
    from typing import ClassVar, Literal, Self

    from dynagen.runtime.wire._types import AttributeValue

    TypeCode = Literal["S", "N", "B", "SS", "NS", "BS", "BOOL", "NULL", "L", "M"]

__all__ = [
    "RESERVED_NAMES",
    "AnyRef",
    "BytesRef",
    "DatetimeRef",
    "JsonRef",
    "ListRef",
    "MapRef",
    "NumberRef",
    "OrderedRef",
    "Projection",
    "RecordRef",
    "Ref",
    "SetRef",
    "StringRef",
    "TextRef",
    "ref_name",
    "required_removal",
]

T = TypeVar("T")
E = TypeVar("E")
R = TypeVar("R", bound="Ref[Any]")

# DynamoDB allows at most 100 operands in an IN list.
_MAX_IN_VALUES = 100
# Encoded scalars whose Python type alone makes them valid (N texts come from the checked number
# encoders); anything else gets the full check_item walk.
_SCALARS: dict[str, type] = {"S": str, "N": str, "B": bytes, "BOOL": bool}

# The public names of a record reference: a field called like one of them is reached as
# ``<name>_`` (``ref_name``), so that it never hides an operator (``OrderFields.size_`` is the
# field ``size``; ``OrderFields.billing.size()`` stays the size of the map).
RESERVED_NAMES = frozenset(
    {"path", "eq", "ne", "is_in", "exists", "not_exists", "attribute_type", "size", "set", "set_if_missing", "remove"}
)


def ref_name(field: str) -> str:
    """The attribute name of ``field``'s reference in a generated ``Fields`` class.

    ``field_`` for a reserved name and for a name that starts with ``_`` (it could hide one of the
    references' private members); a name that already ends in ``_`` after a reserved name gets one
    more, so that no two fields ever share a reference name (``size`` -> ``size_``, ``size_`` -> ``size__``).
    """
    if field in RESERVED_NAMES or field[:1] == "_" or (field[-1:] == "_" and field.rstrip("_") in RESERVED_NAMES):
        return field + "_"
    return field


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _encode_with(
    encode: Callable[[Any], AttributeValue], value: Any, ref: Ref[Any] | None, where: str | None = None
) -> AttributeValue:
    """``encode(value)``, checked: every failure is an ``InvalidValueError`` naming ``where`` (default: ``ref``'s path).

    The path is formatted on failure only: building a condition never pays for it.
    """
    try:
        wire = encode(value)
    except InvalidValueError as exc:
        raise InvalidValueError(_name(ref, where), exc.reason) from None
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        # A value of the wrong type reaching a plain encoder (``v.value`` on a str, ``v.to_item()`` on a dict).
        reason = f"cannot encode {type(value).__name__} {_short(value)}: {exc}"
        raise InvalidValueError(_name(ref, where), reason) from None
    if type(wire) is dict and len(wire) == 1:
        for tag, inner in wire.items():
            if _SCALARS.get(tag) is type(inner):
                return wire
    try:
        check_item({"value": wire})
    except InvalidValueError as exc:
        name = _name(ref, where)
        raise InvalidValueError(name, exc.reason.replace(" (at value", " (at " + name)) from None
    return wire


def _name(ref: Ref[Any] | None, where: str | None) -> str:
    if where is not None:
        return where
    return ref.path if ref is not None else ""


def required_removal(where: str) -> InvalidValueError:
    """REMOVE of a field ``from_item`` needs: the update would leave an item it could not read back."""
    return InvalidValueError(where, "is required: an item without it could not be read back (set it instead)")


class Ref(Equality[T]):
    """A typed reference to one field (or element, or map entry) at one stored path.

    ``Ref(attribute, encode)``: ``attribute`` is the stored attribute name (one name, dots and all;
    None for the prototype of a list element or map value), ``encode`` turns one Python value of
    the field into its attribute value, as ``to_item`` does. ``Ref`` itself offers what every type
    supports: equality, IN, existence, type and size tests, and the SET / REMOVE update actions.
    """

    __slots__ = ("_decode", "_encode", "_inner", "_operand", "_required", "_segments")
    # Whether None is a value of this type (json and untyped values store it as NULL).
    _none_ok: ClassVar[bool] = False

    def __init__(
        self,
        attribute: str | None,
        encode: Callable[[T], AttributeValue],
        decode: Callable[[AttributeValue | None], T | None] | None = None,
        *,
        required: bool = False,
    ) -> None:
        if attribute is None:
            self._segments: Segments = ()
        elif isinstance(attribute, str) and attribute:
            self._segments = (attribute,)
        else:
            raise InvalidValueError(str(attribute), "a field reference needs a non-empty attribute name (or None)")
        self._encode: Callable[[Any], AttributeValue] = encode
        # The field's read of its stored value (None: absent), as ``from_item`` reads it; generated for
        # the top-level fields of table models, whose references ``get_fields`` reads (``Projection``).
        self._decode: Callable[[AttributeValue | None], Any] | None = decode
        self._inner: Any = None
        self._operand: _Operand | None = None
        # from_item needs the attribute (no default, not optional): REMOVE would leave an unreadable item.
        self._required = required

    def _at(self, segments: Segments) -> Self:
        """A copy of this reference at ``segments``."""
        ref = object.__new__(type(self))
        ref._segments = segments
        ref._encode = self._encode
        ref._decode = self._decode
        ref._inner = self._inner
        ref._operand = None
        ref._required = self._required
        return ref

    def __get__(self, instance: Ref[Any] | None, owner: type | None = None) -> Self:
        # Read on a Fields class: this reference. Read on a record reference at a path: a copy under it.
        if instance is None:
            return self
        return self._at(instance._segments + self._segments)

    @property
    def path(self) -> str:
        """The readable stored path, e.g. ``lineItems[0].sku``."""
        return format_path(self._segments)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"

    def __eq__(self, other: object) -> bool:
        raise TypeError(f"compare a field reference with .eq(value) / .ne(value), not == / != ({self!r})")

    def __ne__(self, other: object) -> bool:
        raise TypeError(f"compare a field reference with .eq(value) / .ne(value), not == / != ({self!r})")

    __hash__ = object.__hash__

    # A reference never changes once built (like the class that declares it): copies are itself.
    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self

    # -- encoding ----------------------------------------------------------------------------------

    def _where(self) -> Segments:
        segments = self._segments
        if not segments:
            raise InvalidValueError(
                "", "this reference is the prototype of a list element or map value: use items[0] or entries['key']"
            )
        return segments

    def _wire(self, value: Any, where: str | None = None) -> AttributeValue:
        """``value`` encoded as this field stores it, and checked."""
        if value is None and not self._none_ok:
            raise InvalidValueError(
                self.path if where is None else where,
                "None is never stored (the attribute is left out): use not_exists() in a condition, remove() in an update",
            )
        return _encode_with(self._encode, value, self, where)

    def _op(self) -> _Operand:
        operand = self._operand
        if operand is None:
            operand = self._operand = _Operand(self._where())
        return operand

    def _compare(self, operator: str, value: Any) -> Condition:
        return _Compare(self._op(), operator, self._wire(value))

    # -- conditions every type has (and eq / ne) ---------------------------------------------------

    def is_in(self, values: Iterable[T]) -> Condition:
        """``path IN (v1, v2, ...)``, 1 to 100 values."""
        if isinstance(values, str | bytes | bytearray | Mapping):
            # Iterable, but surely a slip: is_in("abc") would test "a", "b" and "c".
            raise InvalidValueError(self.path, f"is_in takes a collection of values, got {type(values).__name__}")
        wire = tuple(self._wire(v) for v in values)
        if not wire or len(wire) > _MAX_IN_VALUES:
            raise InvalidValueError(self.path, f"IN takes 1 to {_MAX_IN_VALUES} values, got {len(wire)}")
        return _In(self._op(), wire)

    def exists(self) -> Condition:
        """``attribute_exists(path)``."""
        return _Function("attribute_exists", self._where())

    def not_exists(self) -> Condition:
        """``attribute_not_exists(path)``: how to test for a None (never stored) value."""
        return _Function("attribute_not_exists", self._where())

    def attribute_type(self, type_code: TypeCode) -> Condition:
        """``attribute_type(path, type)`` with a DynamoDB type code (``"S"``, ``"NS"``, ``"M"``...)."""
        if type_code not in ATTRIBUTE_TYPES:
            raise InvalidValueError(self.path, f"attribute type must be one of {ATTRIBUTE_TYPES}, not {type_code!r}")
        return _Function("attribute_type", self._where(), {"S": type_code})

    def size(self) -> Size:
        """``size(path)``: the length of a string or binary, the number of elements of a set, list or map."""
        return Size(self._where())

    # -- update actions every type has -------------------------------------------------------------

    def set(self, value: T) -> UpdateAction:
        """``SET path = value``."""
        return UpdateAction("SET", "set", self._where(), self._wire(value), value)

    def set_if_missing(self, value: T) -> UpdateAction:
        """``SET path = if_not_exists(path, value)``: keep a stored value, else write this one."""
        return UpdateAction("SET", "set_if_not_exists", self._where(), self._wire(value), value)

    def remove(self) -> UpdateAction:
        """``REMOVE path`` (a list element: the elements after it move up). A required field cannot be removed."""
        if self._required:
            raise required_removal(self.path)
        return UpdateAction("REMOVE", "remove", self._where(), None)


class OrderedRef(Ref[T], OrderOperators[T]):
    """A value DynamoDB orders: numbers by value, strings by their UTF-8 bytes, binary by bytes.

    ``lt le gt ge between``, and ``<``, ``<=``, ``>`` and ``>=`` building the same conditions
    (``==`` cannot: use ``eq``).
    """

    __slots__ = ()

    def between(self, low: T, high: T) -> Condition:
        """``path BETWEEN low AND high`` (inclusive); ``low`` above ``high`` is refused, as DynamoDB does."""
        low_wire, high_wire = self._wire(low), self._wire(high)
        try:
            reversed_ = low > high  # type: ignore[operator]  # every ordered type compares as it is stored
        except TypeError:  # untyped values of two types
            reversed_ = _above(low_wire, high_wire)
        if reversed_:
            raise InvalidValueError(self.path, f"BETWEEN needs low <= high, got {_short(low)} and {_short(high)}")
        return _Between(self._op(), low_wire, high_wire)


def _above(low: AttributeValue, high: AttributeValue) -> bool:
    """Whether ``low`` sorts after ``high`` the way DynamoDB compares them (same types only)."""
    if "N" in low and "N" in high:
        return Decimal(low["N"]) > Decimal(high["N"])
    if "S" in low and "S" in high:
        # Code point order is UTF-8 byte order, except for surrogates, which UTF-8 cannot hold anyway.
        return low["S"] > high["S"]
    if "B" in low and "B" in high:
        return bytes(low["B"]) > bytes(high["B"])
    return False


class NumberRef(OrderedRef[T]):
    """A number (``int``, ``Decimal``, ``float``), stored as ``N``: compared by value, and ADD."""

    __slots__ = ()

    def add(self, amount: T) -> UpdateAction:
        """``ADD path amount``: add (a negative amount subtracts) atomically; a missing number starts at 0."""
        wire = self._wire(amount)
        if "N" not in wire:
            raise InvalidValueError(self.path, f"ADD needs a number, and this field stores {next(iter(wire))}")
        return UpdateAction("ADD", "add", self._where(), wire, amount)


class TextRef(OrderedRef[T]):
    """A value stored as fixed-width text (``date``, ``YYYY-MM-DD``): compared as text, and ``begins_with``.

    Text order is the values' order only for fixed-width texts; ``datetime`` fields use ``DatetimeRef``.
    """

    __slots__ = ()

    def begins_with(self, prefix: str) -> Condition:
        """``begins_with(path, prefix)`` on the stored text (``"2024-05"``: May 2024)."""
        if not isinstance(prefix, str):
            raise InvalidValueError(self.path, f"begins_with takes a str prefix, got {type(prefix).__name__}")
        return _Function("begins_with", self._where(), {"S": prefix})


class DatetimeRef(TextRef[datetime]):
    """A ``datetime`` stored as RFC 3339 text in UTC with its fraction trimmed (``...:05Z``, ``...:05.25Z``).

    Trimmed texts do not sort like the instants within one second: ``"...:05Z"`` sorts after
    ``"...:05.25Z"``, and ``"...:05.5Z"`` after ``"...:05.55Z"``. ``lt`` / ``le`` / ``gt`` / ``ge`` /
    ``between`` (and ``<`` ...) therefore compare with the bound's fraction padded to nine digits
    and list the few stored texts of the bound's second that sort on the wrong side (the whole
    second and each trimmed prefix of the bound's fraction) in an ``IN``: exact to the nanosecond
    for texts written by any RFC 3339 writer that trims (Python's and Go's), at the price of a
    longer expression. ``eq`` / ``ne`` / ``is_in`` compare the text as stored.
    """

    __slots__ = ()

    def _exact(self, operator: str, value: datetime) -> Condition:
        wire = self._wire(value)
        text = wire.get("S")
        if not isinstance(text, str) or len(text) < 20 or text[-1] != "Z" or text[19] not in ".Z":
            return _Compare(self._op(), operator, wire)  # not the trimmed RFC 3339 form: compare the text
        second, fraction = text[:19], text[20:-1]
        if fraction and (fraction[-1] == "0" or not fraction.isdigit()):
            return _Compare(self._op(), operator, wire)  # an encoder that does not trim: compare the text
        padded: AttributeValue = {"S": f"{second}.{fraction:0<9}"}
        # The texts of the bound's second at or below the bound that sort above the padded bound: the
        # whole second, then each trimmed prefix of the fraction (a stored fraction never ends in 0),
        # the last being the bound's own text.
        listed: list[AttributeValue] = [{"S": second + "Z"}]
        listed += [{"S": f"{second}.{fraction[:k]}Z"} for k in range(1, len(fraction) + 1) if fraction[k - 1] != "0"]
        if operator in (">=", "<"):
            del listed[-1]  # the bound's own text belongs to the other side
        operand = self._op()
        if operator[0] == ">":
            # Above the padded bound, but not the texts of its second that sort there wrongly.
            above: Condition = _Compare(operand, ">", padded)
            return above & ~_In(operand, tuple(listed)) if listed else above
        # Below the padded bound, or one of the texts of its second that sort above it wrongly.
        below: Condition = _Compare(operand, "<", padded)
        return below | _In(operand, tuple(listed)) if listed else below

    def _compare(self, operator: str, value: Any) -> Condition:
        if operator in ("=", "<>"):
            return super()._compare(operator, value)
        return self._exact(operator, value)  # lt le gt ge and < <= > >=

    def between(self, low: datetime, high: datetime) -> Condition:
        """``low <= path <= high``, exact to the nanosecond; ``low`` after ``high`` is refused."""
        lower, upper = self._exact(">=", low), self._exact("<=", high)  # encodes (and checks) both first
        if low > high:
            raise InvalidValueError(self.path, f"BETWEEN needs low <= high, got {_short(low)} and {_short(high)}")
        return lower & upper


class StringRef(TextRef[str]):
    """A string: compared as text, ``begins_with`` and ``contains`` (a substring)."""

    __slots__ = ()

    def contains(self, text: str) -> Condition:
        """``contains(path, text)``: ``text`` is a substring."""
        if not isinstance(text, str):
            raise InvalidValueError(self.path, f"contains takes a str, got {type(text).__name__}")
        return _Function("contains", self._where(), {"S": text})


class BytesRef(OrderedRef[bytes]):
    """Binary, stored as ``B``: compared byte by byte, ``begins_with`` and ``contains``."""

    __slots__ = ()

    def begins_with(self, prefix: bytes) -> Condition:
        """``begins_with(path, prefix)``."""
        if not isinstance(prefix, bytes | bytearray):
            raise InvalidValueError(self.path, f"begins_with takes bytes, got {type(prefix).__name__}")
        return _Function("begins_with", self._where(), {"B": bytes(prefix)})

    def contains(self, part: bytes) -> Condition:
        """``contains(path, part)``: ``part`` occurs in the value."""
        if not isinstance(part, bytes | bytearray):
            raise InvalidValueError(self.path, f"contains takes bytes, got {type(part).__name__}")
        return _Function("contains", self._where(), {"B": bytes(part)})


def _set_encoder(member: Callable[[Any], AttributeValue]) -> Callable[[Any], AttributeValue]:
    """The encoder of a whole set: ``member`` on each element, gathered into ``SS`` / ``NS`` / ``BS``."""

    def encode(values: Any) -> AttributeValue:
        if isinstance(values, str | bytes | bytearray | Mapping) or not isinstance(values, Iterable):
            raise InvalidValueError("", f"expected a set, got {type(values).__name__}")
        kind = ""
        texts: list[Any] = []
        for value in values:
            if value is None:
                raise InvalidValueError("", "a set cannot hold None")
            ((tag, text),) = member(value).items()
            if tag != kind:
                if kind or tag not in ("S", "N", "B"):
                    raise InvalidValueError("", f"set members are all S, N or B, got {tag} for {_short(value)}")
                kind = tag
            texts.append(text)
        if not texts:
            raise InvalidValueError("", "DynamoDB has no empty set: leave the attribute out, or remove() it")
        return cast("AttributeValue", {kind + "S": texts})

    return encode


class SetRef(Ref[AbstractSet[E]]):
    """A set (``SS`` / ``NS`` / ``BS``): ``contains`` one member, ADD and DELETE members.

    ``SetRef(attribute, member)``: ``member`` encodes one element (``{"S": ...}``, ``{"N": ...}``
    or ``{"B": ...}``); a whole set is those values gathered, as ``to_item`` writes it, so
    ``contains(x)`` matches exactly what was stored for ``x``.
    """

    __slots__ = ()

    def __init__(
        self,
        attribute: str | None,
        member: Callable[[E], AttributeValue],
        decode: Callable[[AttributeValue | None], AbstractSet[E] | None] | None = None,
        *,
        required: bool = False,
    ) -> None:
        super().__init__(attribute, _set_encoder(member), decode, required=required)
        self._inner = member

    def _member(self, value: Any) -> AttributeValue:
        if value is None:
            raise InvalidValueError(self.path, "a set cannot hold None")
        wire = _encode_with(self._inner, value, self)
        if next(iter(wire)) not in ("S", "N", "B"):
            raise InvalidValueError(self.path, f"set members are S, N or B, got {next(iter(wire))}")
        return wire

    def contains(self, member: E) -> Condition:
        """``contains(path, member)``: the set holds ``member``."""
        return _Function("contains", self._where(), self._member(member))

    def add(self, members: AbstractSet[E]) -> UpdateAction:
        """``ADD path members``: union ``members`` into the set (a missing set is created)."""
        return UpdateAction("ADD", "add", self._where(), self._wire(members), members)

    def delete(self, members: AbstractSet[E]) -> UpdateAction:
        """``DELETE path members``: take ``members`` out of the set (the attribute goes when it empties)."""
        return UpdateAction("DELETE", "delete", self._where(), self._wire(members), members)


def _list_encoder(element: Ref[Any]) -> Callable[[Any], AttributeValue]:
    def encode(values: Any) -> AttributeValue:
        if not isinstance(values, list | tuple):
            raise InvalidValueError("", f"expected a list, got {type(values).__name__}")
        wire = []
        for i, value in enumerate(values):
            try:
                wire.append(element._wire(value, ""))
            except InvalidValueError as exc:
                raise InvalidValueError("", f"[{i}]: {exc.reason}") from None
        return {"L": wire}

    return encode


class ListRef(Ref[list[E]], Generic[E, R]):
    """A list (``L``): ``[index]`` for an element's reference, ``contains`` an element, append / prepend.

    ``ListRef(attribute, element)``: ``element`` is the prototype of the elements' reference (made
    with ``None`` for its attribute), e.g. ``StringRef(None, encode)`` or ``LineItemFields(None, encode)``.
    """

    __slots__ = ()

    def __init__(
        self,
        attribute: str | None,
        element: R,
        decode: Callable[[AttributeValue | None], list[E] | None] | None = None,
        *,
        required: bool = False,
    ) -> None:
        super().__init__(attribute, _list_encoder(element), decode, required=required)
        self._inner = element

    def __getitem__(self, index: int) -> R:
        """The element at ``index`` (from 0), e.g. ``OrderFields.notes[0]``, ``OrderFields.line_items[1].sku``."""
        if type(index) is not int or index < 0:
            raise InvalidValueError(self.path, f"a list index is an int >= 0, got {index!r}")
        element: R = self._inner._at((*self._where(), index))
        return element

    def contains(self, element: E) -> Condition:
        """``contains(path, element)``: some element of the list equals ``element``."""
        return _Function("contains", self._where(), self._inner._wire(element, self.path))

    def append(self, values: list[E]) -> UpdateAction:
        """``SET path = list_append(path, values)`` (a missing list starts empty)."""
        return UpdateAction("SET", "append", self._where(), self._wire(values), values)

    def prepend(self, values: list[E]) -> UpdateAction:
        """``SET path = list_append(values, path)`` (a missing list starts empty)."""
        return UpdateAction("SET", "prepend", self._where(), self._wire(values), values)


def _map_encoder(value_ref: Ref[Any]) -> Callable[[Any], AttributeValue]:
    def encode(values: Any) -> AttributeValue:
        if not isinstance(values, Mapping):
            raise InvalidValueError("", f"expected a mapping, got {type(values).__name__}")
        wire = {}
        for key, value in values.items():
            try:
                wire[key] = value_ref._wire(value, "")
            except InvalidValueError as exc:
                raise InvalidValueError("", f"[{key!r}]: {exc.reason}") from None
        return {"M": wire}

    return encode


class MapRef(Ref[Mapping[str, E]], Generic[E, R]):
    """A map of string keys (``M``): ``["key"]`` for an entry's reference.

    ``MapRef(attribute, value)``: ``value`` is the prototype of the entries' reference (made with
    ``None`` for its attribute).
    """

    __slots__ = ()

    def __init__(
        self,
        attribute: str | None,
        value: R,
        decode: Callable[[AttributeValue | None], Mapping[str, E] | None] | None = None,
        *,
        required: bool = False,
    ) -> None:
        super().__init__(attribute, _map_encoder(value), decode, required=required)
        self._inner = value

    def __getitem__(self, key: str) -> R:
        """The entry under ``key``, e.g. ``OrderFields.tags["env"]`` (any text: it is one placeholder)."""
        if not isinstance(key, str) or not key:
            raise InvalidValueError(self.path, f"a map key is a non-empty str, got {key!r}")
        entry: R = self._inner._at((*self._where(), key))
        return entry


class RecordRef(Ref[T]):
    """An embedded record (``M``): the base of every generated ``<Model>Fields`` class.

    A generated subclass declares one class attribute per field; read on the class they are rooted
    at the item's top level (``PaymentFields.amount``), read on an instance (a record field, a list
    element, a map value) they are rooted under its path (``OrderFields.billing.city``).
    """

    __slots__ = ()


class JsonRef(Ref[Any]):
    """A ``json`` field: any JSON value, stored as one string of compact JSON with sorted keys.

    DynamoDB sees one string, not a document, so only the whole value can be tested: ``eq`` / ``ne``
    / ``is_in`` compare the canonical text (``{"b": 1, "a": 2}`` equals what was stored for
    ``{"a": 2, "b": 1}``; ``1`` and ``1.0`` are different texts), ``None`` is what ``to_item`` stores
    for it (``NULL`` for a field, the text ``null`` inside a list or map: the encoder says which),
    ``contains_text`` looks for a substring of the text and ``size()`` is the text's length. There is
    no path into the JSON (no ``[...]``) and no ordering.
    """

    __slots__ = ()
    _none_ok = True  # None goes through the encoder, which writes it as to_item does

    def contains_text(self, text: str) -> Condition:
        """``contains(path, text)``: ``text`` occurs in the stored JSON text (e.g. ``'"beta":true'``)."""
        if not isinstance(text, str):
            raise InvalidValueError(self.path, f"contains_text takes a str, got {type(text).__name__}")
        return _Function("contains", self._where(), {"S": text})


class AnyRef(OrderedRef[Any]):
    """An untyped value (inside ``dict[str, Any]`` / ``list[Any]`` fields), encoded as ``to_wire`` does.

    Anything DynamoDB allows: ``[key]`` / ``[index]`` go deeper, comparisons take any value.
    """

    __slots__ = ()
    _none_ok = True

    def __getitem__(self, key: str | int) -> AnyRef:
        """The map entry (a ``str`` key) or list element (an ``int`` index) under this value."""
        if not ((isinstance(key, str) and key) or (type(key) is int and key >= 0)):
            raise InvalidValueError(self.path, f"expected a non-empty str key or an int index >= 0, got {key!r}")
        return self._at((*self._where(), key))

    def begins_with(self, prefix: str | bytes) -> Condition:
        """``begins_with(path, prefix)`` for a string or binary value."""
        if not isinstance(prefix, str | bytes):
            raise InvalidValueError(self.path, f"begins_with takes str or bytes, got {type(prefix).__name__}")
        wire: AttributeValue = {"S": prefix} if isinstance(prefix, str) else {"B": prefix}
        return _Function("begins_with", self._where(), wire)

    def contains(self, value: Any) -> Condition:
        """``contains(path, value)``: a substring, a set member or a list element."""
        return _Function("contains", self._where(), self._wire(value))

    def add(self, value: Any) -> UpdateAction:
        """``ADD path value``: a number to add, or a set to union in."""
        wire = self._wire(value)
        if next(iter(wire)) not in ("N", "SS", "NS", "BS"):
            raise InvalidValueError(self.path, f"ADD takes a number or a set, got {_short(value)}")
        return UpdateAction("ADD", "add", self._where(), wire, value)

    def delete(self, members: Any) -> UpdateAction:
        """``DELETE path members``: take set members out."""
        wire = self._wire(members)
        if next(iter(wire)) not in ("SS", "NS", "BS"):
            raise InvalidValueError(self.path, f"DELETE takes a set, got {_short(members)}")
        return UpdateAction("DELETE", "delete", self._where(), wire, members)

    def append(self, values: list[Any]) -> UpdateAction:
        """``SET path = list_append(path, values)`` (a missing list starts empty)."""
        return UpdateAction("SET", "append", self._where(), self._list(values), values)

    def prepend(self, values: list[Any]) -> UpdateAction:
        """``SET path = list_append(values, path)`` (a missing list starts empty)."""
        return UpdateAction("SET", "prepend", self._where(), self._list(values), values)

    def _list(self, values: list[Any]) -> AttributeValue:
        if not isinstance(values, list | tuple):
            raise InvalidValueError(self.path, f"expected a list, got {type(values).__name__}")
        return self._wire(list(values))


M = TypeVar("M")


class Projection(Generic[M]):
    """Chosen fields of one stored item (a repository's ``get_fields``), read by their references.

    ``projection[PaymentFields.amount]`` is the field's value, read as ``from_item`` reads it (the
    field's default or empty value when the item does not hold it); an ``InvalidValueError`` naming
    the field when that value is None (an optional field without a value, or a required one the item
    lacks): ``projection.get(PaymentFields.captured_amount)`` gives None instead. Only the fields
    that were read can be asked for; ``item`` is the wire-format item DynamoDB returned.
    """

    __slots__ = ("_read", "item", "model")

    def __init__(self, model: str, item: Mapping[str, AttributeValue], read: Mapping[str, tuple[str, Ref[Any]]]) -> None:
        self.model = model
        self.item = item
        self._read = read  # attribute -> (Python field name, its reference), of the fields that were read

    def __repr__(self) -> str:
        return f"Projection({self.model}, {sorted(name for name, _ in self._read.values())})"

    def _field(self, ref: Ref[Any]) -> tuple[str, str]:
        attribute = ref._segments[0] if len(ref._segments) == 1 else None
        entry = self._read.get(attribute) if isinstance(attribute, str) else None
        if entry is None or entry[1] is not ref:
            read = ", ".join(sorted(name for name, _ in self._read.values()))
            raise InvalidValueError(ref.path, f"not read: this projection of {self.model} holds {read}")
        return str(attribute), entry[0]

    def get(self, ref: Ref[T]) -> T | None:
        """The field's value, None when it has none."""
        attribute, field = self._field(ref)
        decode = ref._decode
        assert decode is not None  # get_fields took only references that have a decoder
        try:
            value: T | None = decode(self.item.get(attribute))
        except (KeyError, TypeError, ValueError) as exc:  # InvalidValueError included
            reason = exc.reason if isinstance(exc, InvalidValueError) else f"{type(exc).__name__}: {exc}"
            raise InvalidValueError(field, f"cannot read the stored value as {self.model}.{field}: {reason}") from exc
        return value

    def __getitem__(self, ref: Ref[T]) -> T:
        """The field's value; ``InvalidValueError`` when it is None (use ``get`` for optional fields)."""
        value = self.get(ref)
        if value is None:
            raise InvalidValueError(self._field(ref)[1], f"this {self.model} item holds no value for it (use .get())")
        return value

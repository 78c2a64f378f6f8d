"""DynamoDB expressions built from placeholders only: conditions, updates, key conditions, projections.

Every attribute name becomes a ``#n<i>`` placeholder (one per path segment, so ``a.b[2].c`` is
``#n0.#n1[2].#n2``) and every value a ``:v<i>`` placeholder. Reserved words (``status``, ``name``,
``ttl``...) therefore just work, and no value is ever spliced into expression text.

Values are wire-format attribute values (``{"S": "x"}``); a ``Field`` may carry an encoder that
turns a Python value into one. Conditions are immutable trees combined with ``&``, ``|`` and ``~``.

    ph = Placeholders()
    cond = Field("status").eq({"S": "open"}) & Field("count").size().gt(0)
    request = {"ConditionExpression": cond.render(ph), **ph.expression_attributes()}
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from dynagen._record import Record, init
from dynagen._typing import Any, Generic, TypeVar, overload
from dynagen.errors import InvalidValueError

__all__ = [
    "ATTRIBUTE_TYPES",
    "AttributePath",
    "AttributeValue",
    "Condition",
    "Equality",
    "Field",
    "Item",
    "OrderOperators",
    "Ordering",
    "Placeholders",
    "Size",
    "SortCondition",
    "Update",
    "UpdateAction",
    "format_path",
    "key_condition",
    "parse_path",
    "projection",
]

AttributeValue = Mapping[str, Any]
"""One wire-format attribute value, e.g. ``{"S": "x"}`` or ``{"N": "1"}``."""
Item = dict[str, Any]
"""A wire-format item or key: attribute name to attribute value."""
AttributePath = str | tuple[str | int, ...]
"""``"a.b[2].c"``, or ``("a", "b", 2, "c")`` for names that themselves hold ``.`` or ``[``."""
Segments = tuple[str | int, ...]

ATTRIBUTE_TYPES = ("S", "N", "B", "SS", "NS", "BS", "BOOL", "NULL", "L", "M")
_SET_TYPES = ("SS", "NS", "BS")
# Patterns as text: re compiles (and caches) them on first use, not at import (cold start).
_PATH_SEGMENT = r"([^.\[\]]+)((?:\[\d+\])*)"
_INDEX = r"\[(\d+)\]"
# DynamoDB allows at most 100 operands in an IN list.
_MAX_IN_VALUES = 100

T = TypeVar("T")


# --------------------------------------------------------------------------------------------------
# Paths and placeholders


def parse_path(path: AttributePath) -> Segments:
    """Split ``"a.b[2].c"`` into ``("a", "b", 2, "c")``; a tuple is checked and returned as is."""
    if isinstance(path, tuple):
        ok = (
            bool(path)
            and isinstance(path[0], str)
            and all(
                (isinstance(s, str) and s) or (isinstance(s, int) and not isinstance(s, bool) and s >= 0) for s in path
            )
        )
        if not ok:
            raise InvalidValueError(str(path), "an attribute path starts with a name; indexes are ints >= 0")
        return path
    if not isinstance(path, str) or not path:
        raise InvalidValueError(str(path), "an attribute path must be a non-empty string")
    segments: list[str | int] = []
    for part in path.split("."):
        match = re.fullmatch(_PATH_SEGMENT, part)
        if match is None:
            raise InvalidValueError(path, "malformed attribute path (expected name, name.sub or name[0])")
        segments.append(match.group(1))
        segments.extend(int(i) for i in re.findall(_INDEX, match.group(2)))
    return tuple(segments)


def format_path(segments: Segments) -> str:
    """The readable form of a path, used in error messages: ``a.b[2].c``."""
    text = ""
    for segment in segments:
        text += f"[{segment}]" if isinstance(segment, int) else (f".{segment}" if text else segment)
    return text


class Placeholders:
    """Allocates ``#n<i>`` name and ``:v<i>`` value placeholders for one request.

    The same attribute name always gets the same placeholder; every value gets its own.
    """

    __slots__ = ("_names", "_values")

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._values: dict[str, Any] = {}

    def name(self, name: str) -> str:
        """The placeholder of one attribute name (one path segment)."""
        placeholder = self._names.get(name)
        if placeholder is None:
            placeholder = self._names[name] = f"#n{len(self._names)}"
        return placeholder

    def path(self, path: AttributePath) -> str:
        """A document path with every name segment replaced by its placeholder."""
        text = ""
        for segment in parse_path(path):
            if isinstance(segment, int):
                text += f"[{segment}]"
            else:
                text += ("." if text else "") + self.name(segment)
        return text

    def value(self, value: AttributeValue) -> str:
        """A fresh placeholder for one wire-format value."""
        placeholder = f":v{len(self._values)}"
        self._values[placeholder] = value
        return placeholder

    @property
    def names(self) -> dict[str, str]:
        """``ExpressionAttributeNames``: placeholder to attribute name."""
        return {placeholder: name for name, placeholder in self._names.items()}

    @property
    def values(self) -> dict[str, Any]:
        """``ExpressionAttributeValues``: placeholder to wire value."""
        return dict(self._values)

    def expression_attributes(self) -> dict[str, Any]:
        """The ``ExpressionAttributeNames`` / ``ExpressionAttributeValues`` request members, empty ones left out
        (DynamoDB rejects an empty map)."""
        members: dict[str, Any] = {}
        if self._names:
            members["ExpressionAttributeNames"] = self.names
        if self._values:
            members["ExpressionAttributeValues"] = self.values
        return members


def _check_value(value: Any, where: str) -> AttributeValue:
    """Refuse anything that is not one wire-format attribute value (a common slip: a bare Python value)."""
    if not isinstance(value, Mapping) or len(value) != 1 or next(iter(value)) not in ATTRIBUTE_TYPES:
        raise InvalidValueError(where, f"expected a wire-format attribute value like {{'S': ...}}, got {value!r}")
    kind = next(iter(value))
    if kind in _SET_TYPES and not value[kind]:
        raise InvalidValueError(where, "DynamoDB has no empty set")
    return value


# --------------------------------------------------------------------------------------------------
# Conditions


class Condition(ABC):
    """An immutable condition (filter or write condition); combine with ``&``, ``|`` and ``~``."""

    __slots__ = ()

    @abstractmethod
    def render(self, placeholders: Placeholders) -> str:
        """The expression text, registering names and values with ``placeholders``."""

    def attribute_paths(self) -> Iterator[Segments]:
        """Every attribute path the condition reads, in order (repositories check them against the model)."""
        return iter(())

    def __and__(self, other: Condition) -> Condition:
        return _And((*_parts(self, _And), *_parts(other, _And)))

    def __or__(self, other: Condition) -> Condition:
        return _Or((*_parts(self, _Or), *_parts(other, _Or)))

    def __invert__(self) -> Condition:
        return _Not(self)


def _parts(condition: Condition, kind: type[_And] | type[_Or]) -> tuple[Condition, ...]:
    if not isinstance(condition, Condition):
        raise TypeError(f"expected a Condition, got {type(condition).__name__}")
    # Flatten a & b & c into one AND: fewer parentheses, same meaning.
    return condition.parts if isinstance(condition, kind) else (condition,)


class _Operand(Record):
    __slots__ = ("segments", "size")
    segments: Segments
    size: bool

    def __init__(self, segments: Segments, size: bool = False) -> None:
        init(self, "segments", segments)
        init(self, "size", size)

    def render(self, placeholders: Placeholders) -> str:
        path = placeholders.path(self.segments)
        return f"size({path})" if self.size else path


class _Compare(Condition, Record):
    __slots__ = ("operand", "operator", "value")
    operand: _Operand
    operator: str
    value: AttributeValue

    def __init__(self, operand: _Operand, operator: str, value: AttributeValue) -> None:
        init(self, "operand", operand)
        init(self, "operator", operator)
        init(self, "value", value)

    def render(self, placeholders: Placeholders) -> str:
        return f"{self.operand.render(placeholders)} {self.operator} {placeholders.value(self.value)}"

    def attribute_paths(self) -> Iterator[Segments]:
        yield self.operand.segments


class _Between(Condition, Record):
    __slots__ = ("operand", "low", "high")  # noqa: RUF023 - the fields' order (repr and equality follow it)
    operand: _Operand
    low: AttributeValue
    high: AttributeValue

    def __init__(self, operand: _Operand, low: AttributeValue, high: AttributeValue) -> None:
        init(self, "operand", operand)
        init(self, "low", low)
        init(self, "high", high)

    def render(self, placeholders: Placeholders) -> str:
        operand = self.operand.render(placeholders)
        return f"{operand} BETWEEN {placeholders.value(self.low)} AND {placeholders.value(self.high)}"

    def attribute_paths(self) -> Iterator[Segments]:
        yield self.operand.segments


class _In(Condition, Record):
    __slots__ = ("operand", "values")
    operand: _Operand
    values: tuple[AttributeValue, ...]

    def __init__(self, operand: _Operand, values: tuple[AttributeValue, ...]) -> None:
        init(self, "operand", operand)
        init(self, "values", values)

    def render(self, placeholders: Placeholders) -> str:
        operand = self.operand.render(placeholders)
        return f"{operand} IN ({', '.join(placeholders.value(v) for v in self.values)})"

    def attribute_paths(self) -> Iterator[Segments]:
        yield self.operand.segments


class _Function(Condition, Record):
    __slots__ = ("function", "segments", "value")
    function: str
    segments: Segments
    value: AttributeValue | None

    def __init__(self, function: str, segments: Segments, value: AttributeValue | None = None) -> None:
        init(self, "function", function)
        init(self, "segments", segments)
        init(self, "value", value)

    def render(self, placeholders: Placeholders) -> str:
        path = placeholders.path(self.segments)
        if self.value is None:
            return f"{self.function}({path})"
        return f"{self.function}({path}, {placeholders.value(self.value)})"

    def attribute_paths(self) -> Iterator[Segments]:
        yield self.segments


class _And(Condition, Record):
    __slots__ = ("parts",)
    parts: tuple[Condition, ...]

    def __init__(self, parts: tuple[Condition, ...]) -> None:
        init(self, "parts", parts)

    def render(self, placeholders: Placeholders) -> str:
        return "(" + " AND ".join(p.render(placeholders) for p in self.parts) + ")"

    def attribute_paths(self) -> Iterator[Segments]:
        for part in self.parts:
            yield from part.attribute_paths()


class _Or(Condition, Record):
    __slots__ = ("parts",)
    parts: tuple[Condition, ...]

    def __init__(self, parts: tuple[Condition, ...]) -> None:
        init(self, "parts", parts)

    def render(self, placeholders: Placeholders) -> str:
        return "(" + " OR ".join(p.render(placeholders) for p in self.parts) + ")"

    def attribute_paths(self) -> Iterator[Segments]:
        for part in self.parts:
            yield from part.attribute_paths()


class _Not(Condition, Record):
    __slots__ = ("inner",)
    inner: Condition

    def __init__(self, inner: Condition) -> None:
        init(self, "inner", inner)

    def render(self, placeholders: Placeholders) -> str:
        return f"(NOT {self.inner.render(placeholders)})"

    def attribute_paths(self) -> Iterator[Segments]:
        return self.inner.attribute_paths()


class Equality(Generic[T]):
    """``eq`` / ``ne`` over the class's ``_compare`` (shared by ``Field``, ``Size`` and the typed references)."""

    __slots__ = ()

    def _compare(self, operator: str, value: T) -> Condition:
        raise NotImplementedError

    def eq(self, value: T) -> Condition:
        """``path = value``."""
        return self._compare("=", value)

    def ne(self, value: T) -> Condition:
        """``path <> value`` (also true when the attribute is missing)."""
        return self._compare("<>", value)


class Ordering(Equality[T]):
    """``eq ne lt le gt ge`` over the class's ``_compare``."""

    __slots__ = ()

    def lt(self, value: T) -> Condition:
        """``path < value``."""
        return self._compare("<", value)

    def le(self, value: T) -> Condition:
        """``path <= value``."""
        return self._compare("<=", value)

    def gt(self, value: T) -> Condition:
        """``path > value``."""
        return self._compare(">", value)

    def ge(self, value: T) -> Condition:
        """``path >= value``."""
        return self._compare(">=", value)


class OrderOperators(Ordering[T]):
    """``Ordering``, and ``<`` ``<=`` ``>`` ``>=`` building the same conditions (``==`` cannot: use ``eq``)."""

    __slots__ = ()

    def __lt__(self, value: T) -> Condition:
        return self._compare("<", value)

    def __le__(self, value: T) -> Condition:
        return self._compare("<=", value)

    def __gt__(self, value: T) -> Condition:
        return self._compare(">", value)

    def __ge__(self, value: T) -> Condition:
        return self._compare(">=", value)


class Field(Ordering[T]):
    """One attribute (or nested path) to build conditions on.

    ``Field("status")`` takes wire values (``{"S": "open"}``); ``Field("count", encode=enc)`` takes
    Python values and encodes them with ``enc`` when the condition is built. The name is the
    attribute as stored (``Field("partnerId")``, not the Python field ``partner_id``); a repository
    refuses a condition or filter on an attribute its model does not have, before any request.
    """

    __slots__ = ("_encode", "segments")

    @overload
    def __init__(self: Field[AttributeValue], attribute: AttributePath, encode: None = None) -> None: ...

    @overload
    def __init__(self, attribute: AttributePath, encode: Callable[[T], AttributeValue]) -> None: ...

    def __init__(self, attribute: AttributePath, encode: Callable[[T], AttributeValue] | None = None) -> None:
        self.segments = parse_path(attribute)
        self._encode = encode

    @property
    def path(self) -> str:
        """The readable path, e.g. ``a.b[2]``."""
        return format_path(self.segments)

    def __repr__(self) -> str:
        return f"Field({self.path!r})"

    def _wire(self, value: T) -> AttributeValue:
        encoded = self._encode(value) if self._encode is not None else value
        return _check_value(encoded, self.path)

    def _compare(self, operator: str, value: T) -> Condition:
        return _Compare(_Operand(self.segments), operator, self._wire(value))

    def between(self, low: T, high: T) -> Condition:
        """``attribute BETWEEN low AND high`` (inclusive)."""
        return _Between(_Operand(self.segments), self._wire(low), self._wire(high))

    def begins_with(self, prefix: T) -> Condition:
        """``begins_with(attribute, prefix)`` for strings and binary."""
        return _Function("begins_with", self.segments, self._wire(prefix))

    def contains(self, value: T) -> Condition:
        """``contains(attribute, value)``: substring of a string, or element of a set or list."""
        return _Function("contains", self.segments, self._wire(value))

    def is_in(self, values: Iterable[T]) -> Condition:
        """``attribute IN (v1, v2, ...)``, 1 to 100 values."""
        wire = tuple(self._wire(v) for v in values)
        if not wire or len(wire) > _MAX_IN_VALUES:
            raise InvalidValueError(self.path, f"IN takes 1 to {_MAX_IN_VALUES} values, got {len(wire)}")
        return _In(_Operand(self.segments), wire)

    def exists(self) -> Condition:
        """``attribute_exists(attribute)``."""
        return _Function("attribute_exists", self.segments)

    def not_exists(self) -> Condition:
        """``attribute_not_exists(attribute)``."""
        return _Function("attribute_not_exists", self.segments)

    def attribute_type(self, type_code: str) -> Condition:
        """``attribute_type(attribute, type)`` with a DynamoDB type code (``"S"``, ``"NS"``, ``"M"``...)."""
        if type_code not in ATTRIBUTE_TYPES:
            raise InvalidValueError(self.path, f"attribute type must be one of {ATTRIBUTE_TYPES}, not {type_code!r}")
        return _Function("attribute_type", self.segments, {"S": type_code})

    def size(self) -> Size:
        """``size(attribute)``, to compare with integers."""
        return Size(self.segments)


class Size(OrderOperators[int]):
    """``size(attribute)``: length of a string, binary, set, list or map, compared with integers
    (``eq ne lt le gt ge between``, or ``<`` ``<=`` ``>`` ``>=``)."""

    __slots__ = ("segments",)

    def __init__(self, segments: Segments) -> None:
        self.segments = segments

    def _number(self, value: int) -> AttributeValue:
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidValueError(f"size({format_path(self.segments)})", f"expected an int, got {value!r}")
        return {"N": str(value)}

    def _compare(self, operator: str, value: int) -> Condition:
        return _Compare(_Operand(self.segments, size=True), operator, self._number(value))

    def between(self, low: int, high: int) -> Condition:
        """``size(attribute) BETWEEN low AND high``."""
        return _Between(_Operand(self.segments, size=True), self._number(low), self._number(high))


# --------------------------------------------------------------------------------------------------
# Updates


class UpdateAction(Record):
    """One action of an update expression: ``clause`` (SET, REMOVE, ADD or DELETE) on one path.

    ``form`` says how a SET renders (``set``, ``set_if_not_exists``, ``append``, ``prepend``);
    ``value`` is the wire value (None for REMOVE). ``source`` is the Python value a typed field
    reference encoded (``PaymentFields.status.set(PaymentStatus.CAPTURED)``), kept so that a
    repository can rebuild the index keys a field is part of; None for wire-value actions.
    """

    __slots__ = ("clause", "form", "segments", "value", "source")  # noqa: RUF023 - the fields' order (repr and equality follow it)
    clause: str  # SET, REMOVE, ADD or DELETE
    form: str
    segments: Segments
    value: AttributeValue | None
    source: Any

    def __init__(
        self, clause: str, form: str, segments: Segments, value: AttributeValue | None, source: Any = None
    ) -> None:
        init(self, "clause", clause)
        init(self, "form", form)
        init(self, "segments", segments)
        init(self, "value", value)
        init(self, "source", source)

    @property
    def path(self) -> str:
        """The readable path, e.g. ``lineItems[0].quantity``."""
        return format_path(self.segments)

    def render(self, placeholders: Placeholders) -> str:
        path = placeholders.path(self.segments)
        if self.value is None:
            return path  # REMOVE
        value = placeholders.value(self.value)
        if self.form == "set":
            return f"{path} = {value}"
        if self.form == "set_if_not_exists":
            return f"{path} = if_not_exists({path}, {value})"
        if self.form in ("append", "prepend"):
            # if_not_exists makes appending to a missing list start a new one instead of failing.
            current = f"if_not_exists({path}, {placeholders.value({'L': []})})"
            operands = (current, value) if self.form == "append" else (value, current)
            return f"{path} = list_append({operands[0]}, {operands[1]})"
        return f"{path} {value}"  # ADD / DELETE


_CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")


class Update:
    """An immutable update expression; every method returns a new ``Update``.

    Each attribute may be touched once per update (DynamoDB rejects overlapping paths such as
    ``a`` and ``a.b`` in one expression); a second touch raises ``InvalidValueError``.
    """

    __slots__ = ("_actions",)

    def __init__(self, actions: tuple[UpdateAction, ...] = ()) -> None:
        self._actions = actions

    @classmethod
    def of(cls, *actions: UpdateAction) -> Update:
        """An update of these actions (from typed field references: ``PaymentFields.status.set(...)``)."""
        return cls().with_actions(*actions)

    def with_actions(self, *actions: UpdateAction) -> Update:
        """This update and ``actions`` (already encoded and checked by the references that made them)."""
        update = self
        for action in actions:
            if not isinstance(action, UpdateAction):
                raise InvalidValueError("update", f"expected an UpdateAction, got {type(action).__name__}")
            update = update._plus(action)
        return update

    def _plus(self, action: UpdateAction) -> Update:
        segments = action.segments
        for other in self._actions:
            shorter = min(len(other.segments), len(segments))
            if other.segments[:shorter] == segments[:shorter]:
                raise InvalidValueError(
                    format_path(segments),
                    f"touched twice in one update (overlaps {format_path(other.segments)!r})",
                )
        return Update((*self._actions, action))

    def _with(self, clause: str, form: str, attribute: AttributePath, value: AttributeValue | None) -> Update:
        segments = parse_path(attribute)
        if value is not None:
            _check_value(value, format_path(segments))
        return self._plus(UpdateAction(clause, form, segments, value))

    def set(self, attribute: AttributePath, value: AttributeValue) -> Update:
        """``SET attribute = value``."""
        return self._with("SET", "set", attribute, value)

    def set_if_not_exists(self, attribute: AttributePath, value: AttributeValue) -> Update:
        """``SET attribute = if_not_exists(attribute, value)``: keep a stored value, else write this one."""
        return self._with("SET", "set_if_not_exists", attribute, value)

    def remove(self, attribute: AttributePath) -> Update:
        """``REMOVE attribute``."""
        return self._with("REMOVE", "remove", attribute, None)

    def add(self, attribute: AttributePath, value: AttributeValue) -> Update:
        """``ADD attribute value``: add to a number (``N``) or union into a set (``SS``/``NS``/``BS``)."""
        self._require(attribute, value, ("N", *_SET_TYPES), "ADD")
        return self._with("ADD", "add", attribute, value)

    def delete(self, attribute: AttributePath, value: AttributeValue) -> Update:
        """``DELETE attribute value``: remove elements from a set."""
        self._require(attribute, value, _SET_TYPES, "DELETE")
        return self._with("DELETE", "delete", attribute, value)

    def append(self, attribute: AttributePath, values: AttributeValue) -> Update:
        """Append the elements of an ``L`` value to a list (a missing list starts empty)."""
        self._require(attribute, values, ("L",), "append")
        return self._with("SET", "append", attribute, values)

    def prepend(self, attribute: AttributePath, values: AttributeValue) -> Update:
        """Prepend the elements of an ``L`` value to a list (a missing list starts empty)."""
        self._require(attribute, values, ("L",), "prepend")
        return self._with("SET", "prepend", attribute, values)

    @staticmethod
    def _require(attribute: AttributePath, value: AttributeValue, kinds: tuple[str, ...], what: str) -> None:
        kind = next(iter(value), None) if isinstance(value, Mapping) and len(value) == 1 else None
        if kind not in kinds:
            raise InvalidValueError(str(attribute), f"{what} takes a value of type {' or '.join(kinds)}, got {value!r}")

    @property
    def actions(self) -> tuple[UpdateAction, ...]:
        """The actions, in the order they were added."""
        return self._actions

    @property
    def attributes(self) -> tuple[str, ...]:
        """The paths this update touches, in order."""
        return tuple(format_path(a.segments) for a in self._actions)

    def __bool__(self) -> bool:
        return bool(self._actions)

    def __repr__(self) -> str:
        return f"Update({', '.join(f'{a.form} {format_path(a.segments)}' for a in self._actions)})"

    def render(self, placeholders: Placeholders) -> str:
        """``SET ... REMOVE ... ADD ... DELETE ...``; an empty update is an ``InvalidValueError``."""
        if not self._actions:
            raise InvalidValueError("update", "an update must change at least one attribute")
        clauses = []
        for clause in _CLAUSES:
            rendered = [a.render(placeholders) for a in self._actions if a.clause == clause]
            if rendered:
                clauses.append(f"{clause} {', '.join(rendered)}")
        return " ".join(clauses)


# --------------------------------------------------------------------------------------------------
# Key conditions and projections


class SortCondition(Record):
    """A condition on the sort key of a query: ``eq lt le gt ge between begins_with`` on wire values."""

    __slots__ = ("operator", "values")
    operator: str
    values: tuple[AttributeValue, ...]

    def __init__(self, operator: str, values: tuple[AttributeValue, ...]) -> None:
        init(self, "operator", operator)
        init(self, "values", values)

    @classmethod
    def _make(cls, operator: str, *values: AttributeValue) -> SortCondition:
        for value in values:
            _check_value(value, "sort key")
            if next(iter(value)) not in ("S", "N", "B"):
                raise InvalidValueError("sort key", f"key values are S, N or B, got {value!r}")
        return cls(operator, values)

    @classmethod
    def eq(cls, value: AttributeValue) -> SortCondition:
        """``sort = value``."""
        return cls._make("=", value)

    @classmethod
    def lt(cls, value: AttributeValue) -> SortCondition:
        """``sort < value``."""
        return cls._make("<", value)

    @classmethod
    def le(cls, value: AttributeValue) -> SortCondition:
        """``sort <= value``."""
        return cls._make("<=", value)

    @classmethod
    def gt(cls, value: AttributeValue) -> SortCondition:
        """``sort > value``."""
        return cls._make(">", value)

    @classmethod
    def ge(cls, value: AttributeValue) -> SortCondition:
        """``sort >= value``."""
        return cls._make(">=", value)

    @classmethod
    def between(cls, low: AttributeValue, high: AttributeValue) -> SortCondition:
        """``sort BETWEEN low AND high`` (inclusive)."""
        return cls._make("BETWEEN", low, high)

    @classmethod
    def begins_with(cls, prefix: AttributeValue) -> SortCondition:
        """``begins_with(sort, prefix)`` (string or binary sort keys)."""
        if isinstance(prefix, Mapping) and "N" in prefix:
            raise InvalidValueError("sort key", "begins_with needs a string or binary prefix")
        return cls._make("begins_with", prefix)

    def render(self, attribute: str, placeholders: Placeholders) -> str:
        """The key condition on ``attribute`` (a top-level key attribute name)."""
        name = placeholders.name(attribute)
        values = [placeholders.value(v) for v in self.values]
        if self.operator == "BETWEEN":
            return f"{name} BETWEEN {values[0]} AND {values[1]}"
        if self.operator == "begins_with":
            return f"begins_with({name}, {values[0]})"
        return f"{name} {self.operator} {values[0]}"


def key_condition(
    partition: tuple[str, AttributeValue],
    sort: tuple[str, SortCondition] | None,
    placeholders: Placeholders,
) -> str:
    """A ``KeyConditionExpression``: partition key equality, optionally AND a sort key condition."""
    name, value = partition
    _check_value(value, name)
    text = f"{placeholders.name(name)} = {placeholders.value(value)}"
    if sort is not None:
        text += f" AND {sort[1].render(sort[0], placeholders)}"
    return text


def projection(attributes: Sequence[AttributePath], placeholders: Placeholders) -> str:
    """A ``ProjectionExpression`` naming ``attributes`` (paths allowed), duplicates dropped."""
    if isinstance(attributes, str) or not attributes:
        raise InvalidValueError("projection", "a projection is a non-empty sequence of attribute paths")
    rendered = [placeholders.path(a) for a in attributes]
    return ", ".join(dict.fromkeys(rendered))

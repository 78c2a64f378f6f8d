"""The sort-key condition of an access pattern (``key_range``): exact bounds, prefixes and comparisons
on a template's fields, as DynamoDB takes one condition per query.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from dynagen._typing import TYPE_CHECKING, Any, TypeVar, cast
from dynagen.errors import (
    InvalidValueError,
)
from dynagen.runtime.wire._expressions import (
    SortCondition,
)

if TYPE_CHECKING:


    from dynagen.runtime.wire._types import AttributeValue


__all__ = ["Keep", "key_range"]

T = TypeVar("T")


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

"""Key parts, written so that key text order is value order (fixed widths for numbers, nine fraction
digits for datetimes, no separators inside text), and split back out of stored keys.

Generated ``make_key`` / ``to_item`` and access patterns call these; errors are ``InvalidValueError``
naming the field, before any request. docs/schema.md ("Key templates") says why each form sorts.
"""

from __future__ import annotations

from decimal import Decimal

from dynagen._typing import TYPE_CHECKING, TypeVar, cast
from dynagen.errors import InvalidValueError
from dynagen.runtime.wire._values import _utc, enc_decimal, enc_int

if TYPE_CHECKING:

    pass

__all__ = ["key_datetime", "key_decimal", "key_error", "key_int", "key_part", "key_unset", "split_key"]

T = TypeVar("T")


def key_part(value: object, field: str, separators: str = "") -> str:
    """A string key part: present, non-empty (DynamoDB rejects empty key values), without ``separators``.

    ``separators`` are the characters that start the literals following placeholders in the key
    templates of this part's key attributes on its table (``#`` in ``ORDER#{order_id}#LINE#{n:04}``):
    a part holding one could be read back split elsewhere, or equal another item's key.
    """
    if type(value) is not str:
        if isinstance(value, str):  # str subclasses such as StrEnum members
            value = str(value)
        else:
            raise InvalidValueError(field, f"key part must be a str, got {type(value).__name__}")
    if not value:
        raise InvalidValueError(field, "key part must not be empty")
    for separator in separators:
        if separator in value:
            raise InvalidValueError(field, f"{value[:60]!r} holds {separator!r}, a separator of its key; key parts "
                                           "cannot hold their separators")  # fmt: skip
    return value


def key_int(value: object, field: str, width: int = 0) -> str:
    """An int key part: its decimal text, or (``width``) zero-padded to that many digits so that text order is number order."""
    text = enc_int(value, field)
    if not width:
        return text
    if text[0] == "-":
        raise InvalidValueError(field, f"{text} is negative; a key part of width {width} holds 0 to {'9' * width}")
    if len(text) > width:
        raise InvalidValueError(field, f"{text} has more than {width} digits, the width of its key part")
    return text.zfill(width)


def key_decimal(value: object, field: str, width: int = 0, scale: int = 0) -> str:
    """A decimal key part: one text per number (``1.0`` and ``1`` are one key), fixed-width with ``width``.

    With ``width`` (total characters) and ``scale`` (digits after the point, 0: none), the number is
    written zero-padded so that text order is number order; a negative number, one with more
    decimal places than ``scale`` or too many digits is refused rather than rounded.
    """
    enc_decimal(value, field)  # type, finiteness and DynamoDB's number limits
    number = value if isinstance(value, Decimal) else Decimal(cast("int", value))
    if not number:
        number = Decimal(0)  # -0 and 0E-5 are zero too
    if not width:
        text = format(number, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if number < 0:
        raise InvalidValueError(field, f"{number} is negative; a fixed-width key part holds numbers from 0")
    text = format(number, f".{scale}f")
    if Decimal(text) != number:
        raise InvalidValueError(field, f"{number} has more than {scale} decimal places, the scale of its key part")
    if len(text) > width:
        raise InvalidValueError(field, f"{number} does not fit the key part's width of {width} characters")
    return text.zfill(width)


def key_datetime(value: object, field: str) -> str:
    """A datetime key part: UTC, always 9 fraction digits (``2024-05-06T07:08:09.123456000Z``).

    One width for every value, so that text order is time order (RFC3339Nano trims the fraction:
    ``12:00:00.5Z`` would sort after ``12:00:00.51Z``); nanoseconds, as Go writes them, so that any
    time a DynamORM service can write fits the same form. Python keeps microseconds: the last three
    digits are always 0.
    """
    return _utc(value, field).isoformat(timespec="microseconds")[:-6] + "000Z"


# Containers: generated code checks ``v.__class__ is list`` inline and calls these only otherwise, so
# that a str is never iterated as a list of characters nor a dict written as the list of its keys.


def split_key(value: object, literals: tuple[str, ...], attribute: str) -> list[str]:
    """The placeholder texts of a key value laid out as ``literals[0] {p0} literals[1] {p1} ... literals[-1]``.

    Intermediate literals are separators: each part ends at the first separator after it, so string
    key parts must not contain the separator that follows them (key templates document this).
    """
    if not isinstance(value, str):
        raise InvalidValueError(attribute, f"key value must be a str, got {type(value).__name__}")
    layout = "{}".join(literals)
    head, tail = literals[0], literals[-1]
    if not value.startswith(head) or not value.endswith(tail) or len(value) < len(head) + len(tail):
        raise InvalidValueError(attribute, f"{value!r} does not match {layout!r}")
    rest = value[len(head) : len(value) - len(tail)]
    parts: list[str] = []
    for separator in literals[1:-1]:
        part, found, rest = rest.partition(separator)
        if not found:
            raise InvalidValueError(attribute, f"{value!r} does not match {layout!r}")
        parts.append(part)
    parts.append(rest)
    return parts


def key_error(attribute: str, value: str, exc: Exception) -> InvalidValueError:
    """A key part that does not convert back to its field's type."""
    return InvalidValueError(attribute, f"cannot read {value!r}: {exc}")


def key_unset(field: str) -> InvalidValueError:
    """A key field that has no value yet: a created_at in the primary key before the first write."""
    return InvalidValueError(field, "has no value yet, and the item's key needs it: create() or put() sets it")

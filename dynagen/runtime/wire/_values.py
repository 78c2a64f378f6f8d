"""One encoder and decoder per value type, as generated ``to_item`` / ``from_item`` call them.

Each is a few lines of straight code; errors are ``InvalidValueError`` naming the field, raised
before any request is sent. The rules are in docs/encoding.md (shared with DynamORM services).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from dynagen._typing import TYPE_CHECKING, Any, TypeVar
from dynagen.errors import InvalidValueError

if TYPE_CHECKING:
    from enum import Enum

    from dynagen.runtime.wire._types import AttributeValue

__all__ = ["decode_error", "as_list", "as_map", "as_record", "enc_bs", "enc_ns", "enc_null", "enc_ss", "enum_error", "enum_value", "expect", "enc_date", "enc_decimal", "enc_float", "enc_int", "enc_uuid", "format_datetime", "format_epoch", "parse_datetime", "parse_epoch"]

T = TypeVar("T")

# DynamoDB numbers: up to 38 significant digits, magnitude 1E-130 .. 9.99...E+125.
_MAX_DIGITS = 38
_MAX_EXP = 125
_MIN_EXP = -130
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


def enum_value(value: object, enum: type[Enum], field: str) -> str:
    """The stored value of an enum member (a plain ``str``, or another enum's member, is refused)."""
    if isinstance(value, enum):
        text: str = value.value
        return text
    raise enum_error(field, enum, value)


# Containers: generated code checks ``v.__class__ is list`` inline and calls these only otherwise, so
# that a str is never iterated as a list of characters nor a dict written as the list of its keys.


def as_list(value: object, field: str) -> list[Any] | tuple[Any, ...]:
    """``value`` if it is a list (or tuple), else ``InvalidValueError``."""
    if isinstance(value, list | tuple):
        return value
    raise InvalidValueError(field, f"expected a list, got {type(value).__name__}")


def as_map(value: object, field: str) -> Mapping[Any, Any]:
    """``value`` if it is a dict (or another mapping), else ``InvalidValueError``."""
    if isinstance(value, Mapping):
        return value
    raise InvalidValueError(field, f"expected a dict, got {type(value).__name__}")


def as_record(value: object, record: type[T], field: str) -> T:
    """``value`` if it is a ``record`` (an embedded model), else ``InvalidValueError``."""
    if isinstance(value, record):
        return value
    raise InvalidValueError(field, f"expected a {record.__name__}, got {type(value).__name__}")


def expect(value: object, types: tuple[type, ...], field: str) -> None:
    """Refuse a value of the wrong type where nothing else would (an empty value left out by omit_empty)."""
    if not isinstance(value, types) or (type(value) is bool and bool not in types):
        names = " or ".join(t.__name__ for t in types)
        raise InvalidValueError(field, f"expected {names}, got {type(value).__name__}")


def _members(value: object, field: str) -> set[Any] | frozenset[Any]:
    if isinstance(value, set | frozenset):
        return value
    raise InvalidValueError(field, f"expected a set, got {type(value).__name__}")


def enc_ss(value: object, field: str, *, empty: bool = True) -> AttributeValue:
    """A string set; an empty set is ``{"NULL": true}`` (DynamoDB has no empty set; as DynamORM writes it).

    ``empty=False`` (an update operand: ADD or DELETE members) refuses an empty set instead.
    """
    members = _members(value, field)
    if members:
        return {"SS": list(members)}  # the members' types are checked with the whole item (check_item)
    return _empty_set(field, empty)


def enc_bs(value: object, field: str, *, empty: bool = True) -> AttributeValue:
    """A binary set; empty as in ``enc_ss``."""
    members = _members(value, field)
    if members:
        return {"BS": list(members)}
    return _empty_set(field, empty)


def enc_ns(value: object, field: str, member: Callable[[object, str], str], *, empty: bool = True) -> AttributeValue:
    """A number set, each member written by ``member`` (``enc_int``, ``enc_decimal``...); empty as in ``enc_ss``."""
    members = _members(value, field)
    if members:
        return {"NS": [member(m, field) for m in members]}
    return _empty_set(field, empty)


def _empty_set(field: str, empty: bool) -> AttributeValue:
    if not empty:
        raise InvalidValueError(field, "an empty set changes nothing (DynamoDB has no empty set)")
    return {"NULL": True}


def enum_error(field: str, enum: type[Enum], value: object) -> InvalidValueError:
    """The error of an enum field that holds something else than one of its enum's members.

    Generated ``to_item`` methods raise it on their failure path only (an ``AttributeError`` on
    ``.value``); for a list or map of enums, ``value`` is the container and names its first stray.
    """
    if isinstance(value, list | tuple | set | frozenset | dict):
        items = value.values() if isinstance(value, dict) else value
        value = next((v for v in items if not isinstance(v, enum)), value)
    allowed = ", ".join(repr(member.value) for member in enum)
    hint = ""
    if isinstance(value, str) and value in {member.value for member in enum}:
        hint = f" (a plain {type(value).__name__}: use {enum.__name__}({value!r}))"
    return InvalidValueError(field, f"expected a {enum.__name__}, one of {allowed}; got {value!r}{hint}")


def enc_null(value: object, field: str) -> AttributeValue:
    """A DMS ``NULL`` attribute's one value: ``None``, stored as NULL (anything else is refused)."""
    if value is not None:
        raise InvalidValueError(field, f"a NULL attribute holds only None, got {type(value).__name__}")
    return {"NULL": True}


def enc_uuid(value: object, field: str) -> str:
    """The text of a UUID (``str()`` alone would write ``"None"`` for a missing one)."""
    # A UUID instance means the uuid module is loaded: no import (and its ~3 ms) on the runtime's account.
    uuid = sys.modules.get("uuid")
    if uuid is None or not isinstance(value, uuid.UUID):
        raise InvalidValueError(field, f"expected UUID, got {type(value).__name__}")
    return str(value)


def enc_date(value: object, field: str) -> str:
    """ISO 8601 ``YYYY-MM-DD``; a datetime is refused (its time and zone would be written or lost)."""
    if type(value) is not date and (not isinstance(value, date) or isinstance(value, datetime)):
        raise InvalidValueError(field, f"expected date, got {type(value).__name__}")
    return value.isoformat()


def enc_int(value: object, field: str) -> str:
    if type(value) is not int:
        raise InvalidValueError(field, f"expected int, got {type(value).__name__}")
    text = str(value)
    if len(text) - (text[0] == "-") > _MAX_DIGITS:
        raise InvalidValueError(field, f"{text[:12]}... has more than {_MAX_DIGITS} digits")
    return text


def enc_decimal(value: object, field: str) -> str:
    if isinstance(value, Decimal):
        number = value
    elif type(value) is int:
        number = Decimal(value)
    else:
        raise InvalidValueError(field, f"expected Decimal, got {type(value).__name__}")
    if not number.is_finite():
        raise InvalidValueError(field, f"{number} is not a finite number")
    return _check_number(number, field)


def enc_float(value: object, field: str) -> str:
    if type(value) is float:
        if not math.isfinite(value):
            raise InvalidValueError(field, f"{value} is not a finite number")
        text = repr(value)  # the shortest string that round-trips
        if value and (abs(value) >= 1e125 or abs(value) < 1e-130):
            _check_number(Decimal(text), field)
        return text
    if type(value) is int:
        return enc_int(value, field)
    raise InvalidValueError(field, f"expected float, got {type(value).__name__}")


def _check_number(number: Decimal, field: str) -> str:
    text = str(number)
    # A text of at most 38 characters cannot hold more than 38 significant digits: skip counting them
    # (as_tuple() costs more than everything else here together).
    if len(text) > _MAX_DIGITS:
        significant = "".join(map(str, number.as_tuple().digits)).strip("0")
        if len(significant) > _MAX_DIGITS:
            raise InvalidValueError(field, f"{number} has more than {_MAX_DIGITS} significant digits")
    if number and not _MIN_EXP <= number.adjusted() <= _MAX_EXP:  # zero has no magnitude to check
        raise InvalidValueError(field, f"{number} is outside DynamoDB's number range (1E-130 to 9.9E+125)")
    return text


def _utc(value: object, field: str) -> datetime:
    """``value`` in UTC; anything but an aware datetime is refused."""
    if not isinstance(value, datetime):
        raise InvalidValueError(field, f"expected datetime, got {type(value).__name__}")
    tz = value.tzinfo
    if tz is None:
        # A naive datetime has no defined instant: refuse it rather than guess the machine's zone.
        raise InvalidValueError(field, "naive datetime: give it a timezone (e.g. datetime.now(UTC))")
    return value if tz is UTC else value.astimezone(UTC)


def format_datetime(value: object, field: str) -> str:
    """RFC 3339 in UTC with ``Z``, fraction trimmed of trailing zeros, none when zero (Go's RFC3339Nano)."""
    value = _utc(value, field)
    text = value.isoformat()[:-6]  # without "+00:00" (cheaper than replace(tzinfo=None) first)
    if value.microsecond:
        return text.rstrip("0") + "Z"
    return text + "Z"


def parse_datetime(text: str) -> datetime:
    """Any RFC 3339 timestamp (fractions up to 9 digits; beyond microseconds they are truncated)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValueError("", f"{text!r} is not an RFC 3339 timestamp") from None
    if value.tzinfo is UTC:  # "Z" / "+00:00": already what we return
        return value
    if value.tzinfo is None:
        raise InvalidValueError("", f"{text!r} has no UTC offset")
    return value.astimezone(UTC) if value.utcoffset() else value.replace(tzinfo=UTC)


def format_epoch(value: object, field: str) -> str:
    """Whole Unix epoch seconds (TTL)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidValueError(field, "naive datetime: give it a timezone (e.g. datetime.now(UTC))")
        return str((value - _EPOCH) // _SECOND)
    if type(value) is int:
        return str(value)
    raise InvalidValueError(field, f"expected datetime or int epoch seconds, got {type(value).__name__}")


def parse_epoch(text: str) -> datetime:
    seconds = int(text) if text.isascii() and text.isdigit() else int(Decimal(text))
    return _EPOCH + timedelta(seconds=seconds)


def decode_error(model: str, item: Mapping[str, Any], exc: Exception) -> InvalidValueError:
    """Turn a failure inside ``from_item`` into an error naming the model and what was wrong."""
    if isinstance(exc, KeyError):
        what = f"missing or mistyped attribute (no {exc.args[0]!r})"
    elif isinstance(exc, InvalidValueError):
        what = exc.reason
    else:
        what = f"{type(exc).__name__}: {exc}"
    return InvalidValueError(model, f"cannot read item as {model}: {what}; attributes present: {sorted(item)}")



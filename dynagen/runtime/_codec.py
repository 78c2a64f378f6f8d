"""Value encoders and decoders that generated ``to_item`` / ``from_item`` call.

Each is a few lines of straight code; errors are ``InvalidValueError`` naming the field, raised
before any request is sent. The rules are in docs/encoding.md (shared with DynamORM services).
"""

from __future__ import annotations

import base64
import json
import math
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from dynagen._typing import TYPE_CHECKING, Any, TypeVar, cast
from dynagen.errors import InvalidValueError

if TYPE_CHECKING:
    from enum import Enum

    from dynagen.runtime._types import AttributeValue

__all__ = [
    "decode_error",
    "dump_json",
    "as_list",
    "as_map",
    "as_record",
    "enc_bs",
    "enc_ns",
    "enc_ss",
    "enum_error",
    "enum_value",
    "expect",
    "key_datetime",
    "key_decimal",
    "key_int",
    "enc_date",
    "enc_decimal",
    "enc_float",
    "enc_int",
    "enc_uuid",
    "format_datetime",
    "format_epoch",
    "from_wire",
    "key_error",
    "key_part",
    "split_key",
    "load_json",
    "parse_datetime",
    "parse_epoch",
    "to_wire",
]

T = TypeVar("T")

# DynamoDB numbers: up to 38 significant digits, magnitude 1E-130 .. 9.99...E+125.
_MAX_DIGITS = 38
_MAX_EXP = 125
_MIN_EXP = -130
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


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


def dump_json(value: object, field: str) -> str:
    """Compact JSON with object keys sorted recursively (the byte-stable form DynamORM writes).

    The canonical form: no insignificant whitespace, object keys sorted by code point, non-ASCII
    text as UTF-8 (not ``\\u`` escapes), ``<``, ``>`` and ``&`` as they are, floats by their
    shortest round-trip repr, ``Decimal`` exactly as its text (``3.14159265358979323846``, never
    through a float). NaN and infinities are refused.
    """
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                          default=_refuse_decimal)  # fmt: skip
    except _HasDecimal:
        # Rare: a Decimal inside. The C encoder cannot write a number from text, so write it all here.
        out: list[str] = []
        _write_json(value, out, field)
        return "".join(out)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidValueError(field, f"not JSON-serializable: {exc}") from None


class _HasDecimal(Exception):
    pass


def _refuse_decimal(value: object) -> object:
    if isinstance(value, Decimal):
        raise _HasDecimal
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


_JSON_KEYS = {True: "true", False: "false", None: "null"}


def _write_json(value: object, out: list[str], field: str, depth: int = 0) -> None:
    """``json.dumps`` as ``dump_json`` calls it, plus exact Decimals (same bytes for everything else)."""
    if depth > 500:
        raise InvalidValueError(field, "not JSON-serializable: nested too deeply")
    if value is None or isinstance(value, str | bool | int | float):
        try:
            out.append(json.dumps(value, ensure_ascii=False, allow_nan=False))
        except ValueError as exc:
            raise InvalidValueError(field, f"not JSON-serializable: {exc}") from None
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidValueError(field, f"not JSON-serializable: {value} is not a finite number")
        out.append(str(value))  # always a valid JSON number for a finite Decimal ("1E+2", "-0.5")
    elif isinstance(value, dict):
        entries: list[tuple[str, object]] = []
        for key, inner in value.items():
            if isinstance(key, str):
                name = key
            elif isinstance(key, bool) or key is None:
                name = _JSON_KEYS[key]
            elif isinstance(key, int | float):
                name = json.dumps(key, allow_nan=False)
            else:
                raise InvalidValueError(field, f"not JSON-serializable: keys must be str, int, float, bool or None, "
                                               f"not {type(key).__name__}")  # fmt: skip
            entries.append((name, inner))
        entries.sort(key=lambda entry: entry[0])
        out.append("{")
        for i, (name, inner) in enumerate(entries):
            out.append(("," if i else "") + json.dumps(name, ensure_ascii=False) + ":")
            _write_json(inner, out, field, depth + 1)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, inner in enumerate(value):
            if i:
                out.append(",")
            _write_json(inner, out, field, depth + 1)
        out.append("]")
    else:
        raise InvalidValueError(field, f"not JSON-serializable: {type(value).__name__} is not JSON-serializable")


def load_json(av: Mapping[str, Any]) -> Any:
    if "NULL" in av:
        return None
    return json.loads(av["S"])


def to_wire(value: Any, field: str = "") -> AttributeValue:
    """Generic Python value to an attribute value, for untyped map and list fields only."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int):
        return {"N": enc_int(value, field)}
    if isinstance(value, float):
        return {"N": enc_float(value, field)}
    if isinstance(value, Decimal):
        return {"N": enc_decimal(value, field)}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, Mapping):
        return {"M": {str(k): to_wire(v, f"{field}.{k}") for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_wire(v, f"{field}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, set | frozenset):
        if not value:
            raise InvalidValueError(field, "DynamoDB has no empty set")
        first = next(iter(value))
        if isinstance(first, str):
            return {"SS": sorted(value)}
        if isinstance(first, bytes):
            return {"BS": sorted(value)}
        return {"NS": sorted(enc_decimal(Decimal(str(v)), field) for v in value)}
    raise InvalidValueError(field, f"cannot store a {type(value).__name__}")


def from_wire(av: Mapping[str, Any]) -> Any:
    """Generic attribute value to a Python value (numbers become int or Decimal)."""
    ((tag, value),) = av.items()
    if tag == "S" or tag == "BOOL":
        return value
    if tag == "N":
        return _number(value)
    if tag == "M":
        return {k: from_wire(v) for k, v in value.items()}
    if tag == "L":
        return [from_wire(v) for v in value]
    if tag == "NULL":
        return None
    if tag == "B":
        return value if isinstance(value, bytes) else base64.b64decode(value)
    if tag == "SS":
        return set(value)
    if tag == "NS":
        return {_number(v) for v in value}
    if tag == "BS":
        return {v if isinstance(v, bytes) else base64.b64decode(v) for v in value}
    raise InvalidValueError("", f"unknown attribute value type {tag!r}")


def _number(text: str) -> int | Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidValueError("", f"{text!r} is not a number") from None
    return int(number) if number == number.to_integral_value() and "." not in text and "e" not in text.lower() else number


def decode_error(model: str, item: Mapping[str, Any], exc: Exception) -> InvalidValueError:
    """Turn a failure inside ``from_item`` into an error naming the model and what was wrong."""
    if isinstance(exc, KeyError):
        what = f"missing or mistyped attribute (no {exc.args[0]!r})"
    elif isinstance(exc, InvalidValueError):
        what = exc.reason
    else:
        what = f"{type(exc).__name__}: {exc}"
    return InvalidValueError(model, f"cannot read item as {model}: {what}; attributes present: {sorted(item)}")


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

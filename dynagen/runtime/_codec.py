"""Value encoders and decoders that generated ``to_item`` / ``from_item`` call.

Each is a few lines of straight code; errors are ``InvalidValueError`` naming the field, raised
before any request is sent. Rules are CONTRACT.md section 5 (shared with DynamORM services).
"""

from __future__ import annotations

import base64
import json
import math
import sys
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from dynagen._typing import TYPE_CHECKING, Any
from dynagen.errors import InvalidValueError

if TYPE_CHECKING:
    from dynagen.runtime._types import AttributeValue

__all__ = [
    "decode_error",
    "dump_json",
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

# DynamoDB numbers: up to 38 significant digits, magnitude 1E-130 .. 9.99...E+125.
_MAX_DIGITS = 38
_MAX_EXP = 125
_MIN_EXP = -130
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


def key_part(value: object, field: str) -> str:
    """A string key part: present and non-empty (DynamoDB rejects empty key values)."""
    if type(value) is not str:
        if isinstance(value, str):  # str subclasses such as StrEnum members
            value = str(value)
        else:
            raise InvalidValueError(field, f"key part must be a str, got {type(value).__name__}")
    if not value:
        raise InvalidValueError(field, "key part must not be empty")
    return value


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


def format_datetime(value: object, field: str) -> str:
    """RFC 3339 in UTC with ``Z``, fraction trimmed of trailing zeros, none when zero (Go's RFC3339Nano)."""
    if not isinstance(value, datetime):
        raise InvalidValueError(field, f"expected datetime, got {type(value).__name__}")
    tz = value.tzinfo
    if tz is None:
        # A naive datetime has no defined instant: refuse it rather than guess the machine's zone.
        raise InvalidValueError(field, "naive datetime: give it a timezone (e.g. datetime.now(UTC))")
    if tz is not UTC:
        value = value.astimezone(UTC)
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
    """Compact JSON with object keys sorted recursively (the byte-stable form DynamORM writes)."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                          default=_json_default)  # fmt: skip
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(field, f"not JSON-serializable: {exc}") from None


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


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

"""JSON attributes in canonical form (exact Decimals), and the generic conversion of untyped maps and lists.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from dynagen._typing import TYPE_CHECKING, Any, TypeVar
from dynagen.errors import InvalidValueError
from dynagen.runtime.wire._values import enc_decimal, enc_float, enc_int

if TYPE_CHECKING:

    from dynagen.runtime.wire._types import AttributeValue

__all__ = ["dump_json", "from_wire", "load_json", "to_wire"]

T = TypeVar("T")


# Containers: generated code checks ``v.__class__ is list`` inline and calls these only otherwise, so
# that a str is never iterated as a list of characters nor a dict written as the list of its keys.


def dump_json(value: object, field: str) -> str:
    """Compact JSON with object keys sorted recursively (the byte-stable form DynamORM writes).

    The canonical form: no insignificant whitespace, object keys sorted by code point, non-ASCII
    text as UTF-8 (not ``\\u`` escapes), ``<``, ``>`` and ``&`` as they are, floats by their
    shortest round-trip repr, ``Decimal`` exactly as its text (``3.14159265358979323846``, never
    through a float). NaN and infinities are refused, and so are object keys that are not ``str``
    (JSON would write ``1`` as ``"1"``, and the value would not read back equal).
    """
    _check_keys(value, field)
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


def _check_keys(value: object, field: str) -> None:
    """Refuse a mapping key that is not a ``str``, at any depth (walked without recursion)."""
    todo = [value]
    seen: set[int] = set()  # a cycle is json.dumps's to report ("Circular reference detected")
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, Mapping):
            for key, item in current.items():
                if key.__class__ is not str:
                    raise InvalidValueError(field, f"JSON object keys must be strings, got {type(key).__name__} {key!r}")
                if isinstance(item, Mapping | list | tuple):
                    todo.append(item)
        elif isinstance(current, list | tuple):
            todo.extend(item for item in current if isinstance(item, Mapping | list | tuple))


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
        for key in value:
            if not isinstance(key, str):  # str(key) would store 1, None and (1, 2) as text, silently
                raise InvalidValueError(field, f"map keys must be strings, got {type(key).__name__} {key!r}")
        return {"M": {k: to_wire(v, f"{field}.{k}") for k, v in value.items()}}
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



"""One cheap pass over a wire-format item before it is sent: what DynamoDB would refuse is refused here.

Generated ``to_item`` code encodes numbers, dates and keys through checked encoders, but writes plain
strings, booleans, bytes, maps and lists as given (``{"S": self.name}``): a value of the wrong Python
type, or an item DynamoDB cannot store, would otherwise only fail inside the SDK or at the service.
``check_item`` walks the item once and raises ``InvalidValueError`` naming the field (the Python field
name where the attribute maps to one, else the attribute name) for:

- attribute values that are not one ``{type: value}`` pair of a known type;
- ``S`` / ``N`` that are not ``str``, ``B`` that is not bytes, ``BOOL`` not a bool, ``NULL`` not True;
- ``N`` (and ``NS`` members) that are not finite numbers, or that DynamoDB cannot store (more than 38
  significant digits, magnitude outside 1E-130 .. 9.9E+125);
- empty sets, set members of the wrong type, and duplicate set members (``NS`` compared as numbers,
  so ``"1"`` and ``"1.0"`` are duplicates, as DynamoDB says);
- empty attribute names (top level or inside maps), map keys that are not ``str``;
- empty ``S`` / ``B`` values of key attributes (table and index keys), and key values over DynamoDB's
  limits when ``keys`` gives them (2048 bytes for partition keys, 1024 for sort keys);
- text that is not valid Unicode (a lone surrogate such as ``"\\ud800"``): it has no UTF-8 form, and
  one transport would refuse it while the other stored it mangled;
- nesting deeper than DynamoDB's 32 levels (the attribute is level 1; a map or list at level 32
  would put its contents at level 33: refused, even when empty, as DynamoDB does);
- items over 400 KB (409,600 bytes) by DynamoDB's size rule ("Item sizes and formats"): attribute
  name bytes + value bytes, ``S`` as UTF-8, ``B`` raw, ``BOOL``/``NULL`` 1, maps and lists 3 plus
  1 per element. Numbers are counted slightly high, ``(len(text) + 1) // 2 + 1`` (sign, point and
  exponent counted as digits, zeros not trimmed), so an item refused here might just fit, but an
  item accepted here is never refused for its size (checked against DynamoDB Local, which counts
  ``ceil(digits / 2) + 1``).

Empty strings and empty binary values are valid inside sets, lists and maps (DynamoDB accepts them
since 2020, and DynamoDB Local does): they are not refused. Only key attributes must be non-empty.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation

from dynagen._typing import Any
from dynagen.errors import InvalidValueError
from dynagen.runtime.wire._values import _check_number

__all__ = ["MAX_DEPTH", "MAX_ITEM_SIZE", "check_item", "item_size"]

MAX_ITEM_SIZE = 400 * 1024
MAX_DEPTH = 32

_SCALAR_SETS = {"SS": "str", "NS": "str (a number)", "BS": "bytes"}


class _Bad(Exception):
    """Raised inside the walk; turned into an InvalidValueError naming the top-level field.

    ``path`` is built on the way out (each map or list prepends its step), so the walk itself never
    formats a path.
    """

    def __init__(self, message: str) -> None:
        self.path = ""
        self.message = message


def _number(text: object) -> Decimal:
    if not isinstance(text, str):
        raise _Bad(f"N value must be a str, got {type(text).__name__}")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise _Bad(f"N value {text[:40]!r} is not a number") from None
    if not number.is_finite():
        raise _Bad(f"N value {text!r} is not a finite number")
    try:
        _check_number(number, "")  # DynamoDB's 38 significant digits and magnitude, as the encoders check
    except InvalidValueError as exc:
        raise _Bad(f"N value {exc.reason}") from None
    return number


def _size(av: object, depth: int, key: int) -> int:
    """The size of one attribute value (without its name), checking it on the way."""
    if type(av) is not dict or len(av) != 1:
        if isinstance(av, Mapping) and len(av) == 1:
            av = dict(av)
        else:
            raise _Bad(f"expected one {{type: value}} attribute value, got {_short(av)}")
    ((tag, value),) = av.items()
    if tag == "S":
        if not isinstance(value, str):
            raise _Bad(f"expected a str for this string attribute, got {type(value).__name__} {_short(value)}")
        if key and not value:
            raise _Bad("a key attribute cannot be an empty string")
        size = _text_size(value)
        if size > key > 1:
            raise _Bad(f"a key value of {size:,} bytes is over DynamoDB's {key:,}-byte limit for this key")
        return size
    if tag == "N":
        if not isinstance(value, str) or not value:
            raise _Bad(f"N value must be a non-empty str, got {_short(value)}")
        _number(value)
        return (len(value) + 1) // 2 + 1
    if tag == "BOOL":
        if type(value) is not bool:
            raise _Bad(f"expected a bool, got {type(value).__name__} {_short(value)}")
        return 1
    if tag == "M":
        if depth >= MAX_DEPTH:
            raise _Bad(f"nested deeper than DynamoDB's {MAX_DEPTH} levels")
        if not isinstance(value, Mapping):
            raise _Bad(f"M value must be a mapping, got {type(value).__name__}")
        total = 3
        for name, inner in value.items():
            if not isinstance(name, str) or not name:
                raise _Bad(f"map keys must be non-empty str, got {name!r}")
            try:
                total += 1 + _text_size(name) + _size(inner, depth + 1, 0)
            except _Bad as bad:
                bad.path = f".{name}{bad.path}"
                raise
        return total
    if tag == "L":
        if depth >= MAX_DEPTH:
            raise _Bad(f"nested deeper than DynamoDB's {MAX_DEPTH} levels")
        if not isinstance(value, list | tuple):
            raise _Bad(f"L value must be a list, got {type(value).__name__}")
        total = 3
        for i, inner in enumerate(value):
            try:
                total += 1 + _size(inner, depth + 1, 0)
            except _Bad as bad:
                bad.path = f"[{i}]{bad.path}"
                raise
        return total
    if tag == "B":
        if not isinstance(value, bytes | bytearray):
            raise _Bad(f"expected bytes for this binary attribute, got {type(value).__name__} {_short(value)}")
        if key and not value:
            raise _Bad("a key attribute cannot be empty bytes")
        if len(value) > key > 1:
            raise _Bad(f"a key value of {len(value):,} bytes is over DynamoDB's {key:,}-byte limit for this key")
        return len(value)
    if tag == "NULL":
        if value is not True:
            raise _Bad(f"NULL value must be True, got {_short(value)}")
        return 1
    if tag in _SCALAR_SETS:
        return _set_size(tag, value)
    raise _Bad(f"unknown attribute value type {tag!r}")


def _set_size(tag: str, value: object) -> int:
    if not isinstance(value, list | tuple):
        raise _Bad(f"{tag} value must be a list, got {type(value).__name__}")
    if not value:
        raise _Bad("DynamoDB has no empty set (leave the attribute out, or REMOVE it)")
    total = 0
    if tag == "SS":
        for member in value:
            if not isinstance(member, str):
                raise _Bad(f"SS members must be str, got {type(member).__name__} {_short(member)}")
            total += _text_size(member)
        distinct = len(set(value))
    elif tag == "BS":
        for member in value:
            if not isinstance(member, bytes | bytearray):
                raise _Bad(f"BS members must be bytes, got {type(member).__name__} {_short(member)}")
            total += len(member)
        distinct = len({bytes(m) for m in value})
    else:
        numbers = set()
        for member in value:
            numbers.add(_number(member))
            total += (len(member) + 1) // 2 + 1
        distinct = len(numbers)
    if distinct != len(value):
        raise _Bad(f"{tag} holds duplicate members")
    return total


def _text_size(text: str) -> int:
    if text.isascii():
        return len(text)
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise _Bad(f"text holds a lone surrogate {text[exc.start]!r} at {exc.start}, which is not valid Unicode") from None


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _walk(
    item: Mapping[str, Any],
    names: Mapping[str, str] | None,
    keys: Collection[str] | Mapping[str, int],
    where: str,
    *,
    limit: bool = True,
) -> int:
    limits = keys if isinstance(keys, Mapping) else dict.fromkeys(keys, 1)  # 1: a key, no size limit given
    if not isinstance(item, Mapping):
        raise InvalidValueError(where or "item", f"expected a mapping of attribute values, got {type(item).__name__}")
    total = 0
    for name, av in item.items():
        # Fast path for the commonest attribute, a non-empty ASCII string under an ASCII name.
        if type(av) is dict and len(av) == 1 and type(name) is str:
            text = av.get("S")
            # (over 1024 characters it may be a key over its limit: the full check below decides)
            if type(text) is str and text and name and len(text) <= 1024 and text.isascii() and name.isascii():
                total += len(name) + len(text)
                continue
        try:
            if not isinstance(name, str) or not name:
                raise _Bad("attribute names must be non-empty str")
            total += _text_size(name) + _size(av, 1, limits.get(name, 0))
        except _Bad as bad:
            field = names.get(name, name) if names is not None and isinstance(name, str) else repr(name)
            prefix = f"{where}: " if where else ""
            at = f" (at {name}{bad.path})" if bad.path else ""
            raise InvalidValueError(field, f"{prefix}{bad.message}{at}") from None
    if limit and total > MAX_ITEM_SIZE:
        prefix = f"{where}: " if where else ""
        largest = max(item, key=lambda n: _attribute_size(n, item[n]))
        field = names.get(largest, largest) if names is not None else largest
        raise InvalidValueError(
            field,
            f"{prefix}item is about {total:,} bytes, over DynamoDB's {MAX_ITEM_SIZE:,}-byte (400 KB) item limit "
            f"(largest attribute: {largest!r})",
        )
    return total


def _attribute_size(name: str, av: Any) -> int:
    return _text_size(name) + _size(av, 1, 0)


def check_item(
    item: Mapping[str, Any],
    *,
    names: Mapping[str, str] | None = None,
    keys: Collection[str] | Mapping[str, int] = (),
    where: str = "",
) -> None:
    """Refuse (``InvalidValueError``) a wire-format item DynamoDB would refuse; see the module doc.

    ``names`` maps attribute names to Python field names (for the error's ``field``); ``keys`` are
    the table's and indexes' key attributes (no empty strings or bytes), or a mapping of them to
    their size limits in bytes; ``where`` prefixes the
    message (e.g. ``"models[3]"`` in a batch). Also used for the values of an update.
    """
    _walk(item, names, keys, where)


def item_size(item: Mapping[str, Any]) -> int:
    """DynamoDB's size of a wire-format item as ``check_item`` counts it (numbers slightly high).

    Checks the values like ``check_item`` but not the size limit.
    """
    return _walk(item, None, (), "", limit=False)

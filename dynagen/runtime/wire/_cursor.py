"""Pagination cursors, byte-compatible with DynamORM (docs/encoding.md, "Pagination cursor").

A cursor is ``base64url`` (URL alphabet, ``=`` padding kept) of the compact JSON
``{"lastKey": <wire key>, "index": <name>, "sort": "ASC"|"DESC"}``: keys in exactly that order,
``index`` and ``sort`` left out when absent, object keys inside ``lastKey`` and nested ``M`` maps
sorted, binary values (``B``, ``BS``) as standard base64. The JSON is written the way Go's
``encoding/json`` writes it (UTF-8, ``<``, ``>``, ``&``, U+2028 and U+2029 escaped), so DynamORM
services and dynagen produce the same bytes for the same key.

Anything malformed raises ``InvalidValueError(field="cursor")``, never another exception.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence

from dynagen._record import Record, init
from dynagen._typing import Any
from dynagen.errors import InvalidValueError

__all__ = ["MAX_CURSOR_LENGTH", "SORT_ORDERS", "Cursor", "decode_cursor", "encode_cursor", "wire_to_json"]

# A DynamoDB key is at most 2 KiB + 1 KiB per attribute; 64 KiB leaves room for any real cursor
# while refusing to parse arbitrarily large input coming from an HTTP query string.
MAX_CURSOR_LENGTH = 64 * 1024
SORT_ORDERS = ("ASC", "DESC")
# DynamoDB nests documents at most 32 levels deep; a deeper cursor is hostile or corrupt.
_MAX_DEPTH = 32
# Patterns as text: re compiles (and caches) them on first use, not at import (cold start).
_BASE64URL = r"[A-Za-z0-9_-]*={0,2}"
_STRING_TYPES = ("S", "N")
_STRING_SET_TYPES = ("SS", "NS")
# Go's encoding/json escapes these inside strings (HTML safety); match it byte for byte.
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_GO_ESCAPE_RE = "[<>&\u2028\u2029]"


class Cursor(Record):
    """A decoded cursor: where to resume (``last_key``, wire format), on which index, in which order."""

    __slots__ = ("last_key", "index", "sort")  # noqa: RUF023 - the fields' order
    last_key: dict[str, Any]
    index: str | None
    sort: str | None

    def __init__(self, last_key: dict[str, Any], index: str | None = None, sort: str | None = None) -> None:
        init(self, "last_key", last_key)
        init(self, "index", index)
        init(self, "sort", sort)

    def encode(self) -> str:
        """This cursor as text (same as ``encode_cursor``)."""
        return encode_cursor(self.last_key, self.index, self.sort)

    def check(
        self,
        *,
        index: str | None,
        sort: str | None = None,
        key_attributes: Sequence[str] | None = None,
    ) -> None:
        """Refuse a cursor made by another query: other index, other order, or foreign key attributes.

        ``sort`` is only compared when both the cursor and the caller name one. ``key_attributes``
        (table keys plus index keys), when given, must include every attribute of ``last_key``.
        """
        if (self.index or None) != (index or None):
            raise InvalidValueError("cursor", f"cursor belongs to index {self.index!r} but is used on index {index!r}")
        if self.sort is not None and sort is not None and self.sort != sort:
            raise InvalidValueError("cursor", f"cursor belongs to a query in {self.sort} order but is used on one in {sort} order")
        if key_attributes is not None:
            foreign = sorted(set(self.last_key) - set(key_attributes))
            if foreign:
                raise InvalidValueError("cursor", f"cursor key has attributes {foreign} that are not keys here")


def encode_cursor(last_key: Mapping[str, Any], index: str | None = None, sort: str | None = None) -> str:
    """Encode a ``LastEvaluatedKey`` (wire format) with its index name and sort order as a cursor."""
    if not isinstance(last_key, Mapping) or not last_key:
        raise InvalidValueError("cursor", "last_key must be a non-empty wire-format key")
    if index is not None and not isinstance(index, str):
        raise InvalidValueError("cursor", "index must be a string")
    if sort is not None and sort not in SORT_ORDERS:
        raise InvalidValueError("cursor", f"sort must be one of {SORT_ORDERS}, not {sort!r}")
    document: dict[str, Any] = {"lastKey": wire_to_json(last_key)}
    # Go's `omitempty` drops empty strings too: "" and None are the same "no index".
    if index:
        document["index"] = index
    if sort:
        document["sort"] = sort
    text = _go_json(document)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


def decode_cursor(text: str) -> Cursor:
    """Decode a cursor made by ``encode_cursor`` (or by DynamORM). Missing ``=`` padding is tolerated."""
    if not isinstance(text, str):
        raise InvalidValueError("cursor", f"expected a string, got {type(text).__name__}")
    if not text:
        raise InvalidValueError("cursor", "empty cursor (pass None for the first page)")
    if len(text) > MAX_CURSOR_LENGTH:
        raise InvalidValueError("cursor", f"cursor longer than {MAX_CURSOR_LENGTH} characters")
    if re.fullmatch(_BASE64URL, text) is None:
        raise InvalidValueError("cursor", "not base64url text")
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(padded, altchars=b"-_", validate=True)
        document = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidValueError("cursor", f"not a cursor ({type(exc).__name__})") from None
    if not isinstance(document, dict):
        raise InvalidValueError("cursor", "cursor JSON must be an object")
    unknown = sorted(set(document) - {"lastKey", "index", "sort"})
    if unknown:
        raise InvalidValueError("cursor", f"unknown cursor fields {unknown}")
    last_key = document.get("lastKey")
    if not isinstance(last_key, dict) or not last_key:
        raise InvalidValueError("cursor", "lastKey must be a non-empty object")
    index = document.get("index")
    if index is not None and not isinstance(index, str):
        raise InvalidValueError("cursor", "index must be a string")
    sort = document.get("sort")
    if sort is not None and sort not in SORT_ORDERS:
        raise InvalidValueError("cursor", f"sort must be one of {SORT_ORDERS}")
    key = {_name(name): _json_to_wire(value, 1) for name, value in last_key.items()}
    return Cursor(last_key=key, index=index or None, sort=sort)


def wire_to_json(item: Mapping[str, Any]) -> dict[str, Any]:
    """A wire-format item as JSON-ready data: keys sorted at every level, binary as standard base64.

    Also used to compare wire keys (for example to find duplicate keys in a batch).
    """
    return {name: _wire_value_to_json(item[name], 1) for name in sorted(item)}


def _wire_value_to_json(value: Any, depth: int) -> dict[str, Any]:
    if depth > _MAX_DEPTH:
        raise InvalidValueError("cursor", "key nested too deeply")
    if not isinstance(value, Mapping) or len(value) != 1:
        raise InvalidValueError("cursor", f"not a wire-format attribute value: {value!r}")
    ((kind, inner),) = value.items()
    if kind in _STRING_TYPES and isinstance(inner, str):
        return {kind: inner}
    if kind == "B" and isinstance(inner, bytes | bytearray | memoryview):
        return {kind: base64.b64encode(inner).decode("ascii")}
    if kind == "BOOL" and isinstance(inner, bool):
        return {kind: inner}
    if kind == "NULL" and inner is True:
        return {kind: True}
    if kind in _STRING_SET_TYPES and _is_list_of(inner, str):
        return {kind: list(inner)}
    if kind == "BS" and _is_list_of(inner, bytes | bytearray | memoryview):
        return {kind: [base64.b64encode(b).decode("ascii") for b in inner]}
    if kind == "L" and isinstance(inner, Sequence) and not isinstance(inner, str | bytes):
        return {kind: [_wire_value_to_json(v, depth + 1) for v in inner]}
    if kind == "M" and isinstance(inner, Mapping):
        return {kind: {_name(k): _wire_value_to_json(inner[k], depth + 1) for k in sorted(inner)}}
    raise InvalidValueError("cursor", f"not a wire-format attribute value: {value!r}")


def _json_to_wire(value: Any, depth: int) -> dict[str, Any]:
    if depth > _MAX_DEPTH:
        raise InvalidValueError("cursor", "key nested too deeply")
    if not isinstance(value, dict) or len(value) != 1:
        raise InvalidValueError("cursor", "each key attribute must be an object with exactly one type")
    ((kind, inner),) = value.items()
    if kind in _STRING_TYPES and isinstance(inner, str):
        return {kind: inner}
    if kind == "B" and isinstance(inner, str):
        return {kind: _b64(inner)}
    if kind == "BOOL" and isinstance(inner, bool):
        return {kind: inner}
    if kind == "NULL" and inner is True:
        return {kind: True}
    if kind in _STRING_SET_TYPES and _is_list_of(inner, str):
        return {kind: list(inner)}
    if kind == "BS" and _is_list_of(inner, str):
        return {kind: [_b64(s) for s in inner]}
    if kind == "L" and isinstance(inner, list):
        return {kind: [_json_to_wire(v, depth + 1) for v in inner]}
    if kind == "M" and isinstance(inner, dict):
        return {kind: {_name(k): _json_to_wire(v, depth + 1) for k, v in inner.items()}}
    raise InvalidValueError("cursor", f"unknown or malformed attribute value type {kind!r}")


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidValueError("cursor", "binary value is not standard base64") from None


def _name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidValueError("cursor", "attribute names must be non-empty strings")
    return name


def _is_list_of(value: Any, kind: Any) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, kind) for v in value)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _go_json(document: Any) -> str:
    try:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        # Lone surrogates cannot be UTF-8: refuse them here rather than while encoding bytes.
        text.encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        raise InvalidValueError("cursor", "key holds text that is not valid Unicode") from None
    # The escaped characters never occur outside JSON strings, so a plain substitution is exact.
    return re.sub(_GO_ESCAPE_RE, lambda m: _GO_ESCAPES[m.group(0)], text)

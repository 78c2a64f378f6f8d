"""DynamoDB JSON 1.0 bodies <-> the low-level client's Python shapes, without botocore's model walk.

The only blob in the DynamoDB API is the ``B`` / ``BS`` attribute value, so:

- On the way out, ``json.dumps`` is given a ``default`` hook that base64-encodes ``bytes``,
  ``bytearray`` and ``memoryview`` wherever they appear: no walk at all, the C encoder does the work.
  (``B`` values must be bytes-like, as generated code produces them; a ``str`` would be sent as is.)
- On the way in, a body that does not contain the JSON key ``"B"`` or ``"BS"`` cannot hold a binary
  value and is returned straight from ``json.loads``. Otherwise the parsed body is walked and every
  ``{"B": <str>}`` / ``{"BS": [<str>, ...]}`` is decoded to bytes. The value type tells attribute
  values apart from an attribute that happens to be named ``B`` (whose value is a dict).
- Control-plane responses (CreateTable, DescribeTable, ...) carry timestamps as epoch seconds; they
  become timezone-aware ``datetime`` objects, as botocore returns them (same instant; UTC tzinfo).
"""

from __future__ import annotations

import binascii
import json
from datetime import UTC, datetime

from dynagen._typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["DATA_PLANE_OPERATIONS", "decode_binary", "decode_response", "encode_request"]

_b64decode = binascii.a2b_base64

# Operations whose responses hold items but never timestamps: no timestamp walk for them.
DATA_PLANE_OPERATIONS = frozenset(
    {
        "BatchExecuteStatement",
        "BatchGetItem",
        "BatchWriteItem",
        "DeleteItem",
        "ExecuteStatement",
        "ExecuteTransaction",
        "GetItem",
        "PutItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "TransactWriteItems",
        "UpdateItem",
    }
)

# Every timestamp-typed member name in DynamoDB's API model (none is used for a non-timestamp).
_TIMESTAMP_MEMBERS = frozenset(
    {
        "ArchivalDateTime",
        "BackupCreationDateTime",
        "BackupExpiryDateTime",
        "CreationDateTime",
        "EarliestRestorableDateTime",
        "EndTime",
        "ExportFromTime",
        "ExportTime",
        "ExportToTime",
        "InaccessibleEncryptionDateTime",
        "LastDecreaseDateTime",
        "LastIncreaseDateTime",
        "LastUpdateDateTime",
        "LastUpdateToPayPerRequestDateTime",
        "LatestRestorableDateTime",
        "ReplicaInaccessibleDateTime",
        "RestoreDateTime",
        "StartTime",
        "TableCreationDateTime",
        "TimeRangeLowerBound",
        "TimeRangeUpperBound",
    }
)


def _encode_default(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return binascii.b2a_base64(value, newline=False).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not a DynamoDB wire value")


_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_encode_default)


def encode_request(request: Mapping[str, Any]) -> bytes:
    """The JSON body for a wire-format request, with binary values base64-encoded."""
    return _encoder.encode(request).encode("utf-8")


def decode_binary(node: Any) -> None:
    """Decode, in place, every ``B`` / ``BS`` attribute value below ``node``."""
    if type(node) is dict:
        for key, value in node.items():
            kind = type(value)
            if kind is str:
                if key == "B":
                    node[key] = _b64decode(value)
            elif kind is dict:
                decode_binary(value)
            elif kind is list:
                if key == "BS":
                    node[key] = [_b64decode(v) if type(v) is str else v for v in value]
                else:
                    for element in value:
                        if type(element) is dict:
                            decode_binary(element)
    elif type(node) is list:
        for element in node:
            decode_binary(element)


def _decode_timestamps(node: Any) -> None:
    if type(node) is dict:
        for key, value in node.items():
            kind = type(value)
            if (kind is int or kind is float) and key in _TIMESTAMP_MEMBERS:
                node[key] = datetime.fromtimestamp(value, UTC)
            elif kind is dict or kind is list:
                _decode_timestamps(value)
    elif type(node) is list:
        for element in node:
            _decode_timestamps(element)


def decode_response(operation: str, body: bytes) -> dict[str, Any]:
    """Parse a response (or error) body into the shapes a botocore client returns.

    Any body that cannot be decoded raises ``ValueError``, whatever is wrong with it: not JSON, not
    an object, bad base64, nested deeper than the interpreter recurses, a timestamp out of range.
    """
    if not body:
        return {}
    try:
        parsed = json.loads(body)
        if type(parsed) is not dict:
            raise ValueError("response body is not a JSON object")
        # JSON never escapes plain ASCII letters, so a binary value always shows its key literally.
        if b'"B"' in body or b'"BS"' in body:
            decode_binary(parsed)
        if operation not in DATA_PLANE_OPERATIONS:
            _decode_timestamps(parsed)
    except RecursionError:
        raise ValueError("response body nested too deeply") from None
    except (OverflowError, OSError) as exc:  # datetime.fromtimestamp of an absurd number
        raise ValueError(f"response holds a timestamp out of range: {exc}") from None
    result: dict[str, Any] = parsed
    return result

"""DynamoDB Streams records (as AWS Lambda receives them) back into generated models.

A Lambda event's ``Records[i].dynamodb.NewImage`` / ``OldImage`` / ``Keys`` are wire-format items
that went through JSON: binary values (``B``, members of ``BS``) are standard base64 strings.
``stream_image_to_item`` turns them back into the low-level client's shapes (``bytes``), so the
generated ``from_item`` reads them like items from a request.

Generated modules carry the mapping of each table (``ENTITIES[table_id]``: entity -> model) and a
``decode_<table>_record(record)`` built on ``decode_stream_record``, so handlers write neither:

    from generated_example.payments import ENTITIES, Payment, decode_payments_record

    def handler(event, context):
        for record in event["Records"]:
            change = decode_payments_record(record)  # .old / .new: Partner, Customer, Payment, Refund or None
            if change.event_name == "INSERT" and isinstance(change.new, Payment):
                ...
        # or, for a whole event: decode_stream_records(event, ENTITIES["payments"])

``models_by_entity`` maps the value of the table's entity attribute (``entity`` in the native
dialect) to a generated model class (anything with ``from_item``), a ``from_item``-like callable, or
a generated repository class. For a table without an entity attribute (DMS models) pass
``entity_attribute=None`` and exactly one model.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator, Mapping, Sequence

from dynagen._record import Record, init
from dynagen._typing import Any
from dynagen.errors import InvalidValueError

__all__ = [
    "StreamChange",
    "decode_stream_image",
    "decode_stream_record",
    "decode_stream_records",
    "stream_image_to_item",
]

_MAX_DEPTH = 32
_PLAIN = ("S", "N", "BOOL", "NULL")
_PLAIN_SETS = ("SS", "NS")


def stream_image_to_item(image: Mapping[str, Any]) -> dict[str, Any]:
    """A stream image (binary as base64 text) as a wire-format item (binary as ``bytes``).

    Values that already hold ``bytes`` are kept, so an item read by a client passes through unchanged.
    """
    if not isinstance(image, Mapping):
        raise InvalidValueError("image", f"expected a mapping of attribute values, got {type(image).__name__}")
    return {str(name): _value(value, str(name), 1) for name, value in image.items()}


def _bytes(value: Any, where: str) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidValueError(where, "binary value is not valid base64") from None
    raise InvalidValueError(where, f"expected base64 text or bytes, got {type(value).__name__}")


def _value(value: Any, where: str, depth: int) -> dict[str, Any]:
    if depth > _MAX_DEPTH:
        raise InvalidValueError(where, "nested too deeply")
    if not isinstance(value, Mapping) or len(value) != 1:
        raise InvalidValueError(where, f"not a wire-format attribute value: {value!r}")
    ((kind, inner),) = value.items()
    if kind in _PLAIN:
        return {kind: inner}
    if kind in _PLAIN_SETS:
        return {kind: list(inner)}
    if kind == "B":
        return {"B": _bytes(inner, where)}
    if kind == "BS":
        return {"BS": [_bytes(member, f"{where}[{i}]") for i, member in enumerate(inner)]}
    if kind == "L" and isinstance(inner, Sequence) and not isinstance(inner, str | bytes):
        return {"L": [_value(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(inner)]}
    if kind == "M" and isinstance(inner, Mapping):
        return {"M": {str(k): _value(v, f"{where}.{k}", depth + 1) for k, v in inner.items()}}
    raise InvalidValueError(where, f"not a wire-format attribute value: {value!r}")


def _decoder(target: Any) -> Callable[[Mapping[str, Any]], Any]:
    info = getattr(target, "model", None)  # a generated repository class: its ModelInfo
    from_item = getattr(info, "from_item", None) or getattr(target, "from_item", None)
    if callable(from_item):
        return from_item  # type: ignore[no-any-return]
    if callable(target):
        return target  # type: ignore[no-any-return]
    raise InvalidValueError("models_by_entity", f"{target!r} is neither a model class nor a from_item callable")


def decode_stream_image(
    image: Mapping[str, Any] | None,
    models_by_entity: Mapping[str, Any],
    *,
    entity_attribute: str | None = "entity",
    strict: bool = False,
) -> Any:
    """The model of one stream image, or None for a missing image.

    The image's ``entity_attribute`` picks the model in ``models_by_entity``. An entity that is not
    in the mapping gives None (a handler usually cares about some entities only), or
    ``InvalidValueError`` with ``strict=True``; so does an image without the attribute.
    """
    if image is None or not image:
        return None
    item = stream_image_to_item(image)
    if entity_attribute is None:
        if len(models_by_entity) != 1:
            raise InvalidValueError("models_by_entity", "without an entity attribute, give exactly one model")
        (target,) = models_by_entity.values()
        return _decoder(target)(item)
    stored = item.get(entity_attribute)
    entity = stored.get("S") if isinstance(stored, Mapping) else None
    target = models_by_entity.get(entity) if isinstance(entity, str) else None
    if target is None:
        if strict:
            raise InvalidValueError(entity_attribute, f"no model for entity {entity!r} in this stream image")
        return None
    return _decoder(target)(item)


class StreamChange(Record):
    """One decoded stream record: what happened (``INSERT``/``MODIFY``/``REMOVE``), the key, both images.

    ``old``/``new`` are models, or None for a missing image or an entity not asked for.
    """

    __slots__ = ("event_name", "keys", "old", "new", "sequence_number", "event_id")  # noqa: RUF023 - the fields' order
    event_name: str
    keys: dict[str, Any]
    old: Any
    new: Any
    sequence_number: str | None
    event_id: str | None

    def __init__(
        self,
        event_name: str,
        keys: dict[str, Any],
        old: Any,
        new: Any,
        sequence_number: str | None = None,
        event_id: str | None = None,
    ) -> None:
        init(self, "event_name", event_name)
        init(self, "keys", keys)
        init(self, "old", old)
        init(self, "new", new)
        init(self, "sequence_number", sequence_number)
        init(self, "event_id", event_id)


def decode_stream_record(
    record: Mapping[str, Any],
    models_by_entity: Mapping[str, Any],
    *,
    entity_attribute: str | None = "entity",
    strict: bool = False,
) -> StreamChange:
    """A Lambda stream record as a ``StreamChange`` (``old``/``new`` are models or None, see ``decode_stream_image``)."""
    body = record.get("dynamodb")
    if not isinstance(body, Mapping):
        raise InvalidValueError("record", "not a DynamoDB stream record (no 'dynamodb' member)")
    options: dict[str, Any] = {"entity_attribute": entity_attribute, "strict": strict}
    return StreamChange(
        event_name=str(record.get("eventName", "")),
        keys=stream_image_to_item(body.get("Keys") or {}),
        old=decode_stream_image(body.get("OldImage"), models_by_entity, **options),
        new=decode_stream_image(body.get("NewImage"), models_by_entity, **options),
        sequence_number=body.get("SequenceNumber"),
        event_id=record.get("eventID"),
    )


def decode_stream_records(
    event: Mapping[str, Any],
    models_by_entity: Mapping[str, Any],
    *,
    entity_attribute: str | None = "entity",
    strict: bool = False,
) -> Iterator[StreamChange]:
    """Every record of a Lambda DynamoDB Streams event, decoded in order."""
    for record in event.get("Records") or []:
        yield decode_stream_record(record, models_by_entity, entity_attribute=entity_attribute, strict=strict)

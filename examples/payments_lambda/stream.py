"""The payments table's DynamoDB Streams consumer: stream records decoded into typed models.

Handler: ``examples.payments_lambda.stream.handler`` (event source mapping on the table's stream,
``NEW_AND_OLD_IMAGES``, with ``ReportBatchItemFailures``).

A stream image is DynamoDB's wire format, with one difference from what a client returns: Lambda
delivers the event as JSON, so binary values (``B``, and the members of ``BS``) arrive as base64
strings. The runtime's stream decoder turns those back into ``bytes`` (also inside maps and lists), and the
entity attribute (``entity``) picks the generated model whose ``from_item`` reads the image.

The consumer aggregates per partner and currency what was captured and refunded in the batch
(from status / amount transitions, so a MODIFY that changes something else adds nothing), counts
the records per entity, and logs the totals. A record that cannot be decoded is reported in
``batchItemFailures`` (Lambda retries from it, then sends it to the on-failure destination);
items of other entities (other services sharing the table) are skipped. Nothing here talks to
DynamoDB, so the init phase opens no connection.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from dynagen.errors import InvalidValueError
from dynagen.runtime import StreamChange, invocation
from generated_example.payments import Payment, PaymentStatus, decode_payments_record

__all__ = ["Totals", "decode_record", "handler"]

log = logging.getLogger("payments.stream")


def decode_record(record: Mapping[str, Any]) -> StreamChange:
    """The models in one Lambda DynamoDB Streams record (``InvalidValueError`` when they cannot be read).

    Binary values arrive base64-encoded; the runtime's decoder turns them back into ``bytes`` (also
    inside maps, lists and binary sets) before ``from_item`` reads the image. The generated
    decoder picks the model by the item's entity attribute; images of entities the schema does not
    declare (other services sharing the table) decode to None.
    """
    return decode_payments_record(record)


_CAPTURED = (PaymentStatus.CAPTURED, PaymentStatus.REFUNDED)


class Totals:
    """Captured and refunded amounts per partner and currency, and record counts."""

    def __init__(self) -> None:
        self.captured: defaultdict[str, defaultdict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        self.refunded: defaultdict[str, defaultdict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        self.records: Counter[str] = Counter()

    def add(self, change: StreamChange) -> None:
        model = change.new if change.new is not None else change.old
        self.records[f"{type(model).__name__ if model is not None else 'Other'}:{change.event_name}"] += 1
        new, old = change.new, change.old
        if not isinstance(new, Payment):
            return
        currency = new.currency.value
        was_captured = isinstance(old, Payment) and old.status in _CAPTURED and old.captured_amount is not None
        if new.status in _CAPTURED and new.captured_amount is not None and not was_captured:
            self.captured[new.partner_id][currency] += new.captured_amount
        before = old.refunded_amount if isinstance(old, Payment) else Decimal(0)
        if new.refunded_amount > before:
            self.refunded[new.partner_id][currency] += new.refunded_amount - before

    def summary(self) -> dict[str, Any]:
        def plain(table: Mapping[str, Mapping[str, Decimal]]) -> dict[str, dict[str, str]]:
            return {p: {c: f"{v.normalize():f}" for c, v in sorted(per.items())} for p, per in sorted(table.items())}

        return {"captured": plain(self.captured), "refunded": plain(self.refunded), "records": dict(self.records)}


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Aggregate a batch of stream records; undecodable records go back as ``batchItemFailures``."""
    started = time.perf_counter()
    totals = Totals()
    failures: list[dict[str, str]] = []
    with invocation(context):
        for record in event.get("Records") or []:
            try:
                change = decode_record(record)
            except (InvalidValueError, KeyError, TypeError, ValueError, AttributeError) as exc:
                sequence = (record.get("dynamodb") or {}).get("SequenceNumber", "")
                log.warning("undecodable stream record %s: %s", sequence, exc)
                failures.append({"itemIdentifier": sequence})
                continue
            totals.add(change)
        summary = totals.summary()
        log.info(
            "stream batch: %d records, %d failed, %.1f ms, captured=%s refunded=%s",
            sum(totals.records.values()) + len(failures),
            len(failures),
            (time.perf_counter() - started) * 1000.0,
            summary["captured"],
            summary["refunded"],
        )
    return {"batchItemFailures": failures, "summary": summary}

"""Repository batches, cross-model transactions and stream decoding on DynamoDB Local, both transports."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from test_repository_support import Faulty, make_table, transport_fixture, unique

from dynagen.errors import (
    ConditionFailedError,
    InvalidValueError,
    TransactionCanceledError,
    UnprocessedItemsError,
)
from dynagen.runtime import Field
from dynagen.runtime.ops._transact import TransactGet
from dynagen.runtime.repository._transactions import transact_get, transact_write
from dynagen.runtime.transport._interface import Transport
from dynagen.runtime.wire._streams import (
    decode_stream_image,
    decode_stream_record,
    decode_stream_records,
    stream_image_to_item,
)
from generated_example import payments as pay
from generated_example.payments import (
    Partner,
    PartnerRepository,
    Payment,
    PaymentRepository,
    PaymentStatus,
    Refund,
    RefundRepository,
)

pytestmark = pytest.mark.ddb
__all__ = ["transport_fixture"]

FAST: dict[str, Any] = {"base_delay": 0.0, "max_delay": 0.0}


@pytest.fixture(scope="module")
def pay_table(ddb_client: Any) -> str:
    return make_table(ddb_client, pay.TABLES["payments"], "batch")


def payment(partner: str, payment_id: str, **kw: Any) -> Payment:
    return Payment(
        partner_id=partner,
        payment_id=payment_id,
        customer_id=kw.pop("customer_id", uuid4()),
        amount=kw.pop("amount", Decimal("10")),
        currency=pay.Currency.USD,
        created_on=kw.pop("created_on", date(2024, 5, 1)),
        **kw,
    )


# -- batches -------------------------------------------------------------------------------------


def test_batch_put_get_many_batch_delete_beyond_one_request(transport: Transport, pay_table: str) -> None:
    repo = PaymentRepository(transport, table_name=pay_table)
    partner = unique("partner-")
    models = [payment(partner, f"p{i:03d}") for i in range(130)]
    stamped = repo.batch_put(models, overwrite_versions=True)  # 6 BatchWriteItem requests
    assert len(stamped) == 130
    assert all(m.created_at is not None and m.version == 0 for m in stamped)
    assert repo.count(filter=Field("partnerId").eq({"S": partner})) == 130

    keys = [Payment.make_key(partner_id=partner, payment_id=f"p{i:03d}") for i in reversed(range(130))]
    keys.insert(5, Payment.make_key(partner_id=partner, payment_id="missing"))
    keys.append(keys[0])  # duplicates are read once
    got = repo.get_many(keys)  # 2 BatchGetItem requests
    assert [m.payment_id for m in got] == [f"p{i:03d}" for i in reversed(range(130))]  # the order of keys
    assert got == list(reversed(stamped))
    assert repo.get_many([]) == []

    repo.batch_delete(keys[:100])
    left = repo.get_many(keys)
    assert [m.payment_id for m in left] == [f"p{i:03d}" for i in reversed(range(31))]
    repo.batch_delete(keys)
    assert repo.get_many(keys) == []


def test_batch_input_errors(transport: Transport, pay_table: str) -> None:
    repo = PaymentRepository(transport, table_name=pay_table)
    partner = unique("partner-")
    with pytest.raises(InvalidValueError):
        repo.batch_put([payment(partner, "a"), payment(partner, "a")], overwrite_versions=True)
    with pytest.raises(InvalidValueError):
        repo.get_many([{}])
    with pytest.raises(InvalidValueError):
        repo.batch_delete(["PK"])  # type: ignore[list-item]
    # another entity's key in a batch get is refused, not mis-decoded
    refunds = RefundRepository(transport, table_name=pay_table)
    refunds.create(Refund(partner_id=partner, payment_id="x", refund_id="y", amount=Decimal(1)))
    with pytest.raises(InvalidValueError):
        repo.get_many([Refund.make_key(partner_id=partner, payment_id="x", refund_id="y")])


def test_unprocessed_entries_are_retried(transport: Transport, pay_table: str) -> None:
    partner = unique("partner-")
    faulty = Faulty(transport, rounds=3, drop=lambda i, _: i % 3 == 0)
    repo = PaymentRepository(faulty, table_name=pay_table)
    repo.batch_put([payment(partner, f"p{i:02d}") for i in range(30)], overwrite_versions=True, **FAST)
    keys = [Payment.make_key(partner_id=partner, payment_id=f"p{i:02d}") for i in range(30)]
    faulty.calls.clear()
    assert len(repo.get_many(keys, **FAST)) == 30
    assert faulty.batch_calls() > 1  # retried


def test_still_unprocessed_entries_surface_with_the_items(transport: Transport, pay_table: str) -> None:
    partner = unique("partner-")
    dropped = {f"p{i:02d}" for i in range(0, 30, 4)}

    def drop(_: int, entry: Any) -> bool:
        key = entry.get("PutRequest", {}).get("Item") or entry.get("DeleteRequest", {}).get("Key") or entry
        return key["SK"]["S"].removeprefix("PAYMENT#") in dropped

    faulty = Faulty(transport, rounds=10**6, drop=drop)
    repo = PaymentRepository(faulty, table_name=pay_table)
    models = [payment(partner, f"p{i:02d}") for i in range(30)]
    with pytest.raises(UnprocessedItemsError) as caught:
        repo.batch_put(models, overwrite_versions=True, max_attempts=3, **FAST)
    unprocessed = caught.value.unprocessed[pay_table]
    assert {r["PutRequest"]["Item"]["paymentId"]["S"] for r in unprocessed} == dropped
    assert {m.payment_id for m in caught.value.completed} == {m.payment_id for m in models} - dropped
    assert faulty.batch_calls() == 6  # 2 chunks (25 + 5), each sent 3 times
    keys = [m.key() for m in models]
    with pytest.raises(UnprocessedItemsError) as got:
        repo.get_many(keys, max_attempts=2, **FAST)
    # the same keys are held back on reads: those never written are reported, not dropped or "missing"
    assert {k["SK"]["S"].removeprefix("PAYMENT#") for k in got.value.unprocessed[pay_table]} == dropped
    assert [m.payment_id for m in got.value.completed] == sorted({m.payment_id for m in models} - dropped)
    plain = PaymentRepository(transport, table_name=pay_table)
    assert {m.payment_id for m in plain.get_many(keys)} == {m.payment_id for m in models} - dropped


def test_still_unprocessed_keys_surface_on_get_many(transport: Transport, pay_table: str) -> None:
    partner = unique("partner-")
    repo = PaymentRepository(transport, table_name=pay_table)
    models = repo.batch_put([payment(partner, f"p{i:02d}") for i in range(10)], overwrite_versions=True)
    faulty = Faulty(transport, rounds=10**6, drop=lambda i, _: i == 0)
    keys = [m.key() for m in models]
    with pytest.raises(UnprocessedItemsError) as caught:
        PaymentRepository(faulty, table_name=pay_table).get_many(keys, max_attempts=3, **FAST)
    left = caught.value.unprocessed[pay_table]
    assert len(left) == 1
    found = caught.value.completed
    assert all(isinstance(m, Payment) for m in found)
    assert len(found) == 9
    assert {m.payment_id for m in found} | {left[0]["SK"]["S"].removeprefix("PAYMENT#")} == {
        m.payment_id for m in models
    }
    # batch_delete: still-unprocessed deletes surface with the keys done
    with pytest.raises(UnprocessedItemsError) as deleting:
        PaymentRepository(faulty, table_name=pay_table).batch_delete(keys, max_attempts=2, **FAST)
    assert len(deleting.value.unprocessed[pay_table]) == 1
    assert len(deleting.value.completed) == 9
    assert len(repo.get_many(keys)) == 1


# -- transactions ------------------------------------------------------------------------------------


def test_transaction_across_models_succeeds(transport: Transport, pay_table: str) -> None:
    partner = unique("partner-")
    payments = PaymentRepository(transport, table_name=pay_table)
    refunds = RefundRepository(transport, table_name=pay_table)
    partners = PartnerRepository(transport, table_name=pay_table)
    partners.create(Partner(partner_id=partner, name="Acme", fee_rate=Decimal(0)))
    p = payments.create(payment(partner, "p1", status=PaymentStatus.CAPTURED))
    p.status = PaymentStatus.REFUNDED
    p.refunded_amount = Decimal("10")
    refund = Refund(partner_id=partner, payment_id="p1", refund_id="r1", amount=Decimal("10"), reason="asked")
    transact_write(
        transport,
        [
            payments.transact_update(p, ["status", "refunded_amount"], add={"attempts": 1}),
            refunds.transact_create(refund),
            partners.transact_check(Partner.make_key(partner_id=partner), Field("status").eq({"S": "active"})),
        ],
        client_token=unique("token-"),
    )
    stored = payments.get(partner_id=partner, payment_id="p1")
    assert (stored.status, stored.refunded_amount, stored.version, stored.attempts) == (
        PaymentStatus.REFUNDED,
        Decimal("10"),
        1,
        1,
    )
    assert stored.updated_at is not None and p.updated_at is not None and stored.updated_at >= p.updated_at
    # the payment moved in GSI2
    mine = Field("partnerId").eq({"S": partner})
    assert [x.payment_id for x in payments.payments_by_status(status=PaymentStatus.REFUNDED, filter=mine).items] == [
        "p1"
    ]
    r = refunds.get(partner_id=partner, payment_id="p1", refund_id="r1")
    assert r.version == 0 and r.created_at is not None and r.reason == "asked"

    got_payment, got_refund, nothing, raw = transact_get(
        transport,
        [
            payments.transact_get(p.key()),
            refunds.transact_get(r.key()),
            refunds.transact_get(Refund.make_key(partner_id=partner, payment_id="p1", refund_id="none")),
            TransactGet(pay_table, Partner.make_key(partner_id=partner)),
        ],
    )
    assert got_payment == stored and got_refund == r and nothing is None
    assert raw["entity"] == {"S": "PARTNER"}

    # put and delete actions, with the repository's own transact_write
    r2 = Refund(partner_id=partner, payment_id="p1", refund_id="r2", amount=Decimal(1))
    refunds.transact_write([refunds.transact_put(r2), refunds.transact_delete(r.key(), expected_version=0)])
    assert refunds.find(partner_id=partner, payment_id="p1", refund_id="r1") is None
    # a put writes the model's version + 1 (0 -> 1): a put never repeats a stored version
    assert refunds.get(partner_id=partner, payment_id="p1", refund_id="r2").version == 1


def test_cancelled_transaction_has_reasons_per_action_and_writes_nothing(transport: Transport, pay_table: str) -> None:
    partner = unique("partner-")
    payments = PaymentRepository(transport, table_name=pay_table)
    refunds = RefundRepository(transport, table_name=pay_table)
    p = payments.create(payment(partner, "p1", status=PaymentStatus.CAPTURED))
    existing = refunds.create(Refund(partner_id=partner, payment_id="p1", refund_id="r1", amount=Decimal(1)))
    changed = replace(p, status=PaymentStatus.REFUNDED)
    with pytest.raises(TransactionCanceledError) as caught:
        transact_write(
            transport,
            [
                payments.transact_update(changed, ["status"]),
                refunds.transact_create(Refund(partner_id=partner, payment_id="p1", refund_id="r1", amount=Decimal(9))),
            ],
        )
    reasons = caught.value.reasons
    assert [r.code for r in reasons] == ["None", "ConditionalCheckFailed"]
    assert reasons[1].item is not None and reasons[1].item["amount"] == {"N": "1"}
    assert payments.get(partner_id=partner, payment_id="p1") == p  # nothing written
    assert refunds.get(partner_id=partner, payment_id="p1", refund_id="r1") == existing

    # a stale version inside a transaction
    payments.update(p, ["attempts"])
    with pytest.raises(TransactionCanceledError) as stale:
        transact_write(
            transport,
            [
                refunds.transact_create(Refund(partner_id=partner, payment_id="p1", refund_id="r9", amount=Decimal(9))),
                payments.transact_update(changed, ["status"]),
            ],
        )
    assert [r.code for r in stale.value.reasons] == ["None", "ConditionalCheckFailed"]
    assert stale.value.reasons[1].item is not None and stale.value.reasons[1].item["version"] == {"N": "1"}
    assert refunds.find(partner_id=partner, payment_id="p1", refund_id="r9") is None
    # a failed check and a version-checked delete
    with pytest.raises(TransactionCanceledError) as check:
        refunds.transact_write(
            [
                refunds.transact_delete(existing.key(), expected_version=5),
                payments.transact_check(p.key(), Field("status").eq({"S": "failed"})),
            ]
        )
    assert [r.code for r in check.value.reasons] == ["ConditionalCheckFailed", "ConditionalCheckFailed"]
    assert refunds.find(partner_id=partner, payment_id="p1", refund_id="r1") is not None
    # an update of a missing item is cancelled, not an upsert
    ghost = payment(partner, "ghost")
    with pytest.raises(TransactionCanceledError):
        transact_write(transport, [payments.transact_update(ghost, ["amount"])])
    assert payments.find(partner_id=partner, payment_id="ghost") is None
    with pytest.raises(InvalidValueError):
        payments.transact_update(ghost, ["payment_id"])
    with pytest.raises(InvalidValueError):
        transact_write(transport, [])
    with pytest.raises(ConditionFailedError):
        payments.create(p, if_not_exists=True)


# -- streams -------------------------------------------------------------------------------------------


def lambda_image(item: dict[str, Any]) -> dict[str, Any]:
    """What a Lambda stream event carries: the item through JSON, binary as base64 text."""

    def value(av: dict[str, Any]) -> dict[str, Any]:
        ((kind, inner),) = av.items()
        if kind == "B":
            return {"B": base64.b64encode(inner).decode()}
        if kind == "BS":
            return {"BS": [base64.b64encode(b).decode() for b in inner]}
        if kind == "L":
            return {"L": [value(v) for v in inner]}
        if kind == "M":
            return {"M": {k: value(v) for k, v in inner.items()}}
        return {kind: inner}

    return {k: value(v) for k, v in item.items()}


def test_stream_records_decode_into_models(transport: Transport, pay_table: str, ddb_client: Any) -> None:
    partner = unique("partner-")
    payments = PaymentRepository(transport, table_name=pay_table)
    refunds = RefundRepository(transport, table_name=pay_table)
    before = payments.create(payment(partner, "p1", card_fingerprint=b"\x00\xfe\xff fp", labels={"a"}))
    after = payments.update(replace(before, status=PaymentStatus.CAPTURED), ["status"])
    refund = refunds.create(Refund(partner_id=partner, payment_id="p1", refund_id="r1", amount=Decimal(1)))
    old_raw = before.to_item()
    new_raw = ddb_client.get_item(TableName=pay_table, Key=after.key())["Item"]
    assert isinstance(new_raw["cardFingerprint"]["B"], bytes)
    new_raw["extraBinaries"] = {"BS": [b"\x01", b"\x02\x03"]}
    refund_raw = ddb_client.get_item(TableName=pay_table, Key=refund.key())["Item"]
    models = {"PAYMENT": Payment, "REFUND": RefundRepository, "PARTNER": Partner.from_item}
    event = {
        "Records": [
            {
                "eventID": "1",
                "eventName": "MODIFY",
                "dynamodb": {
                    "Keys": lambda_image(after.key()),
                    "OldImage": lambda_image(old_raw),
                    "NewImage": lambda_image(new_raw),
                    "SequenceNumber": "100",
                },
            },
            {"eventID": "2", "eventName": "INSERT", "dynamodb": {"Keys": {}, "NewImage": lambda_image(refund_raw)}},
            {"eventID": "3", "eventName": "REMOVE", "dynamodb": {"Keys": {}, "OldImage": lambda_image(refund_raw)}},
        ]
    }
    changes = list(decode_stream_records(event, models))
    assert [c.event_name for c in changes] == ["MODIFY", "INSERT", "REMOVE"]
    assert changes[0].old == before and changes[0].new == after
    assert changes[0].new.card_fingerprint == b"\x00\xfe\xff fp"
    assert changes[0].keys == after.key() and changes[0].sequence_number == "100"
    assert changes[1].new == refund and changes[1].old is None
    assert changes[2].old == refund and changes[2].new is None
    item = stream_image_to_item(lambda_image(new_raw))
    assert item["extraBinaries"] == {"BS": [b"\x01", b"\x02\x03"]}
    assert item["cardFingerprint"] == {"B": b"\x00\xfe\xff fp"}
    assert stream_image_to_item(new_raw) == new_raw  # bytes already: unchanged
    # unknown entities: ignored, or refused when strict
    assert decode_stream_image(lambda_image(refund_raw), {"PAYMENT": Payment}) is None
    with pytest.raises(InvalidValueError):
        decode_stream_image(lambda_image(refund_raw), {"PAYMENT": Payment}, strict=True)
    with pytest.raises(InvalidValueError):
        stream_image_to_item({"x": {"B": "not base64!"}})
    with pytest.raises(InvalidValueError):
        decode_stream_record({"eventName": "INSERT"}, models)
    assert decode_stream_record(event["Records"][0], models, strict=True).new == after


def test_generated_entities_and_stream_decoder(transport: Transport, pay_table: str, ddb_client: Any) -> None:
    """``ENTITIES`` and ``decode_payments_record`` come with the module: no hand-written entity map."""
    entities = pay.ENTITIES
    assert entities == {
        "payments": {"CUSTOMER": pay.Customer, "PARTNER": Partner, "PAYMENT": Payment, "REFUND": Refund}
    }
    partner = unique("partner-")
    payments = PaymentRepository(transport, table_name=pay_table)
    partners = PartnerRepository(transport, table_name=pay_table)
    before = payments.create(payment(partner, "p1", card_fingerprint=b"\x00\xff"))
    after = payments.update(replace(before, status=PaymentStatus.CAPTURED), ["status"])
    profile = partners.create(Partner(partner_id=partner, name="Acme", fee_rate=Decimal("0.01")))
    raw_after = ddb_client.get_item(TableName=pay_table, Key=after.key())["Item"]
    raw_profile = ddb_client.get_item(TableName=pay_table, Key=profile.key())["Item"]
    change = pay.decode_payments_record(
        {
            "eventName": "MODIFY",
            "dynamodb": {
                "Keys": lambda_image(after.key()),
                "OldImage": lambda_image(before.to_item()),
                "NewImage": lambda_image(raw_after),
            },
        }
    )
    assert change.event_name == "MODIFY" and change.old == before and change.new == after
    inserted = pay.decode_payments_record({"eventName": "INSERT", "dynamodb": {"NewImage": lambda_image(raw_profile)}})
    assert inserted.new == profile and inserted.old is None
    foreign = dict(raw_profile, entity={"S": "INVOICE"})
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": lambda_image(foreign)}}
    assert pay.decode_payments_record(record).new is None  # another service's entity
    with pytest.raises(InvalidValueError):
        pay.decode_payments_record(record, strict=True)
    # The map also serves the runtime's event-level helper.
    event = {"Records": [{"eventName": "REMOVE", "dynamodb": {"OldImage": lambda_image(raw_after)}}]}
    assert [c.old for c in decode_stream_records(event, pay.ENTITIES["payments"])] == [after]

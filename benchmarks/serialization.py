"""Benchmark 1: serialization and deserialization of the example Payment (every field filled)."""

from __future__ import annotations

from typing import Any

from benchmarks._fixtures import (
    hand_from_item,
    hand_to_item,
    make_payments,
    plain_dict,
    pynamodb_models,
    to_pynamodb,
)
from benchmarks._util import Report, Target, interleaved, timing_table
from generated_example.payments import Payment


def _normal(item: dict[str, Any]) -> dict[str, Any]:
    """Sets compared as sets (their list order follows hashing, which differs between two equal sets)."""
    return {k: {"SS": sorted(v["SS"])} if "SS" in v else v for k, v in item.items()}


def run(*, quick: bool = False, items: int | None = None, rounds: int | None = None) -> Report:
    n = items if items is not None else (200 if quick else 10_000)
    rounds = rounds if rounds is not None else (3 if quick else 7)
    report = Report("serialization")
    report.note(
        f"\n## Serialization: Payment ({n:,} items, 19 fields + 3 nested line items), median of {rounds} rounds"
    )

    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    payments = make_payments(n)
    wire = [p.to_item() for p in payments]
    plain = [plain_dict(p) for p in payments]
    PynPayment, PynLineItem = pynamodb_models()
    pyn = [to_pynamodb(p, PynPayment, PynLineItem) for p in payments]
    pyn_wire = [m.serialize() for m in pyn]

    # The contenders must agree on what they produce before they are timed.
    assert [hand_to_item(p) for p in payments[:50]] == wire[:50]
    assert [Payment.from_item(w) for w in wire[:50]] == [hand_from_item(w) for w in wire[:50]] == payments[:50]
    ser, des = TypeSerializer(), TypeDeserializer()
    assert [_normal({k: ser.serialize(v) for k, v in d.items()}) for d in plain[:50]] == [_normal(w) for w in wire[:50]]
    assert sorted(pyn_wire[0]) == sorted(wire[0])

    serialize = ser.serialize
    deserialize = des.deserialize
    from_item = Payment.from_item
    from_raw = PynPayment.from_raw_data

    def enc_dynagen() -> Any:
        return [p.to_item() for p in payments]

    def enc_hand() -> Any:
        return [hand_to_item(p) for p in payments]

    def enc_boto3() -> Any:
        return [{k: serialize(v) for k, v in d.items()} for d in plain]

    def enc_pynamodb() -> Any:
        return [m.serialize() for m in pyn]

    def dec_dynagen() -> Any:
        return [from_item(w) for w in wire]

    def dec_hand() -> Any:
        return [hand_from_item(w) for w in wire]

    def dec_boto3() -> Any:
        return [{k: deserialize(v) for k, v in w.items()} for w in wire]

    def dec_pynamodb() -> Any:
        return [from_raw(w) for w in pyn_wire]

    enc = interleaved(
        {
            "dynagen to_item()": enc_dynagen,
            "hand-written dict literal": enc_hand,
            "boto3 TypeSerializer": enc_boto3,
            "PynamoDB Model.serialize()": enc_pynamodb,
        },
        rounds=rounds,
        per=n,
    )
    dec = interleaved(
        {
            "dynagen from_item()": dec_dynagen,
            "hand-written constructor": dec_hand,
            "boto3 TypeDeserializer": dec_boto3,
            "PynamoDB Model.from_raw_data()": dec_pynamodb,
        },
        rounds=rounds,
        per=n,
    )
    text, e = timing_table("Encode one Payment (per item)", enc, "dynagen to_item()")
    report.table(text)
    text, d = timing_table("Decode one Payment (per item)", dec, "dynagen from_item()")
    report.table(text)

    ours_e, ours_d = e["dynagen to_item()"], d["dynagen from_item()"]
    report.target(Target("to_item vs hand-written floor (time ratio)", ours_e / e["hand-written dict literal"], 1.25))
    report.target(Target("from_item vs hand-written floor (time ratio)", ours_d / d["hand-written constructor"], 1.25))
    report.target(Target("to_item speed-up over TypeSerializer", e["boto3 TypeSerializer"] / ours_e, 2.5, higher=True))
    report.target(Target("to_item speed-up over PynamoDB", e["PynamoDB Model.serialize()"] / ours_e, 4.0, higher=True))
    report.target(
        Target("from_item speed-up over PynamoDB", d["PynamoDB Model.from_raw_data()"] / ours_d, 3.0, higher=True)
    )
    report.target(
        Target("from_item speed-up over TypeDeserializer", d["boto3 TypeDeserializer"] / ours_d, 1.0, higher=True)
    )
    return report

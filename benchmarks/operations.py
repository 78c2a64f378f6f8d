"""Benchmark 2: per-operation client-side cost of repository get / create / 100-item query.

Contenders, each with its own client and connection pool, interleaved round by round:

- ``botocore client (direct)``: the request the repository sends, captured once and replayed with
  ``client.get_item(**request)`` etc. (no model, no decoding: raw wire dicts come back).
- ``dynagen repo / botocore``: ``PaymentRepository(BotocoreTransport(client))``: builds the request,
  stamps and encodes on create, decodes into ``Payment`` objects on get / query.
- ``dynagen repo / lean``: the same repository on ``LeanTransport`` (stdlib HTTP, no botocore).
- ``boto3 Table resource``: ``Table.get_item`` / ``put_item`` / ``query`` (Python values in and out).
- ``PynamoDB``: ``Model.get`` / ``save`` / ``query`` on the equivalent model.

Against an instant stub server (canned responses: client cost only) and against DynamoDB Local.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from benchmarks._fixtures import json_safe, make_payments, plain_dict, pynamodb_models, to_pynamodb
from benchmarks._stub import InstantStub
from benchmarks._util import Report, Target, interleaved, timing_table
from dynagen.runtime import BotocoreTransport, Deadline
from generated_example.payments import TABLES, Payment, PaymentRepository

REGION = "us-east-1"
CREDS = {"aws_access_key_id": "AKIDBENCH", "aws_secret_access_key": "bench-secret"}
PARTNER = "p-0001"
PYN_PARTNER = "p-pynamodb"


class _Recorder:
    """A transport that remembers the last request and answers with a canned response."""

    def __init__(self, responses: dict[str, Any]) -> None:
        self.responses = responses
        self.requests: dict[str, dict[str, Any]] = {}

    def call(self, operation: str, request: Mapping[str, Any], *, deadline: Deadline | None = None) -> dict[str, Any]:
        self.requests[operation] = dict(request)
        return dict(self.responses.get(operation, {}))


def _boto3_session() -> Any:
    import boto3

    return boto3.session.Session(region_name=REGION, **CREDS)


def _lean(endpoint: str) -> Any:
    from dynagen.runtime.transport.lean import LeanTransport

    return LeanTransport(
        REGION, endpoint_url=endpoint, credentials=(CREDS["aws_access_key_id"], CREDS["aws_secret_access_key"])
    )


def _python_values(wire: Mapping[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    des = TypeDeserializer()
    return {k: des.deserialize(v) for k, v in wire.items()}


def _contenders(
    endpoint: str, pyn_endpoint: str, payments: list[Payment], pyn_items: list[Any], table: str
) -> dict[str, dict[str, Callable[[], object]]]:
    """op -> contender name -> one call."""
    session = _boto3_session()
    probe = payments[0]
    # Capture the exact requests the repository sends.
    rec = _Recorder({"GetItem": {"Item": probe.to_item()}, "Query": {"Items": [p.to_item() for p in payments]}})
    rec_repo = PaymentRepository(rec, table_name=table)
    rec_repo.get(partner_id=PARTNER, payment_id=probe.payment_id)
    rec_repo.create(probe)
    rec_repo.payments_of_partner(partner_id=PARTNER)
    get_req, put_req, query_req = rec.requests["GetItem"], rec.requests["PutItem"], rec.requests["Query"]

    direct = session.client("dynamodb", endpoint_url=endpoint)
    repo_boto = PaymentRepository(
        BotocoreTransport(session.client("dynamodb", endpoint_url=endpoint)), table_name=table
    )
    repo_lean = PaymentRepository(_lean(endpoint), table_name=table)
    resource_table = session.resource("dynamodb", endpoint_url=endpoint).Table(table)
    PynPayment, PynLineItem = pynamodb_models(table, host=pyn_endpoint)
    pyn_probe = to_pynamodb(pyn_items[0], PynPayment, PynLineItem)

    res_key = _python_values(get_req["Key"])
    res_item = plain_dict(probe)
    res_query = {k: v for k, v in query_req.items() if k != "TableName"}
    res_query["ExpressionAttributeValues"] = _python_values(query_req["ExpressionAttributeValues"])
    pyn_pk, pyn_sk = pyn_probe.pk, pyn_probe.sk

    def direct_get() -> object:
        return direct.get_item(**get_req)["Item"]

    def direct_put() -> object:
        return direct.put_item(**put_req)

    def direct_query() -> object:
        return direct.query(**query_req)["Items"]

    def pyn_query() -> object:
        return list(
            PynPayment.query(
                "PARTNER#" + PYN_PARTNER,
                PynPayment.sk.startswith("PAYMENT#"),
                filter_condition=PynPayment.entity == "PAYMENT",
                scan_index_forward=False,
            )
        )

    return {
        "get": {
            "botocore client (direct)": direct_get,
            "dynagen repo / botocore": lambda: repo_boto.get(partner_id=PARTNER, payment_id=probe.payment_id),
            "dynagen repo / lean": lambda: repo_lean.get(partner_id=PARTNER, payment_id=probe.payment_id),
            "boto3 Table resource": lambda: resource_table.get_item(Key=res_key)["Item"],
            "PynamoDB": lambda: PynPayment.get(pyn_pk, pyn_sk),
        },
        "create (put)": {
            "botocore client (direct)": direct_put,
            "dynagen repo / botocore": lambda: repo_boto.create(probe),
            "dynagen repo / lean": lambda: repo_lean.create(probe),
            "boto3 Table resource": lambda: resource_table.put_item(Item=res_item),
            "PynamoDB": pyn_probe.save,
        },
        "query 100 items": {
            "botocore client (direct)": direct_query,
            "dynagen repo / botocore": lambda: repo_boto.payments_of_partner(partner_id=PARTNER).items,
            "dynagen repo / lean": lambda: repo_lean.payments_of_partner(partner_id=PARTNER).items,
            "boto3 Table resource": lambda: resource_table.query(**res_query)["Items"],
            "PynamoDB": pyn_query,
        },
    }


def _measure(
    report: Report, where: str, ops: dict[str, dict[str, Callable[[], object]]], counts: dict[str, int], rounds: int
) -> None:
    for op, contenders in ops.items():
        n = counts[op]

        def batch(fn: Callable[[], object], n: int = n) -> Callable[[], None]:
            def run() -> None:
                for _ in range(n):
                    fn()

            return run

        # Sanity: every contender answers (and the 100-item query returns 100 items).
        for name, fn in contenders.items():
            result = fn()
            if op.startswith("query"):
                assert len(result) == 100, (where, name, len(result))  # type: ignore[arg-type]
        samples = interleaved({name: batch(fn) for name, fn in contenders.items()}, rounds=rounds, per=n)
        text, med = timing_table(
            f"{op} — {where} (per call, {n} calls x {rounds} rounds)", samples, "botocore client (direct)"
        )
        report.table(text)
        base = med["botocore client (direct)"]
        report.note(
            f"  repository overhead over the direct botocore call: botocore transport "
            f"{(med['dynagen repo / botocore'] / base - 1) * 100:+.1f}%, lean transport "
            f"{(med['dynagen repo / lean'] / base - 1) * 100:+.1f}%"
        )
        if where == "stub":
            report.target(
                Target(
                    f"{op}: repository overhead on the botocore transport (stub)",
                    (med["dynagen repo / botocore"] / base - 1) * 100,
                    10.0,
                    unit="%",
                )
            )
            # The lean transport's whole per-request client cost (repository work included) against
            # a botocore client's bare call: at most half.
            report.target(
                Target(
                    f"{op}: per-request client time, repository on the lean transport vs a botocore client (stub)",
                    med["dynagen repo / lean"] / base,
                    0.5,
                )
            )


def _stub_data(payments: list[Payment], pyn: list[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    items = [json_safe(p.to_item()) for p in payments]
    ours = {"GetItem": {"Item": items[0]}, "PutItem": {}, "Query": {"Items": items, "Count": 100, "ScannedCount": 100}}
    pyn_items = [json_safe(m.serialize()) for m in pyn]
    theirs = {
        "GetItem": {"Item": pyn_items[0]},
        "PutItem": {},
        "Query": {"Items": pyn_items, "Count": 100, "ScannedCount": 100},
    }
    return ours, theirs


def run(*, quick: bool = False, local: bool | None = None, calls: int | None = None, rounds: int | None = None) -> Report:
    report = Report("operations")
    rounds = rounds if rounds is not None else (2 if quick else 7)
    per = calls if calls is not None else (6 if quick else 200)
    counts = {"get": per, "create (put)": per, "query 100 items": max(2, per // 10)}
    local = (not quick) if local is None else local
    report.note("\n## Per-operation client-side cost (median per call; ratio = contender time / direct botocore)")

    payments = make_payments(100, partner_id=PARTNER)
    pyn_source = make_payments(100, partner_id=PYN_PARTNER)
    PynPayment, PynLineItem = pynamodb_models()
    pyn = [to_pynamodb(p, PynPayment, PynLineItem) for p in pyn_source]

    ours, theirs = _stub_data(payments, pyn)
    with InstantStub(ours) as stub, InstantStub(theirs) as pyn_stub:
        ops = _contenders(stub.endpoint, pyn_stub.endpoint, payments, pyn_source, "payments")
        _measure(report, "stub", ops, counts, rounds)

    if local:
        _against_local(report, payments, pyn_source, quick=quick, per=per, rounds=rounds)
    return report


def _against_local(
    report: Report, payments: list[Payment], pyn_source: list[Payment], *, quick: bool, per: int, rounds: int
) -> None:
    import os

    from dynagen.local import DynamoDBLocal
    from dynagen.runtime import ops

    os.environ.setdefault("AWS_ACCESS_KEY_ID", CREDS["aws_access_key_id"])
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", CREDS["aws_secret_access_key"])
    try:
        ddb = DynamoDBLocal.start()
    except Exception as exc:  # no Java / not installed: say so, measure the rest
        report.note(f"  DynamoDB Local unavailable ({exc}); skipped")
        return
    with ddb:
        table = "bench_payments"
        setup = _lean(ddb.endpoint)
        # No TTL: DynamoDB Local enforces it, and the sample payments expired in 2024.
        skip = ("StreamSpecification", "TimeToLiveSpecification")
        definition = {k: v for k, v in TABLES["payments"].items() if k not in skip}
        definition["TableName"] = table
        ops.ensure_table(setup, definition)
        repo = PaymentRepository(setup, table_name=table)
        for p in payments:
            repo.create(p)
        PynPayment, PynLineItem = pynamodb_models(table, host=ddb.endpoint)
        for p in pyn_source:
            to_pynamodb(p, PynPayment, PynLineItem).save()
        ops = _contenders(ddb.endpoint, ddb.endpoint, payments, pyn_source, table)
        local_per = max(5, per // 3)
        counts = {"get": local_per, "create (put)": local_per, "query 100 items": max(2, local_per // 10)}
        _measure(report, "DynamoDB Local", ops, counts, max(3, rounds - 2))

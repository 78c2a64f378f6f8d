"""dynagen end to end: ``make demo`` (``python -m examples.demo [-v]``).

1. compile ``schemas/`` into ``generated_example/`` (committed, so normally unchanged);
2. start DynamoDB Local and create the tables from ``generated_example.payments.TABLES``;
3. run a payments scenario through the example Lambda handler, invoked as Lambda would
   (``examples/payments_lambda/invoke_local.py``): two partners, customers, payments, capture, refunds,
   a listing page by page, the error answers, a deadline refusal, a cold start in a fresh process;
4. feed stream records built from the items written to the stream consumer;
5. stop DynamoDB Local. Exit status 0 when every step answered as expected, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


class DemoFailure(Exception):
    pass


def step(title: str) -> None:
    print(f"\n== {title}")


def expect(inv: Any, status: int, what: str) -> dict[str, Any]:
    body: dict[str, Any] = inv.body
    mark = "ok " if inv.status == status else "BAD"
    detail = body.get("error", "") if isinstance(body, dict) else ""
    print(f"  [{mark}] {what:58s} -> {inv.status} {detail:18s} {inv.duration_ms:7.1f} ms")
    if inv.status != status:
        raise DemoFailure(f"{what}: expected {status}, got {inv.status}: {body}")
    return body


def compile_schemas() -> None:
    from dynagen.compiler import compile_schemas as compile_all
    from dynagen.compiler import write_output

    output = compile_all([ROOT / "schemas"], root=ROOT)
    report = write_output(output, ROOT / "generated_example")
    print(f"  schemas/ -> generated_example/: written {report.written or 'nothing'}, "
          f"unchanged {report.unchanged}, removed {report.removed or 'nothing'}")  # fmt: skip


def scenario(endpoint: str) -> None:
    from dynagen.runtime import LeanTransport
    from dynagen.runtime.ops._tables import ensure_table
    from examples.payments_lambda.invoke_local import (
        STREAM_HANDLER,
        LocalLambda,
        cold_invoke,
        lambda_environment,
        stream_record,
    )
    from generated_example.payments import TABLES, Payment, Refund

    step("tables")
    raw = LeanTransport("us-east-1", endpoint_url=endpoint, credentials=("local", "local"))
    for name, definition in TABLES.items():
        created = ensure_table(raw, definition)
        print(f"  {name}: {'created' if created else 'exists'} (PK/SK, GSI1, GSI2, stream, TTL)")

    def item(key: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = raw.call("GetItem", {"TableName": "payments", "Key": key, "ConsistentRead": True})["Item"]
        return found

    env = lambda_environment(endpoint_url=endpoint, transport=os.environ.get("DYNAGEN_TRANSPORT", "lean"))
    with LocalLambda(env=env) as fn:
        print(f"\n  Lambda init phase (import + transport + repositories + warm-up): {fn.init_ms:.1f} ms, "
              f"transport {fn.module.STATE.transport_kind}")  # fmt: skip

        step("two partners and their customers")
        for partner, name in (("acme", "Acme Payments Ltd"), ("globex", "Globex GmbH")):
            expect(fn.invoke({"action": "create_partner", "partner_id": partner, "name": name, "fee_rate": "0.029",
                              "settlement_currency": "EUR"}), 201, f"create partner {partner}")  # fmt: skip
        expect(fn.invoke({"action": "create_partner", "partner_id": "acme", "name": "again", "fee_rate": "0.01"}),
               409, "create partner acme again (exists)")  # fmt: skip
        alice = expect(fn.invoke({"action": "create_customer", "partner_id": "acme", "email": "alice@example.com",
                                  "name": "Alice", "tags": ["vip"]}), 201, "acme: customer Alice")["customer"]  # fmt: skip
        bob = expect(fn.invoke({"action": "create_customer", "partner_id": "globex", "email": "bob@example.com",
                                "name": "Bob"}), 201, "globex: customer Bob")["customer"]  # fmt: skip

        step("payments")
        payments = []
        for day, amount in ((1, "19.99"), (2, "250.00"), (3, "12.50"), (4, "99.00"), (5, "5.00")):
            body = expect(fn.invoke({
                "action": "create_payment", "partner_id": "acme", "customer_id": alice["customer_id"],
                "payment_id": f"pay-a{day}", "amount": amount, "currency": "EUR", "created_on": f"2024-06-0{day}",
                "card_fingerprint": "q83vEjRWeJA=", "line_items": [{"sku": "SKU-1", "quantity": 1, "unit_price": amount}],
            }), 201, f"acme: Alice pays {amount} EUR on 2024-06-0{day}")  # fmt: skip
            payments.append(body["payment"])
        expect(fn.invoke({"action": "create_payment", "partner_id": "globex", "customer_id": bob["customer_id"],
                          "payment_id": "pay-b1", "amount": "42.00", "currency": "GBP"}), 201, "globex: Bob pays 42 GBP")  # fmt: skip
        before_capture = item(Payment.make_key(partner_id="acme", payment_id="pay-a2"))

        step("capture and refund")
        expect(fn.invoke({"action": "capture", "partner_id": "acme", "payment_id": "pay-a2", "expected_version": 5}),
               409, "capture pay-a2 with a stale version")  # fmt: skip
        expect(fn.invoke({"action": "capture", "partner_id": "acme", "payment_id": "pay-a2", "expected_version": 0}),
               200, "capture pay-a2 (version 0)")  # fmt: skip
        expect(fn.invoke({"action": "capture", "partner_id": "acme", "payment_id": "pay-a2"}), 409, "capture pay-a2 twice")
        expect(fn.invoke({"action": "capture", "partner_id": "acme", "payment_id": "pay-a4", "amount": "100.00"}),
               400, "capture 100 of pay-a4's 99 (refused by DynamoDB)")  # fmt: skip
        expect(fn.invoke({"action": "capture", "partner_id": "acme", "payment_id": "pay-a4", "amount": "90.00"}),
               200, "capture 90 of pay-a4's 99 (update by key, unread)")  # fmt: skip
        after_capture = item(Payment.make_key(partner_id="acme", payment_id="pay-a2"))
        r1 = expect(fn.invoke({"action": "refund", "partner_id": "acme", "payment_id": "pay-a2", "amount": "50.00",
                               "refund_id": "ref-1", "reason": "partial return"}), 201, "refund 50 of pay-a2 (transaction)")  # fmt: skip
        print(f"        pay-a2 now: {r1['payment']}")
        expect(fn.invoke({"action": "refund", "partner_id": "acme", "payment_id": "pay-a2", "amount": "500.00"}),
               400, "refund 500 of pay-a2 (more than captured)")  # fmt: skip
        expect(fn.invoke({"action": "refund", "partner_id": "acme", "payment_id": "pay-a1", "amount": "1.00"}),
               409, "refund pay-a1 (never captured)")  # fmt: skip
        after_refund = item(Payment.make_key(partner_id="acme", payment_id="pay-a2"))
        refund_item = item(Refund.make_key(partner_id="acme", payment_id="pay-a2", refund_id="ref-1"))

        step("reads")
        got = expect(fn.invoke({"action": "get_payment", "partner_id": "acme", "payment_id": "pay-a2"}), 200,
                     "get pay-a2")["payment"]  # fmt: skip
        print(f"        status={got['status']} captured={got['captured_amount']} refunded={got['refunded_amount']} "
              f"version={got['version']}")  # fmt: skip
        summary = expect(fn.invoke({"action": "get_payment", "partner_id": "acme", "payment_id": "pay-a2",
                                    "fields": ["status", "refunded_amount"]}), 200, "get two fields of pay-a2")  # fmt: skip
        print(f"        {summary['payment']}")
        expect(fn.invoke({"action": "get_payment", "partner_id": "acme", "payment_id": "pay-zzz"}), 404, "get a missing payment")
        expect(fn.invoke({"action": "get_payment", "partner_id": "globex", "payment_id": "pay-a2"}), 404,
               "globex cannot read acme's payment")  # fmt: skip
        cursor, page = None, 0
        while True:
            event = {"action": "list_payments", "partner_id": "acme", "customer_id": alice["customer_id"], "limit": 2}
            body = expect(fn.invoke({**event, "cursor": cursor} if cursor else event), 200, f"list Alice's payments, page {page + 1}")
            print(f"        {[p['payment_id'] + ' ' + p['created_on'] for p in body['items']]}"
                  f"{'  cursor=' + body['cursor'][:24] + '...' if body['cursor'] else '  (last page)'}")  # fmt: skip
            cursor, page = body["cursor"], page + 1
            if cursor is None:
                break
        captured = expect(fn.invoke({"action": "list_payments", "partner_id": "acme", "customer_id": alice["customer_id"],
                                     "status": "captured"}), 200, "list Alice's captured payments (a typed filter)")  # fmt: skip
        print(f"        {[p['payment_id'] for p in captured['items']]}")
        expect(fn.invoke({"action": "list_payments", "partner_id": "acme", "customer_id": alice["customer_id"],
                          "cursor": "not-a-cursor"}), 400, "list with a forged cursor")  # fmt: skip

        step("deadline")
        late = expect(fn.invoke({"action": "refund", "partner_id": "acme", "payment_id": "pay-a4", "amount": "1.00"},
                                timeout=0.2), 503, "refund with 200 ms left (margin 500 ms)")  # fmt: skip
        print(f"        completed={late['completed']} not_completed={late['not_completed']}")

        step("warm invocations")
        times = [fn.invoke({"action": "get_payment", "partner_id": "acme", "payment_id": "pay-a3"}).duration_ms
                 for _ in range(50)]  # fmt: skip
        times.sort()
        print(f"  50 x get_payment: min {times[0]:.2f} ms, median {times[25]:.2f} ms, max {times[-1]:.2f} ms; "
              f"same transport and repositories every time: {fn.module.STATE.repos_built == 1}")  # fmt: skip

        step("cold start in a fresh process")
        run = cold_invoke([{"action": "get_payment", "partner_id": "acme", "payment_id": "pay-a3"}], env)
        if run.results[0]["statusCode"] != 200:
            raise DemoFailure(f"cold invocation: {run.results[0]}")
        print(f"  process {run.wall_ms:.0f} ms (interpreter + imports + init {run.init_ms:.0f} ms + "
              f"first invocation {run.first_ms:.1f} ms); loaded: {run.loaded or 'no boto3/botocore/jinja2/yaml/click'}")  # fmt: skip

    step("stream consumer")
    pkey = Payment.make_key(partner_id="acme", payment_id="pay-a2")
    records = [
        stream_record("INSERT", keys=pkey, new=before_capture),
        stream_record("MODIFY", keys=pkey, old=before_capture, new=after_capture),
        stream_record("MODIFY", keys=pkey, old=after_capture, new=after_refund),
        stream_record("INSERT", keys=Refund.make_key(partner_id="acme", payment_id="pay-a2", refund_id="ref-1"),
                      new=refund_item),
    ]
    print(f"  {len(records)} records from the items written (binary cardFingerprint as base64, as Lambda delivers it)")
    with LocalLambda(STREAM_HANDLER, env=env) as consumer:
        inv = consumer.invoke({"Records": records})
    result = inv.result
    print(f"  summary: {result['summary']}  failures: {result['batchItemFailures']}  ({inv.duration_ms:.1f} ms)")
    if result["batchItemFailures"] or result["summary"]["captured"] != {"acme": {"EUR": "250"}}:
        raise DemoFailure(f"stream consumer: {result}")
    raw.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.demo", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="show the handler's JSON log lines")
    args = parser.parse_args(argv)
    os.environ.setdefault("LOG_LEVEL", "INFO" if args.verbose else "ERROR")
    started = time.perf_counter()

    step("compile")
    compile_schemas()

    from dynagen.local import DynamoDBLocal

    step("DynamoDB Local")
    server = DynamoDBLocal.start()
    print(f"  running at {server.endpoint} (in memory)")
    try:
        scenario(server.endpoint)
    except DemoFailure as exc:
        print(f"\nDEMO FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        server.stop()
        print("\n  DynamoDB Local stopped")
    print(f"\ndemo finished in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

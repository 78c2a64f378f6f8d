"""The payments Lambda example end to end on DynamoDB Local: actions, errors, deadlines, warm/cold, stream, zip."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from dynagen.local import DynamoDBLocal
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

pytestmark = pytest.mark.ddb

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def table(dynamodb_local: DynamoDBLocal) -> str:
    """A payments table of its own (the schema's definition under a fresh name)."""
    name = f"payments-{uuid.uuid4().hex[:8]}"
    with LeanTransport("us-east-1", endpoint_url=dynamodb_local.endpoint, credentials=("testing", "testing")) as t:
        ensure_table(t, {**TABLES["payments"], "TableName": name})
    return name


def _env(server: DynamoDBLocal, table: str, transport: str, **extra: str) -> dict[str, str]:
    return lambda_environment(endpoint_url=server.endpoint, transport=transport, table_name=table, extra=extra)


@pytest.fixture(scope="module", params=["lean", "botocore"])
def fn(request: pytest.FixtureRequest, dynamodb_local: DynamoDBLocal, table: str) -> Iterator[LocalLambda]:
    with LocalLambda(env=_env(dynamodb_local, table, request.param)) as function:
        yield function


@pytest.fixture
def raw(dynamodb_local: DynamoDBLocal, table: str) -> Iterator[Any]:
    """Read wire items directly (what a stream image is made of)."""
    with LeanTransport("us-east-1", endpoint_url=dynamodb_local.endpoint, credentials=("testing", "testing")) as t:

        def get(key: Mapping[str, Any]) -> dict[str, Any]:
            item: dict[str, Any] = t.call("GetItem", {"TableName": table, "Key": dict(key), "ConsistentRead": True})["Item"]
            return item

        yield get


def ok(fn: LocalLambda, event: dict[str, Any], status: int = 200) -> dict[str, Any]:
    inv = fn.invoke(event)
    assert inv.status == status, inv.result
    body: dict[str, Any] = inv.body
    return body


def new_partner(fn: LocalLambda) -> str:
    partner = f"p-{uuid.uuid4().hex[:8]}"
    ok(fn, {"action": "create_partner", "partner_id": partner, "name": "Acme", "fee_rate": "0.029"}, 201)
    return partner


def new_customer(fn: LocalLambda, partner: str) -> str:
    body = ok(fn, {"action": "create_customer", "partner_id": partner, "email": "a@x.io", "name": "A"}, 201)
    customer: str = body["customer"]["customer_id"]
    return customer


def new_payment(fn: LocalLambda, partner: str, customer: str, amount: str = "100.00", **extra: Any) -> dict[str, Any]:
    event = {"action": "create_payment", "partner_id": partner, "customer_id": customer, "amount": amount,
             "currency": "EUR", **extra}  # fmt: skip
    payment: dict[str, Any] = ok(fn, event, 201)["payment"]
    return payment


# -- every action, end to end ---------------------------------------------------------------------


def test_actions_end_to_end(fn: LocalLambda) -> None:
    partner = new_partner(fn)
    customer = new_customer(fn, partner)
    fingerprint = base64.b64encode(b"\x00\xffcard").decode()
    created = new_payment(
        fn, partner, customer, "100.00", payment_id="pay-1", created_on="2024-05-01", card_fingerprint=fingerprint,
        line_items=[{"sku": "A", "quantity": 2, "unit_price": "50.00"}], metadata={"order": "o-1"}, labels=["web"],
    )  # fmt: skip
    assert created["status"] == "authorized" and created["version"] == 0 and created["amount"] == "100"

    got = ok(fn, {"action": "get_payment", "partner_id": partner, "payment_id": "pay-1"})["payment"]
    assert got["card_fingerprint"] == fingerprint and got["line_items"][0]["unit_price"] == "50"
    assert got["metadata"] == {"order": "o-1"} and got["labels"] == ["web"]

    captured = ok(fn, {"action": "capture", "partner_id": partner, "payment_id": "pay-1", "expected_version": 0})
    assert captured["payment"]["status"] == "captured" and captured["payment"]["captured_amount"] == "100"
    assert captured["payment"]["version"] == 1

    refund = ok(fn, {"action": "refund", "partner_id": partner, "payment_id": "pay-1", "amount": "30.00",
                     "refund_id": "r-1", "reason": "damaged"}, 201)  # fmt: skip
    assert refund["refund"]["amount"] == "30" and refund["refund"]["created_at"]
    assert refund["payment"] == {"payment_id": "pay-1", "status": "captured", "captured_amount": "100",
                                 "refunded_amount": "30", "version": 2}  # fmt: skip
    rest = ok(fn, {"action": "refund", "partner_id": partner, "payment_id": "pay-1", "amount": "70.00"}, 201)
    assert rest["payment"]["status"] == "refunded"

    stored = ok(fn, {"action": "get_payment", "partner_id": partner, "payment_id": "pay-1"})["payment"]
    assert stored["status"] == "refunded" and stored["refunded_amount"] == "100" and stored["version"] == 3
    # Chosen fields only (a projection): the rest of the payment is not read.
    summary = ok(fn, {"action": "get_payment", "partner_id": partner, "payment_id": "pay-1",
                      "fields": ["status", "refunded_amount", "version"]})["payment"]  # fmt: skip
    assert summary == {"payment_id": "pay-1", "status": "refunded", "refunded_amount": "100", "version": 3}


def test_capture_without_reading_the_payment_first(fn: LocalLambda) -> None:
    partner = new_partner(fn)
    customer = new_customer(fn, partner)
    payment = new_payment(fn, partner, customer, "40.00")["payment_id"]
    pid = {"partner_id": partner, "payment_id": payment}
    # More than the payment's amount: DynamoDB refuses the condition, the stored item says why.
    inv = fn.invoke({"action": "capture", **pid, "amount": "40.01"})
    assert (inv.status, inv.body["error"], inv.body["field"]) == (400, "invalid_value", "amount")
    assert "at most 40" in inv.body["message"]
    inv = fn.invoke({"action": "capture", "partner_id": partner, "payment_id": "nope", "amount": "1.00"})
    assert (inv.status, inv.body["error"]) == (404, "not_found")
    captured = ok(fn, {"action": "capture", **pid, "amount": "25.00"})["payment"]
    assert (captured["status"], captured["captured_amount"], captured["version"]) == ("captured", "25", 1)
    # The status index followed the update (GSI2PK is rebuilt from the status set by key).
    listed = ok(fn, {"action": "list_payments", "partner_id": partner, "customer_id": customer, "status": "captured"})
    assert [p["payment_id"] for p in listed["items"]] == [payment]
    assert ok(fn, {"action": "list_payments", "partner_id": partner, "customer_id": customer,
                   "status": "authorized"})["items"] == []  # fmt: skip
    inv = fn.invoke({"action": "capture", **pid, "amount": "1.00"})
    assert (inv.status, inv.body["error"]) == (409, "invalid_state")


def test_list_payments_with_cursor_pagination(fn: LocalLambda) -> None:
    partner = new_partner(fn)
    customer, other = new_customer(fn, partner), new_customer(fn, partner)
    for day in range(1, 6):
        new_payment(fn, partner, customer, f"{day}.00", payment_id=f"pay-{day}", created_on=f"2024-05-0{day}")
    new_payment(fn, partner, other, "9.00", created_on="2024-05-03")

    seen, cursor, pages = [], None, 0
    while True:
        event = {"action": "list_payments", "partner_id": partner, "customer_id": customer, "limit": 2}
        body = ok(fn, {**event, "cursor": cursor} if cursor else event)
        pages += 1
        seen += [p["payment_id"] for p in body["items"]]
        assert body["count"] == len(body["items"]) <= 2
        cursor = body["cursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str)
    assert seen == ["pay-5", "pay-4", "pay-3", "pay-2", "pay-1"]  # newest business day first
    assert pages >= 3

    ranged = ok(fn, {"action": "list_payments", "partner_id": partner, "customer_id": customer,
                     "created_on_from": "2024-05-02", "created_on_to": "2024-05-03"})  # fmt: skip
    assert [p["payment_id"] for p in ranged["items"]] == ["pay-3", "pay-2"]
    # Another partner sees nothing of this customer (the partition is the partner's).
    assert ok(fn, {"action": "list_payments", "partner_id": new_partner(fn), "customer_id": customer})["items"] == []


def test_api_gateway_event(fn: LocalLambda) -> None:
    partner = new_partner(fn)
    event = {"requestContext": {"requestId": "x"}, "pathParameters": {"action": "create_customer"},
             "body": json.dumps({"partner_id": partner, "email": "b@x.io", "name": "B"})}  # fmt: skip
    result = fn.invoke(event).result
    assert result["statusCode"] == 201 and result["headers"]["content-type"] == "application/json"
    assert json.loads(result["body"])["customer"]["email"] == "b@x.io"


# -- errors ----------------------------------------------------------------------------------------


def test_error_mapping(fn: LocalLambda) -> None:
    partner = new_partner(fn)
    customer = new_customer(fn, partner)
    payment = new_payment(fn, partner, customer, "20.00")["payment_id"]
    pid = {"partner_id": partner, "payment_id": payment}

    def status(event: dict[str, Any]) -> tuple[int | None, dict[str, Any]]:
        inv = fn.invoke(event)
        return inv.status, inv.body

    # 404
    code, body = status({"action": "get_payment", "partner_id": partner, "payment_id": "nope"})
    assert (code, body["error"]) == (404, "not_found")
    assert status({"action": "create_customer", "partner_id": "no-such-partner", "email": "e", "name": "n"})[0] == 404
    assert status({"action": "create_payment", "partner_id": partner, "customer_id": str(uuid.uuid4()),
                   "amount": "1", "currency": "EUR"})[0] == 404  # fmt: skip
    # 409: duplicate, stale version, wrong state
    code, body = status({"action": "create_partner", "partner_id": partner, "name": "Again", "fee_rate": "0.01"})
    assert (code, body["error"]) == (409, "condition_failed")
    code, body = status({"action": "capture", **pid, "expected_version": 7})
    assert (code, body["error"]) == (409, "version_conflict")
    code, body = status({"action": "refund", **pid, "amount": "1.00"})
    assert (code, body["error"]) == (409, "invalid_state")
    assert status({"action": "capture", **pid})[0] == 200
    code, body = status({"action": "capture", **pid})
    assert (code, body["error"]) == (409, "invalid_state")
    ok(fn, {"action": "refund", **pid, "amount": "5.00", "refund_id": "r-dup"}, 201)
    code, body = status({"action": "refund", **pid, "amount": "5.00", "refund_id": "r-dup"})
    assert (code, body["error"], body["reasons"]) == (409, "transaction_canceled", ["None", "ConditionalCheckFailed"])
    # 400: bad input, named
    for event, field in [
        ({"action": "refund", **pid, "amount": "500.00"}, "amount"),
        ({"action": "refund", **pid, "amount": 1.5}, "amount"),
        ({"action": "create_payment", "partner_id": partner, "customer_id": customer, "amount": "1", "currency": "XXX"},
         "currency"),
        ({"action": "create_payment", "partner_id": partner, "customer_id": "not-a-uuid", "amount": "1"}, "customer_id"),
        ({"action": "list_payments", "partner_id": partner, "customer_id": customer, "cursor": "!!garbage"}, "cursor"),
        ({"action": "list_payments", "partner_id": partner, "customer_id": customer, "limit": 0}, "limit"),
        ({"action": "list_payments", "partner_id": partner, "customer_id": customer, "status": "lost"}, "status"),
        ({"action": "get_payment", **pid, "fields": ["secret"]}, "fields"),
        ({"action": "get_payment", "partner_id": partner}, "payment_id"),
        ({"action": "get_payment", "payment_id": "x"}, "partner_id"),
        ({"action": "launch_rockets", "partner_id": partner}, "action"),
    ]:  # fmt: skip
        code, body = status(event)
        assert code == 400 and body["error"] == "invalid_value", (event, body)
        assert field in body["field"], (event, body)
    # Nothing was refunded by the failed attempts.
    stored = ok(fn, {"action": "get_payment", **pid})["payment"]
    assert stored["refunded_amount"] == "5"


@pytest.mark.parametrize("kind", ["lean", "botocore"])
def test_unknown_partner_with_partner_config(dynamodb_local: DynamoDBLocal, table: str, kind: str) -> None:
    partners = {"acme": {"role_arn": "arn:aws:iam::123456789012:role/payments", "external_id": "ext-acme",
                         "region": "us-east-1"}}  # fmt: skip
    env = _env(dynamodb_local, table, kind, DYNAGEN_PARTNERS=json.dumps(partners))
    with LocalLambda(env=env) as function:
        state = function.module.STATE
        assert state.resolver is not None and state.resolver.partner_ids() == ["acme"]
        assert state.base is None and state.transport_kind == kind  # partners get the configured kind too
        inv = function.invoke({"action": "get_payment", "partner_id": "globex", "payment_id": "x"})
        assert inv.status == 403 and inv.body["error"] == "unknown_partner"


@pytest.mark.parametrize("kind", ["lean", "botocore"])
def test_logs_mask_account_ids_and_secrets_when_assume_role_fails(
    dynamodb_local: DynamoDBLocal, table: str, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    """A partner whose AssumeRole is denied, then allowed: no account id, external id or credential in any log.

    STS is a loopback stub (``AWS_ENDPOINT_URL_STS``) that denies the first call with AWS's own wording
    (caller and role ARNs in full) and then issues credentials; the root logger has a DEBUG handler as
    Lambda's runtime does, so botocore's request/response dumps (external id, secret key, session
    token) go through the example's logging setup too. The partner's transport is of the function's
    kind: on the lean one, its requests are signed with the issued (refreshable) credentials.
    """
    from test_runtime_sts import ACCESS_DENIED, CALLER_ACCOUNT, credentials_xml, sts_stub

    account, external_id = "111122223333", "ext-acme-s3cr3t"
    secret, token = "stub-secret-Zx81", "stub-session-token-Qp42"
    partners = {"acme": {"role_arn": f"arn:aws:iam::{account}:role/payments", "external_id": external_id,
                         "region": "us-east-1", "endpoint_url": dynamodb_local.endpoint}}  # fmt: skip
    # DynamoDB Local keeps one database per access key: the partner's table, under the issued key.
    partner_creds = ("ASIASTUBSTUBSTUBSTUB", secret)
    with LeanTransport("us-east-1", endpoint_url=dynamodb_local.endpoint, credentials=partner_creds) as t:
        ensure_table(t, {**TABLES["payments"], "TableName": table})
    root = logging.getLogger()
    lambda_runtime_handler = logging.StreamHandler(io.StringIO())  # Lambda's runtime logs the root logger
    root_level = root.level
    root.addHandler(lambda_runtime_handler)
    root.setLevel(logging.DEBUG)
    try:
        with sts_stub(lambda n: ACCESS_DENIED if n == 1 else credentials_xml(secret, token)) as stub:
            env = _env(dynamodb_local, table, kind, DYNAGEN_PARTNERS=json.dumps(partners),
                       AWS_ENDPOINT_URL_STS=stub.endpoint, LOG_LEVEL="DEBUG")  # fmt: skip
            with LocalLambda(env=env) as function:
                event = {"action": "get_payment", "partner_id": "acme", "payment_id": "x"}
                denied = function.invoke(event)
                allowed = function.invoke(event)
                partner_transport = function.module.STATE.by_partner["acme"].transport
            sent = list(stub.bodies)
    finally:
        root.removeHandler(lambda_runtime_handler)
        root.setLevel(root_level)
    assert denied.status == 500 and denied.body == {"error": "internal", "message": "internal error (AssumeRoleError)",
                                                    "completed": []}  # fmt: skip
    assert allowed.status == 404, allowed.body  # credentials issued, the partner's (empty) table was read
    assert type(partner_transport).__name__ == {"lean": "LeanTransport", "botocore": "BotocoreTransport"}[kind]
    assert len(sent) == 2 and all(f"ExternalId={external_id}" in body for body in sent)
    example_log = capsys.readouterr().err
    runtime_log = lambda_runtime_handler.stream.getvalue()
    # The logs did record the failure and the STS exchange: the masking below is not vacuous.
    assert "AssumeRoleError" in example_log and "arn:aws:iam::********3333:role/payments" in example_log
    assert "arn:aws:sts::********7777:assumed-role/payments-lambda" in example_log
    assert "assumed role arn:aws:iam::********3333" in runtime_log
    if kind == "botocore":  # botocore's STS client logs the response body at DEBUG; the lean one logs none
        assert "SecretAccessKey>****<" in runtime_log
    for text in (example_log, runtime_log):
        for leak in (account, CALLER_ACCOUNT, external_id, secret, token, "ASIASTUBSTUBSTUBSTUB"):
            assert leak not in text
        assert not re.search(r"arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:\d{12}", text)


def test_a_partners_first_request_in_a_fresh_environment_without_botocore(
    tmp_path: Path, dynamodb_local: DynamoDBLocal, table: str
) -> None:
    """The flagship case, cold: only the unpacked zip and the standard library (no botocore at all).

    The partner's AssumeRole goes to a loopback STS (which checks the signature), then its table is
    read in DynamoDB Local under the issued key (one database per access key there).
    """
    from _stub_sts import credentials_xml, sts_server

    from examples.payments_lambda.build import build

    archive, _ = build(tmp_path / "build")
    unpacked = tmp_path / "task"
    with zipfile.ZipFile(archive) as z:
        z.extractall(unpacked)
    issued = ("ASIAPARTNERCOLDSTART", "partner-secret-cold-start-0123456789", "partner-token-cold-start-0123456789")
    with LeanTransport("us-east-1", endpoint_url=dynamodb_local.endpoint, credentials=issued) as t:
        ensure_table(t, {**TABLES["payments"], "TableName": table})
    partners = {"acme": {"role_arn": "arn:aws:iam::111122223333:role/payments", "external_id": "ext-acme-cold",
                         "region": "us-east-1", "endpoint_url": dynamodb_local.endpoint}}  # fmt: skip
    answer = credentials_xml(*issued)
    with sts_server(lambda request, n: answer) as stub:
        env = {**_env(dynamodb_local, table, "lean", DYNAGEN_PARTNERS=json.dumps(partners),
                      AWS_ENDPOINT_URL_STS=stub.endpoint), "PATH": "/usr/bin:/bin"}  # fmt: skip
        event = {"action": "get_payment", "partner_id": "acme", "payment_id": "nope"}
        run = cold_invoke([event, event], env, code_dir=unpacked)
    assert [r["statusCode"] for r in run.results] == [404, 404], run.results  # acme's (empty) table was read
    assert run.loaded == []  # not even botocore: there is none to import
    assert len(stub.requests) == 1 and stub.requests[0].signature_ok, stub.requests
    assert stub.requests[0].params["ExternalId"] == "ext-acme-cold"
    print(f"\npartner cold from zip: process {run.wall_ms:.0f} ms, init {run.init_ms:.0f} ms, "
          f"first call (AssumeRole included) {run.first_ms:.1f} ms")  # fmt: skip


# -- deadline --------------------------------------------------------------------------------------


def test_deadline_near_expiry_refuses_the_request(fn: LocalLambda) -> None:
    partner = new_partner(fn)
    customer = new_customer(fn, partner)
    event = {"action": "create_payment", "partner_id": partner, "customer_id": customer, "amount": "5",
             "currency": "USD", "payment_id": "pay-late"}  # fmt: skip
    inv = fn.invoke(event, timeout=0.3)  # less than the 0.5 s safety margin
    assert inv.status == 503, inv.result
    assert inv.body["error"] == "deadline_exceeded" and inv.body["retryable"] is True
    assert inv.body["completed"] == [] and inv.body["not_completed"] == ["read customer", "write payment"]
    assert fn.invoke({"action": "get_payment", "partner_id": partner, "payment_id": "pay-late"}).status == 404


class _FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _TimeSpendingTransport:
    """Each call takes 10 s of the fake clock's time."""

    def __init__(self, inner: Any, clock: _FakeClock) -> None:
        self.inner, self.clock = inner, clock

    def call(self, operation: str, request: Mapping[str, Any], *, deadline: Any = None) -> dict[str, Any]:
        try:
            result: dict[str, Any] = self.inner.call(operation, request, deadline=deadline)
            return result
        finally:
            self.clock.now += 10.0


def test_deadline_mid_action_reports_what_completed(fn: LocalLambda, monkeypatch: pytest.MonkeyPatch) -> None:
    partner = new_partner(fn)
    customer = new_customer(fn, partner)
    payment = new_payment(fn, partner, customer, "40.00")["payment_id"]
    ok(fn, {"action": "capture", "partner_id": partner, "payment_id": payment})
    module, clock = fn.module, _FakeClock()
    state = module.STATE
    monkeypatch.setattr(module, "CLOCK", clock)
    monkeypatch.setattr(state, "base", module.Repos.build(_TimeSpendingTransport(state.base.transport, clock), state.table_name))
    # 10.4 s left: the read starts (9.9 s usable), takes 10 s, and the transaction may no longer start.
    inv = fn.invoke({"action": "refund", "partner_id": partner, "payment_id": payment, "amount": "10.00"}, timeout=10.4)
    assert inv.status == 503, inv.result
    assert inv.body["completed"] == ["read payment"]
    assert inv.body["not_completed"] == ["write refund and payment (transaction)"]
    monkeypatch.undo()
    stored = ok(fn, {"action": "get_payment", "partner_id": partner, "payment_id": payment})["payment"]
    assert stored["refunded_amount"] == "0" and stored["version"] == 1


# -- warm and cold ---------------------------------------------------------------------------------


def test_warm_invocations_reuse_client_and_repositories(fn: LocalLambda) -> None:
    module = fn.module
    state = module.STATE
    base, transport, built = state.base, state.base.transport, state.repos_built
    partner = new_partner(fn)
    for _ in range(3):
        ok(fn, {"action": "get_payment", "partner_id": partner, "payment_id": "none"} | {"payment_id": "x"}, 404)
    assert module.STATE is state and state.base is base and state.base.transport is transport
    assert state.repos_built == built == 1
    assert state.base.payments.deadline is None  # invocations bind copies, never the shared repositories
    if state.transport_kind == "botocore":
        from dynagen.runtime import get_client, get_transport

        assert get_transport(settings=state.settings) is transport
        assert get_client(settings=state.settings) is transport.client
    else:
        assert type(transport).__name__ == "LeanTransport"


def test_cold_invocation_in_a_fresh_process(fn: LocalLambda) -> None:
    partner = new_partner(fn)
    customer = new_customer(fn, partner)
    payment = new_payment(fn, partner, customer, "12.34")["payment_id"]
    get = {"action": "get_payment", "partner_id": partner, "payment_id": payment}
    run = cold_invoke([get, get], fn.env)
    assert [r["statusCode"] for r in run.results] == [200, 200]
    assert run.results[0]["body"]["payment"]["amount"] == "12.34"
    assert not {"jinja2", "yaml", "click"} & set(run.loaded)
    if fn.env["DYNAGEN_TRANSPORT"] == "lean":
        assert "botocore" not in run.loaded  # the lean path never imports botocore
    print(f"\ncold ({fn.env['DYNAGEN_TRANSPORT']}): process {run.wall_ms:.0f} ms, init {run.init_ms:.0f} ms, "
          f"first call {run.first_ms:.1f} ms, second {run.invocations[1]['duration_ms']:.1f} ms")  # fmt: skip


# -- stream consumer -------------------------------------------------------------------------------


def test_stream_consumer_decodes_records(fn: LocalLambda, raw: Any, table: str) -> None:
    partner = new_partner(fn)
    customer = new_customer(fn, partner)
    card = b"\x00\x01\xfe\xffcard"
    pid = new_payment(fn, partner, customer, "80.00", card_fingerprint=base64.b64encode(card).decode())["payment_id"]
    key = Payment.make_key(partner_id=partner, payment_id=pid)
    authorized = raw(key)
    ok(fn, {"action": "capture", "partner_id": partner, "payment_id": pid, "amount": "75.00"})
    captured = raw(key)
    ok(fn, {"action": "refund", "partner_id": partner, "payment_id": pid, "amount": "25.00", "refund_id": "r1"}, 201)
    refunded = raw(key)
    refund_key = Refund.make_key(partner_id=partner, payment_id=pid, refund_id="r1")
    refund_item = raw(refund_key)

    records = [
        stream_record("INSERT", keys=key, new=authorized, table=table),
        stream_record("MODIFY", keys=key, old=authorized, new=captured, table=table),
        stream_record("MODIFY", keys=key, old=captured, new=refunded, table=table),
        stream_record("INSERT", keys=refund_key, new=refund_item, table=table),
        stream_record("INSERT", keys={"PK": {"S": "X"}, "SK": {"S": "Y"}},
                      new={"PK": {"S": "X"}, "SK": {"S": "Y"}, "entity": {"S": "OTHER_SERVICE"}}),
    ]
    broken = stream_record("MODIFY", keys=key, old=captured, new=refunded, table=table)
    broken["dynamodb"]["NewImage"]["cardFingerprint"] = {"B": "***not base64***"}
    assert records[1]["dynamodb"]["NewImage"]["cardFingerprint"] == {"B": base64.b64encode(card).decode()}

    from examples.payments_lambda.stream import decode_record

    change = decode_record(records[1])
    assert isinstance(change.new, Payment) and change.new.card_fingerprint == card
    assert change.old.status.value == "authorized" and change.new.status.value == "captured"

    with LocalLambda(STREAM_HANDLER, env=fn.env) as consumer:
        result = consumer.invoke({"Records": [*records, broken]}).result
    assert result["batchItemFailures"] == [{"itemIdentifier": broken["dynamodb"]["SequenceNumber"]}]
    summary = result["summary"]
    assert summary["captured"] == {partner: {"EUR": "75"}}
    assert summary["refunded"] == {partner: {"EUR": "25"}}
    assert summary["records"] == {"Payment:INSERT": 1, "Payment:MODIFY": 2, "Refund:INSERT": 1, "Other:INSERT": 1}


# -- deployment package ----------------------------------------------------------------------------


def test_deployment_zip_runs_without_build_time_dependencies(
    tmp_path: Path, dynamodb_local: DynamoDBLocal, table: str
) -> None:
    from examples.payments_lambda.build import build

    archive, template_path = build(tmp_path / "build")
    names = zipfile.ZipFile(archive).namelist()
    assert "examples/payments_lambda/handler.py" in names and "generated_example/payments.py" in names
    assert "dynagen/runtime/transport/lean/_client.py" in names
    assert not [n for n in names if n.startswith(("dynagen/compiler/", "dynagen/cli.py", "templates/"))]
    assert not [n for n in names if n.startswith(("jinja2", "yaml", "click", "boto", "tests/", "benchmarks/"))]
    assert "examples/payments_lambda/invoke_local.py" not in names
    print(f"\nzip: {archive.stat().st_size / 1024:.1f} KiB, {len(names)} files")
    unpacked = tmp_path / "task"
    with zipfile.ZipFile(archive) as z:
        z.extractall(unpacked)

    # 1. Only the unpacked zip and the standard library on sys.path: the handler imports, Jinja2,
    #    PyYAML and click are not there at all, and nothing needed them.
    probe = (
        "import sys\n"
        f"sys.path.insert(0, {str(unpacked)!r})\n"
        "import examples.payments_lambda.handler, examples.payments_lambda.stream\n"
        "missing = []\n"
        "for name in ('jinja2', 'yaml', 'click'):\n"
        "    try:\n"
        "        __import__(name)\n"
        "    except ImportError:\n"
        "        missing.append(name)\n"
        "print(sorted(missing), [p for p in sys.path if 'site-packages' in p])\n"
    )
    env = {**_env(dynamodb_local, table, "lean"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", probe], capture_output=True, text=True,
                          env=env, cwd=unpacked, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == "['click', 'jinja2', 'yaml'] []"

    # 2. A cold invocation from the unpacked zip against DynamoDB Local (lean transport: no botocore).
    with LocalLambda(env=_env(dynamodb_local, table, "lean")) as function:
        partner = new_partner(function)
        customer = new_customer(function, partner)
    run = cold_invoke([{"action": "create_payment", "partner_id": partner, "customer_id": customer,
                        "amount": "3.50", "currency": "GBP"}], env, code_dir=unpacked)  # fmt: skip
    assert run.results[0]["statusCode"] == 201, run.results
    assert run.loaded == []  # not even botocore
    assert not [p for p in run.sys_path if "site-packages" in p]
    print(f"cold from zip: process {run.wall_ms:.0f} ms, init {run.init_ms:.0f} ms, first call {run.first_ms:.1f} ms")

    # 3. The template: tables from the schema, the functions, least-privilege roles, the stream mapping.
    template = json.loads(template_path.read_text())
    resources = template["Resources"]
    assert resources["PaymentsTable"]["Type"] == "AWS::DynamoDB::Table"
    api = resources["PaymentsApiFunction"]["Properties"]
    assert api["Handler"] == "examples.payments_lambda.handler.handler" and api["CodeUri"] == "payments-lambda.zip"
    statements = resources["PaymentsApiRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    actions = {a for s in statements for a in s["Action"]}
    assert actions == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem",
                       "dynamodb:Query", "dynamodb:DescribeEndpoints"}  # fmt: skip
    assert not any("*" in a for a in actions)
    query = next(s for s in statements if s["Action"] == ["dynamodb:Query"])
    assert query["Resource"][1] == {"Fn::Sub": "${PaymentsTable.Arn}/index/GSI1"} and len(query["Resource"]) == 2
    stream = resources["PaymentsStreamFunction"]["Properties"]["Events"]["PaymentsStream"]["Properties"]
    assert stream["Stream"] == {"Fn::GetAtt": ["PaymentsTable", "StreamArn"]}
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

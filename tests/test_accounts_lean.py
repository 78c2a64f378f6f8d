"""Partners on the lean transport: the resolver's refreshable credentials, used as they are.

STS is moto's (``mock_aws``), wrapped by ``RecordingSTS`` (every AssumeRole recorded, expirations on
a fake clock). Data goes either to DynamoDB Local (which accepts any credentials and keeps one
database per access key) or to a loopback recorder that keeps the headers of every request it gets.

Every test that assumes a role runs on both STS paths (``path``, as in tests/test_accounts.py):
botocore's STS client and ``RefreshableCredentials``, or the lean STS client (over HTTP to a
loopback STS that checks signatures and answers with the same ``RecordingSTS``) and dynagen's
``RefreshingCredentials`` (what a lean transport gets by default).
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from _stub_sts import serve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from test_accounts import FakeClock, RecordingSTS, make_partner, path, serving, sts_options

from dynagen.errors import AssumeRoleError, DeadlineExceededError, InvalidValueError, UnknownPartnerError
from dynagen.local import DynamoDBLocal
from dynagen.runtime import BotocoreTransport, LeanTransport, create_table
from dynagen.runtime.accounts._partners import Partner
from dynagen.runtime.accounts._resolver import PartnerResolver
from dynagen.runtime.aws_lambda._clients import clear as clear_client_cache
from dynagen.runtime.aws_lambda._environment import ClientSettings
from dynagen.runtime.transport._bounds import Deadline

_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9]+)/")


# -- a loopback recorder: every request's signing key, token, target and body ------------------------


@dataclass
class Seen:
    access_key: str
    token: str | None
    target: str
    body: dict[str, Any]
    at: datetime  # the fake clock when the request arrived


@dataclass
class Recorder:
    endpoint: str
    now: Callable[[], datetime]
    requests: list[Seen] = field(default_factory=list)

    def signing_keys(self) -> list[str]:
        return [r.access_key for r in self.requests]


@contextmanager
def recorder(now: Callable[[], datetime]) -> Iterator[Recorder]:
    """A DynamoDB-shaped HTTP server on 127.0.0.1 that answers ``{}`` and records what it received."""
    lock = threading.Lock()
    rec: Recorder

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = -1

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            found = _CREDENTIAL.search(self.headers.get("Authorization", ""))
            seen = Seen(
                access_key=found.group(1) if found else "",
                token=self.headers.get("X-Amz-Security-Token"),
                target=self.headers.get("X-Amz-Target", ""),
                body=json.loads(body or b"{}"),
                at=rec.now(),
            )
            with lock:
                rec.requests.append(seen)
            payload = b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve(Handler) as endpoint:
        rec = Recorder(endpoint=endpoint, now=now)
        yield rec


# -- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


__all__ = ["path"]  # the fixture, imported from test_accounts


@pytest.fixture
def sts(aws: None, clock: FakeClock, path: str) -> Iterator[RecordingSTS]:
    with serving(RecordingSTS(boto3.client("sts", region_name="us-east-1"), clock=clock), path) as recording:
        yield recording


@pytest.fixture
def rec(clock: FakeClock) -> Iterator[Recorder]:
    with recorder(clock) as r:
        yield r


def resolver_for(sts: RecordingSTS, clock: FakeClock, *partners: Partner, **kwargs: Any) -> PartnerResolver:
    return PartnerResolver(partners, region="us-east-1", clock=clock, **sts_options(sts), **kwargs)


def at(rec: Recorder, pid: str, account: str = "111122223333", **kwargs: Any) -> Partner:
    """A partner whose DynamoDB endpoint is the recorder."""
    return make_partner(pid, account, endpoint_url=rec.endpoint, **kwargs)


def expiry_of(sts: RecordingSTS) -> dict[str, datetime]:
    """Access key id -> when STS said it expires."""
    return {r["Credentials"]["AccessKeyId"]: r["Credentials"]["Expiration"] for r in sts.responses}


def get(transport: Any, table: str = "t") -> dict[str, Any]:
    result: dict[str, Any] = transport.call("GetItem", {"TableName": table, "Key": {"PK": {"S": "x"}}})
    return result


# -- (a) a generated repository on a partner's lean transport, data in DynamoDB Local ----------------


@pytest.mark.ddb
def test_generated_repository_on_a_partner_lean_transport(
    dynamodb_local: DynamoDBLocal, sts: RecordingSTS, clock: FakeClock
) -> None:
    from generated_example.payments import TABLES, Currency, Payment, PaymentRepository

    acme = make_partner("acme", "111122223333", endpoint_url=dynamodb_local.endpoint)
    globex = make_partner("globex", "444455556666", endpoint_url=dynamodb_local.endpoint)
    resolver = resolver_for(sts, clock, acme, globex)
    transport = resolver.transport("acme", kind="lean")
    assert isinstance(transport, LeanTransport)
    assert transport.endpoint.url == dynamodb_local.endpoint and transport.region == "us-east-1"
    # Signs with the credentials AssumeRole issued for acme's role (moto's ASIA... key).
    signing = transport._credentials()
    assert sts.issued_for()[signing.access_key] == acme.role_arn
    assert signing.token == sts.responses[0]["Credentials"]["SessionToken"]

    table = f"payments-{uuid.uuid4().hex[:8]}"
    create_table(transport, {**TABLES["payments"], "TableName": table}, poll_interval=0.01)
    repo = PaymentRepository(transport, table_name=table).with_deadline(Deadline.from_seconds(30))
    customer = uuid.uuid4()
    created = [
        repo.create(
            Payment(
                partner_id="acme",
                payment_id=f"pay-{day}",
                customer_id=customer,
                amount=Decimal(f"{day}.50"),
                currency=Currency.EUR,
                created_on=date(2024, 5, day),
            )
        )
        for day in (1, 2, 3)
    ]
    repo.create(
        Payment(partner_id="acme", payment_id="other", customer_id=uuid.uuid4(), amount=Decimal("9"),
                currency=Currency.USD, created_on=date(2024, 5, 2))
    )  # fmt: skip
    assert repo.get(partner_id="acme", payment_id="pay-2", consistent=True) == created[1]
    page = repo.payments_of_customer(partner_id="acme", customer_id=customer)
    assert [p.payment_id for p in page.items] == ["pay-3", "pay-2", "pay-1"]
    assert page.items[0] == created[2]
    ranged = repo.payments_of_customer(
        partner_id="acme", customer_id=customer, created_on_from=date(2024, 5, 2), created_on_to=date(2024, 5, 2)
    )
    assert [p.payment_id for p in ranged.items] == ["pay-2"]
    assert len(sts.calls) == 1  # one AssumeRole for everything above

    # DynamoDB Local keeps a database per access key: globex's credentials do not reach acme's table.
    other = resolver.transport("globex", kind="lean")
    assert table not in other.call("ListTables", {}).get("TableNames", [])
    assert table in transport.call("ListTables", {})["TableNames"]
    assert sts.roles() == [acme.role_arn, globex.role_arn]


# -- (b) refresh: the signing key follows the refreshed credentials ----------------------------------


@pytest.mark.parametrize("refresh_before", [300, 900])
def test_lean_signing_key_follows_the_refreshed_credentials(
    sts: RecordingSTS, clock: FakeClock, rec: Recorder, refresh_before: int
) -> None:
    resolver = resolver_for(sts, clock, at(rec, "acme"), refresh_before=refresh_before)
    transport = resolver.transport("acme", kind="lean")
    first = sts.responses[0]["Credentials"]
    expiry = first["Expiration"]

    get(transport)
    clock.set(expiry - timedelta(seconds=refresh_before + 2))  # just before the window: no refresh
    get(transport)
    assert len(sts.calls) == 1
    assert rec.signing_keys() == [first["AccessKeyId"]] * 2
    assert rec.requests[0].token == first["SessionToken"]

    clock.set(expiry - timedelta(seconds=refresh_before - 2))  # inside it: this request refreshes
    get(transport)
    assert len(sts.calls) == 2
    second = sts.responses[1]["Credentials"]
    assert second["AccessKeyId"] != first["AccessKeyId"]
    assert rec.signing_keys()[-1] == second["AccessKeyId"]
    assert rec.requests[-1].token == second["SessionToken"]
    assert sts.calls[1]["RoleArn"] == sts.calls[0]["RoleArn"] and sts.calls[1]["ExternalId"] == "ext-acme-s3cr3t"

    clock.set(second["Expiration"] + timedelta(seconds=30))  # long past: refreshed before signing
    get(transport)
    assert len(sts.calls) == 3 and rec.signing_keys()[-1] == sts.responses[2]["Credentials"]["AccessKeyId"]
    get(transport)
    assert len(sts.calls) == 3
    assert resolver.transport("acme", kind="lean") is transport

    # No request was ever signed with credentials that had expired when it was sent.
    expires = expiry_of(sts)
    assert all(r.at < expires[r.access_key] for r in rec.requests)
    assert all(sts.issued_for()[k] == sts.calls[0]["RoleArn"] for k in rec.signing_keys())


def test_lean_failed_refresh_keeps_valid_credentials_then_sends_nothing(
    sts: RecordingSTS, clock: FakeClock, rec: Recorder
) -> None:
    resolver = resolver_for(sts, clock, at(rec, "acme"))  # advisory 300 s, mandatory 150 s
    transport = resolver.transport("acme", kind="lean")
    first = sts.responses[0]["Credentials"]
    expiry = first["Expiration"]

    sts.fail_next = 100
    clock.set(expiry - timedelta(seconds=200))  # advisory: failure logged, still-valid key used
    get(transport)
    assert len(sts.calls) >= 2 and len(sts.responses) == 1
    assert rec.signing_keys() == [first["AccessKeyId"]]

    clock.set(expiry - timedelta(seconds=100))  # mandatory: the request waits for the refresh, which fails
    with pytest.raises(AssumeRoleError) as info:
        get(transport)
    assert info.value.partner == "acme"
    clock.set(expiry + timedelta(seconds=1))  # expired, STS still failing
    with pytest.raises(AssumeRoleError):
        get(transport)
    assert len(rec.requests) == 1, "nothing may be sent once only the mandatory window is left"

    sts.fail_next = 0
    get(transport)
    assert rec.signing_keys()[-1] == sts.responses[-1]["Credentials"]["AccessKeyId"] != first["AccessKeyId"]
    expires = expiry_of(sts)
    assert all(r.at < expires[r.access_key] for r in rec.requests)


def test_lean_deadline_bounds_assume_role_and_refresh(sts: RecordingSTS, clock: FakeClock, rec: Recorder) -> None:
    resolver = resolver_for(sts, clock, at(rec, "acme"))
    spent = Deadline.from_seconds(0.1, margin=0.5)
    with pytest.raises(DeadlineExceededError, match="AssumeRole"):
        resolver.transport("acme", kind="lean", deadline=spent)
    assert sts.calls == []

    transport = resolver.transport("acme", kind="lean", deadline=Deadline.from_seconds(30))
    expiry = sts.responses[0]["Credentials"]["Expiration"]
    clock.set(expiry - timedelta(seconds=60))  # mandatory window: the request must refresh first
    # Time left when the transport checks, none by the time the refresh's AssumeRole would start.
    ticks = iter([0.0] + [100.0] * 10)
    deadline = Deadline(10.0, margin=0.0, clock=lambda: next(ticks))
    with pytest.raises(DeadlineExceededError, match=r"AssumeRole\(acme\)"):
        transport.call("GetItem", {"TableName": "t", "Key": {"PK": {"S": "x"}}}, deadline=deadline)
    assert len(sts.calls) == 1 and rec.requests == []

    get(transport)
    assert len(sts.calls) == 2 and rec.signing_keys() == [sts.responses[1]["Credentials"]["AccessKeyId"]]


# -- kinds, caching, settings -----------------------------------------------------------------------


def test_kind_follows_transport_kind_like_get_default_transport(
    sts: RecordingSTS, clock: FakeClock, rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolver = resolver_for(sts, clock, at(rec, "acme"))
    monkeypatch.delenv("DYNAGEN_TRANSPORT", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    assert isinstance(resolver.transport("acme"), BotocoreTransport)  # outside Lambda
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "payments-api")
    lean = resolver.transport("acme")
    assert isinstance(lean, LeanTransport)  # inside Lambda
    monkeypatch.setenv("DYNAGEN_TRANSPORT", "botocore")
    assert resolver.transport("acme") is resolver.transport("acme", kind="botocore")
    monkeypatch.setenv("DYNAGEN_TRANSPORT", "lean")
    assert resolver.transport("acme") is lean is resolver.transport("acme", kind="lean")
    monkeypatch.setenv("DYNAGEN_TRANSPORT", "grpc")
    with pytest.raises(InvalidValueError, match="DYNAGEN_TRANSPORT"):
        resolver.transport("acme")
    with pytest.raises(InvalidValueError, match="kind"):
        resolver.transport("acme", kind="grpc")  # type: ignore[call-overload]
    # Both kinds of one partner share one AssumeRole and one credentials object.
    assert len(sts.calls) == 1
    botocore_client = resolver.client("acme")
    assert botocore_client._request_signer._credentials is lean._credentials._source  # type: ignore[attr-defined]


def test_lean_partner_needs_no_botocore_dynamodb_client(sts: RecordingSTS, clock: FakeClock, rec: Recorder) -> None:
    resolver = resolver_for(sts, clock, at(rec, "acme"))
    resolver.transport("acme", kind="lean")
    entry = resolver._entries["acme"]
    assert entry.client is None and entry.botocore is None and entry.lean is not None


def test_base_account_lean_transport_uses_the_environment(
    sts: RecordingSTS, clock: FakeClock, rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIABASEACCOUNTKEY01")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "base-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    resolver = PartnerResolver([at(rec, "acme")], region="eu-west-1", endpoint_url=rec.endpoint, clock=clock,
                               **sts_options(sts))  # fmt: skip
    base = resolver.transport("", kind="lean")
    assert base.region == "eu-west-1" and resolver.transport(kind="lean") is base
    get(base)
    get(resolver.transport("acme", kind="lean"))
    assert rec.signing_keys()[0] == "AKIABASEACCOUNTKEY01" and rec.requests[0].token is None
    assert rec.signing_keys()[1] == sts.responses[0]["Credentials"]["AccessKeyId"]
    assert len(sts.calls) == 1


def test_lean_transports_take_the_lambda_tuning(
    sts: RecordingSTS, clock: FakeClock, rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.config import Config  # type: ignore[import-untyped]

    from dynagen.runtime.aws_lambda._environment import client_settings

    for name in list(os.environ):
        if name.startswith("DYNAGEN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "payments-api")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")
    clear_client_cache()  # default_settings() is computed once per process
    try:
        tuned = client_settings()
        lean = resolver_for(sts, clock, at(rec, "acme")).transport("acme", kind="lean")
        assert lean._pool.max_size == 20 == tuned.max_pool_connections
        assert (lean.connect_timeout, lean.read_timeout) == (tuned.connect_timeout, tuned.read_timeout)
        assert lean.retry_policy.max_attempts == tuned.max_attempts

        given_settings = ClientSettings(max_pool_connections=3, connect_timeout=0.7, read_timeout=1.5, max_attempts=5,
                                        max_response_bytes=4096, call_timeout=7.5)  # fmt: skip
        lean = resolver_for(sts, clock, at(rec, "acme"), settings=given_settings).transport("acme", kind="lean")
        assert (lean._pool.max_size, lean.connect_timeout, lean.read_timeout) == (3, 0.7, 1.5)
        assert lean.retry_policy.max_attempts == 5
        assert (lean.max_response_bytes, lean.call_timeout) == (4096, 7.5)

        config = Config(max_pool_connections=7, connect_timeout=0.9, read_timeout=2.5,
                        retries={"mode": "standard", "total_max_attempts": 4})  # fmt: skip
        lean = resolver_for(sts, clock, at(rec, "acme"), config=config).transport("acme", kind="lean")
        assert (lean._pool.max_size, lean.connect_timeout, lean.read_timeout) == (7, 0.9, 2.5)
        assert lean.retry_policy.max_attempts == 4
        assert lean.region == "us-east-1" and lean.endpoint.url == rec.endpoint  # the partner's, not settings'
    finally:
        clear_client_cache()


def test_replace_remove_and_invalidate_drop_lean_transports(sts: RecordingSTS, clock: FakeClock, rec: Recorder) -> None:
    resolver = resolver_for(sts, clock, at(rec, "acme"))
    first = resolver.transport("acme", kind="lean")
    first_expiry = sts.responses[0]["Credentials"]["Expiration"]
    moved = at(rec, "acme", "999988887777")
    resolver.add_partner(moved, replace=True)
    second = resolver.transport("acme", kind="lean")
    assert second is not first
    get(second)
    assert sts.issued_for()[rec.signing_keys()[-1]] == moved.role_arn

    # The replaced config's transport keeps its valid credentials but can never refresh them.
    clock.set(first_expiry - timedelta(seconds=10))
    sent = len(rec.requests)
    with pytest.raises(UnknownPartnerError):
        get(first)
    assert len(rec.requests) == sent and len(sts.calls) == 2

    resolver.invalidate("acme")
    third = resolver.transport("acme", kind="lean")
    assert third is not second and len(sts.calls) == 3
    resolver.remove_partner("acme")
    with pytest.raises(UnknownPartnerError):
        resolver.transport("acme", kind="lean")


def test_lean_transport_repr_shows_no_secrets(sts: RecordingSTS, clock: FakeClock, rec: Recorder) -> None:
    resolver = resolver_for(sts, clock, at(rec, "acme"))
    text = repr(resolver.transport("acme", kind="lean")) + repr(resolver) + repr(resolver._entries["acme"])
    assert sts.secrets() and not any(secret in text for secret in sts.secrets())
    assert "111122223333" not in text and "ext-acme" not in text


# -- (c) isolation -------------------------------------------------------------------------------------


def test_16_threads_over_2_partners_make_exactly_2_assume_role_calls(aws: None, clock: FakeClock, path: str) -> None:
    sts = RecordingSTS(boto3.client("sts", region_name="us-east-1"), delay=0.05, clock=clock)
    with recorder(clock) as rec, serving(sts, path):
        partners = [at(rec, f"p{i}", f"{i + 1:012d}") for i in range(2)]
        resolver = resolver_for(sts, clock, *partners)
        barrier = threading.Barrier(16)
        handed: dict[int, Any] = {}
        errors: list[BaseException] = []

        def work(i: int) -> None:
            try:
                barrier.wait()
                transport = resolver.transport(f"p{i % 2}", kind="lean")
                handed[i] = transport
                transport.call("GetItem", {"TableName": f"thread-{i}", "Key": {"PK": {"S": "x"}}})
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    assert errors == []
    assert len(sts.calls) == 2 and sorted(sts.roles()) == sorted(p.role_arn for p in partners)
    assert all(n == 1 for n in sts.max_in_flight.values())
    assert len({id(t) for t in handed.values()}) == 2
    assert all(handed[i] is handed[i % 2] for i in handed)
    issued = sts.issued_for()
    assert len(rec.requests) == 16
    for seen in rec.requests:
        i = int(seen.body["TableName"].split("-")[1])
        assert issued[seen.access_key] == partners[i % 2].role_arn, seen


_IDS = ["acme", "globex", "nobody"]  # "nobody" is never configured
_ops = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["call", "call", "call", "replace", "invalidate"]), st.sampled_from(_IDS)),
        st.tuples(st.just("advance"), st.integers(min_value=60, max_value=4000)),
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_ops)
def test_two_partners_lean_transports_never_share_credentials(aws: None, path: str, ops: list[tuple[str, Any]]) -> None:
    clock = FakeClock()
    sts = RecordingSTS(boto3.client("sts", region_name="us-east-1"), clock=clock)
    with recorder(clock) as rec, serving(sts, path):
        accounts = iter(f"{n:012d}" for n in range(10**6, 10**7))
        config = {pid: at(rec, pid, next(accounts)) for pid in ("acme", "globex")}
        resolver = resolver_for(sts, clock, *config.values())
        handed: dict[int, str] = {}  # id(transport) -> the partner it was handed to
        sources: dict[int, str] = {}  # id(credentials object) -> the partner whose transport uses it
        signed_for: dict[str, str] = {}  # access key id -> the partner whose request it signed
        for op, arg in ops:
            if op == "advance":
                clock.set(clock.now + timedelta(seconds=arg))
            elif op == "call":
                if arg not in config:
                    with pytest.raises(UnknownPartnerError):
                        resolver.transport(arg, kind="lean")
                    continue
                transport = resolver.transport(arg, kind="lean")
                assert handed.setdefault(id(transport), arg) == arg
                source = transport._credentials._source  # type: ignore[attr-defined]
                assert sources.setdefault(id(source), arg) == arg
                sent = len(rec.requests)
                transport.call("GetItem", {"TableName": arg, "Key": {"PK": {"S": "x"}}})
                seen = rec.requests[sent]
                assert sts.issued_for()[seen.access_key] == config[arg].role_arn
                assert signed_for.setdefault(seen.access_key, arg) == arg
                assert seen.at < expiry_of(sts)[seen.access_key]
            elif op == "replace" and arg in config:
                config[arg] = at(rec, arg, next(accounts))
                resolver.add_partner(config[arg], replace=True)
            elif op == "invalidate":
                resolver.invalidate(arg)
    for call in sts.calls:
        pid = call["RoleSessionName"].split("-")[1]
        assert call["ExternalId"] == f"ext-{pid}-s3cr3t" and call["RoleArn"].endswith(f":role/dynagen/{pid}-reader")

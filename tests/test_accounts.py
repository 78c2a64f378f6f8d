"""The multi-account resolver against moto's in-process STS and DynamoDB, with a fake clock.

Every test that assumes a role runs on both STS paths (the ``path`` fixture):

- ``botocore``: botocore's STS client (moto's, wrapped by ``RecordingSTS``) and botocore's
  ``RefreshableCredentials`` (``sts_kind="botocore"``);
- ``lean``: the lean STS client over HTTP to a loopback STS (tests/_stub_sts.py, which checks every
  request's SigV4 signature) answering with the same ``RecordingSTS``, and dynagen's
  ``RefreshingCredentials`` (``sts_kind="lean"``).
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import boto3  # type: ignore[import-untyped]
import pytest
from _stub_sts import front as front_sts
from _stub_sts import sts_server
from botocore.exceptions import ClientError, EndpointConnectionError  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from dynagen.errors import AssumeRoleError, DeadlineExceededError, InvalidValueError, UnknownPartnerError
from dynagen.runtime.accounts._partners import Partner
from dynagen.runtime.accounts._redaction import PartnerLogFilter, install_partner_log_filter, redact_secrets
from dynagen.runtime.accounts._resolver import PartnerResolver
from dynagen.runtime.aws_lambda._context import current_partner, use_partner
from dynagen.runtime.transport._bounds import Deadline

SESSION_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{2,64}")


def make_partner(pid: str, account: str = "111122223333", **kwargs: Any) -> Partner:
    fields: dict[str, Any] = {
        "role_arn": f"arn:aws:iam::{account}:role/dynagen/{pid}-reader",
        "external_id": f"ext-{pid}-s3cr3t",
        "region": "us-east-1",
    }
    fields.update(kwargs)
    return Partner(partner_id=pid, **fields)


class FakeClock:
    """An aware UTC clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when


class RecordingSTS:
    """Wraps moto's STS client: records every AssumeRole request and response, can fail or stall.

    moto computes ``Expiration`` from the real time; with a ``clock`` it is moved onto the fake
    clock's timeline (now + duration), as a real STS would see it.
    """

    def __init__(self, inner: Any, *, delay: float = 0.0, clock: FakeClock | None = None) -> None:
        self.inner = inner
        self.clock = clock
        self.delay = delay
        self.fail_next = 0
        self.error: Exception | None = None
        self.calls: list[dict[str, Any]] = []
        self.endpoint: str | None = None  # a loopback STS answering with this object (the lean path)
        self.issued: dict[str, str] = {}
        self.responses: list[dict[str, Any]] = []
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self._lock = threading.Lock()

    def assume_role(self, **kwargs: Any) -> Any:
        role = kwargs["RoleArn"]
        with self._lock:
            self.calls.append(dict(kwargs))
            self.in_flight[role] += 1
            self.max_in_flight[role] = max(self.max_in_flight[role], self.in_flight[role])
            failing = self.fail_next > 0
            if failing:
                self.fail_next -= 1
        try:
            if self.delay:
                time.sleep(self.delay)
            if failing:
                raise self.error or ClientError(
                    {
                        "Error": {
                            "Code": "AccessDenied",
                            "Message": f"not authorized to perform sts:AssumeRole on {role}",
                        }
                    },
                    "AssumeRole",
                )
            response = self.inner.assume_role(**kwargs)
            if self.clock is not None:
                duration = timedelta(seconds=kwargs.get("DurationSeconds", 3600))
                response["Credentials"]["Expiration"] = self.clock() + duration
            with self._lock:
                self.responses.append(response)
                self.issued[response["Credentials"]["AccessKeyId"]] = role
            return response
        finally:
            with self._lock:
                self.in_flight[role] -= 1

    def roles(self) -> list[str]:
        return [c["RoleArn"] for c in self.calls]

    def secrets(self) -> list[str]:
        out = []
        for r in self.responses:
            c = r["Credentials"]
            out += [c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]]
        return out

    def issued_for(self) -> dict[str, str]:
        """Access key id -> the role ARN it was issued for."""
        with self._lock:
            return dict(self.issued)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["botocore", "lean"])
def path(request: pytest.FixtureRequest) -> str:
    """Which STS client and refreshable credentials the resolver uses (see the module docstring)."""
    return str(request.param)


@contextmanager
def serving(sts: RecordingSTS, path: str) -> Iterator[RecordingSTS]:
    """On the lean path, a loopback STS answering with ``sts`` for the duration of the block."""
    if path == "botocore":
        yield sts
        return
    with sts_server(front_sts(sts)) as stub:
        sts.endpoint = stub.endpoint
        try:
            yield sts
        finally:
            sts.endpoint = None
            assert all(r.signature_ok for r in stub.requests), [r.problem for r in stub.requests]


@pytest.fixture
def sts(aws: None, clock: FakeClock, path: str) -> Iterator[RecordingSTS]:
    with serving(RecordingSTS(boto3.client("sts", region_name="us-east-1"), clock=clock), path) as recording:
        yield recording


def sts_options(sts: RecordingSTS) -> dict[str, Any]:
    """The resolver options of the test's path: the loopback STS in front of ``sts``, or ``sts`` itself."""
    if sts.endpoint is not None:
        return {"sts_endpoint_url": sts.endpoint, "sts_kind": "lean"}
    return {"sts_client_factory": lambda p: cast(Any, sts), "sts_kind": "botocore"}


def resolver_for(sts: RecordingSTS, clock: FakeClock, *partners: Partner, **kwargs: Any) -> PartnerResolver:
    return PartnerResolver(partners, region="us-east-1", clock=clock, **sts_options(sts), **kwargs)


def signing_key(client: Any) -> str:
    """The access key id the client's request signer holds right now (without refreshing)."""
    creds = client._request_signer._credentials
    if type(creds).__name__ == "RefreshingCredentials":
        return str(creds._current[0].access_key)
    return str(creds._access_key)


def record_signatures(client: Any) -> list[str]:
    """Collect the access key id of every request the client actually sends."""
    seen: list[str] = []

    def on_send(request: Any, **_: Any) -> None:
        auth = request.headers["Authorization"]
        auth = auth.decode() if isinstance(auth, bytes) else auth
        seen.append(re.search(r"Credential=([A-Z0-9]+)/", auth).group(1))  # type: ignore[union-attr]

    client.meta.events.register("before-send.dynamodb", on_send)
    return seen


# -- AssumeRole parameters and caching --------------------------------------------------------------


def test_each_partner_assumes_its_own_role_with_its_external_id(sts: RecordingSTS, clock: FakeClock) -> None:
    acme = make_partner("acme", "111122223333", region="eu-west-1")
    globex = make_partner("globex", "444455556666", session_duration=7200, endpoint_url="http://localhost:1234")
    resolver = resolver_for(sts, clock, acme, globex)

    acme_client = resolver.client("acme")
    globex_client = resolver.client("globex")

    assert [(c["RoleArn"], c["ExternalId"]) for c in sts.calls] == [
        (acme.role_arn, "ext-acme-s3cr3t"),
        (globex.role_arn, "ext-globex-s3cr3t"),
    ]
    assert "DurationSeconds" not in sts.calls[0]
    assert sts.calls[1]["DurationSeconds"] == 7200
    for call, pid in zip(sts.calls, ["acme", "globex"], strict=True):
        assert SESSION_NAME.fullmatch(call["RoleSessionName"])
        assert re.fullmatch(rf"dynagen-{pid}-[0-9a-f]{{8}}", call["RoleSessionName"])
    assert acme_client.meta.region_name == "eu-west-1"
    assert globex_client.meta.endpoint_url == "http://localhost:1234"
    issued = sts.issued_for()
    assert issued[signing_key(acme_client)] == acme.role_arn
    assert issued[signing_key(globex_client)] == globex.role_arn


def test_clients_and_transports_are_cached(sts: RecordingSTS, clock: FakeClock) -> None:
    resolver = resolver_for(sts, clock, make_partner("acme"))
    client = resolver.client("acme")
    assert resolver.client("acme") is client
    transport = resolver.transport("acme")
    assert transport.client is client
    assert resolver.transport("acme") is transport
    assert len(sts.calls) == 1


def test_base_account_uses_the_default_chain_without_assume_role(sts: RecordingSTS, clock: FakeClock) -> None:
    resolver = resolver_for(sts, clock, make_partner("acme"))
    base = resolver.client()
    assert resolver.client("") is base
    assert resolver.transport("").client is base
    assert base.meta.region_name == "us-east-1"
    creds = base._request_signer._credentials
    assert creds.method == "env"  # the default chain (moto's dummy environment keys here)
    assert creds.get_frozen_credentials().access_key == os.environ["AWS_ACCESS_KEY_ID"]
    assert sts.calls == []
    assert base is not resolver.client("acme")


def test_session_name_is_sanitized_and_within_sts_limits(sts: RecordingSTS, clock: FakeClock) -> None:
    pid = "Ünïcode/partner#" + "x" * 100
    partner = make_partner(pid, role_arn="arn:aws:iam::111122223333:role/r", external_id="ext-1")
    resolver = resolver_for(sts, clock, partner, session_prefix="payments")
    resolver.client(pid)
    name = sts.calls[0]["RoleSessionName"]
    assert SESSION_NAME.fullmatch(name), name
    assert name.startswith("payments--n-code-partner-xxx")
    assert len(name) == 64


def test_partner_clients_reach_their_own_account_in_dynamodb(sts: RecordingSTS, clock: FakeClock) -> None:
    resolver = resolver_for(sts, clock, make_partner("acme", "111122223333"), make_partner("globex", "444455556666"))
    acme = resolver.client("acme")
    acme.create_table(
        TableName="payments",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    resolver.transport("acme").call("PutItem", {"TableName": "payments", "Item": {"PK": {"S": "P#1"}}})
    arn = acme.describe_table(TableName="payments")["Table"]["TableArn"]
    assert arn == "arn:aws:dynamodb:us-east-1:111122223333:table/payments"
    # moto keeps accounts apart by the credentials' account: globex and the base account see nothing.
    assert resolver.client("globex").list_tables()["TableNames"] == []
    assert resolver.client("").list_tables()["TableNames"] == []
    got = resolver.transport("acme").call("GetItem", {"TableName": "payments", "Key": {"PK": {"S": "P#1"}}})
    assert got["Item"] == {"PK": {"S": "P#1"}}


# -- refresh ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("refresh_before", [300, 600, 1200])
def test_refresh_happens_inside_the_configured_window_and_not_before(
    sts: RecordingSTS, clock: FakeClock, refresh_before: int
) -> None:
    kwargs = {} if refresh_before == 300 else {"refresh_before": refresh_before}
    resolver = resolver_for(sts, clock, make_partner("acme"), **kwargs)
    client = resolver.client("acme")
    sent = record_signatures(client)
    expiry = sts.responses[0]["Credentials"]["Expiration"]
    first_key = sts.responses[0]["Credentials"]["AccessKeyId"]

    clock.set(expiry - timedelta(seconds=refresh_before + 2))
    client.list_tables()
    assert len(sts.calls) == 1, "refreshed before the window (botocore's own 15-minute default?)"

    clock.set(expiry - timedelta(seconds=refresh_before - 2))
    client.list_tables()
    assert len(sts.calls) == 2
    second_key = sts.responses[1]["Credentials"]["AccessKeyId"]
    assert second_key != first_key
    assert sent == [first_key, second_key], "the client must sign with the refreshed credentials"
    assert sts.calls[1]["RoleArn"] == sts.calls[0]["RoleArn"]
    assert sts.calls[1]["ExternalId"] == "ext-acme-s3cr3t"

    client.list_tables()
    assert len(sts.calls) == 2
    assert resolver.client("acme") is client


def test_failed_refresh_keeps_valid_credentials_then_raises_when_mandatory(sts: RecordingSTS, clock: FakeClock) -> None:
    resolver = resolver_for(sts, clock, make_partner("acme"))  # advisory 300 s, mandatory 150 s
    client = resolver.client("acme")
    sent = record_signatures(client)
    expiry = sts.responses[0]["Credentials"]["Expiration"]
    first_key = sts.responses[0]["Credentials"]["AccessKeyId"]

    sts.fail_next = 10
    clock.set(expiry - timedelta(seconds=200))
    client.list_tables()  # advisory window: the failure is logged, the old (still valid) key is used
    assert len(sts.calls) >= 2  # botocore may look at the credentials more than once per request
    assert len(sts.responses) == 1
    assert sent == [first_key]

    clock.set(expiry - timedelta(seconds=100))
    with pytest.raises(AssumeRoleError) as info:
        client.list_tables()
    assert info.value.partner == "acme"
    assert len(sent) == 1, "nothing may be sent once only the mandatory window is left"

    sts.fail_next = 0
    client.list_tables()
    assert sent[-1] == sts.responses[-1]["Credentials"]["AccessKeyId"] != first_key


def test_removed_partner_clients_cannot_refresh(sts: RecordingSTS, clock: FakeClock) -> None:
    resolver = resolver_for(sts, clock, make_partner("acme"))
    client = resolver.client("acme")
    expiry = sts.responses[0]["Credentials"]["Expiration"]
    assert resolver.remove_partner("acme") is True
    assert resolver.remove_partner("acme") is False
    clock.set(expiry - timedelta(seconds=10))
    with pytest.raises(UnknownPartnerError):
        client.list_tables()
    assert len(sts.calls) == 1


# -- concurrency -----------------------------------------------------------------------------------


def test_32_threads_over_4_partners_make_exactly_4_assume_role_calls(aws: None, clock: FakeClock, path: str) -> None:
    sts = RecordingSTS(boto3.client("sts", region_name="us-east-1"), delay=0.05)
    partners = [make_partner(f"p{i}", f"{i + 1:012d}") for i in range(4)]
    barrier = threading.Barrier(32)
    results: dict[int, Any] = {}
    errors: list[BaseException] = []
    with serving(sts, path):
        resolver = resolver_for(sts, clock, *partners)

        def work(i: int) -> None:
            try:
                barrier.wait()
                results[i] = resolver.client(f"p{i % 4}")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    assert errors == []
    assert sorted(sts.roles()) == sorted(p.role_arn for p in partners)
    assert all(n == 1 for n in sts.max_in_flight.values())
    issued = sts.issued_for()
    for i, client in results.items():
        assert client is results[i % 4]
        assert issued[signing_key(client)] == partners[i % 4].role_arn
    assert len({id(c) for c in results.values()}) == 4


# -- failures and configuration changes ------------------------------------------------------------


def test_failed_assume_role_raises_and_is_not_cached(sts: RecordingSTS, clock: FakeClock) -> None:
    partner = make_partner("acme")
    resolver = resolver_for(sts, clock, partner)
    sts.fail_next = 1
    with pytest.raises(AssumeRoleError) as info:
        resolver.client("acme")
    err = info.value
    assert (err.partner, err.role_arn) == ("acme", partner.role_arn)
    assert "AccessDenied" in err.reason
    assert partner.external_id not in str(err)
    assert "acme" not in repr(resolver).split("cached=")[1]

    client = resolver.client("acme")
    assert len(sts.calls) == 2
    assert resolver.client("acme") is client


@pytest.mark.parametrize("path", ["botocore"])  # the lean path's network failures: test_runtime_sts_lean.py
def test_botocore_errors_become_assume_role_errors(sts: RecordingSTS, clock: FakeClock) -> None:
    resolver = resolver_for(sts, clock, make_partner("acme"))
    sts.fail_next = 1
    sts.error = EndpointConnectionError(endpoint_url="https://sts.us-east-1.amazonaws.com/")
    with pytest.raises(AssumeRoleError, match="EndpointConnectionError"):
        resolver.client("acme")


@pytest.mark.parametrize("kind", ["botocore", "lean"])
def test_bad_sts_response_is_an_assume_role_error(clock: FakeClock, kind: Any) -> None:
    class BrokenSTS:
        def assume_role(self, **_: Any) -> dict[str, Any]:
            return {"Credentials": {"AccessKeyId": "ASIAXXXXXXXXXXXXXXXX"}}

    resolver = PartnerResolver(
        [make_partner("acme")], clock=clock, sts_client_factory=lambda p: cast(Any, BrokenSTS()), sts_kind=kind
    )
    with pytest.raises(AssumeRoleError, match="no usable Credentials"):
        resolver.client("acme")


def test_unknown_partner(sts: RecordingSTS, clock: FakeClock) -> None:
    resolver = resolver_for(sts, clock, make_partner("acme"))
    for call in (resolver.client, resolver.transport, resolver.get_partner):
        with pytest.raises(UnknownPartnerError) as info:
            call("nope")
        assert info.value.partner == "nope"
        assert isinstance(info.value, LookupError)
    assert sts.calls == []
    assert "nope" not in resolver
    assert "acme" in resolver


def test_partners_can_be_added_replaced_and_removed_at_run_time(sts: RecordingSTS, clock: FakeClock) -> None:
    resolver = resolver_for(sts, clock)
    assert resolver.partner_ids() == []
    acme = make_partner("acme")
    resolver.add_partner(acme)
    first = resolver.client("acme")

    resolver.add_partner(make_partner("acme"))  # identical: keeps the cache
    assert resolver.client("acme") is first
    moved = make_partner("acme", "999988887777")
    with pytest.raises(InvalidValueError, match="replace=True"):
        resolver.add_partner(moved)
    resolver.add_partner(moved, replace=True)
    second = resolver.client("acme")
    assert second is not first
    assert sts.roles() == [acme.role_arn, moved.role_arn]
    assert sts.issued_for()[signing_key(second)] == moved.role_arn
    assert resolver.get_partner("acme") is moved

    resolver.invalidate("acme")
    assert resolver.client("acme") is not second
    assert len(sts.calls) == 3

    resolver.remove_partner("acme")
    with pytest.raises(UnknownPartnerError):
        resolver.client("acme")
    assert resolver.partner_ids() == []


def test_partner_removed_while_assume_role_runs_is_not_cached(aws: None, clock: FakeClock, path: str) -> None:
    sts = RecordingSTS(boto3.client("sts", region_name="us-east-1"), delay=0.2)
    with serving(sts, path):
        resolver = resolver_for(sts, clock, make_partner("acme"))
        outcome: list[BaseException | Any] = []
        thread = threading.Thread(target=lambda: outcome.append(_capture(resolver.client, "acme")))
        thread.start()
        time.sleep(0.05)
        resolver.remove_partner("acme")
        thread.join()
    assert isinstance(outcome[0], UnknownPartnerError)
    assert "acme" not in repr(resolver)


def _capture(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as exc:
        return exc


def test_resolver_settings_are_validated() -> None:
    with pytest.raises(InvalidValueError, match="refresh_before"):
        PartnerResolver(refresh_before=0)
    with pytest.raises(InvalidValueError, match="session_prefix"):
        PartnerResolver(session_prefix="has space")
    with pytest.raises(InvalidValueError, match=r"partners\[short\]\.session_duration"):
        PartnerResolver([make_partner("short", session_duration=900)], refresh_before=900)
    with pytest.raises(TypeError):
        PartnerResolver([{"partner_id": "x"}])  # type: ignore[list-item]


def test_from_env(sts: RecordingSTS, clock: FakeClock) -> None:
    env = {
        "PARTNERS": '{"acme": {"role_arn": "arn:aws:iam::111122223333:role/r", "external_id": "ext-1", '
        '"region": "us-east-1"}}'
    }
    resolver = PartnerResolver.from_env("PARTNERS", environ=env, clock=clock, **sts_options(sts))
    assert resolver.partner_ids() == ["acme"]
    resolver.client("acme")
    assert sts.calls[0]["ExternalId"] == "ext-1"
    assert PartnerResolver.from_env("UNSET_VAR", environ={}).partner_ids() == []


# -- deadline --------------------------------------------------------------------------------------


def test_deadline_refuses_to_start_assume_role(sts: RecordingSTS, clock: FakeClock) -> None:
    resolver = resolver_for(sts, clock, make_partner("acme"))
    spent = Deadline.from_seconds(0.1, margin=0.5)
    with pytest.raises(DeadlineExceededError, match="AssumeRole"):
        resolver.client("acme", deadline=spent)
    with pytest.raises(DeadlineExceededError):
        resolver.transport("acme", deadline=spent)
    assert sts.calls == []

    client = resolver.client("acme", deadline=Deadline.from_seconds(30))
    assert len(sts.calls) == 1
    # A cache hit sends nothing, so even a spent deadline gets the cached client.
    assert resolver.client("acme", deadline=spent) is client


def test_deadline_of_a_transport_call_refuses_a_refresh(sts: RecordingSTS, clock: FakeClock) -> None:
    resolver = resolver_for(sts, clock, make_partner("acme"))
    transport = resolver.transport("acme")
    expiry = sts.responses[0]["Credentials"]["Expiration"]
    clock.set(expiry - timedelta(seconds=60))  # mandatory window: the request must refresh first

    # Plenty of time when the transport checks, none left by the time the refresh would start.
    ticks = iter([0.0] + [100.0] * 10)
    deadline = Deadline(10.0, margin=0.0, clock=lambda: next(ticks))
    with pytest.raises(DeadlineExceededError, match="AssumeRole"):
        transport.call("ListTables", {}, deadline=deadline)
    assert len(sts.calls) == 1

    transport.call("ListTables", {})
    assert len(sts.calls) == 2


# -- logs, reprs and the partner context -----------------------------------------------------------


def exercise(resolver: PartnerResolver, sts: RecordingSTS, clock: FakeClock) -> None:
    """Assume, call, refresh, fail: everything that could log something."""
    with use_partner("acme"):
        client = resolver.client("acme")
        client.list_tables()
        clock.set(sts.responses[0]["Credentials"]["Expiration"] - timedelta(seconds=200))
        sts.fail_next = 1
        client.list_tables()  # advisory refresh fails and is logged by botocore
        client.list_tables()  # and succeeds
        logging.getLogger("payments").info("done with %r and %r", resolver, resolver.transport("acme"))
    sts.fail_next = 1
    with pytest.raises(AssumeRoleError) as info:
        resolver.client("globex")
    logging.getLogger("payments").error("failed", exc_info=info.value)


def test_credentials_never_reach_our_logs(
    sts: RecordingSTS, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    acme, globex = make_partner("acme", "111122223333"), make_partner("globex", "444455556666")
    resolver = resolver_for(sts, clock, acme, globex)
    caplog.set_level(logging.DEBUG, logger="dynagen")
    exercise(resolver, sts, clock)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("dynagen"))
    assert "assumed role arn:aws:iam::********3333:role/dynagen/acme-reader for partner acme" in ours
    assert len(sts.secrets()) == 6
    for secret in [*sts.secrets(), acme.external_id, globex.external_id, "111122223333", "444455556666"]:
        assert secret not in ours


def test_log_filter_redacts_botocore_debug_output(
    sts: RecordingSTS, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    acme, globex = make_partner("acme", "111122223333"), make_partner("globex", "444455556666")
    resolver = resolver_for(sts, clock, acme, globex)
    caplog.handler.addFilter(PartnerLogFilter())
    caplog.set_level(logging.DEBUG)
    exercise(resolver, sts, clock)
    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    if sts.endpoint is None:  # botocore's STS client logs the response body at DEBUG; the lean one does not
        assert "<SecretAccessKey>****</SecretAccessKey>" in text, "botocore logged the STS response body"
    for secret in [*sts.secrets(), acme.external_id, globex.external_id]:
        assert secret not in text
    assert "arn:aws:iam::********6666:role/dynagen/globex-reader" in text
    assert any(getattr(r, "partner", None) == "acme" for r in caplog.records)


def test_reprs_show_no_secrets(sts: RecordingSTS, clock: FakeClock) -> None:
    acme = make_partner("acme", "111122223333")
    resolver = resolver_for(sts, clock, acme)
    client = resolver.client("acme")
    shown = " ".join(
        [
            repr(resolver),
            repr(acme),
            str(acme),
            repr(resolver.transport("acme")),
            repr(list(resolver._entries.values())),
            repr(client._request_signer._credentials),
        ]
    )
    for secret in [*sts.secrets(), acme.external_id, "111122223333"]:
        assert secret not in shown
    assert "********3333" in repr(acme)


def test_use_partner_sets_and_restores_the_context() -> None:
    assert current_partner.get() == ""
    with use_partner("acme") as p:
        assert p == current_partner.get() == "acme"
        with use_partner("globex"):
            assert current_partner.get() == "globex"
        assert current_partner.get() == "acme"
        seen: list[str] = []
        other = threading.Thread(target=lambda: seen.append(current_partner.get()))
        other.start()
        other.join()
        assert seen == [""], "a new thread starts without a partner"
    with pytest.raises(RuntimeError), use_partner("x"):
        raise RuntimeError
    assert current_partner.get() == ""


def test_log_filter_adds_partner_and_masks(caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(PartnerLogFilter())
    log = logging.getLogger("payments")
    with caplog.at_level(logging.INFO, logger="payments"), use_partner("acme"):
        log.info("role %s key %s", "arn:aws:iam::123456789012:role/x", "AKIAABCDEFGHIJKLMNOP")
        try:
            raise ValueError("arn:aws:sts::123456789012:assumed-role/x/s")
        except ValueError:
            log.exception("boom")
    first, _ = caplog.records
    assert first.partner == "acme"  # type: ignore[attr-defined]
    assert first.getMessage() == "role arn:aws:iam::********9012:role/x key AKIA****"
    assert "arn:aws:sts::********9012:assumed-role/x/s" in caplog.text
    assert "123456789012" not in caplog.text


def test_redact_secrets_patterns() -> None:
    text = (
        "{'SecretAccessKey': 'abc/def+ghi', \"SessionToken\": \"FQoG/x+y=\", "
        "headers={'X-Amz-Security-Token': b'IQoJb3JpZ2luX2VjE'} ExternalId=ext-acme-1&Version=2011 "
        "Credential=ASIAABCDEFGHIJKLMNOP/20240101"
    )
    out = redact_secrets(text)
    for secret in ("abc/def+ghi", "FQoG/x+y=", "IQoJb3JpZ2luX2VjE", "ext-acme-1", "ABCDEFGHIJKLMNOP"):
        assert secret not in out
    assert "Version=2011" in out
    assert redact_secrets("NextToken=abc 12 arn:aws:s3:::bucket") == "NextToken=abc 12 arn:aws:s3:::bucket"


def test_install_partner_log_filter_is_idempotent() -> None:
    logger = logging.getLogger("dynagen-test-install")
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    try:
        install_partner_log_filter(logger)
        install_partner_log_filter(logger)
        assert sum(isinstance(f, PartnerLogFilter) for f in handler.filters) == 1
    finally:
        logger.removeHandler(handler)


def test_module_imports_no_botocore() -> None:
    code = (
        "import sys, dynagen.runtime.accounts._resolver, dynagen.runtime.accounts._partners; "
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('botocore', 'boto3', 'yaml')]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- property: nobody ever gets someone else's client ----------------------------------------------

_IDS = ["acme", "globex", "initech", "umbrella", "hooli"]
_ops = st.lists(
    st.tuples(
        st.sampled_from(["client", "transport", "remove", "add", "replace", "invalidate"]), st.sampled_from(_IDS)
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(initial=st.sets(st.sampled_from(_IDS)), ops=_ops)
def test_no_partner_ever_receives_another_partners_client(
    sts: RecordingSTS, clock: FakeClock, initial: set[str], ops: list[tuple[str, str]]
) -> None:
    accounts = iter(f"{n:012d}" for n in range(10**6, 10**7))
    config = {pid: make_partner(pid, next(accounts)) for pid in sorted(initial)}
    resolver = resolver_for(sts, clock, *config.values())
    handed: dict[int, str] = {}  # id(client) -> the partner it was handed to
    for op, pid in ops:
        if op in ("client", "transport"):
            if pid not in config:
                with pytest.raises(UnknownPartnerError):
                    resolver.client(pid)
                continue
            client = resolver.client(pid) if op == "client" else resolver.transport(pid).client
            assert handed.setdefault(id(client), pid) == pid
            assert sts.issued_for()[signing_key(client)] == config[pid].role_arn
            assert client.meta.region_name == config[pid].region
        elif op == "remove":
            assert resolver.remove_partner(pid) is (pid in config)
            config.pop(pid, None)
        elif op == "add" and pid not in config:
            config[pid] = make_partner(pid, next(accounts))
            resolver.add_partner(config[pid])
        elif op == "replace":
            config[pid] = make_partner(pid, next(accounts))
            resolver.add_partner(config[pid], replace=True)
        elif op == "invalidate":
            resolver.invalidate(pid)
    # Every AssumeRole carried the role and external ID of the partner named in its session name.
    for call in sts.calls:
        pid = call["RoleSessionName"].split("-")[1]
        assert call["RoleArn"].endswith(f":role/dynagen/{pid}-reader")
        assert call["ExternalId"] == f"ext-{pid}-s3cr3t"

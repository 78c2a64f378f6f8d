"""STS AssumeRole on the lean stack: a loopback STS that checks signatures, hostile answers, deadlines.

The loopback STS (tests/_stub_sts.py) verifies every request's SigV4 signature from the
specification, so "accepted" means what STS would accept. Base credentials come from the
environment (tests/conftest.py) unless a test sets others.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import pytest
from _stub_sts import HANG, StsRequest, StubSTS, credentials_xml, error_xml, serve, sts_server
from hypothesis import given
from hypothesis import strategies as st

from dynagen.errors import AssumeRoleError, DeadlineExceededError, ServiceError, ThrottlingError, TransportError
from dynagen.runtime.accounts._partners import Partner
from dynagen.runtime.accounts._redaction import PartnerLogFilter
from dynagen.runtime.accounts._resolver import PartnerResolver
from dynagen.runtime.aws_lambda._environment import ClientSettings
from dynagen.runtime.transport._bounds import Deadline
from dynagen.runtime.transport.lean._credentials import RefreshingCredentials
from dynagen.runtime.transport.lean._sts import HostileXMLError, StsClient, form_encode, parse_xml, sts_endpoint

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "111122223333"
CALLER_ACCOUNT = "999988887777"
EXTERNAL_ID = "ext+acme=s3cr3t,x.y@z:w/v-u"  # every character STS allows outside letters and digits
SECRET = "stub-secret-value-Zx81Zx81Zx81Zx81"
TOKEN = "stub-session-token-Qp42Qp42Qp42Qp42Qp42"
FAST = ClientSettings(connect_timeout=1.0, read_timeout=1.0, max_attempts=3)


def acme(**kwargs: Any) -> Partner:
    fields: dict[str, Any] = {
        "partner_id": "acme",
        "role_arn": f"arn:aws:iam::{ACCOUNT}:role/payments",
        "external_id": EXTERNAL_ID,
        "region": "us-east-1",
    }
    fields.update(kwargs)
    return Partner(**fields)


def resolver_at(stub: StubSTS, *partners: Partner, **kwargs: Any) -> PartnerResolver:
    kwargs.setdefault("settings", FAST)
    return PartnerResolver(partners or (acme(),), sts_endpoint_url=stub.endpoint, **kwargs)


def issue(request: StsRequest, n: int) -> tuple[int, str]:
    return credentials_xml(secret=SECRET, token=TOKEN)


ACCESS_DENIED = error_xml(
    "AccessDenied",
    f"User: arn:aws:sts::{CALLER_ACCOUNT}:assumed-role/payments-lambda/payments-api is not authorized "
    f"to perform: sts:AssumeRole on resource: arn:aws:iam::{ACCOUNT}:role/payments",
)


def chain(exc: BaseException | None) -> str:
    """The text of an exception and of every cause / context below it."""
    parts = []
    while exc is not None:
        parts.append(f"{type(exc).__name__}: {exc}")
        exc = exc.__cause__ or exc.__context__
    return "\n".join(parts)


# -- the request: signed, with the parameters STS expects ---------------------------------------------


def test_the_signature_is_accepted_and_the_parameters_are_sent() -> None:
    with sts_server(issue) as stub:
        resolver = resolver_at(stub, acme(session_duration=7200))
        transport = resolver.transport("acme", kind="lean")
    (request,) = stub.requests
    assert request.signature_ok, request.problem
    assert request.access_key == os.environ["AWS_ACCESS_KEY_ID"]  # signed with the base account's key
    assert request.params["Action"] == "AssumeRole" and request.params["Version"] == "2011-06-15"
    assert request.params["RoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/payments"
    assert request.params["ExternalId"] == EXTERNAL_ID  # "+" would arrive as a space if sent unencoded
    assert request.params["DurationSeconds"] == "7200"
    assert re.fullmatch(r"dynagen-acme-[0-9a-f]{8}", request.params["RoleSessionName"])
    assert request.headers["content-type"] == "application/x-www-form-urlencoded; charset=utf-8"
    assert "/us-east-1/sts/aws4_request" in request.headers["authorization"]
    signing = transport._credentials()
    assert (signing.access_key, signing.secret_key, signing.token) == ("ASIASTUBSTUBSTUBSTUB", SECRET, TOKEN)


def test_no_duration_seconds_unless_configured_and_the_session_token_is_signed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SESSION_TOKEN", "base-session-token-for-the-lambda-role")
    with sts_server(issue) as stub:
        resolver_at(stub).transport("acme", kind="lean")
    (request,) = stub.requests
    assert request.signature_ok, request.problem
    assert "DurationSeconds" not in request.params
    assert request.headers["x-amz-security-token"] == "base-session-token-for-the-lambda-role"


def test_a_wrong_signature_is_refused_by_the_stub(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server-side check is not vacuous: a request signed with another secret is refused."""
    with sts_server(issue, secret_of=lambda key: "not-the-secret-the-client-has") as stub:
        resolver = resolver_at(stub)
        with pytest.raises(AssumeRoleError, match="SignatureDoesNotMatch: signature does not match"):
            resolver.transport("acme", kind="lean")
    assert len(stub.requests) == 1 and not stub.requests[0].signature_ok  # a 403: not retried


@given(st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=30), max_size=5))
def test_form_encoding_is_rfc3986_percent_encoding(params: dict[str, str]) -> None:
    body = form_encode(params)
    assert body == "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in params.items())
    assert dict(parse_qsl(body, keep_blank_values=True)) == params


def test_endpoint_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_STS", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert sts_endpoint("eu-west-1").url == "https://sts.eu-west-1.amazonaws.com"
    assert sts_endpoint("cn-north-1").url == "https://sts.cn-north-1.amazonaws.com.cn"
    assert sts_endpoint("us-gov-west-1").url == "https://sts.us-gov-west-1.amazonaws.com"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    assert sts_endpoint("eu-west-1").url == "http://127.0.0.1:4566"
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "https://vpce-1.sts.eu-west-1.vpce.amazonaws.com")
    assert sts_endpoint("eu-west-1").url == "https://vpce-1.sts.eu-west-1.vpce.amazonaws.com"
    assert sts_endpoint("eu-west-1", "http://localhost:9000").host_header == "localhost:9000"  # explicit wins
    with pytest.raises(ValueError, match="path"):
        sts_endpoint("eu-west-1", "https://sts.example.com/some/path")


def test_aws_endpoint_url_sts_reaches_the_lean_client(monkeypatch: pytest.MonkeyPatch) -> None:
    with sts_server(issue) as stub:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", stub.endpoint)
        PartnerResolver([acme()], settings=FAST).transport("acme", kind="lean")
    assert len(stub.requests) == 1 and stub.requests[0].signature_ok


# -- the answer: XML, errors, hostile documents ---------------------------------------------------------


def test_parse_xml_reads_leaves_by_path() -> None:
    _, body = credentials_xml(secret=SECRET, token=TOKEN, access_key="ASIAEXAMPLE000000001")
    leaves = parse_xml(body.encode())
    assert leaves["AssumeRoleResponse/AssumeRoleResult/Credentials/SecretAccessKey"] == SECRET
    assert leaves["AssumeRoleResponse/ResponseMetadata/RequestId"] == "c6104cbe-af31-11e0-8154-cbc7ccf896c7"
    assert "AssumeRoleResponse/AssumeRoleResult/Credentials" not in leaves  # not a leaf
    prefixed = parse_xml(b"<sts:R xmlns:sts='urn:x'><sts:Code>A&amp;B</sts:Code><Empty/></sts:R>")
    assert prefixed == {"R/Code": "A&B", "R/Empty": ""}
    with pytest.raises(ValueError, match="not well-formed"):
        parse_xml(b"<a><b></a>")
    with pytest.raises(ValueError, match="not well-formed"):
        parse_xml(b"<a>&undefined;</a>")  # no DTD: an undefined entity is an error, never a lookup


HOSTILE = {
    "billion laughs": (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
        + "]><AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>&lol9;</AccessKeyId>"
        "</Credentials></AssumeRoleResult></AssumeRoleResponse>"
    ),
    "external entity": (
        '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<AssumeRoleResponse><AssumeRoleResult><Credentials><SessionToken>&x;</SessionToken>"
        "</Credentials></AssumeRoleResult></AssumeRoleResponse>"
    ),
    "parameter entity": '<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]><r/>',
    "external DTD": '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r/>',
    "deep nesting": "<a>" * 100 + "</a>" * 100,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_xml_is_refused_before_expansion(name: str) -> None:
    with pytest.raises(HostileXMLError):
        parse_xml(HOSTILE[name].encode())


@pytest.mark.parametrize("name", ["billion laughs", "external entity"])
def test_a_hostile_sts_answer_is_an_assume_role_error_and_not_retried(name: str) -> None:
    with (
        sts_server(lambda r, n: (200, HOSTILE[name])) as stub,
        pytest.raises(AssumeRoleError, match=r"STS answer refused .*DOCTYPE"),
    ):
        resolver_at(stub).transport("acme", kind="lean")
    assert len(stub.requests) == 1


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ((200, "this is not XML"), "unreadable STS answer"),
        ((200, "<AssumeRoleResponse/>"), "no usable Credentials"),
        ((200, credentials_xml(token="line\r\nX-Injected: 1")[1].replace("\r\n", "&#13;&#10;")), "no usable Credentials"),
        ((200, credentials_xml()[1].replace("<Expiration>", "<Expiration>not-a-date")), "no usable Credentials"),
        ((200, credentials_xml()[1].replace("</AssumeRoleResponse>", "<pad>" + "x" * (1 << 20) + "</pad></AssumeRoleResponse>")),
         "larger than max_response_bytes=1048576"),
    ],
    ids=["not xml", "no credentials", "CR/LF in the token", "bad expiration", "too large"],
)  # fmt: skip
def test_unusable_answers_are_assume_role_errors(answer: tuple[int, str], expected: str) -> None:
    with sts_server(lambda r, n: answer) as stub:
        resolver = resolver_at(stub)
        with pytest.raises(AssumeRoleError, match=expected):
            resolver.transport("acme", kind="lean")
        assert "acme" not in repr(resolver).split("cached=")[1]  # nothing cached: the next call tries again
    assert len(stub.requests) == 1


def test_error_answers_mask_account_ids_and_are_not_retried() -> None:
    with sts_server(lambda r, n: ACCESS_DENIED) as stub, pytest.raises(AssumeRoleError) as caught:
        resolver_at(stub).transport("acme", kind="lean")
    assert len(stub.requests) == 1
    text = chain(caught.value)  # the chained cause included
    assert "AccessDenied" in text and "payments-lambda" in text
    assert "arn:aws:iam::********3333:role/payments" in str(caught.value)
    assert ACCOUNT not in text and CALLER_ACCOUNT not in text and EXTERNAL_ID not in text
    cause = caught.value.__cause__
    assert isinstance(cause, ServiceError) and (cause.code, cause.status, cause.request_id) == ("AccessDenied", 403, "stub-1")
    assert caught.value.role_arn == acme().role_arn


def test_throttling_and_server_errors_are_retried_with_backoff() -> None:
    answers = [error_xml("Throttling", "Rate exceeded", 400), (502, "<html>bad gateway</html>"), error_xml("InternalFailure", "x", 500, "Receiver")]
    with sts_server(lambda r, n: answers[n - 1] if n <= 3 else issue(r, n)) as stub:
        client = StsClient("us-east-1", endpoint_url=stub.endpoint, max_attempts=4)
        sleeps: list[float] = []
        client._sleep = sleeps.append
        result = client.assume_role(RoleArn=acme().role_arn, RoleSessionName="s", ExternalId=EXTERNAL_ID)
        assert result["Credentials"]["SecretAccessKey"] == SECRET
        assert result["Credentials"]["Expiration"].tzinfo is not None
        assert len(stub.requests) == 4 and len(sleeps) == 3
        assert client.retry_quota.available < client.retry_quota.capacity  # retries cost quota
    # When the attempts run out, the last answer is the error.
    with sts_server(lambda r, n: error_xml("Throttling", "Rate exceeded", 400)) as stub:
        client = StsClient("us-east-1", endpoint_url=stub.endpoint, max_attempts=2)
        client._sleep = sleeps.append
        with pytest.raises(ThrottlingError, match="Throttling: Rate exceeded"):
            client.assume_role(RoleArn=acme().role_arn, RoleSessionName="s")
        assert len(stub.requests) == 2


def test_a_closed_port_is_an_assume_role_error_after_the_retries() -> None:
    with sts_server(issue) as stub:
        endpoint = stub.endpoint
    resolver = PartnerResolver([acme()], sts_endpoint_url=endpoint, settings=FAST)
    with pytest.raises(AssumeRoleError, match=r"TransportError: AssumeRole: cannot connect to http://127.0.0.1") as caught:
        resolver.transport("acme", kind="lean")
    assert isinstance(caught.value.__cause__, TransportError)


def test_the_answer_matches_what_botocore_parses_from_motos_sts() -> None:
    """Differential: moto's real AssumeRole XML, parsed by botocore and by the lean client."""
    import boto3  # type: ignore[import-untyped]
    from moto import mock_aws

    bodies: list[bytes] = []
    with mock_aws():
        client = boto3.client("sts", region_name="us-east-1")
        client.meta.events.register("before-parse.sts.AssumeRole", lambda response_dict, **_: bodies.append(response_dict["body"]))
        parsed = client.assume_role(RoleArn=acme().role_arn, RoleSessionName="session", ExternalId="x1", DurationSeconds=900)
    from dynagen.runtime.transport.lean._sts import _assume_role_result

    ours = _assume_role_result(parse_xml(bodies[0]))
    assert ours["Credentials"] == parsed["Credentials"]
    assert ours["AssumedRoleUser"] == parsed["AssumedRoleUser"]


# -- deadlines --------------------------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_unresponsive_sts_ends_at_the_deadline_not_after_the_retries() -> None:
    """1.0 s usable, 30 s read timeout, 5 attempts: the one attempt is cut to the usable time."""
    slow = ClientSettings(connect_timeout=5.0, read_timeout=30.0, max_attempts=5)
    with sts_server(lambda r, n: HANG) as stub:
        resolver = resolver_at(stub, settings=slow)
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError) as caught:
            resolver.transport("acme", kind="lean", deadline=Deadline.from_seconds(1.5, margin=0.5))
        elapsed = time.monotonic() - started
        requests = len(stub.requests)
    assert caught.value.operation == "AssumeRole(acme): STS response", caught.value.operation
    assert 0.9 <= elapsed < 1.4, elapsed  # about the usable second, inside the hard deadline
    assert requests == 1
    assert "acme" not in repr(resolver).split("cached=")[1]


@pytest.mark.timeout(60)
def test_throttled_sts_retries_stop_at_the_deadline() -> None:
    with sts_server(lambda r, n: error_xml("Throttling", "Rate exceeded", 400)) as stub:
        resolver = resolver_at(stub, settings=ClientSettings(read_timeout=5.0, max_attempts=10))
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError) as caught:
            resolver.transport("acme", kind="lean", deadline=Deadline.from_seconds(1.2, margin=0.2))
        elapsed = time.monotonic() - started
    assert caught.value.operation in ("AssumeRole(acme): STS retry", "AssumeRole(acme): STS attempt")
    assert 1 <= len(stub.requests) < 10
    assert elapsed < 1.2, elapsed  # no backoff sleeps past the usable time


@pytest.mark.timeout(60)
def test_a_trickling_sts_is_cut_at_connect_plus_read_timeout_without_a_deadline() -> None:
    """One byte every 0.2 s never trips a 0.5 s read timeout; the attempt's 1.0 s bound ends it."""
    import socket

    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 4096\r\n\r\n"
            conn.sendall(head)
            while not stop.wait(0.2):
                try:
                    conn.sendall(b" ")
                except OSError:
                    return

    threading.Thread(target=trickle, daemon=True).start()
    client = StsClient("us-east-1", endpoint_url=f"http://127.0.0.1:{server.getsockname()[1]}",
                       connect_timeout=0.5, read_timeout=0.5, max_attempts=1)  # fmt: skip
    started = time.monotonic()
    try:
        with pytest.raises(TransportError, match="no complete response"):
            client.assume_role(RoleArn=acme().role_arn, RoleSessionName="session")
    finally:
        stop.set()
        server.close()
    assert time.monotonic() - started < 5.0  # 4096 bytes at 5 a second would take 13 minutes


def test_a_spent_deadline_sends_nothing_and_a_cache_hit_needs_no_time() -> None:
    with sts_server(issue) as stub:
        resolver = resolver_at(stub)
        spent = Deadline.from_seconds(0.1, margin=0.5)
        with pytest.raises(DeadlineExceededError, match=r"AssumeRole\(acme\)"):
            resolver.transport("acme", kind="lean", deadline=spent)
        assert stub.requests == []
        transport = resolver.transport("acme", kind="lean", deadline=Deadline.from_seconds(5))
        assert resolver.transport("acme", kind="lean", deadline=spent) is transport
    assert len(stub.requests) == 1


def test_slow_sts_within_the_deadline_succeeds() -> None:
    def slow(request: StsRequest, n: int) -> tuple[int, str]:
        time.sleep(0.3)
        return issue(request, n)

    with sts_server(slow) as stub:
        transport = resolver_at(stub).transport("acme", kind="lean", deadline=Deadline.from_seconds(1.5, margin=0.5))
    assert transport._credentials().secret_key == SECRET and len(stub.requests) == 1


# -- credentials expired by the local clock (issue 18, item 6) -------------------------------------------


def test_credentials_already_expired_by_the_local_clock_are_a_clear_error() -> None:
    past = datetime.now(UTC) - timedelta(minutes=5)  # this machine's clock runs ahead of STS's
    with (
        sts_server(lambda r, n: credentials_xml(expiration=past)) as stub,
        pytest.raises(AssumeRoleError, match=r"already past by the local clock .* is this machine's clock right"),
    ):
        resolver_at(stub).transport("acme", kind="lean")


# -- no secret in logs, reprs or errors ------------------------------------------------------------------


def test_no_secret_reaches_logs_reprs_or_errors(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    base_secret, base_token = "BASEsecretKEY0123456789abcdefghijklmnopq", "BASEsessionTOKEN0123456789abcdefghij"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", base_secret)
    monkeypatch.setenv("AWS_SESSION_TOKEN", base_token)
    caplog.handler.addFilter(PartnerLogFilter())
    caplog.set_level(logging_debug())
    clock = [datetime.now(UTC)]
    answers = iter([ACCESS_DENIED, credentials_xml(secret=SECRET, token=TOKEN), error_xml("Throttling", "x", 400)])

    def respond(request: StsRequest, n: int) -> tuple[int, str]:
        return next(answers, credentials_xml(secret=SECRET + "2", token=TOKEN + "2"))

    errors: list[BaseException] = []
    with sts_server(respond) as stub:
        resolver = resolver_at(stub, clock=lambda: clock[0], settings=ClientSettings(max_attempts=1))
        with pytest.raises(AssumeRoleError) as denied:
            resolver.transport("acme", kind="lean")
        errors.append(denied.value)
        transport = resolver.transport("acme", kind="lean")
        credentials = transport._credentials._source  # type: ignore[attr-defined]
        clock[0] = credentials.expiry - timedelta(seconds=200)  # advisory window: a failed refresh is logged
        transport._credentials()
        clock[0] = credentials.expiry - timedelta(seconds=100)  # mandatory: refreshed
        transport._credentials()
        clock[0] = datetime.now(UTC)
        import logging

        logging.getLogger("payments").error("failed", exc_info=denied.value)
        shown = " ".join(
            repr(x)
            for x in (resolver, transport, credentials, resolver._entries["acme"], resolver._clients.lean_sts("us-east-1"),
                      transport._credentials(), acme())
        )  # fmt: skip
    text = "\n".join([caplog.text, *(r.getMessage() for r in caplog.records), shown, *(chain(e) for e in errors)])
    assert "refreshing credentials (dynagen-assume-role) failed in the advisory window" in caplog.text
    assert "AccessDenied" in caplog.text and len(stub.requests) == 4
    for secret in (EXTERNAL_ID, SECRET, TOKEN, SECRET + "2", TOKEN + "2", base_secret, base_token, ACCOUNT, CALLER_ACCOUNT):
        assert secret not in text, secret


def logging_debug() -> int:
    import logging

    return logging.DEBUG


# -- base credentials from the container credentials endpoint (Lambda SnapStart, ECS) ---------------------


@contextmanager
def container_endpoint(answers: list[tuple[int, dict[str, Any]]]) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A loopback container credentials endpoint: GET /creds, answers in turn (the last one repeats)."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
            status, payload = answers[min(len(seen), len(answers)) - 1]
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve(Handler) as endpoint:
        yield f"{endpoint}/creds", seen


def container_creds(key: str, minutes: float) -> tuple[int, dict[str, Any]]:
    expiry = (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return 200, {"AccessKeyId": key, "SecretAccessKey": f"{key}-secret", "Token": f"{key}-token", "Expiration": expiry}


def test_base_credentials_from_the_container_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    token_file = tmp_path / "token"
    token_file.write_text("container-auth-token\n")
    # The first answer has 5 minutes left: inside the container credentials' 15-minute advisory window, so
    # its first use refreshes it; the second lasts an hour.
    with container_endpoint([container_creds("ASIACONTAINER0000001", 5), container_creds("ASIACONTAINER0000002", 60)]) as (url, seen):
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url)
        monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", str(token_file))
        with sts_server(issue, secret_of=lambda key: f"{key}-secret") as stub:
            resolver = resolver_at(stub, acme(), acme(partner_id="globex"))
            resolver.transport("acme", kind="lean")
            resolver.transport("globex", kind="lean")
    assert [r.signature_ok for r in stub.requests] == [True, True]
    assert [r.access_key for r in stub.requests] == ["ASIACONTAINER0000002"] * 2
    assert [r.headers["x-amz-security-token"] for r in stub.requests] == ["ASIACONTAINER0000002-token"] * 2
    assert len(seen) == 2 and all(s["path"] == "/creds" and s["authorization"] == "container-auth-token" for s in seen)


def test_container_endpoint_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    from dynagen.runtime.transport.lean._credentials import ContainerCredentials

    with pytest.raises(TransportError, match="plain http only to a loopback address"):
        ContainerCredentials({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://203.0.113.9/creds"})
    ContainerCredentials({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://creds.example.com/x"})  # https: any host
    relative = ContainerCredentials({"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"})
    assert relative._pool.endpoint.url == "http://169.254.170.2" and relative._target == "/v2/credentials/abc"
    environ = {"AWS_CONTAINER_AUTHORIZATION_TOKEN": "t"}
    with (
        container_endpoint([(403, {"message": "bad token"})]) as (url, seen),
        pytest.raises(TransportError, match="gave no credentials: status 403"),
    ):
        ContainerCredentials({**environ, "AWS_CONTAINER_CREDENTIALS_FULL_URI": url}).fetch()
    assert len(seen) == 1  # a refusal is not retried
    with (
        container_endpoint([(200, {"AccessKeyId": "A", "SecretAccessKey": "very-secret-key"})]) as (url, _),
        pytest.raises(TransportError, match="unusable") as caught,
    ):
        ContainerCredentials({"AWS_CONTAINER_CREDENTIALS_FULL_URI": url}).fetch()
    assert "very-secret-key" not in chain(caught.value)
    with pytest.raises(TransportError, match="line break"):
        ContainerCredentials({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/x",
                              "AWS_CONTAINER_AUTHORIZATION_TOKEN": "a\r\nX-Evil: 1"}).fetch()  # fmt: skip


# -- a fresh process serving a partner on the lean transport never imports botocore -----------------------

_FRESH_PROCESS = r"""
import json, sys
before = set(sys.modules)
from dynagen.runtime import Deadline, PartnerResolver
from generated_example.payments import PaymentRepository

resolver = PartnerResolver.from_env()
transport = resolver.transport("acme", deadline=Deadline.from_seconds(10))  # lean: inside Lambda by default
assert type(transport).__name__ == "LeanTransport", transport
payment = PaymentRepository(transport).get(partner_id="acme", payment_id="pay-1")
assert payment.payment_id == "pay-1", payment
print(json.dumps(sorted(set(sys.modules) - before)))
"""

# What the cold path must not load (tests/test_cold_imports.py has the reasons).
_HEAVY = ("botocore", "boto3", "urllib3", "typing", "urllib", "http", "email", "random", "zlib")


@pytest.mark.parametrize("base", ["environment", "container endpoint"])
def test_a_fresh_process_serving_a_partner_never_imports_botocore(base: str) -> None:
    from benchmarks._fixtures import json_safe, make_payment
    from benchmarks._stub import InstantStub

    item = json_safe(make_payment(0, partner_id="acme").to_item())
    item["paymentId"] = {"S": "pay-1"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON", "DYNAGEN_"))}
    with (
        InstantStub({"GetItem": {"Item": item}}) as dynamodb,
        contextmanager_or_none(base) as container,
        sts_server(issue, secret_of=lambda key: "base-secret" if key == "AKIABASE" else f"{key}-secret") as stub,
    ):
        partners = {"acme": {"role_arn": acme().role_arn, "external_id": EXTERNAL_ID, "region": "eu-west-1",
                             "endpoint_url": dynamodb.endpoint}}  # fmt: skip
        env.update(PYTHONPATH=str(ROOT), AWS_REGION="eu-west-1", AWS_LAMBDA_FUNCTION_NAME="payments",
                   DYNAGEN_PARTNERS=json.dumps(partners), AWS_ENDPOINT_URL_STS=stub.endpoint)  # fmt: skip
        if container is None:
            env.update(AWS_ACCESS_KEY_ID="AKIABASE", AWS_SECRET_ACCESS_KEY="base-secret")
        else:
            env.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=container, AWS_CONTAINER_AUTHORIZATION_TOKEN="t")
        result = subprocess.run([sys.executable, "-c", _FRESH_PROCESS], capture_output=True, text=True, env=env,
                                cwd=ROOT, check=False, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert "dynagen.runtime.transport.lean._sts" in loaded  # the lean STS client did the AssumeRole
    heavy = sorted(m for m in loaded if m.split(".")[0] in _HEAVY)
    assert not heavy, f"serving a partner imported {heavy}"
    assert len(stub.requests) == 1 and stub.requests[0].signature_ok, stub.requests


@contextmanager
def contextmanager_or_none(base: str) -> Iterator[str | None]:
    if base == "environment":
        yield None
        return
    with container_endpoint([container_creds("ASIACONTAINER0000009", 60)]) as (url, _):
        yield url


def test_refreshing_credentials_are_what_lean_partners_get() -> None:
    with sts_server(issue) as stub:
        resolver = resolver_at(stub)
        lean = resolver.transport("acme", kind="lean")
        client = resolver.client("acme")  # a botocore client afterwards shares the same credentials object
    source = lean._credentials._source  # type: ignore[attr-defined]
    assert type(source) is RefreshingCredentials and client._request_signer._credentials is source
    assert client._request_signer._credentials.get_frozen_credentials().secret_key == SECRET
    assert len(stub.requests) == 1

"""A loopback STS (stdlib HTTP server) that checks every request's SigV4 signature as STS does.

The check is written here from the SigV4 specification (not with dynagen's signer): the canonical
request is rebuilt from what arrived (the headers ``SignedHeaders`` names, the body's SHA-256), the
signing key derived from the secret of the access key the ``Credential`` names, and the signature
compared. A request that fails it gets STS's ``SignatureDoesNotMatch`` answer (403).

``respond(request, n)`` answers the n-th request (from 1): ``(status, xml)`` or ``HANG`` (read the
request, never answer). ``front(recording_sts)`` answers like moto's STS behind a ``RecordingSTS``
(tests/test_accounts.py): the same calls, credentials and failures, now over HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

Reply = tuple[int, str]
HANG = None

ACCOUNT = "111122223333"


def credentials_xml(
    access_key: str = "ASIASTUBSTUBSTUBSTUB",
    secret: str = "stub-secret-value-0123456789",
    token: str = "stub-session-token-0123456789",
    expiration: datetime | None = None,
    role_arn: str = f"arn:aws:iam::{ACCOUNT}:role/payments",
) -> Reply:
    """A successful AssumeRole answer, as STS writes it (namespace, ResponseMetadata, Z timestamp)."""
    expiry = (expiration or datetime.now(UTC) + timedelta(hours=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assumed = role_arn.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/") + "/session"
    body = f"""<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <SourceIdentity/>
    <AssumedRoleUser>
      <AssumedRoleId>AROASTUBSTUBSTUB:session</AssumedRoleId>
      <Arn>{escape(assumed)}</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>{escape(access_key)}</AccessKeyId>
      <SecretAccessKey>{escape(secret)}</SecretAccessKey>
      <SessionToken>{escape(token)}</SessionToken>
      <Expiration>{expiry}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>
"""
    return 200, body


def error_xml(code: str, message: str, status: int = 403, kind: str = "Sender") -> Reply:
    body = f"""<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>{kind}</Type>
    <Code>{escape(code)}</Code>
    <Message>{escape(message)}</Message>
  </Error>
  <RequestId>stub-request-id</RequestId>
</ErrorResponse>
"""
    return status, body


@dataclass
class StsRequest:
    """One request the stub received."""

    params: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: str
    arrived: float  # time.monotonic()
    access_key: str = ""
    signature_ok: bool = False
    problem: str = ""  # why the signature was refused


@dataclass
class StubSTS:
    endpoint: str
    requests: list[StsRequest] = field(default_factory=list)

    def params(self) -> list[dict[str, str]]:
        return [r.params for r in self.requests]

    @property
    def bodies(self) -> list[str]:
        return [r.body for r in self.requests]


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Run ``handler`` on a free 127.0.0.1 port for the duration of the block; yields ``http://127.0.0.1:<port>``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _environment_secret(access_key: str) -> str | None:
    return os.environ.get("AWS_SECRET_ACCESS_KEY") if access_key == os.environ.get("AWS_ACCESS_KEY_ID") else None


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def verify_sigv4(
    method: str, path: str, headers: Any, body: bytes, secret_of: Callable[[str], str | None], service: str = "sts"
) -> tuple[str, str]:
    """(access key, "") when the signature is valid, else (access key, the reason)."""
    auth = headers.get("Authorization", "")
    algorithm, _, rest = auth.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        return "", f"unknown algorithm {algorithm!r}"
    fields = dict(part.strip().split("=", 1) for part in rest.split(","))
    access_key, date, region, signed_service, terminator = fields["Credential"].split("/")
    amz_date = headers.get("X-Amz-Date", "")
    if signed_service != service or terminator != "aws4_request" or amz_date[:8] != date:
        return access_key, f"bad credential scope {fields['Credential']!r}"
    skew = abs(datetime.now(UTC) - datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC))
    if skew > timedelta(minutes=5):
        return access_key, "signature expired"
    signed = fields["SignedHeaders"].split(";")
    required = {"host", "x-amz-date", "content-type"} | ({"x-amz-security-token"} if "X-Amz-Security-Token" in headers else set())
    if not required <= set(signed):
        return access_key, f"unsigned headers: {sorted(required - set(signed))}"
    canonical_headers = "".join(f"{name}:{','.join(' '.join(v.split()) for v in headers.get_all(name))}\n" for name in signed)
    canonical = "\n".join(
        [method, path, "", canonical_headers, fields["SignedHeaders"], hashlib.sha256(body).hexdigest()]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    secret = secret_of(access_key)
    if secret is None:
        return access_key, f"unknown access key {access_key!r}"
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), service), "aws4_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields["Signature"]):
        return access_key, "signature does not match"
    return access_key, ""


@contextmanager
def sts_server(
    respond: Callable[[StsRequest, int], Reply | None],
    *,
    secret_of: Callable[[str], str | None] = _environment_secret,
) -> Iterator[StubSTS]:
    """Run the stub on a free 127.0.0.1 port for the duration of the block."""
    lock = threading.Lock()
    stop = threading.Event()
    stub: StubSTS

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = -1

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            access_key, problem = verify_sigv4("POST", self.path, self.headers, raw, secret_of)
            request = StsRequest(
                params=dict(parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=raw.decode(),
                arrived=time.monotonic(),
                access_key=access_key,
                signature_ok=not problem,
                problem=problem,
            )
            with lock:
                stub.requests.append(request)
                number = len(stub.requests)
            if problem:
                reply: Reply | None = error_xml("SignatureDoesNotMatch", problem)
            else:
                reply = respond(request, number)
            if reply is HANG:
                stop.wait(60)  # unresponsive: hold the connection, answer nothing
                return
            status, text = reply
            payload = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-amzn-RequestId", f"stub-{number}")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve(Handler) as endpoint:
        stub = StubSTS(endpoint=endpoint)
        try:
            yield stub
        finally:
            stop.set()  # before the server shuts down: it waits for hanging handlers


def front(recording: Any) -> Callable[[StsRequest, int], Reply | None]:
    """Answer with what ``recording.assume_role(**params)`` returns or raises (botocore's ClientError)."""

    def respond(request: StsRequest, _: int) -> Reply | None:
        params: dict[str, Any] = {k: v for k, v in request.params.items() if k not in ("Action", "Version")}
        if "DurationSeconds" in params:
            params["DurationSeconds"] = int(params["DurationSeconds"])
        try:
            response = recording.assume_role(**params)
        except Exception as exc:
            error = getattr(exc, "response", {}).get("Error", {})
            return error_xml(error.get("Code", "InternalFailure"), error.get("Message", str(exc)), 403 if error else 500)
        c = response["Credentials"]
        return credentials_xml(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"], c["Expiration"], params["RoleArn"])

    return respond

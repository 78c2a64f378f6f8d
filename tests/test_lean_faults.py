"""Fault injection for the lean transport with a local stub HTTP server (stdlib, thread, 127.0.0.1)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import pytest

from dynagen.errors import (
    ConditionFailedError,
    DeadlineExceededError,
    ServiceError,
    ThrottlingError,
    TransactionCanceledError,
    TransportError,
)
from dynagen.runtime.transport._bounds import Deadline
from dynagen.runtime.transport.lean import LeanTransport, RetryPolicy, RetryQuota

FAST = RetryPolicy(max_attempts=3, base_delay=0.001, throttling_base_delay=0.001)
OK_ITEM = {"Item": {"PK": {"S": "a"}, "b": {"B": "AAE="}}}


class Stub:
    """Answers each request with the next scripted behaviour (the last one repeats) and records requests."""

    def __init__(self) -> None:
        self.script: list[tuple[Any, ...]] = []
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_CONNECT(self) -> None:
                stub.record(self, b"")
                self.send_response(200, "Connection established")
                self.end_headers()
                self.close_connection = True  # then the TLS handshake fails: enough to see the tunnel asked for

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                behaviour = stub.record(self, body)
                kind = behaviour[0]
                if kind == "json":
                    _, status, payload, extra = behaviour
                    data = json.dumps(payload).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/x-amz-json-1.0")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("x-amz-crc32", str(zlib.crc32(data)))
                    self.send_header("x-amzn-RequestId", "req-1")
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                    if extra.get("Connection") == "close":
                        self.close_connection = True
                elif kind == "raw":
                    _, status, data = behaviour
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                elif kind == "bad_crc":
                    data = json.dumps(OK_ITEM).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("x-amz-crc32", str((zlib.crc32(data) + 1) & 0xFFFFFFFF))
                    self.end_headers()
                    self.wfile.write(data)
                elif kind == "truncate":
                    data = json.dumps(OK_ITEM).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[:10])
                    self.wfile.flush()
                    self.close_connection = True
                elif kind == "hang":
                    time.sleep(behaviour[1])
                    self.close_connection = True
                elif kind == "reset":
                    # RST instead of FIN: the client sees a connection reset while waiting for the response.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                elif kind == "close_after":
                    # A keep-alive response, then the server drops the idle connection (as AWS does).
                    data = json.dumps(OK_ITEM).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def record(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[Any, ...]:
        with self.lock:
            self.requests.append(
                {"path": handler.path, "method": handler.command, "headers": dict(handler.headers), "body": body}
            )
            if len(self.script) > 1:
                return self.script.pop(0)
            return self.script[0] if self.script else ("json", 200, {}, {})

    def then(self, *behaviours: tuple[Any, ...]) -> Stub:
        self.script = list(behaviours)
        return self

    @property
    def attempts(self) -> int:
        return len(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def ok(payload: dict[str, Any] | None = None, **headers: str) -> tuple[Any, ...]:
    return ("json", 200, OK_ITEM if payload is None else payload, headers)


def error(status: int, code: str, message: str = "boom", key: str = "message", **headers: str) -> tuple[Any, ...]:
    return ("json", status, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", key: message}, headers)


@pytest.fixture
def stub() -> Iterator[Stub]:
    server = Stub()
    try:
        yield server
    finally:
        server.close()


def lean(stub: Stub, **kwargs: Any) -> LeanTransport:
    options: dict[str, Any] = {"endpoint_url": stub.endpoint, "credentials": ("AKID", "SECRET"), "retry_policy": FAST}
    options.update(kwargs)
    return LeanTransport("us-east-1", **options)


GET = {"TableName": "t", "Key": {"PK": {"S": "a"}}}
UPDATE = {
    "TableName": "t",
    "Key": {"PK": {"S": "a"}},
    "UpdateExpression": "ADD #n :one",
    "ExpressionAttributeNames": {"#n": "n"},
    "ExpressionAttributeValues": {":one": {"N": "1"}},
}


def test_request_wire_format_and_binary_decoding(stub: Stub) -> None:
    stub.then(ok())
    got = lean(stub).call("PutItem", {"TableName": "t", "Item": {"PK": {"S": "a"}, "b": {"BS": [b"\x00\xff", b"x"]}}})
    assert got == OK_ITEM | {"Item": {"PK": {"S": "a"}, "b": {"B": b"\x00\x01"}}}
    sent = stub.requests[0]
    assert sent["method"] == "POST" and sent["path"] == "/"
    assert sent["headers"]["X-Amz-Target"] == "DynamoDB_20120810.PutItem"
    assert sent["headers"]["Content-Type"] == "application/x-amz-json-1.0"
    assert sent["headers"]["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKID/")
    assert "/us-east-1/dynamodb/aws4_request" in sent["headers"]["Authorization"]
    assert json.loads(sent["body"]) == {"TableName": "t", "Item": {"PK": {"S": "a"}, "b": {"BS": ["AP8=", "eA=="]}}}


def test_session_token_is_sent_and_signed(stub: Stub) -> None:
    stub.then(ok())
    lean(stub, credentials=("AKID", "SECRET", "TOKEN")).call("GetItem", GET)
    headers = stub.requests[0]["headers"]
    assert headers["X-Amz-Security-Token"] == "TOKEN"
    assert "x-amz-security-token" in headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]


def test_throttling_is_retried_then_surfaces_as_throttling_error(stub: Stub) -> None:
    stub.then(error(400, "ProvisionedThroughputExceededException", "slow down"))
    with pytest.raises(ThrottlingError) as caught:
        lean(stub).call("GetItem", GET)
    assert stub.attempts == 3
    assert caught.value.code == "ProvisionedThroughputExceededException"
    assert caught.value.message == "slow down"
    assert caught.value.status == 400
    assert caught.value.retryable
    assert caught.value.request_id == "req-1"


def test_server_errors_are_retried_and_can_recover(stub: Stub) -> None:
    stub.then(error(500, "InternalServerError"), error(503, "ServiceUnavailable"), ok())
    assert lean(stub).call("UpdateItem", UPDATE) == {"Item": {"PK": {"S": "a"}, "b": {"B": b"\x00\x01"}}}
    assert stub.attempts == 3


def test_server_errors_surface_after_max_attempts(stub: Stub) -> None:
    stub.then(error(500, "InternalServerError", "oops", key="Message"))
    with pytest.raises(ServiceError) as caught:
        lean(stub, max_attempts=5).call("GetItem", GET)
    assert not isinstance(caught.value, ThrottlingError)
    assert stub.attempts == 5
    assert (caught.value.code, caught.value.message, caught.value.status) == ("InternalServerError", "oops", 500)


def test_client_errors_are_not_retried(stub: Stub) -> None:
    stub.then(error(400, "ValidationException", "bad key"))
    with pytest.raises(ServiceError) as caught:
        lean(stub).call("GetItem", GET)
    assert stub.attempts == 1
    assert caught.value.code == "ValidationException" and not caught.value.retryable


def test_crc_mismatch_is_retried_then_rejected(stub: Stub) -> None:
    stub.then(("bad_crc",))
    with pytest.raises(TransportError, match="CRC32"):
        lean(stub).call("GetItem", GET)
    assert stub.attempts == 3


def test_crc_mismatch_then_good_response_succeeds(stub: Stub) -> None:
    stub.then(("bad_crc",), ok())
    assert lean(stub).call("GetItem", GET)["Item"]["b"] == {"B": b"\x00\x01"}
    assert stub.attempts == 2


def test_crc_mismatch_on_a_non_idempotent_write_is_not_resent(stub: Stub) -> None:
    stub.then(("bad_crc",), ok())
    with pytest.raises(TransportError, match="CRC32"):
        lean(stub).call("UpdateItem", UPDATE)
    assert stub.attempts == 1


def test_truncated_body_is_retried_for_reads(stub: Stub) -> None:
    stub.then(("truncate",))
    with pytest.raises(TransportError, match="may have been executed"):
        lean(stub).call("GetItem", GET)
    assert stub.attempts == 3


def test_truncated_body_is_not_resent_for_update(stub: Stub) -> None:
    stub.then(("truncate",), ok())
    with pytest.raises(TransportError):
        lean(stub).call("UpdateItem", UPDATE)
    assert stub.attempts == 1


def test_reset_mid_request_is_retried_only_where_safe(stub: Stub) -> None:
    transport = lean(stub)
    stub.then(("reset",), ok())
    assert transport.call("GetItem", GET)["Item"]["PK"] == {"S": "a"}
    assert stub.attempts == 2

    stub.requests.clear()
    stub.then(("reset",), ok())
    with pytest.raises(TransportError):
        transport.call("UpdateItem", UPDATE)
    assert stub.attempts == 1

    stub.requests.clear()
    stub.then(("reset",), ok())
    conditional_put = {"TableName": "t", "Item": {"PK": {"S": "a"}}, "ConditionExpression": "attribute_not_exists(PK)"}
    with pytest.raises(TransportError):
        transport.call("PutItem", conditional_put)
    assert stub.attempts == 1

    stub.requests.clear()
    stub.then(("reset",), ok({}))
    assert transport.call("PutItem", {"TableName": "t", "Item": {"PK": {"S": "a"}}}) == {}
    assert stub.attempts == 2

    # A transaction is resent with the same ClientRequestToken, so DynamoDB runs it at most once.
    stub.requests.clear()
    stub.then(("reset",), ok({}))
    transport.call("TransactWriteItems", {"TransactItems": [{"Update": UPDATE}]})
    tokens = [json.loads(r["body"])["ClientRequestToken"] for r in stub.requests]
    assert len(tokens) == 2 and tokens[0] == tokens[1] and len(tokens[0]) == 36


def test_a_server_that_stops_answering_times_out_inside_the_deadline(stub: Stub) -> None:
    stub.then(("hang", 8.0))
    deadline = Deadline.from_seconds(1.5, margin=0.5)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError, match="may have been executed"):
        lean(stub, read_timeout=60).call("GetItem", GET, deadline=deadline)
    elapsed = time.monotonic() - started
    print(f"\nhung server: gave up after {elapsed:.3f}s with a 1.5s deadline (0.5s margin)")
    # Correctness, not speed: without the cap the read timeout (60 s) would apply.
    assert elapsed < 1.5
    assert stub.attempts == 1


def test_read_timeout_without_deadline_is_a_transport_error(stub: Stub) -> None:
    stub.then(("hang", 3.0))
    with pytest.raises(TransportError, match="timed out"):
        lean(stub, read_timeout=0.2, max_attempts=2).call("GetItem", GET)
    assert stub.attempts == 2


def test_no_attempt_starts_after_the_deadline(stub: Stub) -> None:
    stub.then(ok())
    expired = Deadline.from_seconds(0.1, margin=0.5)
    with pytest.raises(DeadlineExceededError):
        lean(stub).call("GetItem", GET, deadline=expired)
    assert stub.attempts == 0


def test_backoff_never_sleeps_past_the_deadline(stub: Stub) -> None:
    stub.then(error(400, "ThrottlingException"))
    slow = RetryPolicy(max_attempts=5, base_delay=30.0, throttling_base_delay=30.0)
    transport = lean(stub, retry_policy=slow)
    with mock.patch("random.random", return_value=0.9), pytest.raises(DeadlineExceededError) as caught:
        transport.call("GetItem", GET, deadline=Deadline.from_seconds(5.0, margin=0.5))
    assert isinstance(caught.value.__cause__, ThrottlingError)
    assert stub.attempts == 1


def test_retry_after_header_raises_the_delay(stub: Stub) -> None:
    stub.then(error(400, "ThrottlingException", **{"x-amz-retry-after": "250"}), ok())
    transport = lean(stub)
    slept: list[float] = []
    transport._sleep = slept.append
    transport.call("GetItem", GET)
    assert slept and 0.25 <= slept[0] <= 5.25


def test_retry_quota_stops_retries_when_empty(stub: Stub) -> None:
    stub.then(error(500, "InternalServerError"))
    transport = lean(stub)
    transport.retry_quota = RetryQuota(capacity=14)
    with pytest.raises(ServiceError):
        transport.call("GetItem", GET)
    assert stub.attempts == 2  # one retry (cost 14) emptied the bucket
    stub.requests.clear()
    with pytest.raises(ServiceError):
        transport.call("GetItem", GET)
    assert stub.attempts == 1
    assert transport.retry_quota.available == 0
    stub.then(ok())
    transport.call("GetItem", GET)
    assert transport.retry_quota.available == 1  # a success without retry gives one token back


def test_keep_alive_reuses_one_connection(stub: Stub) -> None:
    stub.then(ok())
    transport = lean(stub)
    for _ in range(5):
        transport.call("GetItem", GET)
    assert transport._pool.idle_count == 1


def test_connection_close_is_honoured(stub: Stub) -> None:
    stub.then(ok(Connection="close"))
    transport = lean(stub)
    transport.call("GetItem", GET)
    assert transport._pool.idle_count == 0
    transport.call("GetItem", GET)
    assert stub.attempts == 2


def test_connection_closed_by_server_while_idle_is_not_reused(stub: Stub) -> None:
    stub.then(("close_after",))
    transport = lean(stub)
    transport.call("GetItem", GET)
    assert transport._pool.idle_count == 1
    stale = transport._pool._idle[0]
    time.sleep(0.2)  # ordering, not timing: let the server's FIN arrive
    failed_attempts: list[float] = []
    transport._sleep = failed_attempts.append
    assert transport.call("UpdateItem", UPDATE)["Item"]["PK"] == {"S": "a"}
    # Detected before sending: no attempt failed on the dead connection, and it was closed, not reused.
    assert failed_attempts == []
    assert stale.sock is None
    assert stub.attempts == 2


def test_connection_refused_is_a_transport_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    transport = LeanTransport(
        "us-east-1", endpoint_url=f"http://127.0.0.1:{port}", credentials=("a", "b"), retry_policy=FAST
    )
    with pytest.raises(TransportError, match="cannot connect"):
        transport.call("UpdateItem", UPDATE)


def test_http_proxy_gets_absolute_url(stub: Stub) -> None:
    stub.then(ok())
    env = {"HTTP_PROXY": stub.endpoint, "http_proxy": stub.endpoint, "NO_PROXY": "", "no_proxy": ""}
    with mock.patch.dict(os.environ, env):
        transport = LeanTransport(
            "us-east-1", endpoint_url="http://dynamodb.example.invalid:8123", credentials=("a", "b"), retry_policy=FAST
        )
    transport.call("GetItem", GET)
    assert stub.requests[0]["path"] == "http://dynamodb.example.invalid:8123/"
    assert stub.requests[0]["headers"]["Host"] == "dynamodb.example.invalid:8123"


def test_http_proxy_with_credentials_gets_proxy_auth_on_every_request(stub: Stub) -> None:
    stub.then(ok()).then(ok())
    proxy = f"http://user:p%40ss@127.0.0.1:{stub.port}"
    with mock.patch.dict(os.environ, {"HTTP_PROXY": proxy, "http_proxy": proxy, "NO_PROXY": "", "no_proxy": ""}):
        transport = LeanTransport(
            "us-east-1", endpoint_url="http://dynamodb.example.invalid:8123", credentials=("a", "b"), retry_policy=FAST
        )
    transport.call("GetItem", GET)
    transport.call("GetItem", GET)
    assert [r["headers"].get("Proxy-Authorization") for r in stub.requests] == ["Basic dXNlcjpwQHNz"] * 2
    # A proxy header is for the proxy: it is not part of what DynamoDB verifies.
    assert "proxy-authorization" not in stub.requests[0]["headers"]["Authorization"].lower()


def test_https_proxy_uses_a_connect_tunnel_with_proxy_auth(stub: Stub) -> None:
    proxy = f"http://user:p%40ss@127.0.0.1:{stub.port}"
    with mock.patch.dict(os.environ, {"HTTPS_PROXY": proxy, "https_proxy": proxy, "NO_PROXY": "", "no_proxy": ""}):
        transport = LeanTransport("eu-west-1", credentials=("a", "b"), retry_policy=FAST, max_attempts=1)
    with pytest.raises(TransportError):
        transport.call("GetItem", GET)  # the stub proxy does not speak TLS after the CONNECT
    connect = stub.requests[0]
    assert connect["method"] == "CONNECT"
    assert connect["path"] == "dynamodb.eu-west-1.amazonaws.com:443"
    assert connect["headers"]["Proxy-Authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss


def test_no_proxy_bypasses_the_proxy(stub: Stub) -> None:
    stub.then(ok())
    env = {"HTTP_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9", "NO_PROXY": "localhost,127.0.0.0/8"}
    with mock.patch.dict(os.environ, env):
        env.pop("no_proxy", None)
        os.environ.pop("no_proxy", None)
        transport = lean(stub)
    assert transport._pool.proxy is None
    transport.call("GetItem", GET)
    assert stub.requests[0]["path"] == "/"


# -- a server that trickles its answer ----------------------------------------------------------------------


@pytest.fixture
def trickler() -> Iterator[tuple[int, threading.Event]]:
    """Answers ListTables one body byte every 0.15 s: each read is quick, the whole is ~2.5 s."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    stop = threading.Event()

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                body = b'{"TableNames":[]}'
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
                for byte in body:
                    if stop.wait(0.15):
                        return
                    conn.sendall(bytes([byte]))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], stop
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=5)


def test_a_trickling_response_cannot_outlast_the_deadline(trickler: tuple[int, threading.Event]) -> None:
    port, _ = trickler
    transport = LeanTransport(
        "us-east-1", endpoint_url=f"http://127.0.0.1:{port}", credentials=("a", "b"), read_timeout=5.0, max_attempts=1
    )
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError, match="may have been executed"):
        transport.call("ListTables", {}, deadline=Deadline.from_seconds(1.2, margin=0.4))
    elapsed = time.monotonic() - started
    assert 0.7 <= elapsed < 1.1, f"0.8 s usable, the trickle took {elapsed:.2f} s"  # was the whole ~2.5 s


def test_without_a_deadline_the_read_timeout_stays_per_read(trickler: tuple[int, threading.Event]) -> None:
    port, _ = trickler
    transport = LeanTransport(
        "us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        credentials=("a", "b"),
        connect_timeout=4.0,
        read_timeout=1.0,
        max_attempts=1,
    )
    # ~2.5 s in all, no read over 1 s: inside the attempt's bound (connect + read timeout, 5 s).
    assert transport.call("ListTables", {}) == {"TableNames": []}


@pytest.fixture
def endless_trickler() -> Iterator[tuple[str, list[int]]]:
    """Answers every request one header byte every 20 ms, for 8 s, then a complete response.

    Each read is quick, so only a bound on the whole exchange ends it early; connections are counted.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    accepted: list[int] = []

    def answer(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            for _ in range(400):
                if stop.wait(0.02):
                    return
                conn.sendall(b"X-Slow: 1\r\n")
            conn.sendall(b"Content-Length: 2\r\n\r\n{}")

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        stop.set()
        listener.close()


def test_without_a_deadline_one_attempt_is_bounded_in_all(endless_trickler: tuple[str, list[int]]) -> None:
    """Before, a trickle held the call for as long as the server kept sending (here 8 s, then success)."""
    endpoint, accepted = endless_trickler
    transport = LeanTransport(
        "us-east-1", endpoint_url=endpoint, credentials=("a", "b"), connect_timeout=0.2, read_timeout=0.3,
        max_attempts=1, call_timeout=None,
    )  # fmt: skip
    # "ran out": the attempt's whole budget; "timed out": one read, if this machine is slow enough to
    # leave 0.3 s between two bytes the server sends every 20 ms. Either way the trickle is cut.
    with pytest.raises(TransportError, match=r"response ran out|timed out"):
        transport.call("GetItem", GET)
    assert len(accepted) == 1


def test_call_timeout_bounds_the_attempts_together(endless_trickler: tuple[str, list[int]]) -> None:
    endpoint, accepted = endless_trickler
    transport = LeanTransport(
        "us-east-1", endpoint_url=endpoint, credentials=("a", "b"), connect_timeout=0.5, read_timeout=0.5,
        retry_policy=FAST, max_attempts=20, call_timeout=1.5,
    )  # fmt: skip
    with pytest.raises(TransportError, match=r"call_timeout of 1\.5 s reached"):
        transport.call("GetItem", GET)  # a read: every attempt may be retried, the bound ends them
    # 1 s per attempt (0.5 s if one read times out first): the second (or third) is cut short at 1.5 s.
    assert 2 <= len(accepted) <= 4


def test_call_timeout_ends_the_retries_of_failing_attempts(stub: Stub) -> None:
    """A fake clock that only sleeping moves: 1 s of call time fits one backoff of 0.4 s, not a second of 0.8 s."""
    stub.then(error(500, "InternalServerError"))
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    policy = RetryPolicy(max_attempts=10, base_delay=0.4)
    transport = lean(stub, retry_policy=policy, call_timeout=1.0)
    transport._sleep, transport._clock = sleep, lambda: now[0]
    with mock.patch("random.random", return_value=1.0), pytest.raises(ServiceError, match="InternalServerError"):
        transport.call("GetItem", GET)
    assert stub.attempts == 2 and now[0] == pytest.approx(0.4)


def test_call_timeout_is_checked(stub: Stub) -> None:
    with pytest.raises(ValueError, match="call_timeout"):
        lean(stub, call_timeout=0)
    stub.then(ok())
    assert lean(stub, call_timeout=None).call("GetItem", GET)["Item"]["PK"] == {"S": "a"}


# -- the X-Ray trace header ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "trace",
    [
        "Root=1-5759e988-bd862e3fe1be46a994272793\r\nX-Injected: 1",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1\n",
        "Root=1-ä;Parent=\t53995c3f42cd8ad8",
        "Root=1-abc \x7f",
    ],
)
def test_a_malformed_trace_header_never_fails_the_request(
    stub: Stub, monkeypatch: pytest.MonkeyPatch, trace: str
) -> None:
    from urllib.parse import quote

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "f")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", trace)
    stub.then(ok())
    assert lean(stub).call("GetItem", GET)["Item"]["PK"] == {"S": "a"}
    headers = stub.requests[0]["headers"]
    assert headers["X-Amzn-Trace-Id"] == quote(trace, safe="-=;:+&[]{}\"',")  # what botocore sends
    assert "X-Injected" not in headers


def test_a_wellformed_trace_header_is_forwarded_unchanged(stub: Stub, monkeypatch: pytest.MonkeyPatch) -> None:
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "f")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", trace)
    stub.then(ok())
    lean(stub).call("GetItem", GET)
    assert stub.requests[0]["headers"]["X-Amzn-Trace-Id"] == trace


# -- malformed error bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"__type": 5, "message": "x"}, ServiceError),
        ({"__type": ["x"], "message": {"a": 1}}, ServiceError),
        ({"__type": "x#TransactionCanceledException", "CancellationReasons": "abc"}, TransactionCanceledError),
        ({"__type": "x#TransactionCanceledException", "CancellationReasons": [1, None, {"Code": 5}]}, TransactionCanceledError),
        ({"__type": "x#ConditionalCheckFailedException", "Item": [1]}, ConditionFailedError),
        ({"__type": "x#ConditionalCheckFailedException", "Item": {"a": 5}}, ConditionFailedError),
        ({"__type": "x#ConditionalCheckFailedException", "Item": "abc"}, ConditionFailedError),
    ],
)
def test_malformed_but_json_error_bodies_are_typed(stub: Stub, payload: dict[str, Any], expected: type) -> None:
    """Before: AttributeError / ValueError / TypeError escaped from the error mapping."""
    stub.then(("json", 400, payload, {}))
    with pytest.raises(expected) as caught:
        lean(stub).call("GetItem", GET)
    if isinstance(caught.value, ConditionFailedError):
        assert caught.value.item is None  # an item of the wrong shape is left out
    if isinstance(caught.value, TransactionCanceledError):
        assert all(isinstance(r.code, str) and r.item is None for r in caught.value.reasons)


@pytest.mark.parametrize(
    "body", [b"[" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000, b'{"CreationDateTime": 1e300}']
)
def test_undecodable_success_bodies_are_transport_errors(stub: Stub, body: bytes) -> None:
    """Nesting past the recursion limit, or a timestamp out of range: before, RecursionError / OverflowError."""
    stub.then(("raw", 200, body))
    with pytest.raises(TransportError, match="unreadable response"):
        lean(stub, max_attempts=1).call("DescribeTable", {"TableName": "t"})

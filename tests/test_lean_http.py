"""The lean transport's HTTP/1.1 client (``dynagen.runtime.transport.lean._http``) against raw-socket servers on 127.0.0.1.

Each server answers every request with scripted bytes, so framings http.server never produces can be
sent: chunked bodies, obsolete line folding, too many or too large header fields, truncated bodies,
conflicting lengths, HTTP/1.0 and interim responses. Shown: what is accepted is read exactly (and the
connection kept when allowed), and what is malformed or hostile is a ``NoResponseError`` on a
connection that is then closed, within bounded memory. A fresh process doing one plain-http request
imports neither ``http.client`` nor ``email`` nor ``ssl``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator

import pytest

from dynagen.errors import InvalidValueError, ResponseTooLargeError, ServiceError, TransportError
from dynagen.runtime.transport.lean import LeanTransport, RetryPolicy
from dynagen.runtime.transport.lean._endpoints import resolve_endpoint
from dynagen.runtime.transport.lean._http import (
    MAX_HEADER_BYTES,
    MAX_HEADERS,
    ConnectionPool,
    Headers,
    NoResponseError,
    NotSentError,
    Response,
    TooLargeError,
)
from tests._stub_dynamodb import stub_dynamodb

Reply = tuple[bytes, bool]  # bytes to send, then whether to close the connection


def reply(head: str, body: bytes = b"", *, close: bool = False) -> Reply:
    return head.replace("\n", "\r\n").encode("latin-1") + b"\r\n" + body, close


def ok(body: bytes = b"{}", extra: str = "") -> Reply:
    return reply(f"HTTP/1.1 200 OK\nContent-Length: {len(body)}\n{extra}", body)


class RawServer:
    """Reads whole requests (head + ``Content-Length`` body) and answers each with the next scripted reply."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[bytes] = []
        self.accepts = 0
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.accepts += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _next(self) -> Reply:
        with self._lock:
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        buffer = b""
        with conn:
            try:
                while True:
                    while b"\r\n\r\n" not in buffer:
                        data = conn.recv(65536)
                        if not data:
                            return
                        buffer += data
                    head, _, rest = buffer.partition(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        if name.lower() == b"content-length":
                            length = int(value)
                    while len(rest) < length:
                        data = conn.recv(65536)
                        if not data:
                            return
                        rest += data
                    with self._lock:
                        self.requests.append(head + b"\r\n\r\n" + rest[:length])
                    buffer = rest[length:]
                    data, close = self._next()
                    conn.sendall(data)
                    if close:
                        conn.shutdown(socket.SHUT_WR)
                        return
            except OSError:
                return

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def make_server() -> Iterator[type[RawServer]]:
    servers: list[RawServer] = []

    class Tracked(RawServer):
        def __init__(self, *replies: Reply) -> None:
            super().__init__(*replies)
            servers.append(self)

    yield Tracked
    for server in servers:
        server.close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def pool_for(server: RawServer, **kwargs: object) -> ConnectionPool:
    return ConnectionPool(resolve_endpoint("us-east-1", server.endpoint), **kwargs)  # type: ignore[arg-type]


def post(pool: ConnectionPool, body: bytes = b'{"k": 1}', *, read_timeout: float = 5.0) -> Response:
    return pool.request(body, {"X-Amz-Target": "t"}, connect_timeout=2.0, read_timeout=read_timeout)


def refused(pool: ConnectionPool, match: str) -> NoResponseError:
    with pytest.raises(NoResponseError, match=match) as caught:
        post(pool)
    assert pool.idle_count == 0, "a connection that carried a bad response is never kept"
    assert not caught.value.timeout
    return caught.value


# -- the request on the wire ---------------------------------------------------------------------


def test_request_bytes(make_server: type[RawServer]) -> None:
    server = make_server(ok())
    pool = pool_for(server)
    pool.request(b'{"a": 1}', {"Host": "h.example", "X-Amz-Target": "T"}, connect_timeout=2, read_timeout=2)
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST / HTTP/1.1"
    assert sorted(lines[1:]) == sorted(
        [b"Host: h.example", b"Accept-Encoding: identity", b"Content-Length: 8", b"X-Amz-Target: T"]
    )
    assert body == b'{"a": 1}'
    # Without a Host header, the endpoint's is sent.
    post(pool)
    assert f"Host: 127.0.0.1:{server.port}".encode() in server.requests[1]


@pytest.mark.parametrize(
    ("name", "value"), [("X-Evil", "a\r\nX-Injected: 1"), ("X-Evil", "a\nb"), ("Bad Name", "v"), ("", "v")]
)
def test_header_injection_is_refused_before_connecting(make_server: type[RawServer], name: str, value: str) -> None:
    server = make_server(ok())
    pool = pool_for(server)
    with pytest.raises(InvalidValueError, match="Invalid header"):
        pool.request(b"{}", {name: value}, connect_timeout=2, read_timeout=2)
    assert server.accepts == 0 and server.requests == []


def test_a_refused_header_value_is_not_shown(make_server: type[RawServer]) -> None:
    """A session token (or proxy password) with a stray newline: refused, typed, and never printed."""
    server = make_server(ok())
    with pytest.raises(InvalidValueError) as caught:
        pool_for(server).request(
            b"{}", {"X-Amz-Security-Token": "s3cr3t-token\n"}, connect_timeout=2, read_timeout=2
        )
    assert caught.value.field == "X-Amz-Security-Token"
    assert "s3cr3t" not in str(caught.value) and "s3cr3t" not in repr(caught.value)
    transport = LeanTransport(
        "us-east-1", endpoint_url=server.endpoint, credentials=("AKID", "SECRET", "s3cr3t\r\nX-Evil: 1")
    )
    with pytest.raises(InvalidValueError, match="X-Amz-Security-Token") as again:
        transport.call("GetItem", {"TableName": "t", "Key": {"k": {"S": "a"}}})
    assert "s3cr3t" not in str(again.value)
    assert server.requests == []


# -- framing ------------------------------------------------------------------------------------


def test_content_length_body_and_keep_alive(make_server: type[RawServer]) -> None:
    server = make_server(ok(b'{"x": "y"}', "x-amz-crc32: 1\nX-Amzn-RequestId: r-1\n"))
    pool = pool_for(server)
    for _ in range(3):
        response = post(pool)
        assert (response.status, response.body) == (200, b'{"x": "y"}')
        assert response.headers.get("X-AMZ-CRC32") == "1" and response.headers.get("x-amzn-requestid") == "r-1"
    assert server.accepts == 1 and pool.idle_count == 1


def test_chunked_body_is_reassembled_and_the_connection_kept(make_server: type[RawServer]) -> None:
    chunked = b'4\r\nWiki\r\n6;ext=1;q="x"\r\npedia \r\nE \r\nin \r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\n'
    server = make_server(reply("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n", chunked))
    pool = pool_for(server)
    for _ in range(2):
        assert post(pool).body == b"Wikipedia in \r\n\r\nchunks."
    assert server.accepts == 1 and pool.idle_count == 1


def test_chunked_body_in_many_small_segments(make_server: type[RawServer]) -> None:
    payload = bytes(range(256)) * 300
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(payload[i : i + 1000]), payload[i : i + 1000]) for i in range(0, len(payload), 1000)
    )
    server = make_server(reply("HTTP/1.1 200 OK\nTransfer-Encoding: Chunked\n", chunks + b"0\r\n\r\n"))
    assert post(pool_for(server)).body == payload


def test_chunked_response_through_the_transport(make_server: type[RawServer]) -> None:
    data = json.dumps({"Item": {"PK": {"S": "a"}, "b": {"B": "AAE="}}}).encode()
    half = len(data) // 2
    chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (half, data[:half], len(data) - half, data[half:])
    server = make_server(
        reply(f"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nx-amz-crc32: {zlib.crc32(data)}\n", chunks)
    )
    transport = LeanTransport("us-east-1", endpoint_url=server.endpoint, credentials=("AKID", "SECRET"))
    assert transport.call("GetItem", {"TableName": "t", "Key": {"PK": {"S": "a"}}}) == {
        "Item": {"PK": {"S": "a"}, "b": {"B": b"\x00\x01"}}
    }


@pytest.mark.parametrize(
    "chunks",
    [
        b"0x4\r\nWiki\r\n0\r\n\r\n",
        b"-4\r\nWiki\r\n0\r\n\r\n",
        b"+4\r\nWiki\r\n0\r\n\r\n",
        b"4_0\r\nWiki\r\n0\r\n\r\n",
        b"zz\r\nWiki\r\n0\r\n\r\n",
        b"\r\nWiki\r\n0\r\n\r\n",
        b"4\r\nWikiX\r\n0\r\n\r\n",  # chunk longer than announced
        b"11111111111111111\r\n",  # 17 hex digits
        b"4" + b";x" * 4000 + b"\r\nWiki\r\n0\r\n\r\n",  # chunk-size line too long
    ],
)
def test_malformed_chunked_bodies_are_refused(make_server: type[RawServer], chunks: bytes) -> None:
    server = make_server(reply("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n", chunks, close=True))
    refused(pool_for(server), "chunk")


def test_chunked_body_cut_short_is_truncated(make_server: type[RawServer]) -> None:
    server = make_server(reply("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n", b"10\r\nonly eight", close=True))
    refused(pool_for(server), "truncated body: connection closed after 10 of 16 bytes")
    server = make_server(reply("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n", b"4\r\nWiki\r\n", close=True))
    refused(pool_for(server), "before the chunk-size line")


def test_unsupported_transfer_coding_is_refused(make_server: type[RawServer]) -> None:
    server = make_server(reply("HTTP/1.1 200 OK\nTransfer-Encoding: gzip, chunked\n", b"0\r\n\r\n"))
    refused(pool_for(server), "unsupported Transfer-Encoding")


def test_chunked_with_content_length_is_read_chunked_and_not_reused(make_server: type[RawServer]) -> None:
    server = make_server(
        reply("HTTP/1.1 200 OK\nContent-Length: 100\nTransfer-Encoding: chunked\n", b"2\r\nok\r\n0\r\n\r\n")
    )
    pool = pool_for(server)
    assert post(pool).body == b"ok"
    assert pool.idle_count == 0


def test_a_body_shorter_than_content_length_is_truncated(make_server: type[RawServer]) -> None:
    server = make_server(reply("HTTP/1.1 200 OK\nContent-Length: 25\n", b"0123456789", close=True))
    error = refused(pool_for(server), "truncated body: connection closed after 10 of 25 bytes")
    assert "no complete response" in str(error)


def test_truncated_body_through_the_transport_says_it_may_have_been_executed(make_server: type[RawServer]) -> None:
    server = make_server(reply("HTTP/1.1 200 OK\nContent-Length: 25\n", b"0123456789", close=True))
    fast = RetryPolicy(max_attempts=2, base_delay=0.001)
    transport = LeanTransport("us-east-1", endpoint_url=server.endpoint, credentials=("a", "b"), retry_policy=fast)
    with pytest.raises(TransportError, match=r"truncated body.*may have been executed"):
        transport.call("GetItem", {"TableName": "t", "Key": {"PK": {"S": "a"}}})
    assert len(server.requests) == 2  # a read: resent once


@pytest.mark.parametrize(
    ("lengths", "match"),
    [
        ("Content-Length: 2\nContent-Length: 3\n", "conflicting Content-Length"),
        ("Content-Length: 2, 3\n", "conflicting Content-Length"),
        ("Content-Length: +2\n", "malformed Content-Length"),
        ("Content-Length: 0x2\n", "malformed Content-Length"),
        ("Content-Length: 2_0\n", "malformed Content-Length"),
        ("Content-Length: -1\n", "malformed Content-Length"),
        ("Content-Length: \xb2\n", "malformed Content-Length"),  # a latin-1 digit that str.isdigit() accepts
        ("Content-Length: 99999999999999999999\n", "malformed Content-Length"),
    ],
)
def test_bad_content_lengths_are_refused(make_server: type[RawServer], lengths: str, match: str) -> None:
    server = make_server(reply("HTTP/1.1 200 OK\n" + lengths, b"ok"))
    refused(pool_for(server), match)


def test_repeated_equal_content_lengths_are_one(make_server: type[RawServer]) -> None:
    server = make_server(reply("HTTP/1.1 200 OK\nContent-Length: 2, 2\nContent-Length: 2\n", b"ok"))
    assert post(pool_for(server)).body == b"ok"


# -- the response size cap ------------------------------------------------------------------------------


def too_large(pool: ConnectionPool, *, read_timeout: float = 5.0) -> TooLargeError:
    with pytest.raises(TooLargeError) as caught:
        post(pool, read_timeout=read_timeout)
    assert pool.idle_count == 0, "the rest of the body is never read: the connection is closed"
    return caught.value


def test_a_declared_length_over_the_cap_is_refused_before_reading_the_body(make_server: type[RawServer]) -> None:
    # 200 MB announced, one byte sent, the connection held open: refused on the header alone (before,
    # the pool waited for the body until the read timeout, 30 s here).
    server = make_server(reply("HTTP/1.1 200 OK\nContent-Length: 209715200\n", b"{"))
    error = too_large(pool_for(server, max_response_bytes=1 << 20), read_timeout=30.0)
    assert (error.limit, error.size) == (1 << 20, 209715200)


def test_a_chunk_announced_over_the_cap_is_refused_before_it_is_read(make_server: type[RawServer]) -> None:
    server = make_server(reply("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n", b"c800000\r\n{"))
    assert too_large(pool_for(server, max_response_bytes=1 << 20), read_timeout=30.0).size == 0xC800000


def test_chunks_adding_up_past_the_cap_are_refused(make_server: type[RawServer]) -> None:
    def chunked(count: int) -> Reply:
        chunks = b"".join(b"64\r\n" + b"x" * 100 + b"\r\n" for _ in range(count))  # 100 bytes each
        return reply("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n", chunks + b"0\r\n\r\n")

    assert too_large(pool_for(make_server(chunked(11)), max_response_bytes=1000)).size == 1100
    assert len(post(pool_for(make_server(chunked(10)), max_response_bytes=1000)).body) == 1000  # at the cap


def test_a_close_delimited_body_past_the_cap_is_refused(make_server: type[RawServer]) -> None:
    server = make_server(reply("HTTP/1.1 200 OK\n", b"x" * 5000, close=True))
    assert too_large(pool_for(server, max_response_bytes=1000)).size == 5000
    exact = make_server(reply("HTTP/1.1 200 OK\n", b"x" * 1000, close=True))
    assert post(pool_for(exact, max_response_bytes=1000)).body == b"x" * 1000


def test_the_cap_applies_to_error_responses_and_the_transport_does_not_retry(make_server: type[RawServer]) -> None:
    body = json.dumps({"__type": "x#InternalServerError", "message": "m" * 5000}).encode()
    server = make_server(reply(f"HTTP/1.1 500 Oops\nContent-Length: {len(body)}\n", body))
    transport = LeanTransport(
        "us-east-1", endpoint_url=server.endpoint, credentials=("a", "b"), max_response_bytes=1000, max_attempts=3
    )
    with pytest.raises(ResponseTooLargeError, match=r"GetItem: response of \d+ bytes refused") as caught:
        transport.call("GetItem", {"TableName": "t", "Key": {"k": {"S": "a"}}})
    assert isinstance(caught.value, TransportError) and caught.value.limit == 1000
    assert len(server.requests) == 1  # the same request would get the same answer


def test_no_framing_reads_to_the_end_and_closes(make_server: type[RawServer]) -> None:
    server = make_server(reply("HTTP/1.1 200 OK\n", b"all of it", close=True))
    pool = pool_for(server)
    assert post(pool).body == b"all of it"
    assert pool.idle_count == 0


def test_no_body_for_204_and_interim_responses_are_skipped(make_server: type[RawServer]) -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX-A: 1\r\n\r\n"
    server = make_server(
        (interim + ok(b"final")[0], False), reply("HTTP/1.1 204 No Content\nContent-Length: 5\n"), ok()
    )
    pool = pool_for(server)
    first = post(pool)
    assert (first.status, first.body, first.headers.get("x-a")) == (200, b"final", None)
    second = post(pool)
    assert (second.status, second.body) == (204, b"")
    assert post(pool).body == b"{}"
    assert server.accepts == 1, "the interim responses and the 204 had no body: the connection stayed in step"


# -- keep-alive and close -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "kept"),
    [
        ("HTTP/1.1 200 OK\nContent-Length: 2\n", True),
        ("HTTP/1.1 200 OK\nContent-Length: 2\nConnection: close\n", False),
        ("HTTP/1.1 200 OK\nContent-Length: 2\nConnection: Keep-Alive, CLOSE\n", False),
        ("HTTP/1.0 200 OK\nContent-Length: 2\n", False),
        ("HTTP/1.0 200 OK\nContent-Length: 2\nConnection: keep-alive\n", True),
        ("HTTP/1.0 200 OK\nContent-Length: 2\nKeep-Alive: timeout=5\n", True),
        ("HTTP/1.1 200\nContent-Length: 2\n", True),  # no reason phrase
    ],
)
def test_will_close(make_server: type[RawServer], head: str, kept: bool) -> None:
    server = make_server(reply(head, b"ok"))
    pool = pool_for(server)
    assert post(pool).body == b"ok"
    assert pool.idle_count == (1 if kept else 0)


def test_bytes_after_the_response_make_the_connection_unusable(make_server: type[RawServer]) -> None:
    data, _ = ok(b"ok")
    server = make_server((data + b"HTTP/1.1 200 OK\r\n", False))
    pool = pool_for(server)
    assert post(pool).body == b"ok"
    # Reused, the leftover bytes would be read as the next response's head (and refused).
    assert post(pool).body == b"ok"
    assert server.accepts == 2


# -- status line and header fields ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"HTTP/2 200 OK\r\n\r\n", "not an HTTP/1.x status line"),
        (b"ICY 200 OK\r\n\r\n", "not an HTTP/1.x status line"),
        (b"HTTP/1.1 20 OK\r\n\r\n", "malformed status line"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "malformed status line"),
        (b"HTTP/1.1 abc OK\r\n\r\n", "malformed status line"),
        (b"HTTP/1.1 200 OK\r\nX-Folded: a\r\n  b\r\nContent-Length: 0\r\n\r\n", "obsolete line folding"),
        (b"HTTP/1.1 200 OK\r\n\tX-A: b\r\n\r\n", "obsolete line folding"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header line"),
        (b"HTTP/1.1 200 OK\r\nX-A : b\r\n\r\n", "malformed header line"),
        (b"HTTP/1.1 200 OK\r\n: b\r\n\r\n", "malformed header line"),
        (b"HTTP/1.1 200 OK\r\nX-A: b\x00c\r\n\r\n", "malformed header line"),
        (b"HTTP/1.1 200 OK\r\nX-A: b\rc\r\n\r\n", "bare CR"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", "closed by the server before the end of the header section"),
        (b"", "closed by the server before the status line"),
    ],
)
def test_malformed_heads_are_refused(make_server: type[RawServer], raw: bytes, match: str) -> None:
    server = make_server((raw, True))
    refused(pool_for(server), match)


def test_bare_lf_line_endings_are_accepted(make_server: type[RawServer]) -> None:
    server = make_server((b"HTTP/1.1 200 OK\nContent-Length: 2\nX-A:\tb \n\nok", False))
    response = post(pool_for(server))
    assert (response.body, response.headers["x-a"]) == (b"ok", "b")


def test_header_count_limit(make_server: type[RawServer]) -> None:
    many = "".join(f"X-H{i}: {i}\n" for i in range(MAX_HEADERS - 1))
    server = make_server(reply("HTTP/1.1 200 OK\nContent-Length: 2\n" + many, b"ok"))
    response = post(pool_for(server))  # exactly MAX_HEADERS fields: accepted
    assert len(response.headers) == MAX_HEADERS and response.body == b"ok"

    server = make_server(reply("HTTP/1.1 200 OK\nContent-Length: 2\nX-Extra: 1\n" + many, b"ok"))
    refused(pool_for(server), f"more than {MAX_HEADERS} fields in the header section")


def test_header_size_limit(make_server: type[RawServer]) -> None:
    # Under the limit in total, with one large field: accepted.
    big = "v" * (MAX_HEADER_BYTES - 200)
    server = make_server(reply(f"HTTP/1.1 200 OK\nContent-Length: 2\nX-Big: {big}\n", b"ok"))
    assert post(pool_for(server)).headers["x-big"] == big

    # One line over the limit, and many lines over it together.
    server = make_server(reply(f"HTTP/1.1 200 OK\nX-Big: {'v' * MAX_HEADER_BYTES}\n", b"ok"))
    refused(pool_for(server), f"header section larger than {MAX_HEADER_BYTES} bytes")
    lines = "".join(f"X-{i}: {'v' * 1000}\n" for i in range(70))
    server = make_server(reply("HTTP/1.1 200 OK\n" + lines, b"ok"))
    refused(pool_for(server), f"header section larger than {MAX_HEADER_BYTES} bytes")


def test_endless_header_bytes_are_cut_off(make_server: type[RawServer]) -> None:
    # A hostile server streaming a header line that never ends: refused after ~64 KiB, not buffered forever.
    server = make_server((b"HTTP/1.1 200 OK\r\nX-Endless: " + b"v" * (8 << 20), False))
    refused(pool_for(server), "header section larger than")
    server = make_server((b"H" * (8 << 20), False))
    refused(pool_for(server), "status line longer than")


def test_trailer_limits(make_server: type[RawServer]) -> None:
    trailers = "".join(f"T-{i}: x\r\n" for i in range(MAX_HEADERS + 1)).encode()
    server = make_server(reply("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n", b"0\r\n" + trailers + b"\r\n"))
    refused(pool_for(server), "fields in the trailer section")


def test_read_timeout_is_a_timeout(make_server: type[RawServer]) -> None:
    server = make_server((b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", False))
    pool = pool_for(server)
    with pytest.raises(NoResponseError, match="timed out") as caught:
        post(pool, read_timeout=0.2)
    assert caught.value.timeout and pool.idle_count == 0


def test_connection_refused_is_not_sent() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pool = ConnectionPool(resolve_endpoint("us-east-1", f"http://127.0.0.1:{port}"))
    with pytest.raises(NotSentError, match="cannot connect") as caught:
        post(pool)
    assert caught.value.retryable and not caught.value.timeout


# -- the headers mapping --------------------------------------------------------------------------


def test_headers_are_case_insensitive_and_keep_repeats() -> None:
    headers = Headers(
        [("X-Amz-Crc32", "123"), ("x-amzn-ErrorType", "Throttling"), ("Set-Cookie", "a"), ("set-cookie", "b")]
    )
    assert headers.get("x-amz-crc32") == "123" and headers["X-AMZ-CRC32"] == "123"
    assert headers.get("X-Amzn-ErrorType") == "Throttling"
    assert headers.get("x-amz-retry-after") is None and headers.get("x-amzn-RequestId", "") == ""
    not_a_name: object = 1
    assert "SET-COOKIE" in headers and not_a_name not in headers
    assert headers["set-cookie"] == "a" and headers.get_all("Set-Cookie") == ["a", "b"]
    assert headers.get_all("missing") == []
    assert list(headers) == ["X-Amz-Crc32", "x-amzn-ErrorType", "Set-Cookie"] and len(headers) == 3
    assert dict(headers) == {"X-Amz-Crc32": "123", "x-amzn-ErrorType": "Throttling", "Set-Cookie": "a"}
    assert headers.fields[-1] == ("set-cookie", "b")
    with pytest.raises(KeyError):
        headers["nope"]


def test_error_headers_reach_the_transport(make_server: type[RawServer]) -> None:
    body = b'{"message": "slow"}'
    server = make_server(
        reply(
            f"HTTP/1.1 400 Bad Request\ncontent-length: {len(body)}\nX-AMZN-ERRORTYPE: ThrottlingException:http://x\n"
            "x-amzn-requestid: rid-9\nX-Amz-Retry-After: 0\n",
            body,
        )
    )
    transport = LeanTransport("us-east-1", endpoint_url=server.endpoint, credentials=("a", "b"), max_attempts=1)
    with pytest.raises(ServiceError) as caught:
        transport.call("GetItem", {"TableName": "t", "Key": {"PK": {"S": "a"}}})
    assert (caught.value.code, caught.value.message, caught.value.status) == ("ThrottlingException", "slow", 400)
    assert caught.value.request_id == "rid-9"


# -- what a cold start imports --------------------------------------------------------------------


def test_a_plain_http_request_imports_neither_http_client_nor_email_nor_ssl() -> None:
    code = (
        "import os, sys\n"
        "import dynagen.runtime.transport.lean as lean\n"
        "def heavy():\n"
        "    return sorted(m for m in sys.modules if m == 'http.client' or m.split('.')[0] in ('email', 'ssl', '_ssl'))\n"
        "assert not heavy(), ('on import', heavy())\n"
        "lean.LeanTransport('eu-west-1', credentials=('AKID', 'SECRET'))  # https, not connected: no ssl yet\n"
        "assert not heavy(), ('https transport made', heavy())\n"
        "t = lean.LeanTransport('us-east-1', endpoint_url=os.environ['STUB'], credentials=('AKID', 'SECRET'))\n"
        "assert t.call('GetItem', {'TableName': 't', 'Key': {'PK': {'S': 'a'}}}) == {}\n"
        "assert not heavy(), ('after a request', heavy())\n"
        "print('ok')\n"
    )
    with stub_dynamodb() as stub:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith("AWS_ENDPOINT")}
        env["STUB"] = stub.endpoint
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False, timeout=60
        )
        targets = [attempt.target for attempt in stub.attempts]
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert targets == ["DynamoDB_20120810.GetItem"]

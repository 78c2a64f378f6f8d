"""A tiny DynamoDB-shaped HTTP stub (stdlib only) for tests that need errors, throttling and slowness."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, dict[str, Any]]

THROTTLED: Reply = (
    400,
    {
        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "message": "The level of configured provisioned throughput for the table was exceeded.",
    },
)
INTERNAL_ERROR: Reply = (500, {"__type": "com.amazon.coral.service#InternalFailure", "message": "internal failure"})
EMPTY_OK: Reply = (200, {})


@dataclass
class Attempt:
    """One request the stub received."""

    target: str
    started: float  # time.monotonic() when it arrived


@dataclass
class StubDynamoDB:
    """Answers every request with ``respond(n)`` (n counts from 1) after ``delay`` seconds."""

    endpoint: str
    attempts: list[Attempt] = field(default_factory=list)
    delay: float = 0.0
    respond: Callable[[int], Reply] = lambda n: EMPTY_OK


@contextmanager
def stub_dynamodb(*, delay: float = 0.0, respond: Callable[[int], Reply] | None = None) -> Iterator[StubDynamoDB]:
    """Run the stub on a free 127.0.0.1 port in a thread for the duration of the block."""
    lock = threading.Lock()
    stub: StubDynamoDB

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the real service
        wbufsize = -1  # headers and body leave in one write: no Nagle / delayed-ACK stall of ~40 ms

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                stub.attempts.append(Attempt(self.headers.get("X-Amz-Target", ""), time.monotonic()))
                number = len(stub.attempts)
            time.sleep(stub.delay)
            status, body = stub.respond(number)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-amzn-RequestId", f"stub-{number}")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stub = StubDynamoDB(endpoint=f"http://127.0.0.1:{server.server_address[1]}", delay=delay)
    if respond is not None:
        stub.respond = respond
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

"""DynamoDB Local as the tests start it: a port someone else answers on is never mistaken for ours."""

from __future__ import annotations

import http.server
import sys
import threading
from collections.abc import Iterator

import pytest

from dynagen import local
from dynagen.local import DynamoDBLocal, listens

pytestmark = [pytest.mark.ddb, pytest.mark.skipif(sys.platform != "linux", reason="port ownership is read from /proc")]


class _Answer200(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # what the readiness probe sends
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def impostor() -> Iterator[int]:
    """Another server on a loopback port, answering 200 to anything, as a racing process would."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer200)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_listens_tells_which_process_holds_a_port(impostor: int) -> None:
    import os

    assert listens(os.getpid(), impostor) is True
    assert listens(1, impostor) is False or os.getpid() == 1
    assert listens(os.getpid(), 1) is None  # nothing listens on port 1: /proc cannot say whose it is


def test_an_explicit_port_answered_by_someone_else_is_an_error(impostor: int) -> None:
    with pytest.raises(RuntimeError, match=f"port {impostor} answers, but not from DynamoDB Local"):
        DynamoDBLocal.start(port=impostor, timeout=60)


def test_a_free_port_lost_to_a_race_is_retried_on_another(impostor: int, monkeypatch: pytest.MonkeyPatch) -> None:
    real = local._free_port
    handed: list[int] = []

    def racing_free_port() -> int:
        port = impostor if not handed else real()  # the first "free" port is already taken
        handed.append(port)
        return port

    monkeypatch.setattr(local, "_free_port", racing_free_port)
    server = DynamoDBLocal.start(timeout=90)
    try:
        assert handed[0] == impostor and server.port == handed[-1] != impostor
        assert listens(server.process.pid, server.port) is True
    finally:
        server.stop()

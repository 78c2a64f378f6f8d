"""An instant DynamoDB-shaped HTTP server: canned JSON per operation, so the server is not what is measured.

Raw sockets, HTTP/1.1 keep-alive, one thread per connection, responses prebuilt with their
``x-amz-crc32`` (botocore checks it). Unknown operations get ``{}``. With ``tls=(cert, key)`` it
speaks https (the handshake runs in the connection's thread).
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import zlib
from pathlib import Path
from typing import Any


class InstantStub:
    def __init__(self, responses: dict[str, Any], *, tls: tuple[Path, Path] | None = None) -> None:
        self._tls: ssl.SSLContext | None = None
        if tls is not None:
            self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._tls.load_cert_chain(str(tls[0]), str(tls[1]))
        self._responses = {op.encode(): self._build(body) for op, body in responses.items()}
        self._default = self._build({})
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        scheme = "https" if self._tls is not None else "http"
        self.endpoint = f"{scheme}://127.0.0.1:{self._server.getsockname()[1]}"
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @staticmethod
    def _build(payload: Any) -> bytes:
        body = json.dumps(payload, separators=(",", ":")).encode()
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
            f"Content-Length: {len(body)}\r\nx-amz-crc32: {zlib.crc32(body)}\r\nx-amzn-RequestId: bench\r\n\r\n"
        ).encode()
        return head + body

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        if self._tls is not None:
            try:
                conn = self._tls.wrap_socket(conn, server_side=True)
            except OSError:
                conn.close()
                return
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    try:
                        chunk = conn.recv(262144)
                    except OSError:
                        return
                    if not chunk:
                        return
                    buffer += chunk
                header, _, rest = buffer.partition(b"\r\n\r\n")
                length = 0
                target = b""
                for line in header.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    lowered = name.strip().lower()
                    if lowered == b"content-length":
                        length = int(value)
                    elif lowered == b"x-amz-target":
                        target = value.strip().rpartition(b".")[2]
                while len(rest) < length:
                    chunk = conn.recv(262144)
                    if not chunk:
                        return
                    rest += chunk
                buffer = rest[length:]
                try:
                    conn.sendall(self._responses.get(target, self._default))
                except OSError:
                    return

    def close(self) -> None:
        self._closed = True
        self._server.close()

    def __enter__(self) -> InstantStub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

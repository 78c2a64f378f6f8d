"""A small thread-safe HTTP/1.1 keep-alive connection pool over ``http.client``.

Failures are reported as one of two exceptions, because retrying them is not equally safe:

- ``NotSentError``: the request cannot have reached the server (connect, TLS or proxy failure, or
  the connection broke while the request was being written).
- ``NoResponseError``: the request was written but no complete response came back (reset, timeout,
  truncated body): the server may or may not have executed it.

A connection that failed, that the server asked to close, or that the server closed while it sat
idle in the pool, is discarded and never reused.
"""

from __future__ import annotations

import base64
import http.client
import os
import select
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from dynagen.errors import InvalidValueError

if TYPE_CHECKING:
    import ssl

    from dynagen.runtime._lean._endpoints import Endpoint

__all__ = ["ConnectionPool", "NoResponseError", "NotSentError", "Proxy", "Response", "proxy_for"]


class NotSentError(Exception):
    """The request surely did not reach the server; ``timeout`` tells a connect timeout apart.

    ``retryable`` is False when another attempt cannot succeed (a certificate that does not verify).
    """

    def __init__(self, message: str, *, timeout: bool = False, retryable: bool = True) -> None:
        super().__init__(message)
        self.timeout = timeout
        self.retryable = retryable


def _certificate_refused(exc: BaseException) -> bool:
    import ssl  # already loaded: only https connections get here

    return isinstance(exc, ssl.SSLCertVerificationError)


class NoResponseError(Exception):
    """The request was sent but no complete response was read; it may have been executed."""

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


@dataclass(frozen=True, slots=True)
class Response:
    """Status, headers (case-insensitive ``get``) and the whole body of one response."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes


@dataclass(frozen=True, slots=True)
class Proxy:
    """An ``http://`` proxy; ``authorization`` is the ``Proxy-Authorization`` value, if any."""

    host: str
    port: int
    authorization: str | None = None


def _env(name: str) -> str | None:
    # Lower case wins, as in urllib (curl's convention).
    return os.environ.get(name.lower()) or os.environ.get(name.upper()) or None


def _bypassed(host: str, port: int, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` (``*``, host names with or without a leading dot, ``:port``, CIDR) covers a host."""
    host = host.lower().strip("[]")
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        name, entry_port = entry, ""
        if entry.count(":") == 1:
            name, entry_port = entry.split(":")
        if entry_port and entry_port != str(port):
            continue
        name = name.lstrip(".").strip("[]")
        if "/" in name:  # CIDR block
            import ipaddress

            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(name, strict=False):
                    return True
            except ValueError:
                pass
            continue
        if host == name or host.endswith("." + name):
            return True
    return False


def proxy_for(endpoint: Endpoint) -> Proxy | None:
    """The proxy the environment (``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY``) sets for an endpoint."""
    url = _env("https_proxy") if endpoint.secure else _env("http_proxy")
    if not url:
        return None
    no_proxy = _env("no_proxy")
    if no_proxy and _bypassed(endpoint.host, endpoint.port, no_proxy):
        return None
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"only http:// proxies are supported, got {parts.scheme}://{parts.hostname}")
    authorization = None
    if parts.username is not None:
        userinfo = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(userinfo.encode("utf-8")).decode("ascii")
    return Proxy(parts.hostname, parts.port or 80, authorization)


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """True when an idle connection's socket is readable: the server closed it (or sent garbage)."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


class ConnectionPool:
    """Keep-alive connections to one endpoint, at most ``max_size`` kept idle (thread-safe).

    Like botocore's (urllib3 with ``block=False``), the pool never makes a caller wait: when every
    kept connection is busy, an extra one is opened and closed after use.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        max_size: int = 10,
        verify: bool | str = True,
        proxy: Proxy | None = None,
    ) -> None:
        if max_size < 1:
            raise ValueError("max_pool_connections must be >= 1")
        if isinstance(verify, str) and not os.path.isfile(verify):
            raise InvalidValueError("verify", f"CA bundle {verify!r} is not a file")
        self.endpoint = endpoint
        self.max_size = max_size
        self.proxy = proxy
        self._verify = verify
        self._ssl_context: ssl.SSLContext | None = None
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        # Through a plain-http proxy the request line carries the absolute URL.
        self.target = endpoint.url + "/" if proxy is not None and not endpoint.secure else "/"

    @property
    def idle_count(self) -> int:
        return len(self._idle)

    def _context(self) -> ssl.SSLContext:
        # Built on first https use: loading the CA store costs a few milliseconds.
        if self._ssl_context is None:
            import ssl

            if self._verify is False:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            elif isinstance(self._verify, str):
                context = ssl.create_default_context(cafile=self._verify)
            else:
                context = ssl.create_default_context()
            self._ssl_context = context
        return self._ssl_context

    def _new_connection(self, connect_timeout: float) -> http.client.HTTPConnection:
        endpoint, proxy = self.endpoint, self.proxy
        conn: http.client.HTTPConnection
        if endpoint.secure:
            with self._lock:
                context = self._context()
            if proxy is None:
                conn = http.client.HTTPSConnection(
                    endpoint.host, endpoint.port, timeout=connect_timeout, context=context
                )
            else:
                conn = http.client.HTTPSConnection(proxy.host, proxy.port, timeout=connect_timeout, context=context)
                tunnel_headers = {"Proxy-Authorization": proxy.authorization} if proxy.authorization else None
                conn.set_tunnel(endpoint.host, endpoint.port, headers=tunnel_headers)
        elif proxy is None:
            conn = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=connect_timeout)
        else:
            conn = http.client.HTTPConnection(proxy.host, proxy.port, timeout=connect_timeout)
        try:
            conn.connect()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise NotSentError(
                f"cannot connect to {endpoint.url}: {exc!r}",
                timeout=isinstance(exc, TimeoutError),
                retryable=not (endpoint.secure and _certificate_refused(exc)),
            ) from exc
        if conn.sock is not None:
            # Requests are small and latency-bound: do not let Nagle hold back the body.
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def _acquire(self, connect_timeout: float) -> http.client.HTTPConnection:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._new_connection(connect_timeout)
            if not _dropped(conn):
                return conn
            conn.close()

    def _release(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self.max_size:
                self._idle.append(conn)
                return
        conn.close()

    def request(self, body: bytes, headers: dict[str, str], *, connect_timeout: float, read_timeout: float) -> Response:
        """POST ``body`` and read the whole response, on a pooled connection."""
        conn = self._acquire(connect_timeout)
        try:
            sock = conn.sock
            if sock is not None:
                sock.settimeout(read_timeout)
            try:
                conn.request("POST", self.target, body, headers)
            except (OSError, http.client.HTTPException) as exc:
                raise NotSentError(
                    f"sending the request failed: {exc!r}", timeout=isinstance(exc, TimeoutError)
                ) from exc
            try:
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                raise NoResponseError(
                    f"no complete response from {self.endpoint.url}: {exc!r}", timeout=isinstance(exc, TimeoutError)
                ) from exc
        except BaseException:
            conn.close()
            raise
        if response.will_close:
            conn.close()
        else:
            self._release(conn)
        return Response(response.status, response.headers, data)

    def close(self) -> None:
        """Close every idle connection (connections in use go back to the pool when done)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

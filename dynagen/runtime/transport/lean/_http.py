"""A small thread-safe HTTP/1.1 keep-alive client and connection pool over ``socket``.

Only what the lean transport needs: ``POST`` requests, responses framed by ``Content-Length``,
``Transfer-Encoding: chunked`` or the end of the connection, HTTPS (``ssl`` is imported only when
the endpoint needs TLS) and ``http://`` proxies (absolute-URI requests, or a ``CONNECT`` tunnel for
HTTPS). ``http.client`` is not used: importing it loads ``email`` (header parsing) and ``ssl``,
tens of milliseconds of a cold start. Responses are parsed strictly: no obsolete line folding, no
malformed header lines, at most ``MAX_HEADERS`` fields in at most ``MAX_HEADER_BYTES`` bytes.

Failures are reported as one of two exceptions, because retrying them is not equally safe:

- ``NotSentError``: the request cannot have reached the server (connect, TLS or proxy failure, or
  the connection broke while the request was being written).
- ``NoResponseError``: the request was written but no complete response came back (reset, timeout,
  truncated body, a response that is not valid HTTP/1.1): the server may or may not have executed it.

A response whose body is larger than the pool's ``max_response_bytes`` raises ``TooLargeError``
instead, before the body is read whole: refused on its declared ``Content-Length``, or as soon as a
chunked or close-delimited body passes the cap.

A connection that failed, that the server asked to close, or that the server closed while it sat
idle in the pool, is discarded and never reused.
"""

from __future__ import annotations

import base64
import os
import select
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping

from dynagen._record import Record, init
from dynagen._typing import TYPE_CHECKING
from dynagen.errors import InvalidValueError
from dynagen.runtime.transport._urls import split_url

if TYPE_CHECKING:
    import ssl

    from dynagen.runtime.transport.lean._endpoints import Endpoint

__all__ = [
    "MAX_HEADERS",
    "MAX_HEADER_BYTES",
    "ConnectionPool",
    "Headers",
    "NoResponseError",
    "NotSentError",
    "ProtocolError",
    "Proxy",
    "Response",
    "TooLargeError",
    "hashed_ca_directory",
    "proxy_for",
]

MAX_HEADERS = 100  # header (or trailer) fields in one response, as http.client allows
MAX_HEADER_BYTES = 65536  # status line and header fields together (trailers: the same again)
_MAX_CHUNK_LINE = 4096  # a chunk-size line with its extensions
_MAX_INTERIM = 16  # 1xx responses skipped before the final one
_RECV_SIZE = 65536
_BODY_RECV_MAX = 1 << 20
_BODY_PREALLOCATE = 16 << 20  # at most this much is reserved up front for a body of announced length

_TCHAR = b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TCHAR_SET = frozenset(_TCHAR.decode("ascii"))
_CTL = bytes(range(9)) + bytes(range(10, 32)) + b"\x7f"  # control characters but HTAB
_HEX = b"0123456789abcdefABCDEF"


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


class ProtocolError(Exception):
    """What the peer sent is not an HTTP/1.1 response this client accepts (or it stopped mid-way)."""


class TooLargeError(Exception):
    """The response body is larger than ``limit`` bytes; ``size`` is its declared length, or what had arrived."""

    def __init__(self, limit: int, size: int | None) -> None:
        super().__init__(f"response body larger than {limit} bytes")
        self.limit = limit
        self.size = size


class Headers(Mapping[str, str]):
    """Response header fields, looked up case-insensitively (``get("x-amz-crc32")``).

    A field that appears more than once maps to its first value, as ``http.client``'s message
    does; ``get_all`` returns every value in order. Iteration yields names as the server sent them.
    """

    __slots__ = ("_fields", "_first")

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        self._fields = list(fields)
        first: dict[str, tuple[str, str]] = {}
        for name, value in self._fields:
            first.setdefault(name.lower(), (name, value))
        self._first = first

    def __getitem__(self, name: str) -> str:
        return self._first[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._first.values())

    def __len__(self) -> int:
        return len(self._first)

    def get_all(self, name: str) -> list[str]:
        """Every value of a field, in the order received (empty when absent)."""
        key = name.lower()
        return [value for field, value in self._fields if field.lower() == key]

    @property
    def fields(self) -> list[tuple[str, str]]:
        """Every (name, value) pair as received, repeats included."""
        return list(self._fields)

    def __repr__(self) -> str:
        return f"Headers({self._fields!r})"


class Response(Record):
    """Status, headers (case-insensitive ``get``) and the whole body of one response."""

    __slots__ = ("status", "headers", "body")  # noqa: RUF023 - the fields' order
    status: int
    headers: Headers
    body: bytes

    def __init__(self, status: int, headers: Headers, body: bytes) -> None:
        init(self, "status", status)
        init(self, "headers", headers)
        init(self, "body", body)


class Proxy(Record):
    """An ``http://`` proxy; ``authorization`` is the ``Proxy-Authorization`` value, if any."""

    __slots__ = ("host", "port", "authorization")  # noqa: RUF023 - the fields' order
    host: str
    port: int
    authorization: str | None

    def __init__(self, host: str, port: int, authorization: str | None = None) -> None:
        init(self, "host", host)
        init(self, "port", port)
        init(self, "authorization", authorization)


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
    parts = split_url(url)
    if parts.scheme != "http" or not parts.host:
        raise ValueError(f"only http:// proxies are supported, got {parts.scheme}://{parts.host}")
    authorization = None
    if parts.userinfo is not None:
        from urllib.parse import unquote  # proxies with credentials only

        username, _, password = parts.userinfo.partition(":")
        userinfo = f"{unquote(username)}:{unquote(password)}"
        authorization = "Basic " + base64.b64encode(userinfo.encode("utf-8")).decode("ascii")
    return Proxy(parts.host, parts.port or 80, authorization)


def _ascii(host: str) -> str | bytes:
    """A host name for ``getaddrinfo`` and TLS: bytes when ASCII (every AWS endpoint).

    Given a ``str``, both encode it with the ``idna`` codec, whose first use imports
    ``encodings.idna``, ``stringprep`` and ``unicodedata``: about 3 ms of a cold start's first
    request, for a conversion that leaves an ASCII name unchanged.
    """
    return host.encode("ascii") if host.isascii() else host


def hashed_ca_directory(environ: Mapping[str, str], paths: ssl.DefaultVerifyPaths) -> str | None:
    """The system CA store's hashed directory, when verifying against it equals the default; else None.

    ``ssl.create_default_context()`` parses the whole CA bundle: about 150 certificates, ~40 ms with
    OpenSSL 3.0, on the first https request of every cold start. Where the system also keeps its
    store as a hashed directory (``<subject hash>.0`` entries), OpenSSL reads from it only the roots
    a handshake needs. Two layouts count as the same store as the default bundle file:

    - the bundle inside the directory: ``/etc/ssl/certs`` with ``ca-certificates.crt``, as
      ``update-ca-certificates`` writes them (Debian, Ubuntu, Alpine);
    - a ``directory-hash`` next to the bundle: ``/etc/pki/ca-trust/extracted/pem/`` with
      ``tls-ca-bundle.pem``, both extracted by one ``update-ca-trust`` run (Fedora, RHEL, Amazon
      Linux 2023).

    Never when ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` asks for something else: then the default.
    """
    if environ.get(paths.openssl_cafile_env) or environ.get(paths.openssl_capath_env):
        return None
    cafile = os.path.realpath(paths.openssl_cafile) if os.path.exists(paths.openssl_cafile) else None
    candidates = []
    if os.path.isdir(paths.openssl_capath):
        capath = os.path.realpath(paths.openssl_capath)
        if cafile is None or os.path.dirname(cafile) == capath:  # a bundle elsewhere may trust more
            candidates.append(capath)
    if cafile is not None:
        candidates.append(os.path.join(os.path.dirname(cafile), "directory-hash"))
    for directory in candidates:
        try:
            if _has_hash_entries(directory):
                return directory
        except OSError:
            continue
    return None


def _check_ca_location(path: str) -> None:
    """A ``verify=`` path must be a CA bundle file or a hashed CA directory: never a silent "trust nothing"."""
    if os.path.isfile(path):
        return
    if not os.path.isdir(path):
        raise InvalidValueError("verify", f"CA bundle {path!r} is not a file or a directory")
    try:
        hashed = _has_hash_entries(path)
    except OSError as exc:
        raise InvalidValueError("verify", f"CA directory {path!r} cannot be read: {exc}") from exc
    if not hashed:
        raise InvalidValueError(
            "verify",
            f"CA directory {path!r} has no <subject hash>.0 entries (run `openssl rehash {path}`), "
            "or pass a CA bundle file",
        )


def _has_hash_entries(directory: str) -> bool:
    """Whether a directory holds ``<8 hex digits>.<n>`` entries, as OpenSSL looks CAs up by (OSError if unreadable)."""
    with os.scandir(directory) as entries:
        return any(_is_hash_link(entry.name) for entry in entries)


def _is_hash_link(name: str) -> bool:
    stem, dot, index = name.partition(".")
    return bool(dot) and len(stem) == 8 and index.isdigit() and all(c in "0123456789abcdef" for c in stem)


def _eol(raw: bytes) -> bytes:
    """A line without its terminator (LF, or CRLF); a CR anywhere else is refused."""
    line = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
    if b"\r" in line:
        raise ProtocolError(f"bare CR in line {line[:80]!r}")
    return line


def _tokens(values: list[str]) -> set[str]:
    return {token.strip().lower() for value in values for token in value.split(",")} - {""}


def _content_length(values: list[str]) -> int:
    """The body length from every ``Content-Length`` value: digits only, and all equal (``42, 42`` is 42)."""
    lengths = {item.strip(" \t") for value in values for item in value.split(",")}
    if len(lengths) != 1:
        raise ProtocolError(f"conflicting Content-Length values {values!r}")
    (text,) = lengths
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise ProtocolError(f"malformed Content-Length {text!r}")
    return int(text)


class _Connection:
    """One socket (plain, or TLS) and the bytes read from it that were not consumed yet."""

    __slots__ = ("_buffer", "end", "idle", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock: socket.socket | None = sock
        self._buffer = bytearray()
        # The read timeout is per socket operation (as botocore's); ``end`` (monotonic), when set,
        # also bounds the whole exchange, so a server trickling bytes cannot outlast a deadline.
        self.idle: float | None = None
        self.end: float | None = None

    @property
    def buffered(self) -> int:
        """Bytes received and not read yet: ours, and what TLS decrypted but has not handed over.

        A TLS record is decrypted whole: bytes after a response can wait inside the SSL object,
        where neither our buffer nor a poll of the raw socket sees them.
        """
        pending = getattr(self.sock, "pending", None)
        return len(self._buffer) + (pending() if pending is not None else 0)

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()

    def _armed(self) -> socket.socket:
        """The socket, its timeout set to what is left of the read timeout and the exchange's budget."""
        sock = self.sock
        if sock is None:
            raise OSError("connection is closed")
        if self.end is not None:
            left = self.end - time.monotonic()
            if left <= 0:
                raise TimeoutError("the time for this response ran out")
            sock.settimeout(left if self.idle is None else min(self.idle, left))
        return sock

    def _out_of_time(self, exc: TimeoutError) -> TimeoutError:
        """The socket's timeout, reworded when it was the exchange's whole budget that ran out."""
        if self.end is not None and self.end - time.monotonic() < 0.001:
            return TimeoutError("the time for this response ran out")
        return exc

    def _recv(self, size: int) -> bytes:
        try:
            return self._armed().recv(size)
        except TimeoutError as exc:
            raise self._out_of_time(exc) from None

    def send(self, data: bytes) -> None:
        try:
            self._armed().sendall(data)
        except TimeoutError as exc:
            raise self._out_of_time(exc) from None

    # -- reading ----------------------------------------------------------------------------

    def readline(self, limit: int, what: str, overflow: str | None = None) -> bytes:
        """One raw line, terminator included, of at most ``limit`` bytes.

        ``what`` names the line (or the section it ends) in errors; ``overflow`` replaces the
        message for a line too long.
        """
        buffer = self._buffer
        searched = 0
        while True:
            end = buffer.find(b"\n", searched, limit)
            if end >= 0:
                line = bytes(buffer[: end + 1])
                del buffer[: end + 1]
                return line
            if len(buffer) >= limit:
                raise ProtocolError(overflow or f"{what} longer than {limit} bytes")
            searched = len(buffer)
            data = self._recv(_RECV_SIZE)
            if not data:
                where = "inside" if buffer else "before"
                raise ProtocolError(f"connection closed by the server {where} the {what}")
            buffer += data

    def read_exact(self, size: int) -> bytes:
        """Exactly ``size`` bytes; the end of the connection before them is a truncated body."""
        buffer = self._buffer
        have = len(buffer)
        if have >= size:
            data = bytes(buffer[:size])
            del buffer[:size]
            return data
        self._armed()
        # Reserved up to a cap, then grown with what arrives: a hostile length costs at most the cap.
        out = bytearray(min(size, max(_BODY_PREALLOCATE, have)))
        out[:have] = buffer
        buffer.clear()
        while have < size:
            if have == len(out):
                out.extend(bytes(min(len(out), size - have)))
            with memoryview(out) as view, view[have:] as free:
                # Never past the end of this body: the socket then holds only what comes next.
                try:
                    got = self._armed().recv_into(free)
                except TimeoutError as exc:
                    raise self._out_of_time(exc) from None
            if not got:
                raise ProtocolError(f"truncated body: connection closed after {have} of {size} bytes")
            have += got
        return bytes(out)

    def read_to_eof(self, limit: int | None) -> bytes:
        parts = [bytes(self._buffer)]
        self._buffer.clear()
        have = len(parts[0])
        while True:
            if limit is not None and have > limit:
                raise TooLargeError(limit, have)  # at most one receive past the cap is held
            data = self._recv(_BODY_RECV_MAX)
            if not data:
                return b"".join(parts)
            parts.append(data)
            have += len(data)

    def read_head(self) -> tuple[int, int, str, Headers]:
        """The status line and header fields of one response: (version 10/11, status, reason, headers)."""
        budget = MAX_HEADER_BYTES
        while True:
            raw = self.readline(budget, "status line")
            budget -= len(raw)
            line = _eol(raw)
            if line:  # empty lines before a status line are ignored (RFC 9112 2.2)
                break
        version_text, _, rest = line.partition(b" ")
        if version_text == b"HTTP/1.1":
            version = 11
        elif version_text == b"HTTP/1.0":
            version = 10
        else:
            raise ProtocolError(f"not an HTTP/1.x status line: {line[:80]!r}")
        code, reason = rest[:3], rest[3:]
        if len(code) != 3 or not code.isdigit() or code[:1] == b"0" or (reason and reason[:1] != b" "):
            raise ProtocolError(f"malformed status line {line[:80]!r}")
        return version, int(code), reason[1:].decode("latin-1"), self.read_fields(budget, "header section")

    def read_fields(self, budget: int, what: str) -> Headers:
        """Header (or trailer) fields up to the empty line, within ``budget`` bytes and ``MAX_HEADERS`` fields."""
        fields: list[tuple[str, str]] = []
        overflow = f"{what} larger than {MAX_HEADER_BYTES} bytes"
        while True:
            raw = self.readline(budget, f"end of the {what}", overflow)
            budget -= len(raw)
            line = _eol(raw)
            if not line:
                return Headers(fields)
            if len(fields) >= MAX_HEADERS:
                raise ProtocolError(f"more than {MAX_HEADERS} fields in the {what}")
            if line[:1] in (b" ", b"\t"):
                raise ProtocolError(f"obsolete line folding in the {what}: {line[:80]!r}")
            name, colon, value = line.partition(b":")
            value = value.strip(b" \t")
            if not colon or not name or name.translate(None, _TCHAR) or len(value.translate(None, _CTL)) != len(value):
                raise ProtocolError(f"malformed header line {line[:80]!r}")
            fields.append((name.decode("ascii"), value.decode("latin-1")))

    def read_chunked(self, limit: int | None) -> bytes:
        parts: list[bytes] = []
        have = 0
        while True:
            line = _eol(self.readline(_MAX_CHUNK_LINE, "chunk-size line"))
            size_text = line.split(b";", 1)[0].strip(b" \t")
            if not size_text or size_text.translate(None, _HEX) or len(size_text) > 16:
                raise ProtocolError(f"malformed chunk-size line {line[:80]!r}")
            size = int(size_text, 16)
            if size == 0:
                break
            have += size
            if limit is not None and have > limit:  # before reading the chunk: its size is announced
                raise TooLargeError(limit, have)
            parts.append(self.read_exact(size))
            if _eol(self.readline(2, "chunk terminator")):
                raise ProtocolError("chunk data not followed by CRLF")
        self.read_fields(MAX_HEADER_BYTES, "trailer section")  # read to the end; trailers are not used
        return b"".join(parts)

    def read_response(self, limit: int | None = None) -> tuple[int, Headers, bytes, bool]:
        """One whole response: (status, headers, body, whether the connection must be closed after it).

        A body of more than ``limit`` bytes raises ``TooLargeError`` before it is read whole.
        """
        for _ in range(_MAX_INTERIM + 1):
            version, status, _reason, headers = self.read_head()
            if not 100 <= status < 200 or status == 101:
                break
        else:
            raise ProtocolError(f"more than {_MAX_INTERIM} interim (1xx) responses")
        if status == 101:
            raise ProtocolError("unexpected 101 Switching Protocols")
        connection = _tokens(headers.get_all("connection"))
        if version == 11:
            will_close = "close" in connection
        else:  # HTTP/1.0: closed after the response unless the server offers to keep it
            keep = "keep-alive" in connection or "keep-alive" in _tokens(headers.get_all("proxy-connection"))
            will_close = "close" in connection or not (keep or "keep-alive" in headers)
        transfer_encoding = headers.get_all("transfer-encoding")
        content_length = headers.get_all("content-length")
        if status in (204, 304):
            body = b""
        elif transfer_encoding:
            codings = [token.strip().lower() for value in transfer_encoding for token in value.split(",")]
            if codings != ["chunked"]:
                raise ProtocolError(f"unsupported Transfer-Encoding {', '.join(transfer_encoding)!r}")
            body = self.read_chunked(limit)
            # Both framings at once (RFC 9112 6.3): chunked wins, and the connection is not trusted after it.
            will_close = will_close or bool(content_length) or version == 10
        elif content_length:
            size = _content_length(content_length)
            if limit is not None and size > limit:
                raise TooLargeError(limit, size)
            body = self.read_exact(size)
        else:
            body = self.read_to_eof(limit)
            will_close = True
        return status, headers, body, will_close


def _dropped(conn: _Connection) -> bool:
    """True when an idle connection's socket is readable: the server closed it (or sent garbage)."""
    sock = conn.sock
    if sock is None or conn.buffered:
        return True
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def _check_target(target: str) -> None:
    if not target.isascii() or any(c <= " " or c == "\x7f" for c in target):
        raise ValueError(f"URL can't contain control characters or spaces: {target!r}")


def _header_line(name: str, value: str) -> str:
    if not name or not _TCHAR_SET.issuperset(name):
        raise InvalidValueError("header", f"Invalid header name {name[:80]!r}")
    if "\r" in value or "\n" in value or "\0" in value:
        # The value is not shown: it may be a session token or a proxy password.
        raise InvalidValueError(name, "Invalid header value: it contains CR, LF or NUL")
    return f"{name}: {value}\r\n"


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class ConnectionPool:
    """Keep-alive connections to one endpoint, at most ``max_size`` kept idle (thread-safe).

    Like botocore's (urllib3 with ``block=False``), the pool never makes a caller wait: when every
    kept connection is busy, an extra one is opened and closed after use. ``max_response_bytes``
    (None: no cap) bounds every response body read through it.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        max_size: int = 10,
        verify: bool | str = True,
        proxy: Proxy | None = None,
        max_response_bytes: int | None = None,
    ) -> None:
        if max_size < 1:
            raise ValueError("max_pool_connections must be >= 1")
        if max_response_bytes is not None and max_response_bytes < 1:
            raise InvalidValueError("max_response_bytes", f"must be >= 1, got {max_response_bytes}")
        self.max_response_bytes = max_response_bytes
        if isinstance(verify, str):
            _check_ca_location(verify)
        self.endpoint = endpoint
        self.max_size = max_size
        self.proxy = proxy
        self._verify = verify
        self._ssl_context: ssl.SSLContext | None = None
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        # Through a plain-http proxy the request line carries the absolute URL.
        self.target = endpoint.url + "/" if proxy is not None and not endpoint.secure else "/"

    @property
    def idle_count(self) -> int:
        return len(self._idle)

    def _context(self) -> ssl.SSLContext:
        # Built on first https use: importing ssl and loading the CA store cost milliseconds.
        if self._ssl_context is None:
            import ssl

            if self._verify is False:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # no CA store to load: nothing is checked
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            elif isinstance(self._verify, str) and os.path.isdir(self._verify):
                context = ssl.create_default_context(capath=self._verify)
            elif isinstance(self._verify, str):
                context = ssl.create_default_context(cafile=self._verify)
            else:
                hashed = hashed_ca_directory(os.environ, ssl.get_default_verify_paths())
                context = ssl.create_default_context(capath=hashed) if hashed else ssl.create_default_context()
            self._ssl_context = context
        return self._ssl_context

    def _tunnel(self, conn: _Connection) -> None:
        """Ask the proxy for a ``CONNECT`` tunnel to the endpoint; raises unless it answers 2xx."""
        endpoint, proxy = self.endpoint, self.proxy
        assert proxy is not None
        authority = _authority(endpoint.host, endpoint.port)
        head = f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n"
        if proxy.authorization:
            head += _header_line("Proxy-Authorization", proxy.authorization)
        conn.send((head + "\r\n").encode("latin-1"))
        for _ in range(_MAX_INTERIM + 1):
            _, status, reason, _ = conn.read_head()
            if not 100 <= status < 200:
                break
        if not 200 <= status < 300:
            raise ProtocolError(f"the proxy refused the tunnel: {status} {reason}".rstrip())
        if conn.buffered:
            raise ProtocolError("the proxy sent data before the TLS handshake")

    def _new_connection(self, connect_timeout: float) -> _Connection:
        endpoint, proxy = self.endpoint, self.proxy
        context: ssl.SSLContext | None = None
        if endpoint.secure:
            with self._lock:
                context = self._context()
        host, port = (endpoint.host, endpoint.port) if proxy is None else (proxy.host, proxy.port)
        conn: _Connection | None = None
        try:
            # create_connection hands the host to getaddrinfo, which takes bytes (typeshed says str only).
            sock = socket.create_connection((_ascii(host), port), timeout=connect_timeout)  # type: ignore[arg-type]
            conn = _Connection(sock)
            # Requests are small and latency-bound: do not let Nagle hold back the body.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if context is not None:
                if proxy is not None:
                    self._tunnel(conn)
                # The handshake runs here, bounded by the connect timeout still set on the socket.
                conn.sock = context.wrap_socket(sock, server_hostname=_ascii(endpoint.host))
        except (OSError, ProtocolError) as exc:
            if conn is not None:
                conn.close()
            raise NotSentError(
                f"cannot connect to {endpoint.url}: {exc!r}",
                timeout=isinstance(exc, TimeoutError),
                retryable=not (endpoint.secure and _certificate_refused(exc)),
            ) from exc
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        return conn

    def _acquire(self, connect_timeout: float) -> _Connection:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._new_connection(connect_timeout)
            if not _dropped(conn):
                return conn
            conn.close()

    def _release(self, conn: _Connection) -> None:
        with self._lock:
            if len(self._idle) < self.max_size:
                self._idle.append(conn)
                return
        conn.close()

    def _head(self, headers: dict[str, str], length: int, method: str = "POST", target: str | None = None) -> bytes:
        """The request line and header section; ``Host``, ``Accept-Encoding`` and ``Content-Length`` added unless given."""
        target = self.target if target is None else target
        _check_target(target)
        if not method or not _TCHAR_SET.issuperset(method):
            raise ValueError(f"Invalid method {method!r}")
        lines = [_header_line(name, value) for name, value in headers.items()]
        given = {name.lower() for name in headers}
        added = []
        if "host" not in given:
            added.append(f"Host: {self.endpoint.host_header}\r\n")
        if "accept-encoding" not in given:
            added.append("Accept-Encoding: identity\r\n")
        if "content-length" not in given:
            added.append(f"Content-Length: {length}\r\n")
        proxy = self.proxy
        if proxy is not None and proxy.authorization and not self.endpoint.secure:
            # Through a plain-http proxy every request carries the credentials (https ones use CONNECT).
            added.append(_header_line("Proxy-Authorization", proxy.authorization))
        return f"{method} {target} HTTP/1.1\r\n{''.join(added)}{''.join(lines)}\r\n".encode("latin-1")

    def request(
        self,
        body: bytes,
        headers: dict[str, str],
        *,
        connect_timeout: float,
        read_timeout: float,
        total: float | None = None,
        method: str = "POST",
        target: str | None = None,
    ) -> Response:
        """POST ``body`` and read the whole response, on a pooled connection.

        ``read_timeout`` bounds each socket operation; ``total``, when given, the whole exchange from
        here (connecting, sending and reading all count). A body over ``max_response_bytes`` raises
        ``TooLargeError`` (the connection is closed, the rest of the body never read). ``method`` and
        ``target`` (the request target, default ``/``) serve the container credentials endpoint's GET.
        """
        end = None if total is None else time.monotonic() + total
        head = self._head(headers, len(body), method, target)
        conn = self._acquire(connect_timeout if total is None else min(connect_timeout, total))
        try:
            try:
                conn.idle, conn.end = read_timeout, end
                if conn.sock is not None:
                    conn.sock.settimeout(read_timeout)
                conn.send(head + body)  # one write: no Nagle / delayed-ACK stall between head and body
            except OSError as exc:
                raise NotSentError(
                    f"sending the request failed: {exc!r}", timeout=isinstance(exc, TimeoutError)
                ) from exc
            try:
                status, response_headers, data, will_close = conn.read_response(self.max_response_bytes)
            except (OSError, ProtocolError) as exc:
                raise NoResponseError(
                    f"no complete response from {self.endpoint.url}: {exc!r}", timeout=isinstance(exc, TimeoutError)
                ) from exc
        except BaseException:
            conn.close()
            raise
        conn.end = None
        if will_close or conn.buffered:  # bytes after the response: the stream cannot be trusted
            conn.close()
        else:
            self._release(conn)
        return Response(status, response_headers, data)

    def close(self) -> None:
        """Close every idle connection (connections in use go back to the pool when done)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

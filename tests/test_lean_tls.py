"""The lean transport over TLS, and its connect timeout, against servers on 127.0.0.1 only.

A self-signed certificate is made in the test (``cryptography``, else the ``openssl`` binary) and a
small HTTPS server answers DynamoDB-shaped JSON. Shown: verification is on by default and a refused
certificate is a ``TransportError`` after at most ``max_attempts`` handshakes in bounded time; a CA
bundle (``verify=<path>`` or OpenSSL's ``SSL_CERT_FILE``) makes it succeed, but never for a
certificate naming another host; ``verify=False`` succeeds. A listening socket whose accept queue is
full (the kernel drops further SYNs) and a server that accepts but never speaks TLS show the connect
timeout firing within its bound, and a deadline cutting it shorter.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dynagen.errors import DeadlineExceededError, InvalidValueError, TransportError
from dynagen.runtime import Deadline
from dynagen.runtime.transport.lean import LeanTransport

LIST_TABLES = {"TableNames": ["payments"]}
CREDS = ("AKIDTLS", "tls-secret")


# -- certificates --------------------------------------------------------------------------------


def _cryptography_available() -> bool:
    try:
        import cryptography.x509  # noqa: F401
    except ImportError:
        return False
    return True


def _make_cert_cryptography(directory: Path, names: list[str], ips: list[str]) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dynagen test CA")])
    now = datetime.datetime.now(datetime.UTC)
    alt: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alt += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _make_cert_openssl(directory: Path, names: list[str], ips: list[str]) -> tuple[Path, Path]:
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    san = ",".join([f"DNS:{n}" for n in names] + [f"IP:{ip}" for ip in ips])
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=dynagen test CA",
            "-addext", f"subjectAltName={san}",
            "-keyout", str(key_path), "-out", str(cert_path),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return cert_path, key_path


def make_cert(directory: Path, *, names: list[str], ips: list[str]) -> tuple[Path, Path]:
    """A self-signed certificate (its own CA) for ``names`` / ``ips``: (cert.pem, key.pem)."""
    directory.mkdir(parents=True, exist_ok=True)
    if _cryptography_available():
        return _make_cert_cryptography(directory, names, ips)
    if shutil.which("openssl"):
        return _make_cert_openssl(directory, names, ips)
    pytest.skip("neither the 'cryptography' package nor the 'openssl' binary is available to make a certificate")


# -- an HTTPS server answering DynamoDB JSON -----------------------------------------------------


class TLSServer:
    """HTTPS on 127.0.0.1: counts TCP accepts and failed handshakes, answers every request with JSON."""

    def __init__(self, cert: Path, key: Path, payload: object = LIST_TABLES) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        body = json.dumps(payload).encode()
        self.response = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
            f"Content-Length: {len(body)}\r\nx-amz-crc32: {zlib.crc32(body)}\r\nx-amzn-RequestId: tls\r\n\r\n"
        ).encode() + body
        self.accepts = 0
        self.handshake_errors: list[str] = []
        self.targets: list[str] = []
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self.endpoint = f"https://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.accepts += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(10)
        try:
            conn = self.context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            with self._lock:
                self.handshake_errors.append(repr(exc))
            raw.close()
            return
        with conn:
            buffer = b""
            while True:
                try:
                    while b"\r\n\r\n" not in buffer:
                        chunk = conn.recv(65536)
                        if not chunk:
                            return
                        buffer += chunk
                    head, _, rest = buffer.partition(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n"):
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value)
                        elif name.strip().lower() == b"x-amz-target":
                            with self._lock:
                                self.targets.append(value.strip().decode())
                    while len(rest) < length:
                        chunk = conn.recv(65536)
                        if not chunk:
                            return
                        rest += chunk
                    buffer = rest[length:]
                    conn.sendall(self.response)
                except OSError:
                    return

    def close(self) -> None:
        self._sock.close()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # No proxy, no CA override from the environment: the test decides.
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR", "AWS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    return make_cert(tmp_path / "good", names=["localhost"], ips=["127.0.0.1"])


@pytest.fixture
def server(cert: tuple[Path, Path]) -> Iterator[TLSServer]:
    srv = TLSServer(*cert)
    yield srv
    srv.close()


def _lean(endpoint: str, **kwargs: object) -> LeanTransport:
    return LeanTransport("us-east-1", endpoint_url=endpoint, credentials=CREDS, **kwargs)  # type: ignore[arg-type]


def _wait_for(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end and not predicate():
        time.sleep(0.01)


# -- verification --------------------------------------------------------------------------------


def test_self_signed_certificate_is_refused_by_default(server: TLSServer) -> None:
    transport = _lean(server.endpoint, connect_timeout=2.0)
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        transport.call("ListTables", {})
    elapsed = time.monotonic() - started
    message = str(caught.value)
    assert "CERTIFICATE_VERIFY_FAILED" in message or "certificate verify failed" in message, message
    assert server.endpoint in message
    assert isinstance(caught.value.__cause__.__cause__, ssl.SSLCertVerificationError)  # type: ignore[union-attr]
    # A certificate that does not verify will not verify on a second attempt: exactly one handshake.
    assert transport.retry_policy.max_attempts > 1
    _wait_for(lambda: server.accepts >= 1 and len(server.handshake_errors) >= server.accepts)
    assert server.accepts == 1
    assert len(server.handshake_errors) == server.accepts, "every handshake failed"
    assert server.targets == [], "no request was sent over an unverified connection"
    assert elapsed < 3.0, f"refusing the certificate took {elapsed:.2f} s"


def test_ca_bundle_path_makes_it_succeed(server: TLSServer, cert: tuple[Path, Path]) -> None:
    with _lean(server.endpoint, verify=str(cert[0])) as transport:
        assert transport.call("ListTables", {}) == LIST_TABLES
        assert transport.call("ListTables", {}) == LIST_TABLES
    assert server.targets == ["DynamoDB_20120810.ListTables"] * 2
    assert server.accepts == 1, "the verified connection is kept alive and reused"
    assert server.handshake_errors == []


def test_ssl_cert_file_is_honoured_with_default_verification(
    server: TLSServer, cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The context is built on first https use with ssl.create_default_context(), which reads
    # OpenSSL's SSL_CERT_FILE: the way to add a CA without code changes.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    assert _lean(server.endpoint).call("ListTables", {}) == LIST_TABLES


def test_aws_ca_bundle_is_honoured_as_on_botocore(
    server: TLSServer, cert: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", str(cert[0]))
    assert _lean(server.endpoint).call("ListTables", {}) == LIST_TABLES
    with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):  # an explicit verify= wins
        _lean(server.endpoint, verify=str(make_cert(tmp_path / "other", names=["x.invalid"], ips=[])[0]),
              max_attempts=1).call("ListTables", {})  # fmt: skip
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tmp_path / "missing.pem"))
    with pytest.raises(InvalidValueError, match=r"verify: AWS_CA_BUNDLE '.*missing\.pem' does not exist"):
        _lean(server.endpoint)
    assert _lean(server.endpoint, verify=False).call("ListTables", {}) == LIST_TABLES
    assert _lean("http://127.0.0.1:9").endpoint.url == "http://127.0.0.1:9"  # plain http never reads it


def test_ca_bundle_does_not_excuse_a_certificate_for_another_host(tmp_path: Path) -> None:
    other_cert, other_key = make_cert(tmp_path / "other", names=["dynagen.invalid"], ips=[])
    srv = TLSServer(other_cert, other_key)
    try:
        with pytest.raises(TransportError) as caught:
            _lean(srv.endpoint, verify=str(other_cert), max_attempts=1).call("ListTables", {})
        message = str(caught.value)
        assert "mismatch" in message.lower() or "not valid for" in message.lower(), message
        assert srv.targets == []
    finally:
        srv.close()


def test_verification_disabled_succeeds(server: TLSServer) -> None:
    assert _lean(server.endpoint, verify=False).call("ListTables", {}) == LIST_TABLES
    assert server.targets == ["DynamoDB_20120810.ListTables"]


def test_verification_disabled_loads_no_ca_store(server: TLSServer) -> None:
    transport = _lean(server.endpoint, verify=False)
    assert transport._pool._context().cert_store_stats()["x509"] == 0  # nothing parsed for nothing checked


def _subject_hash(cert: Path) -> str:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl binary names the hashed-directory entry")
    out = subprocess.run([openssl, "x509", "-subject_hash", "-noout", "-in", str(cert)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _paths(cafile: Path, capath: Path) -> ssl.DefaultVerifyPaths:
    return ssl.DefaultVerifyPaths(str(cafile), str(capath), "SSL_CERT_FILE", str(cafile), "SSL_CERT_DIR", str(capath))


def test_default_trust_reads_a_hashed_store_lazily(
    server: TLSServer, cert: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A system store as Debian keeps it: the bundle and <subject hash>.0 entries in one directory.
    store = tmp_path / "certs"
    store.mkdir()
    shutil.copy(cert[0], store / "ca-certificates.crt")
    (store / f"{_subject_hash(cert[0])}.0").symlink_to(store / "ca-certificates.crt")
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: _paths(store / "ca-certificates.crt", store))
    with _lean(server.endpoint) as transport:
        context = transport._pool._context()
        assert context.cert_store_stats()["x509_ca"] == 0, "nothing parsed before a handshake needs it"
        assert transport.call("ListTables", {}) == LIST_TABLES
        assert context.cert_store_stats()["x509_ca"] == 1, "only the root this handshake needed"
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    # The same store without the certificate's entry trusts nothing: verification still refuses.
    (store / f"{_subject_hash(cert[0])}.0").unlink()
    (store / "00000000.0").symlink_to(store / "ca-certificates.crt")
    with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        _lean(server.endpoint, max_attempts=1).call("ListTables", {})


def test_a_hashed_ca_directory_as_verify(server: TLSServer, cert: tuple[Path, Path], tmp_path: Path) -> None:
    store = tmp_path / "ca-dir"
    store.mkdir()
    shutil.copy(cert[0], store / "dynagen-test-ca.pem")
    (store / f"{_subject_hash(cert[0])}.0").symlink_to("dynagen-test-ca.pem")
    with _lean(server.endpoint, verify=str(store)) as transport:
        assert transport.call("ListTables", {}) == LIST_TABLES
        assert transport._pool._context().cert_store_stats()["x509_ca"] == 1
    # A directory without hashed entries would trust nothing: refused before any connection.
    (store / f"{_subject_hash(cert[0])}.0").unlink()
    with pytest.raises(InvalidValueError, match=r"has no <subject hash>\.0 entries \(run `openssl rehash"):
        _lean(server.endpoint, verify=str(store))
    assert server.accepts == 1


def test_hashed_store_only_when_it_is_the_default_store(tmp_path: Path) -> None:
    from dynagen.runtime.transport.lean._http import hashed_ca_directory

    store = tmp_path / "certs"
    store.mkdir()
    (store / "ca-certificates.crt").write_text("")
    (store / "9d66eef0.0").symlink_to(store / "ca-certificates.crt")
    elsewhere = tmp_path / "cert.pem"
    elsewhere.write_text("")
    linked = tmp_path / "linked.pem"
    linked.symlink_to(store / "ca-certificates.crt")
    bundle = store / "ca-certificates.crt"
    assert hashed_ca_directory({}, _paths(bundle, store)) == str(store.resolve())
    assert hashed_ca_directory({}, _paths(linked, store)) == str(store.resolve()), "a link into the store is the store"
    assert hashed_ca_directory({}, _paths(tmp_path / "absent.pem", store)) == str(store.resolve())
    assert hashed_ca_directory({}, _paths(elsewhere, store)) is None, "a bundle elsewhere may trust more"
    assert hashed_ca_directory({"SSL_CERT_FILE": str(elsewhere)}, _paths(bundle, store)) is None
    assert hashed_ca_directory({"SSL_CERT_DIR": str(store)}, _paths(bundle, store)) is None
    assert hashed_ca_directory({}, _paths(bundle, tmp_path / "missing")) is None
    (store / "9d66eef0.0").unlink()
    (store / "README.0").write_text("")
    assert hashed_ca_directory({}, _paths(bundle, store)) is None, "no hashed entries: not a hashed store"


def test_hashed_store_next_to_the_bundle_as_update_ca_trust_extracts_them(tmp_path: Path) -> None:
    from dynagen.runtime.transport.lean._http import hashed_ca_directory

    # Fedora / RHEL / Amazon Linux 2023: OpenSSL's default capath (/etc/pki/tls/certs) is not hashed;
    # its cert.pem links to extracted/pem/tls-ca-bundle.pem, extracted with a directory-hash beside it.
    pem = tmp_path / "pki" / "ca-trust" / "extracted" / "pem"
    (pem / "directory-hash").mkdir(parents=True)
    (pem / "tls-ca-bundle.pem").write_text("")
    (pem / "directory-hash" / "9d66eef0.0").write_text("")
    tls_certs = tmp_path / "pki" / "tls" / "certs"
    tls_certs.mkdir(parents=True)
    (tls_certs / "ca-bundle.crt").symlink_to(pem / "tls-ca-bundle.pem")
    cert_pem = tmp_path / "pki" / "tls" / "cert.pem"
    cert_pem.symlink_to(pem / "tls-ca-bundle.pem")
    assert hashed_ca_directory({}, _paths(cert_pem, tls_certs)) == str((pem / "directory-hash").resolve())
    assert hashed_ca_directory({"SSL_CERT_FILE": str(cert_pem)}, _paths(cert_pem, tls_certs)) is None
    (pem / "directory-hash" / "9d66eef0.0").unlink()
    assert hashed_ca_directory({}, _paths(cert_pem, tls_certs)) is None, "an empty directory-hash: the bundle"


def test_a_missing_ca_bundle_path_is_an_error_not_unverified(server: TLSServer, tmp_path: Path) -> None:
    # A CA bundle that does not exist is a configuration error found before any connection is made:
    # never a silent fallback to the system store or to no verification.
    missing = str(tmp_path / "no-such-bundle.pem")
    with pytest.raises(InvalidValueError, match=f"verify: CA bundle {re.escape(repr(missing))} is not a file or a dir"):
        _lean(server.endpoint, verify=missing, max_attempts=1).call("ListTables", {})
    _wait_for(lambda: server.accepts > 0, timeout=0.3)  # give a (wrong) connection time to show up
    assert server.accepts == 0 and server.targets == []


# -- connect timeout -----------------------------------------------------------------------------


@contextlib.contextmanager
def full_backlog() -> Iterator[tuple[str, int]]:
    """A listening socket that never accepts, its accept queue filled: further connects hang (SYN dropped)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    address = listener.getsockname()
    fillers: list[socket.socket] = []
    try:
        for _ in range(64):
            probe = socket.socket()
            probe.settimeout(0.1)
            try:
                probe.connect(address)
            except TimeoutError:
                probe.close()
                break
            fillers.append(probe)
        else:
            pytest.skip("this kernel keeps accepting connections on a full backlog; cannot stall a connect")
        yield address
    finally:
        for sock in fillers:
            sock.close()
        listener.close()


def test_connect_timeout_fires_within_its_bound() -> None:
    with full_backlog() as (host, port):
        transport = _lean(f"http://{host}:{port}", connect_timeout=0.3, max_attempts=1)
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            transport.call("GetItem", {"TableName": "t", "Key": {"PK": {"S": "a"}}})
        elapsed = time.monotonic() - started
    assert "cannot connect" in str(caught.value), str(caught.value)
    assert 0.25 <= elapsed < 1.5, f"connect timeout of 0.3 s took {elapsed:.2f} s"


def test_connect_timeout_bounds_every_attempt() -> None:
    with full_backlog() as (host, port):
        transport = _lean(f"http://{host}:{port}", connect_timeout=0.2, max_attempts=3)
        started = time.monotonic()
        with pytest.raises(TransportError):
            transport.call("GetItem", {"TableName": "t", "Key": {"PK": {"S": "a"}}})
        elapsed = time.monotonic() - started
    # 3 attempts x 0.2 s plus two backoffs of at most 25 ms and 50 ms.
    assert 0.55 <= elapsed < 2.0, f"3 attempts of 0.2 s took {elapsed:.2f} s"


def test_deadline_caps_the_connect_timeout() -> None:
    with full_backlog() as (host, port):
        transport = _lean(f"http://{host}:{port}", connect_timeout=30.0)
        deadline = Deadline.from_seconds(0.6, margin=0.1)
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError):
            transport.call("GetItem", {"TableName": "t", "Key": {"PK": {"S": "a"}}}, deadline=deadline)
        elapsed = time.monotonic() - started
    assert elapsed < 1.5, f"a 30 s connect timeout under a 0.6 s deadline took {elapsed:.2f} s"


def test_a_server_that_never_speaks_tls_is_cut_by_the_connect_timeout() -> None:
    # TCP accepted, no ServerHello ever: the handshake is part of connecting and must be bounded too.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    try:
        transport = _lean(f"https://127.0.0.1:{listener.getsockname()[1]}", connect_timeout=0.3, max_attempts=1)
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            transport.call("ListTables", {})
        elapsed = time.monotonic() - started
    finally:
        listener.close()
        for conn in held:
            conn.close()
    assert "cannot connect" in str(caught.value), str(caught.value)
    assert 0.25 <= elapsed < 1.5, f"TLS handshake stall with a 0.3 s connect timeout took {elapsed:.2f} s"


# -- HTTPS through an http:// proxy (CONNECT tunnel) ---------------------------------------------


class ConnectProxy:
    """An http:// proxy on 127.0.0.1 that answers ``CONNECT`` (or refuses it with 407) and then relays bytes."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.refuse = refuse
        self.connects: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(10)
        head = b""
        with client:
            while b"\r\n\r\n" not in head:
                data = client.recv(1)  # byte by byte: nothing of the TLS handshake is read here
                if not data:
                    return
                head += data
            request_line, *lines = head.decode("latin-1").split("\r\n")[:-2]
            method, target, _ = request_line.split(" ")
            headers = dict(line.split(": ", 1) for line in lines)
            with self._lock:
                self.connects.append((f"{method} {target}", headers))
            if self.refuse:
                client.sendall(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n"
                    b"Content-Length: 0\r\n\r\n"
                )
                return
            upstream = socket.create_connection(("127.0.0.1", int(target.rsplit(":", 1)[1])), timeout=10)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            relay = threading.Thread(target=self._pipe, args=(upstream, client), daemon=True)
            relay.start()
            self._pipe(client, upstream)
            relay.join(10)
            upstream.close()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self._sock.close()


def test_https_through_a_connect_tunnel_verifies_the_endpoint_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The certificate names only "localhost", not the proxy's 127.0.0.1: the handshake succeeds only
    # if server_hostname is the endpoint's host, checked inside the tunnel.
    cert, key = make_cert(tmp_path / "named", names=["localhost"], ips=[])
    server, proxy = TLSServer(cert, key), ConnectProxy()
    try:
        monkeypatch.setenv("HTTPS_PROXY", f"http://us%3Aer:p%40ss@127.0.0.1:{proxy.port}")
        with _lean(f"https://localhost:{server.port}", verify=str(cert)) as transport:
            assert transport.call("ListTables", {}) == LIST_TABLES
            assert transport.call("ListTables", {}) == LIST_TABLES
        assert server.targets == ["DynamoDB_20120810.ListTables"] * 2
        assert server.accepts == 1, "one tunnel, kept alive"
        assert len(proxy.connects) == 1
        line, headers = proxy.connects[0]
        assert line == f"CONNECT localhost:{server.port}"
        assert headers["Host"] == f"localhost:{server.port}"
        assert headers["Proxy-Authorization"] == "Basic dXM6ZXI6cEBzcw=="  # us:er:p@ss
        assert server.handshake_errors == []
    finally:
        server.close()
        proxy.close()


def test_a_tunnel_to_a_host_the_certificate_does_not_name_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = make_cert(tmp_path / "named", names=["localhost"], ips=[])
    server, proxy = TLSServer(cert, key), ConnectProxy()
    try:
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
        with pytest.raises(TransportError) as caught:
            _lean(f"https://127.0.0.1:{server.port}", verify=str(cert), max_attempts=1).call("ListTables", {})
        assert isinstance(caught.value.__cause__.__cause__, ssl.SSLCertVerificationError)  # type: ignore[union-attr]
        assert server.targets == []
        assert "Proxy-Authorization" not in proxy.connects[0][1]
    finally:
        server.close()
        proxy.close()


def test_a_refused_tunnel_is_a_connect_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = ConnectProxy(refuse=True)
    try:
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
        transport = _lean("https://dynamodb.example.invalid", max_attempts=2)
        transport.retry_policy = transport.retry_policy.__replace__(base_delay=0.001)
        with pytest.raises(TransportError, match=r"cannot connect.*407 Proxy Authentication Required"):
            transport.call("ListTables", {})
        assert [line for line, _ in proxy.connects] == ["CONNECT dynamodb.example.invalid:443"] * 2
    finally:
        proxy.close()


# -- bytes after a response, inside one TLS record -----------------------------------------------------------


def test_bytes_after_a_response_in_the_same_tls_record_are_never_read_as_the_next_response(
    cert: tuple[Path, Path],
) -> None:
    """OpenSSL decrypts a record whole: a stray response sent with the first one waits inside the SSL
    object, invisible to a poll of the raw socket. The connection must not go back to the pool."""
    from dynagen.runtime.transport.lean._endpoints import resolve_endpoint
    from dynagen.runtime.transport.lean._http import ConnectionPool

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert[0]), str(cert[1]))
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    port = listener.getsockname()[1]

    def response(body: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

    def serve() -> None:
        for n in range(2):  # a second connection is what a correct client opens
            raw, _ = listener.accept()
            with context.wrap_socket(raw, server_side=True) as conn:
                conn.settimeout(5)
                received = b""
                while b"\r\n\r\n" not in received or not received.endswith(b"{}"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    received += chunk
                if n == 0:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
                    time.sleep(0.05)
                    conn.sendall(b"first" + response(b"STRAY"))  # one record: body + a stray response
                else:
                    conn.sendall(response(b"second"))
                time.sleep(0.2)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        pool = ConnectionPool(resolve_endpoint("us-east-1", f"https://127.0.0.1:{port}"), verify=str(cert[0]))
        first = pool.request(b"{}", {}, connect_timeout=2, read_timeout=2)
        assert first.body == b"first"
        assert pool.idle_count == 0, "a connection with unread TLS bytes went back to the pool"
        second = pool.request(b"{}", {}, connect_timeout=2, read_timeout=2)
        assert second.body == b"second"
        pool.close()
    finally:
        thread.join(timeout=5)
        listener.close()

"""TLS material for the https cold-start scenarios: a certificate for the stub, and a CA store two ways.

A real endpoint is https, and the first https request builds a TLS context: with the system CA store
as one bundle file (Amazon Linux) every client parses all of it; where the system also keeps it as
a hashed directory (Debian, Ubuntu, Alpine) the lean transport reads only the roots a handshake
needs. Both shapes are built here from this machine's store plus the stub's self-signed certificate,
so every client trusts the same ~150 roots and one more. Needs the ``openssl`` binary.
"""

from __future__ import annotations

import re
import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

_PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", re.S)


@dataclass(frozen=True)
class TLSMaterial:
    cert: Path  # the stub's certificate (self-signed, for 127.0.0.1)
    key: Path
    bundle: Path  # the system CA bundle plus ``cert``, one file
    hashed_dir: Path  # the same certificates, one file each, with ``openssl rehash`` links
    roots: int  # how many certificates both hold


def make_tls_material(directory: Path) -> TLSMaterial | None:
    """None when there is no ``openssl`` binary or no system CA bundle to copy."""
    openssl = shutil.which("openssl")
    paths = ssl.get_default_verify_paths()
    system_bundle = paths.cafile or paths.openssl_cafile
    if openssl is None or not system_bundle or not Path(system_bundle).is_file():
        return None
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "stub-cert.pem", directory / "stub-key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=dynagen bench stub",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    pems = _PEM.findall(Path(system_bundle).read_text(encoding="ascii", errors="replace"))
    pems.append(cert.read_text(encoding="ascii"))
    bundle = directory / "bundle.pem"
    bundle.write_text("".join(p if p.endswith("\n") else p + "\n" for p in pems), encoding="ascii")
    hashed = directory / "hashed"
    hashed.mkdir(exist_ok=True)
    for i, pem in enumerate(pems):
        (hashed / f"ca-{i:03d}.pem").write_text(pem, encoding="ascii")
    subprocess.run([openssl, "rehash", str(hashed)], check=True, capture_output=True, timeout=120)
    return TLSMaterial(cert, key, bundle, hashed, len(pems))

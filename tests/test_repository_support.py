"""Helpers shared by tests/test_repository_*.py: both transports, table copies, a fixed clock, fault injection.

No tests here; the other modules import the fixtures by name.
"""

from __future__ import annotations

import copy
import importlib.util
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dynagen.local import DynamoDBLocal
from dynagen.runtime import ops
from dynagen.runtime.transport._botocore import BotocoreTransport
from dynagen.runtime.transport._bounds import Deadline
from dynagen.runtime.transport._interface import Transport

FIXED_NOW = datetime(2024, 5, 6, 7, 8, 9, 120000, tzinfo=UTC)
FIXED_NOW_TEXT = "2024-05-06T07:08:09.12Z"


@pytest.fixture(params=["botocore", "lean"], name="transport")
def transport_fixture(
    request: pytest.FixtureRequest, ddb_client: Any, dynamodb_local: DynamoDBLocal
) -> Iterator[Transport]:
    """Every repository test runs on both transports: same results, same error types."""
    if request.param == "botocore":
        yield BotocoreTransport(ddb_client)
        return
    from dynagen.runtime.transport.lean import LeanTransport

    with LeanTransport(
        region="us-east-1", endpoint_url=dynamodb_local.endpoint, credentials=("testing", "testing")
    ) as lean:
        yield lean


class NoRequests:
    """A transport that refuses every call: a test using it proves nothing was sent."""

    def call(self, operation: str, request: Mapping[str, Any], *, deadline: Deadline | None = None) -> dict[str, Any]:
        raise AssertionError(f"{operation} was sent: the call should have been refused first")


class Recording:
    """Passes calls through and keeps the requests."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def call(self, operation: str, request: Mapping[str, Any], *, deadline: Deadline | None = None) -> dict[str, Any]:
        self.requests.append((operation, dict(request)))
        return self.inner.call(operation, request, deadline=deadline)


def import_generated(path: Path, name: str) -> ModuleType:
    """Import a generated module file under ``name`` (registered in sys.modules, as dataclasses needs)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def make_table(ddb_client: Any, definition: Mapping[str, Any], prefix: str) -> str:
    """Create a copy of a generated table definition under a unique name; returns the name."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    copied = copy.deepcopy(dict(definition))
    copied["TableName"] = name
    # DynamoDB Local keeps no stream records for Lambda; streams are tested from written items.
    copied.pop("StreamSpecification", None)
    ops.ensure_table(BotocoreTransport(ddb_client), copied)
    return name


def unique(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def freeze(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGSTOP ``process`` and return only once every one of its threads is stopped.

    The kernel stops a many-threaded JVM in two steps (one thread takes the signal, then stops the
    others); on a loaded machine a request sent in between can still be answered. A test that wants
    "accepts connections, never answers" waits for the stop first.
    """
    process.send_signal(signal.SIGSTOP)
    tasks = Path(f"/proc/{process.pid}/task")
    if not tasks.is_dir():  # no procfs: the best we can do is to give the stop time to land
        time.sleep(0.5)
        return
    until = time.monotonic() + timeout
    while True:
        states = []
        for task in tasks.iterdir():
            try:
                stat = (task / "stat").read_text()
            except FileNotFoundError:  # a thread that has exited meanwhile
                continue
            states.append(stat.rsplit(")", 1)[1].split()[0])  # the state follows "(comm)"
        if states and all(state in "tT" for state in states):
            return
        if time.monotonic() > until:
            raise TimeoutError(f"process {process.pid} not stopped after {timeout}s: thread states {sorted(set(states))}")
        time.sleep(0.01)


class Faulty:
    """Wraps a transport; for the first ``rounds`` batch calls, holds back the entries ``drop`` picks.

    Held-back entries are never sent: they come back as ``UnprocessedKeys`` / ``UnprocessedItems``,
    exactly as DynamoDB answers when it throttles part of a batch.
    """

    def __init__(self, inner: Transport, *, rounds: int, drop: Callable[[int, Any], bool]) -> None:
        self.inner = inner
        self.rounds = rounds
        self.drop = drop
        self.calls: list[str] = []

    def call(self, operation: str, request: Mapping[str, Any], *, deadline: Deadline | None = None) -> dict[str, Any]:
        self.calls.append(operation)
        batch_calls = sum(1 for op in self.calls if op in ("BatchGetItem", "BatchWriteItem"))
        if operation not in ("BatchGetItem", "BatchWriteItem") or batch_calls > self.rounds:
            return self.inner.call(operation, request, deadline=deadline)
        if operation == "BatchGetItem":
            send: dict[str, Any] = {}
            held: dict[str, Any] = {}
            for table, entry in request["RequestItems"].items():
                keep = [k for i, k in enumerate(entry["Keys"]) if not self.drop(i, k)]
                back = [k for i, k in enumerate(entry["Keys"]) if self.drop(i, k)]
                options = {k: v for k, v in entry.items() if k != "Keys"}
                if keep:
                    send[table] = {**options, "Keys": keep}
                if back:
                    held[table] = {**options, "Keys": back}
            response = (
                self.inner.call(operation, {"RequestItems": send}, deadline=deadline) if send else {"Responses": {}}
            )
            response["UnprocessedKeys"] = held
            return response
        sends: dict[str, list[Any]] = {}
        holds: dict[str, list[Any]] = {}
        for table, entries in request["RequestItems"].items():
            for i, entry in enumerate(entries):
                (holds if self.drop(i, entry) else sends).setdefault(table, []).append(entry)
        response = self.inner.call(operation, {"RequestItems": sends}, deadline=deadline) if sends else {}
        response["UnprocessedItems"] = holds
        return response

    def batch_calls(self) -> int:
        return sum(1 for op in self.calls if op in ("BatchGetItem", "BatchWriteItem"))

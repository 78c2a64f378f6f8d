"""Shared fixtures: DynamoDB Local and its clients come from dynagen's own pytest plugin.

``dynagen.pytest_plugin`` is loaded through its ``pytest11`` entry point (the editable install
registers it), so this suite exercises the plugin on every run. The names older tests use stay as
aliases: ``dynamodb_local`` is the plugin's, ``ddb_client`` is ``dynamodb_local_client``.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

# Dummy credentials so that nothing ever reaches a real account from the tests.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}.items():
    os.environ[_name] = _value
os.environ.pop("AWS_SESSION_TOKEN", None)
os.environ.pop("AWS_PROFILE", None)


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("dynagen"):
        raise pytest.UsageError(
            "dynagen's pytest plugin is not loaded: reinstall the project (`make venv`, or "
            "`pip install -e '.[dev]'`) so its pytest11 entry point is registered, and do not disable it"
        )


@pytest.fixture(scope="session")
def ddb_client(dynamodb_local_client: Any) -> Any:
    """The plugin's botocore client for DynamoDB Local (the name the older tests use)."""
    return dynamodb_local_client


@pytest.fixture
def table_name() -> str:
    """A fresh, valid (3-255 characters) table name per test."""
    return f"t-{uuid.uuid4().hex[:12]}"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="rewrite tests/goldens/*/expected from the compiler")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))

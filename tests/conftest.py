"""Shared fixtures: one DynamoDB Local per test session, clients and transports bound to it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from dynagen.local import DynamoDBLocal

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


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    server = DynamoDBLocal.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def ddb_client(dynamodb_local: DynamoDBLocal) -> Any:
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def table_name() -> str:
    """A fresh, valid (3-255 characters) table name per test."""
    return f"t-{uuid.uuid4().hex[:12]}"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="rewrite tests/goldens/*/expected from the compiler")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))

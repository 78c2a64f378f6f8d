"""Helpers shared by the tests/test_ops_*.py modules: a table layout, a fake clock, transport wrappers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from dynagen.local import DynamoDBLocal
from dynagen.runtime.transport._botocore import BotocoreTransport
from dynagen.runtime.transport._bounds import Deadline
from dynagen.runtime.transport._interface import Transport

KEYS = ("PK", "SK")
GSI_KEYS = ("PK", "SK", "GSI1PK", "GSI1SK")


@pytest.fixture(params=["botocore", "lean"], name="transport")
def transport_fixture(
    request: pytest.FixtureRequest, ddb_client: Any, dynamodb_local: DynamoDBLocal
) -> Iterator[Transport]:
    """Each ops test runs on both transports: they must behave the same (docs/encoding.md, "Runtime semantics")."""
    if request.param == "botocore":
        yield BotocoreTransport(ddb_client)
        return
    from dynagen.runtime.transport.lean import LeanTransport

    with LeanTransport("us-east-1", endpoint_url=dynamodb_local.endpoint, credentials=("testing", "testing")) as lean:
        yield lean


def table_definition(name: str, *, ttl: bool = True) -> dict[str, Any]:
    """A single-table-design layout: PK/SK, one GSI (gsi1), TTL on the reserved word ``ttl``."""
    definition: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK", "GSI1PK", "GSI1SK")],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "gsi1",
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if ttl:
        definition["TimeToLiveSpecification"] = {"AttributeName": "ttl", "Enabled": True}
    return definition


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fake_deadline(seconds: float) -> tuple[Deadline, FakeClock]:
    clock = FakeClock()
    return Deadline(clock.now + seconds, margin=0.0, clock=clock), clock


class Recording:
    """Wraps a transport: records every (operation, request) and lets a hook rewrite responses.

    ``hook(operation, request, call_next)`` returns the response; by default it just calls through.
    """

    def __init__(
        self,
        inner: Transport,
        hook: Callable[[str, Mapping[str, Any], Callable[[Mapping[str, Any]], dict[str, Any]]], dict[str, Any]]
        | None = None,
    ) -> None:
        self.inner = inner
        self.hook = hook
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, operation: str, request: Mapping[str, Any], *, deadline: Deadline | None = None) -> dict[str, Any]:
        self.calls.append((operation, dict(request)))

        def call_next(req: Mapping[str, Any]) -> dict[str, Any]:
            return self.inner.call(operation, req, deadline=deadline)

        if self.hook is None:
            return call_next(request)
        return self.hook(operation, request, call_next)

    def count(self, operation: str) -> int:
        return sum(1 for op, _ in self.calls if op == operation)

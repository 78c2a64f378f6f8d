"""Choosing the transport: argument > DYNAGEN_TRANSPORT > lean inside Lambda, botocore elsewhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dynagen.errors import InvalidValueError
from dynagen.local import DynamoDBLocal
from dynagen.runtime import (
    BotocoreTransport,
    LeanTransport,
    clear_clients,
    get_default_transport,
    get_lean_transport,
    transport_kind,
    warm_up,
)


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    clear_clients()
    yield
    clear_clients()


def test_kind_from_environment() -> None:
    assert transport_kind({}) == "botocore"
    assert transport_kind({"AWS_LAMBDA_FUNCTION_NAME": "f"}) == "lean"
    assert transport_kind({"AWS_LAMBDA_FUNCTION_NAME": "f", "DYNAGEN_TRANSPORT": "botocore"}) == "botocore"
    assert transport_kind({"DYNAGEN_TRANSPORT": " Lean "}) == "lean"
    with pytest.raises(InvalidValueError, match="DYNAGEN_TRANSPORT"):
        transport_kind({"DYNAGEN_TRANSPORT": "http2"})


def test_lean_transports_are_cached_per_settings(dynamodb_local: DynamoDBLocal) -> None:
    first = get_lean_transport(endpoint_url=dynamodb_local.endpoint)
    assert isinstance(first, LeanTransport)
    assert get_lean_transport(endpoint_url=dynamodb_local.endpoint) is first
    assert get_lean_transport(endpoint_url="http://127.0.0.1:9") is not first


@pytest.mark.parametrize(("kind", "expected"), [("lean", LeanTransport), ("botocore", BotocoreTransport)])
def test_default_transport_of_each_kind_reaches_dynamodb_local(
    dynamodb_local: DynamoDBLocal, kind: str, expected: type
) -> None:
    transport = get_default_transport(kind=kind, endpoint_url=dynamodb_local.endpoint)  # type: ignore[arg-type]
    assert isinstance(transport, expected)
    assert "TableNames" in transport.call("ListTables", {"Limit": 1})
    assert warm_up(transport=transport) is True


def test_warm_up_reports_an_unreachable_endpoint_without_raising() -> None:
    transport = get_lean_transport(endpoint_url="http://127.0.0.1:9")
    assert warm_up(transport=transport) is False


def test_the_cached_transports_take_the_response_cap_and_call_bound_from_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "a")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "b")
    monkeypatch.setenv("DYNAGEN_MAX_RESPONSE_BYTES", "4096")
    monkeypatch.setenv("DYNAGEN_CALL_TIMEOUT", "7.5")
    lean = get_lean_transport(region="us-east-1", endpoint_url="http://127.0.0.1:9")
    assert (lean.max_response_bytes, lean.call_timeout) == (4096, 7.5)
    botocore = get_default_transport(kind="botocore", region="us-east-1", endpoint_url="http://127.0.0.1:9")
    assert isinstance(botocore, BotocoreTransport)
    assert botocore.client._endpoint.http_session.limit == 4096

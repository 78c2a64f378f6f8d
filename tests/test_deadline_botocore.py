"""The deadline guard on the botocore transport: no first attempt, no SDK retry, no backoff past the deadline."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from _stub_dynamodb import INTERNAL_ERROR, THROTTLED, stub_dynamodb
from test_repository_support import freeze

from dynagen.errors import DeadlineExceededError, ServiceError
from dynagen.local import DynamoDBLocal
from dynagen.runtime.aws_lambda._clients import clear, create_client, get_transport
from dynagen.runtime.aws_lambda._environment import ClientSettings
from dynagen.runtime.transport._botocore import BotocoreTransport
from dynagen.runtime.transport._bounds import Deadline, current_deadline

GET = {"TableName": "t", "Key": {"pk": {"S": "a"}}}
MAX_ATTEMPTS = 10


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    clear()
    yield
    clear()


def settings_for(endpoint: str) -> ClientSettings:
    return ClientSettings(
        region="us-east-1",
        endpoint_url=endpoint,
        retry_mode="standard",
        max_attempts=MAX_ATTEMPTS,
        connect_timeout=2.0,
        read_timeout=5.0,
    )


def test_expired_deadline_sends_nothing() -> None:
    with stub_dynamodb() as stub:
        transport = get_transport(settings=settings_for(stub.endpoint))
        expired = Deadline.from_seconds(0.1, margin=0.2)
        with pytest.raises(DeadlineExceededError) as info:
            transport.call("GetItem", GET, deadline=expired)
        assert info.value.operation == "GetItem"
        assert stub.attempts == []
        assert current_deadline.get() is None  # the binding does not leak out of the call


def test_a_users_own_client_gets_the_backoff_guard_too() -> None:
    """BotocoreTransport(client) installs guard_retry_sleep: the retry is refused before its backoff sleep."""
    with stub_dynamodb(delay=0.35, respond=lambda n: THROTTLED) as stub:
        transport = BotocoreTransport(create_client("dynamodb", settings_for(stub.endpoint)))
        deadline = Deadline.from_seconds(0.5, margin=0.2)
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError) as info:
            transport.call("GetItem", GET, deadline=deadline)
        elapsed = time.monotonic() - started
    assert info.value.operation == "SDK retry"
    assert len(stub.attempts) == 1 < MAX_ATTEMPTS
    print(f"\nuser client: 1 attempt, ended after {elapsed:.3f} s for a 0.5 s deadline")


def test_sdk_retry_is_refused_before_sleeping_with_the_guard() -> None:
    """get_transport() adds guard_retry_sleep: a backoff that would outlast the deadline is not slept."""
    with stub_dynamodb(delay=0.35, respond=lambda n: THROTTLED) as stub:
        transport = get_transport(settings=settings_for(stub.endpoint))
        deadline = Deadline.from_seconds(0.5, margin=0.2)
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError) as info:
            transport.call("GetItem", GET, deadline=deadline)
        elapsed = time.monotonic() - started
    assert info.value.operation == "SDK retry"  # refused when the retry was decided, before its sleep
    assert len(stub.attempts) == 1 < MAX_ATTEMPTS
    print(f"\nguarded: 1 attempt, ended after {elapsed:.3f} s for a 0.5 s deadline")


def test_retries_run_until_the_deadline_then_stop() -> None:
    # 100 ms per answer: ten attempts need >= 1 s, the deadline leaves 0.8 s, and the first retry's
    # backoff (at most 50 ms for a 500 on DynamoDB) always fits, so 2..9 attempts happen.
    with stub_dynamodb(delay=0.1, respond=lambda n: INTERNAL_ERROR) as stub:
        transport = get_transport(settings=settings_for(stub.endpoint))
        deadline = Deadline.from_seconds(1.0, margin=0.2)
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError):
            transport.call("GetItem", GET, deadline=deadline)
        elapsed = time.monotonic() - started
    assert 2 <= len(stub.attempts) < MAX_ATTEMPTS
    print(f"\n500s: {len(stub.attempts)} attempts of {MAX_ATTEMPTS}, ended after {elapsed:.3f} s (deadline 1.0 s)")


def test_without_a_deadline_retries_run_out_normally() -> None:
    with stub_dynamodb(respond=lambda n: INTERNAL_ERROR) as stub:
        settings = ClientSettings(region="us-east-1", endpoint_url=stub.endpoint, retry_mode="standard", max_attempts=3)
        transport = get_transport(settings=settings)
        with pytest.raises(Exception) as info:
            transport.call("GetItem", GET)
    assert not isinstance(info.value, DeadlineExceededError)
    assert isinstance(info.value, ServiceError) and info.value.code == "InternalFailure"  # as on the lean transport
    assert info.value.retryable and info.value.status == 500
    assert len(stub.attempts) == 3


def test_a_retry_that_fits_the_deadline_still_happens() -> None:
    item: dict[str, Any] = {"Item": {"pk": {"S": "a"}}}
    with stub_dynamodb(respond=lambda n: INTERNAL_ERROR if n == 1 else (200, item)) as stub:
        transport = get_transport(settings=settings_for(stub.endpoint))
        response = transport.call("GetItem", GET, deadline=Deadline.from_seconds(5.0, margin=0.2))
    assert response == {"Item": {"pk": {"S": "a"}}}
    assert len(stub.attempts) == 2


def test_adaptive_rate_limiter_wait_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The adaptive limiter waits in before-send; the transport's hook runs after it, so a late request is refused."""
    from botocore.retries import adaptive  # type: ignore[import-untyped, unused-ignore]

    def slow_token(self: Any, request: Any, **kwargs: Any) -> None:
        time.sleep(0.35)  # as if the token bucket made us wait after throttling

    monkeypatch.setattr(adaptive.ClientRateLimiter, "on_sending_request", slow_token)
    with stub_dynamodb() as stub:
        settings = ClientSettings(region="us-east-1", endpoint_url=stub.endpoint, retry_mode="adaptive", max_attempts=3)
        guarded = get_transport(settings=settings)
        with pytest.raises(DeadlineExceededError):
            guarded.call("GetItem", GET, deadline=Deadline.from_seconds(0.5, margin=0.2))
        assert stub.attempts == []  # refused after the wait, before sending

        own_client = BotocoreTransport(create_client("dynamodb", settings))
        with pytest.raises(DeadlineExceededError):
            own_client.call("GetItem", GET, deadline=Deadline.from_seconds(0.5, margin=0.2))
        assert stub.attempts == []  # the generic before-send hook runs after the limiter's wait


@pytest.mark.ddb
def test_call_within_the_deadline_succeeds_on_dynamodb_local(dynamodb_local: DynamoDBLocal, ddb_client: Any) -> None:
    table = "deadline-ok"
    ddb_client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    transport = get_transport(endpoint_url=dynamodb_local.endpoint)
    deadline = Deadline.from_seconds(5.0, margin=0.5)
    transport.call("PutItem", {"TableName": table, "Item": {"pk": {"S": "a"}, "n": {"N": "1"}}}, deadline=deadline)
    response = transport.call("GetItem", {"TableName": table, "Key": {"pk": {"S": "a"}}}, deadline=deadline)
    assert response["Item"] == {"pk": {"S": "a"}, "n": {"N": "1"}}
    with pytest.raises(DeadlineExceededError):
        transport.call("GetItem", {"TableName": table, "Key": {"pk": {"S": "a"}}}, deadline=Deadline(0.0, margin=0))


@pytest.mark.ddb
@pytest.mark.timeout(180)
def test_sdk_retry_refused_near_the_deadline_on_a_frozen_dynamodb_local() -> None:
    """A DynamoDB Local of its own, frozen with SIGSTOP: it accepts connections and never answers.

    0.4 s read timeout, up to 10 attempts: the SDK retries the timed-out attempts by itself until the
    deadline lands between two of them; the next attempt (or its backoff) is refused. The margin
    (0.5 s) is at least the read timeout, so even an attempt started just before the usable time runs
    out ends before the hard deadline.
    """
    import signal

    server = DynamoDBLocal.start()  # not the shared one: freezing it must not stall other tests
    frozen = False
    try:
        settings = ClientSettings(
            region="us-east-1",
            endpoint_url=server.endpoint,
            retry_mode="standard",
            max_attempts=MAX_ATTEMPTS,
            connect_timeout=0.4,
            read_timeout=0.4,
        )
        transport = BotocoreTransport(create_client("dynamodb", settings))
        sent: list[float] = []
        # Registered after the transport's deadline hooks, so it counts only the attempts they let through.
        transport.client.meta.events.register("before-send", lambda **_: sent.append(time.monotonic()))
        table = f"frozen-{uuid.uuid4().hex[:8]}"
        # A fresh JVM can take seconds over its first requests: set up with a patient client.
        patient = BotocoreTransport(
            create_client("dynamodb", ClientSettings(region="us-east-1", endpoint_url=server.endpoint))
        )
        patient.call(
            "CreateTable",
            {
                "TableName": table,
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
        get = {"TableName": table, "Key": {"pk": {"S": "a"}}}
        assert "Item" not in patient.call("GetItem", get)
        assert "Item" not in transport.call("GetItem", get)  # a warm keep-alive connection to the server
        sent.clear()

        frozen = True
        freeze(server.process)
        deadline = Deadline.from_seconds(1.7, margin=0.5)  # 1.2 s usable: about three 0.4 s attempts
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError) as caught:
            transport.call("GetItem", get, deadline=deadline)
        elapsed = time.monotonic() - started
    finally:
        if frozen and server.process.poll() is None:
            server.process.send_signal(signal.SIGCONT)
        server.stop()
    attempts = len(sent)
    assert caught.value.operation in ("SDK retry", "SDK attempt"), caught.value.operation
    assert 2 <= attempts < MAX_ATTEMPTS, attempts  # SDK-internal retries did run, and were then cut
    assert 1.2 <= elapsed < 1.75, elapsed  # not before the usable time, not after the hard deadline
    print(f"\nfrozen DynamoDB Local: {attempts} attempts, {caught.value.operation!r} after {elapsed:.3f} s")

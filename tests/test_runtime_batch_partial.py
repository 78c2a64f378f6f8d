"""A batch stopped part-way loses nothing: by a real deadline on a slow server, or by an error on chunk 2.

Against the stdlib DynamoDB stub (loopback), with a real clock: the stub answers chunk by chunk, so
the test knows exactly which writes / keys each request held and what the error must report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from _stub_dynamodb import EMPTY_OK, INTERNAL_ERROR, Reply, stub_dynamodb

from dynagen.errors import BatchInterruptedError, DeadlineExceededError, UnprocessedItemsError
from dynagen.runtime.aws_lambda._clients import clear, create_client
from dynagen.runtime.aws_lambda._environment import ClientSettings
from dynagen.runtime.ops._batch import MAX_BATCH_GET, MAX_BATCH_WRITE, batch_get, batch_write, put_request
from dynagen.runtime.transport._botocore import BotocoreTransport
from dynagen.runtime.transport._bounds import Deadline
from dynagen.runtime.transport._interface import Transport
from dynagen.runtime.transport.lean import LeanTransport, RetryPolicy

TABLE = "t"
ITEMS = [{"pk": {"S": f"k{i:03d}"}, "n": {"N": str(i)}} for i in range(60)]  # chunks of 25, 25, 10
WRITES = [put_request(item) for item in ITEMS]


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    clear()
    yield
    clear()


def botocore_transport(endpoint: str, *, read: float = 5.0, attempts: int = 1) -> BotocoreTransport:
    settings = ClientSettings(
        region="us-east-1",
        endpoint_url=endpoint,
        retry_mode="standard",
        max_attempts=attempts,
        connect_timeout=1.0,
        read_timeout=read,
    )
    return BotocoreTransport(create_client("dynamodb", settings))


def make_transport(kind: str, endpoint: str, *, read: float = 5.0) -> Transport:
    if kind == "botocore":
        return botocore_transport(endpoint, read=read)
    return LeanTransport(
        "us-east-1",
        endpoint_url=endpoint,
        credentials=("testing", "testing"),
        connect_timeout=1.0,
        read_timeout=read,
        retry_policy=RetryPolicy(max_attempts=1),
    )


def no_sleep(_: float) -> None:
    raise AssertionError("the batch must not back off here")


# -- deadline, real clock ------------------------------------------------------------------------------


def test_deadline_on_a_slow_server_reports_completed_and_remaining_exactly() -> None:
    """0.6 s per request, 1.0 s usable: chunk 1 is written, chunk 2 is sent (and answers with 3 writes
    unprocessed) but ends past the usable time, so neither its retry nor chunk 3 starts."""
    left_over = WRITES[47:50]

    def respond(n: int) -> Reply:
        return (200, {"UnprocessedItems": {TABLE: left_over}}) if n == 2 else EMPTY_OK

    with stub_dynamodb(delay=0.6, respond=respond) as stub:
        transport = botocore_transport(stub.endpoint)
        deadline = Deadline.from_seconds(1.2, margin=0.2)
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError) as caught:
            batch_write(transport, {TABLE: WRITES}, deadline=deadline, sleep=no_sleep)
        elapsed = time.monotonic() - started
        requests = len(stub.attempts)
    err = caught.value
    assert err.operation == "BatchWriteItem"
    assert requests == 2  # chunk 3 was never sent
    assert err.completed == {TABLE: WRITES[:47]}
    assert err.remaining == {TABLE: WRITES[47:]}  # chunk 2's unprocessed three, then all of chunk 3
    done, remaining = err.completed[TABLE], err.remaining[TABLE]
    assert sorted(map(repr, done + remaining)) == sorted(map(repr, WRITES))  # nothing lost, nothing twice
    assert 1.2 <= elapsed < 1.6, elapsed
    print(f"\ndeadline mid-batch: {len(done)} written, {len(remaining)} remaining, after {elapsed:.2f} s")


# -- another error on chunk 2 ------------------------------------------------------------------------------


def stall_second_request(seconds: float) -> Callable[[int], Reply]:
    def respond(n: int) -> Reply:
        if n == 2:
            time.sleep(seconds)  # longer than the client's read timeout
        return EMPTY_OK

    return respond


@pytest.mark.parametrize("kind", ["botocore", "lean"])
@pytest.mark.parametrize("fault", ["read timeout", "service error"])
def test_an_error_on_chunk_2_reports_what_was_written(kind: str, fault: str) -> None:
    respond = stall_second_request(1.0) if fault == "read timeout" else (lambda n: INTERNAL_ERROR if n == 2 else EMPTY_OK)
    with stub_dynamodb(respond=respond) as stub:
        transport = make_transport(kind, stub.endpoint, read=0.3)
        with pytest.raises(BatchInterruptedError) as caught:
            batch_write(transport, {TABLE: WRITES}, sleep=no_sleep)
        requests = len(stub.attempts)
    err = caught.value
    assert isinstance(err, UnprocessedItemsError)  # handled like any unprocessed work: resend it
    assert requests == 2
    assert err.operation == "BatchWriteItem"
    assert err.completed == {TABLE: WRITES[:MAX_BATCH_WRITE]}
    assert err.unprocessed == {TABLE: WRITES[MAX_BATCH_WRITE:]}  # the failed chunk (outcome unknown) and chunk 3
    assert err.__cause__ is err.error and err.error is not None
    assert not isinstance(err.error, BatchInterruptedError | DeadlineExceededError)
    assert f"interrupted by {type(err.error).__name__}: 35 entries not done" in str(err)
    print(f"\n{kind} {fault}: {err}  (cause {err.error!r:.80})")


@pytest.mark.parametrize("kind", ["botocore", "lean"])
def test_an_error_on_the_first_request_propagates_unchanged(kind: str) -> None:
    with stub_dynamodb(respond=lambda n: INTERNAL_ERROR) as stub:
        transport = make_transport(kind, stub.endpoint)
        with pytest.raises(Exception) as caught:
            batch_write(transport, {TABLE: WRITES}, sleep=no_sleep)
        assert len(stub.attempts) == 1
    assert not isinstance(caught.value, UnprocessedItemsError)  # nothing is known to be done


def test_batch_get_error_on_chunk_2_reports_items_found_and_keys_not_fetched() -> None:
    keys = [{"pk": {"S": f"k{i:03d}"}} for i in range(MAX_BATCH_GET + 30)]
    found = [{**k, "n": {"N": "1"}} for k in keys[:5]]  # chunk 1: five of its keys exist

    def respond(n: int) -> Reply:
        return (200, {"Responses": {TABLE: found}}) if n == 1 else INTERNAL_ERROR

    with stub_dynamodb(respond=respond) as stub:
        transport = botocore_transport(stub.endpoint)
        with pytest.raises(BatchInterruptedError) as caught:
            batch_get(transport, {TABLE: keys}, sleep=no_sleep)
        assert len(stub.attempts) == 2
    err = caught.value
    assert err.operation == "BatchGetItem"
    assert err.completed == {TABLE: found}
    assert err.unprocessed == {TABLE: keys[MAX_BATCH_GET:]}
    assert err.__cause__ is err.error
    assert "30 entries not done" in str(err)


def test_a_deadline_is_not_turned_into_an_interruption() -> None:
    """The deadline refusing chunk 2 stays a DeadlineExceededError (with its own progress report)."""
    with stub_dynamodb() as stub:
        # Time runs out once the stub has answered chunk 1.
        deadline = Deadline(10.0, margin=0.0, clock=lambda: 100.0 if stub.attempts else 0.0)
        transport = botocore_transport(stub.endpoint)
        with pytest.raises(DeadlineExceededError) as caught:
            batch_write(transport, {TABLE: WRITES}, deadline=deadline, sleep=no_sleep)
        assert len(stub.attempts) == 1
    assert caught.value.completed == {TABLE: WRITES[:MAX_BATCH_WRITE]}
    assert caught.value.remaining == {TABLE: WRITES[MAX_BATCH_WRITE:]}

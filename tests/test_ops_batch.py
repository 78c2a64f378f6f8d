"""Batch get/write against DynamoDB Local: chunking, unprocessed retries, strict mode, deadlines."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from ops_support import (
    KEYS,
    Recording,
    fake_deadline,
    key,
    table_definition,
    transport_fixture,  # noqa: F401  (the `transport` fixture: both transports)
)

from dynagen.errors import DeadlineExceededError, InvalidValueError, UnprocessedItemsError
from dynagen.runtime.ops._batch import batch_get, batch_write, delete_request, put_request
from dynagen.runtime.ops._reads import scan
from dynagen.runtime.ops._tables import create_table
from dynagen.runtime.transport._interface import Transport

pytestmark = pytest.mark.ddb

Next = Callable[[Mapping[str, Any]], dict[str, Any]]


@pytest.fixture
def table(transport: Transport, table_name: str) -> str:
    create_table(transport, table_definition(table_name, ttl=False))
    return table_name


def _item(i: int) -> dict[str, Any]:
    return {**key(f"P#{i % 7}", f"S#{i:04d}"), "n": {"N": str(i)}, "status": {"S": "x"}}


def _numbers(items: list[dict[str, Any]]) -> list[int]:
    return sorted(int(item["n"]["N"]) for item in items)


def _all(transport: Transport, table: str) -> list[dict[str, Any]]:
    return scan(transport, table, key_attributes=KEYS, limit=10_000).items


class Dropper:
    """A fault injector: holds back the first ``hold`` keys/writes of each batch request for ``rounds`` rounds.

    Held-back work is answered as UnprocessedKeys/UnprocessedItems without being sent, as DynamoDB does
    under throttling.
    """

    def __init__(self, rounds: int, hold: int = 3) -> None:
        self.rounds = rounds
        self.hold = hold
        self.done = 0

    def __call__(self, operation: str, request: Mapping[str, Any], call_next: Next) -> dict[str, Any]:
        if self.done >= self.rounds or operation not in ("BatchGetItem", "BatchWriteItem"):
            return call_next(request)
        self.done += 1
        items = request["RequestItems"]
        table = next(iter(items))
        if operation == "BatchGetItem":
            entry = items[table]
            held = entry["Keys"][: self.hold]
            sent = {**items, table: {**entry, "Keys": entry["Keys"][self.hold :]}}
            sent = {t: e for t, e in sent.items() if e["Keys"]}
            response = call_next({"RequestItems": sent}) if sent else {"Responses": {}}
            response["UnprocessedKeys"] = {table: {**entry, "Keys": held}}
        else:
            held = items[table][: self.hold]
            sent = {**items, table: items[table][self.hold :]}
            sent = {t: v for t, v in sent.items() if v}
            response = call_next({"RequestItems": sent}) if sent else {}
            response["UnprocessedItems"] = {table: held}
        return response


def test_batch_write_and_get_chunk_at_25_and_100(transport: Transport, table: str) -> None:
    recording = Recording(transport)
    result = batch_write(recording, {table: [put_request(_item(i)) for i in range(260)]})
    assert result.unprocessed == {}
    assert recording.count("BatchWriteItem") == 11  # ceil(260 / 25)
    assert all(len(req["RequestItems"][table]) <= 25 for _, req in recording.calls)
    assert _numbers(_all(transport, table)) == list(range(260))

    recording = Recording(transport)
    keys = [key(f"P#{i % 7}", f"S#{i:04d}") for i in range(260)]
    got = batch_get(recording, {table: keys + keys[:10] + [key("nope", "nope")]}, consistent=True)
    assert got.unprocessed == {}
    assert _numbers(got.items[table]) == list(range(260))
    assert recording.count("BatchGetItem") == 3  # 261 distinct keys: 100 + 100 + 61
    sizes = [len(req["RequestItems"][table]["Keys"]) for _, req in recording.calls]
    assert sizes == [100, 100, 61]

    result = batch_write(transport, {table: [delete_request(k) for k in keys[:200]]})
    assert result.unprocessed == {}
    assert _numbers(_all(transport, table)) == list(range(200, 260))


def test_batch_across_tables_with_projection_and_reserved_words(
    transport: Transport, table: str, table_name: str
) -> None:
    other = table_name + "-b"
    create_table(transport, table_definition(other, ttl=False))
    batch_write(transport, {table: [put_request(_item(1))], other: [put_request(_item(2)), put_request(_item(2))]})
    got = batch_get(
        transport, {table: [key("P#1", "S#0001")], other: [key("P#2", "S#0002")]}, projection=["status", "n"]
    )
    assert got.items == {
        table: [{"status": {"S": "x"}, "n": {"N": "1"}}],
        other: [{"status": {"S": "x"}, "n": {"N": "2"}}],
    }


def test_unprocessed_keys_are_retried_with_backoff(transport: Transport, table: str) -> None:
    batch_write(transport, {table: [put_request(_item(i)) for i in range(30)]})
    delays: list[float] = []
    recording = Recording(transport, Dropper(rounds=3))
    keys = [key(f"P#{i % 7}", f"S#{i:04d}") for i in range(30)]
    got = batch_get(recording, {table: keys}, sleep=delays.append, rng=lambda: 1.0, base_delay=0.1, max_delay=0.3)
    assert got.unprocessed == {}
    assert _numbers(got.items[table]) == list(range(30))
    assert recording.count("BatchGetItem") == 4
    assert delays == [0.1, 0.2, 0.3]  # exponential, capped (rng=1.0 is the top of the jitter range)


def test_still_unprocessed_keys_are_returned_or_raised(transport: Transport, table: str) -> None:
    batch_write(transport, {table: [put_request(_item(i)) for i in range(30)]})
    keys = [key(f"P#{i % 7}", f"S#{i:04d}") for i in range(30)]
    recording = Recording(transport, Dropper(rounds=100))
    got = batch_get(recording, {table: keys}, max_attempts=3, sleep=lambda _: None)
    assert recording.count("BatchGetItem") == 3
    # Every round holds back the first 3 keys it gets: the same 3 stay unprocessed, all others are found.
    assert got.unprocessed == {table: keys[:3]}
    assert _numbers(got.items[table]) == list(range(3, 30))
    with pytest.raises(UnprocessedItemsError) as info:
        batch_get(
            Recording(transport, Dropper(rounds=100)), {table: keys}, max_attempts=2, sleep=lambda _: None, strict=True
        )
    assert info.value.unprocessed == {table: keys[:3]}
    assert _numbers(info.value.completed[table]) == list(range(3, 30))


def test_unprocessed_writes_are_retried_returned_or_raised(transport: Transport, table: str) -> None:
    writes = [put_request(_item(i)) for i in range(30)]
    result = batch_write(Recording(transport, Dropper(rounds=2)), {table: writes}, sleep=lambda _: None)
    assert result.unprocessed == {}
    assert _numbers(_all(transport, table)) == list(range(30))

    more = [put_request(_item(i)) for i in range(100, 110)]
    result = batch_write(Recording(transport, Dropper(rounds=100)), {table: more}, max_attempts=4, sleep=lambda _: None)
    assert result.unprocessed == {table: more[:3]}
    assert _numbers(_all(transport, table)) == [*range(30), *range(103, 110)]
    with pytest.raises(UnprocessedItemsError) as info:
        batch_write(
            Recording(transport, Dropper(rounds=100)), {table: more}, max_attempts=2, sleep=lambda _: None, strict=True
        )
    assert info.value.unprocessed == {table: more[:3]}
    assert info.value.completed == {table: more[3:]}


def test_deadline_mid_batch_write_reports_done_and_remaining(transport: Transport, table: str) -> None:
    deadline, clock = fake_deadline(2.5)

    def tick(operation: str, request: Mapping[str, Any], call_next: Next) -> dict[str, Any]:
        response = call_next(request)
        clock.now += 1.0
        return response

    writes = [put_request(_item(i)) for i in range(100)]
    recording = Recording(transport, tick)
    with pytest.raises(DeadlineExceededError) as info:
        batch_write(recording, {table: writes}, deadline=deadline)
    assert recording.count("BatchWriteItem") == 3
    assert info.value.completed == {table: writes[:75]}
    assert info.value.remaining == {table: writes[75:]}
    assert _numbers(_all(transport, table)) == list(range(75))


def test_deadline_mid_batch_get_with_unprocessed_keys(transport: Transport, table: str) -> None:
    batch_write(transport, {table: [put_request(_item(i)) for i in range(150)]})
    keys = [key(f"P#{i % 7}", f"S#{i:04d}") for i in range(150)]
    deadline, clock = fake_deadline(1.5)
    dropper = Dropper(rounds=1)

    def tick(operation: str, request: Mapping[str, Any], call_next: Next) -> dict[str, Any]:
        response = dropper(operation, request, call_next)
        clock.now += 1.0
        return response

    with pytest.raises(DeadlineExceededError) as info:
        batch_get(Recording(transport, tick), {table: keys}, deadline=deadline, sleep=lambda _: None, rng=lambda: 0.0)
    completed, remaining = info.value.completed, info.value.remaining
    # Round 1: 97 of the first 100 found, 3 held back; round 2 (the retry) found those 3; the third request refused.
    assert _numbers(completed[table]) == list(range(100))
    assert remaining == {table: keys[100:]}
    # Retry backoff that would outlive the deadline is not slept: reported straight away.
    deadline, clock = fake_deadline(0.1)
    with pytest.raises(DeadlineExceededError) as info:
        batch_get(
            Recording(transport, Dropper(rounds=1)),
            {table: keys[:10]},
            deadline=deadline,
            base_delay=1.0,
            rng=lambda: 1.0,
            sleep=lambda _: pytest.fail("slept past the deadline"),
        )
    assert _numbers(info.value.completed[table]) == list(range(3, 10))
    assert info.value.remaining == {table: keys[:3]}


def test_invalid_batch_input_is_rejected_before_any_request(transport: Transport, table: str) -> None:
    recording = Recording(transport)
    with pytest.raises(InvalidValueError):
        batch_write(recording, {table: [{"PutRequest": {}}]})
    with pytest.raises(InvalidValueError):
        batch_write(recording, {table: [{"Put": {"Item": _item(1)}}]})
    with pytest.raises(InvalidValueError):
        batch_get(recording, {table: [{}]})
    with pytest.raises(InvalidValueError):
        batch_get(recording, {table: [{"PK": "bare"}]})
    with pytest.raises(InvalidValueError):
        batch_get(recording, {table: [key("a", "b")]}, max_attempts=0)
    assert recording.calls == []

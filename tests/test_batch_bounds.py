"""Batches: a bound on the whole call's retry time, unprocessed writes matched by key, and one shape of
``completed`` for a repository's ``UnprocessedItemsError`` and ``BatchInterruptedError``.

Scripted in-memory transports and a fake clock: no server, no real sleeping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from dynagen.errors import BatchInterruptedError, TransportError, UnprocessedItemsError
from dynagen.runtime.ops._batch import (
    DEFAULT_MAX_RETRY_TIME,
    MAX_BATCH_GET,
    MAX_BATCH_WRITE,
    batch_get,
    batch_write,
    delete_request,
    put_request,
)
from dynagen.runtime.transport._bounds import Deadline
from generated_example import payments as pay
from generated_example.payments import Payment, PaymentRepository

TABLE = "t"
Answer = Callable[[str, Mapping[str, Any]], dict[str, Any]]


class Scripted:
    """A transport answering each request with ``answer(operation, request_items)``; records what was sent."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.sent: list[dict[str, Any]] = []

    def call(self, operation: str, request: Mapping[str, Any], *, deadline: Deadline | None = None) -> dict[str, Any]:
        self.sent.append(request["RequestItems"])
        return self.answer(operation, request["RequestItems"])


class FakeTime:
    """``sleep`` advances ``clock``: the retry bound is checked against time that passes only by sleeping."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def _nothing_done(operation: str, items: Mapping[str, Any]) -> dict[str, Any]:
    if operation == "BatchGetItem":
        return {"Responses": {}, "UnprocessedKeys": dict(items)}
    return {"UnprocessedItems": dict(items)}


# -- 18.7: the whole call's retry time is bounded ---------------------------------------------------------


def test_a_throttled_batch_write_of_1000_items_stops_retrying_after_max_retry_time() -> None:
    """40 chunks that DynamoDB never processes: per-chunk backoff alone would sleep ~206 s (8 attempts,
    delays 0.05 .. 2 s with rng=1); the call stops retrying once its retry time is spent."""
    writes = [put_request({"pk": {"S": f"k{i:04d}"}}) for i in range(1000)]
    transport, time = Scripted(_nothing_done), FakeTime()
    result = batch_write(transport, {TABLE: writes}, sleep=time.sleep, clock=time.clock, rng=lambda: 1.0)
    assert sum(time.slept) <= DEFAULT_MAX_RETRY_TIME
    assert sum(time.slept) > DEFAULT_MAX_RETRY_TIME - 2.0  # it did retry up to the bound
    # Nothing lost: every chunk was sent at least once and every write comes back unprocessed.
    first_sends = {r["pk"]["S"] for items in transport.sent for w in items[TABLE] for r in [w["PutRequest"]["Item"]]}
    assert len(first_sends) == 1000
    assert sorted(w["PutRequest"]["Item"]["pk"]["S"] for w in result.unprocessed[TABLE]) == [
        f"k{i:04d}" for i in range(1000)
    ]
    print(f"\n1,000 unprocessable writes: slept {sum(time.slept):.2f} s in {len(time.slept)} backoffs (was ~206 s)")


def test_a_throttled_batch_get_is_bounded_the_same_way() -> None:
    keys = [{"pk": {"S": f"k{i:04d}"}} for i in range(10 * MAX_BATCH_GET)]
    transport, time = Scripted(_nothing_done), FakeTime()
    result = batch_get(transport, {TABLE: keys}, sleep=time.sleep, clock=time.clock, rng=lambda: 1.0, max_retry_time=3.0)
    assert 1.0 < sum(time.slept) <= 3.0
    assert len(result.unprocessed[TABLE]) == len(keys)
    assert len(transport.sent) >= 10  # every chunk was still sent once


def test_retry_time_counts_the_retried_requests_too() -> None:
    """A retry's request time counts against the bound, not only the sleeps."""
    time = FakeTime()

    def slow(operation: str, items: Mapping[str, Any]) -> dict[str, Any]:
        time.now += 1.5  # each request takes 1.5 s
        return _nothing_done(operation, items)

    writes = [put_request({"pk": {"S": f"k{i}"}}) for i in range(3)]
    batch_write(Scripted(slow), {TABLE: writes}, sleep=time.sleep, clock=time.clock, rng=lambda: 0.0, max_retry_time=4.0)
    # Sleeps are 0 (rng 0): three retries take 4.5 s, so only two fit in 4 s (3.0 s), then none.
    assert len(time.slept) == 3  # sleeps before retries 1, 2 and 3; retry 3 passes the bound, no 4th


def test_max_retry_time_none_keeps_the_per_chunk_bound_only() -> None:
    writes = [put_request({"pk": {"S": f"k{i:03d}"}}) for i in range(3 * MAX_BATCH_WRITE)]
    time = FakeTime()
    batch_write(Scripted(_nothing_done), {TABLE: writes}, sleep=time.sleep, clock=time.clock, rng=lambda: 1.0,
                max_retry_time=None)  # fmt: skip
    assert len(time.slept) == 3 * 7  # 8 attempts per chunk, 7 backoffs each


# -- 18.7: unprocessed writes are matched by key ------------------------------------------------------------


def _normalised(request: Mapping[str, Any]) -> dict[str, Any]:
    """The same write as a service might echo it: numbers in canonical form, sets in another order."""

    def value(v: Mapping[str, Any]) -> dict[str, Any]:
        ((kind, inner),) = v.items()
        if kind == "N":
            return {"N": str(Decimal(inner).normalize())}
        if kind in ("SS", "NS"):
            return {kind: [str(Decimal(x).normalize()) if kind == "NS" else x for x in reversed(inner)]}
        return dict(v)

    ((kind, inner),) = request.items()
    ((name, body),) = inner.items()
    return {kind: {name: {a: value(v) for a, v in body.items()}}}


def _puts(n: int) -> list[dict[str, Any]]:
    return [
        put_request({"pk": {"S": f"k{i}"}, "sk": {"N": f"{i}.50"}, "tags": {"SS": ["a", "b"]}, "price": {"N": "1.50"}})
        for i in range(n)
    ]


@pytest.mark.parametrize("key_attributes", [None, {TABLE: ("pk", "sk")}])
def test_an_unprocessed_write_echoed_in_normal_form_counts_once_as_not_done(
    key_attributes: dict[str, tuple[str, ...]] | None,
) -> None:
    writes = _puts(5)

    def echo_two_normalised(operation: str, items: Mapping[str, Any]) -> dict[str, Any]:
        return {"UnprocessedItems": {TABLE: [_normalised(w) for w in items[TABLE][:2]]}}

    transport = Scripted(echo_two_normalised)
    with pytest.raises(UnprocessedItemsError) as caught:
        batch_write(transport, {TABLE: writes}, max_attempts=1, strict=True, key_attributes=key_attributes)
    done, left = caught.value.completed[TABLE], caught.value.unprocessed[TABLE]
    assert done == writes[2:]
    assert left == writes[:2]  # the caller's own requests, once each
    assert not [w for w in done if w in left]


def test_retries_resend_the_callers_request_matched_by_key() -> None:
    writes = _puts(3)
    answers = iter([{"UnprocessedItems": {TABLE: [_normalised(writes[1])]}}, {}])
    transport = Scripted(lambda operation, items: next(answers))
    assert batch_write(transport, {TABLE: writes}, sleep=lambda _: None).unprocessed == {}
    assert transport.sent[1] == {TABLE: [writes[1]]}


def test_matching_by_key_ignores_the_rest_of_the_item() -> None:
    """With the key known, an echo differing in a non-key attribute is still the same write."""
    writes = [put_request({"pk": {"S": f"k{i}"}, "note": {"S": "x"}}) for i in range(3)]

    def echo_changed(operation: str, items: Mapping[str, Any]) -> dict[str, Any]:
        return {"UnprocessedItems": {TABLE: [put_request({"pk": {"S": "k1"}, "note": {"S": "X"}})]}}

    result = batch_write(Scripted(echo_changed), {TABLE: writes}, max_attempts=1, key_attributes={TABLE: ["pk"]})
    assert result.unprocessed == {TABLE: [writes[1]]}


def test_delete_keys_name_the_key_attributes_of_their_table() -> None:
    writes = [put_request({"pk": {"S": "a"}, "n": {"N": "1.0"}}), delete_request({"pk": {"S": "b"}})]

    def echo_put_changed(operation: str, items: Mapping[str, Any]) -> dict[str, Any]:
        return {"UnprocessedItems": {TABLE: [put_request({"pk": {"S": "a"}, "n": {"N": "1"}, "extra": {"BOOL": True}})]}}

    result = batch_write(Scripted(echo_put_changed), {TABLE: writes}, max_attempts=1)
    assert result.unprocessed == {TABLE: [writes[0]]}


def test_an_echo_matching_nothing_sent_is_kept_as_returned() -> None:
    writes = _puts(2)
    stranger = put_request({"pk": {"S": "zz"}, "sk": {"N": "9"}})
    result = batch_write(Scripted(lambda op, items: {"UnprocessedItems": {TABLE: [stranger]}}), {TABLE: writes},
                         max_attempts=1, key_attributes={TABLE: ["pk", "sk"]})  # fmt: skip
    assert result.unprocessed == {TABLE: [stranger]}


# -- 12.10: a repository's batch errors hold models, interrupted or not -------------------------------------


def _payment(i: int) -> Payment:
    return Payment(
        partner_id="acme",
        payment_id=f"p{i:03d}",
        customer_id=UUID(int=i),
        amount=Decimal("10"),
        currency=pay.Currency.USD,
        created_on=date(2024, 5, 1),
    )


def _fail_second_request(ok: Callable[[Mapping[str, Any]], dict[str, Any]]) -> Answer:
    calls = []

    def answer(operation: str, items: Mapping[str, Any]) -> dict[str, Any]:
        calls.append(operation)
        if len(calls) == 2:
            raise TransportError("connection reset")
        return ok(items)

    return answer


def test_an_interrupted_batch_put_reports_the_stamped_models_written() -> None:
    models = [_payment(i) for i in range(MAX_BATCH_WRITE + 5)]
    repo = PaymentRepository(Scripted(_fail_second_request(lambda items: {})))
    with pytest.raises(UnprocessedItemsError) as caught:  # what a caller catches for any batch leftover
        repo.batch_put(models, overwrite_versions=True)
    err = caught.value
    assert isinstance(err, BatchInterruptedError)
    assert [m.key() for m in err.completed] == [m.key() for m in models[:MAX_BATCH_WRITE]]
    assert all(isinstance(m, Payment) and m.created_at is not None for m in err.completed)
    assert len(err.unprocessed[repo.table_name]) == 5  # still wire requests, to resend


def test_an_interrupted_batch_delete_reports_the_keys_deleted() -> None:
    keys = [Payment.make_key(partner_id="acme", payment_id=f"p{i:03d}") for i in range(MAX_BATCH_WRITE + 5)]
    repo = PaymentRepository(Scripted(_fail_second_request(lambda items: {})))
    with pytest.raises(BatchInterruptedError) as caught:
        repo.batch_delete(keys)
    assert caught.value.completed == keys[:MAX_BATCH_WRITE]


def test_an_interrupted_get_many_reports_the_models_read() -> None:
    models = [_payment(i) for i in range(MAX_BATCH_GET + 5)]
    writer = Scripted(lambda operation, items: {})
    PaymentRepository(writer).batch_put(models, overwrite_versions=True)  # the stored items, stamped as a put stamps them
    items = [w["PutRequest"]["Item"] for request in writer.sent for writes in request.values() for w in writes]

    def found(request: Mapping[str, Any]) -> dict[str, Any]:
        ((table, entry),) = request.items()
        wanted = {k["PK"]["S"] + k["SK"]["S"] for k in entry["Keys"]}
        return {"Responses": {table: [i for i in items if i["PK"]["S"] + i["SK"]["S"] in wanted][:3]}}

    repo = PaymentRepository(Scripted(_fail_second_request(found)))
    with pytest.raises(UnprocessedItemsError) as caught:
        repo.get_many([m.key() for m in models])
    err = caught.value
    assert isinstance(err, BatchInterruptedError)
    assert [m.key() for m in err.completed] == [m.key() for m in models[:3]]


def test_an_unprocessed_batch_put_reports_models_as_before() -> None:
    models = [_payment(i) for i in range(4)]

    def hold_first(operation: str, items: Mapping[str, Any]) -> dict[str, Any]:
        ((table, writes),) = items.items()
        return {"UnprocessedItems": {table: [_normalised(writes[0])]}}

    repo = PaymentRepository(Scripted(hold_first))
    with pytest.raises(UnprocessedItemsError) as caught:
        repo.batch_put(models, overwrite_versions=True, max_attempts=1)
    assert not isinstance(caught.value, BatchInterruptedError)
    assert [m.key() for m in caught.value.completed] == [m.key() for m in models[1:]]

"""Faults lose nothing: a dead DynamoDB Local, concurrent writers on one versioned item, throttling,
transaction conflicts. Every failure is a clear error within a bounded time, and what succeeded is known.

Covered elsewhere (not repeated here):
- unprocessed batch entries retried, then returned with the items that did complete:
  ``test_repository_batch.py::test_unprocessed_entries_are_retried``,
  ``::test_still_unprocessed_entries_surface_with_the_items``,
  ``::test_still_unprocessed_keys_surface_on_get_many`` and ``test_ops_batch.py`` (deadline mid-batch);
- failed conditions in a transaction reported per action with the stored item:
  ``test_repository_batch.py::test_cancelled_transaction_has_reasons_per_action_and_writes_nothing``;
- the lean transport's own faults (resets, truncated bodies, CRC, stale connections):
  ``test_lean_faults.py``; SDK retries refused past the deadline: ``test_deadline_botocore.py``.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from _stub_dynamodb import THROTTLED, Reply, stub_dynamodb
from test_repository_support import freeze, make_table, transport_fixture, unique

from dynagen.errors import (
    ConditionFailedError,
    DeadlineExceededError,
    ThrottlingError,
    TransactionCanceledError,
    TransportError,
    VersionConflictError,
)
from dynagen.local import DynamoDBLocal
from dynagen.runtime.aws_lambda._clients import clear, create_client
from dynagen.runtime.aws_lambda._environment import ClientSettings
from dynagen.runtime.ops._call import error_code
from dynagen.runtime.transport._botocore import BotocoreTransport
from dynagen.runtime.transport._bounds import Deadline
from dynagen.runtime.transport._interface import Transport
from dynagen.runtime.transport.lean import LeanTransport, RetryPolicy
from generated_example import payments as pay
from generated_example.payments import Payment, PaymentRepository, Refund, RefundRepository

__all__ = ["transport_fixture"]

FAST_LEAN = RetryPolicy(max_attempts=3, base_delay=0.01, throttling_base_delay=0.02)


@pytest.fixture(autouse=True)
def fresh_client_cache() -> Iterator[None]:
    clear()
    yield
    clear()


def a_payment(partner: str, payment_id: str, **kw: Any) -> Payment:
    return Payment(
        partner_id=partner,
        payment_id=payment_id,
        customer_id=kw.pop("customer_id", uuid4()),
        amount=kw.pop("amount", Decimal("10")),
        currency=pay.Currency.USD,
        created_on=date(2024, 5, 1),
        **kw,
    )


def botocore_transport(
    endpoint: str, *, max_attempts: int = 2, connect: float = 0.5, read: float = 1.0
) -> BotocoreTransport:
    settings = ClientSettings(
        region="us-east-1",
        endpoint_url=endpoint,
        retry_mode="standard",
        max_attempts=max_attempts,
        connect_timeout=connect,
        read_timeout=read,
    )
    return BotocoreTransport(create_client("dynamodb", settings))


def lean_transport(endpoint: str, *, policy: RetryPolicy = FAST_LEAN) -> LeanTransport:
    return LeanTransport(
        "us-east-1",
        endpoint_url=endpoint,
        credentials=("testing", "testing"),
        connect_timeout=0.5,
        read_timeout=1.0,
        retry_policy=policy,
    )


def is_clear_connection_error(exc: BaseException) -> bool:
    """A dead endpoint shows up as one of these on both transports, never as a hang or an SDK exception."""
    return isinstance(exc, TransportError | DeadlineExceededError)


# -- a DynamoDB Local that dies mid-run --------------------------------------------------------------------


def calls_to_try(unbound: PaymentRepository, stored: Payment) -> dict[str, Callable[[], object]]:
    """Reads and writes of every kind, each bound to its own 3 s deadline (0.2 s margin)."""
    partner = stored.partner_id

    def fresh() -> PaymentRepository:
        return unbound.with_deadline(Deadline.from_seconds(3.0, margin=0.2))

    def get() -> object:
        return fresh().get(partner_id=partner, payment_id=stored.payment_id)

    def create() -> object:
        return fresh().create(a_payment(partner, "after"))

    def update() -> object:
        return fresh().update(replace(stored, attempts=1), ["attempts"])

    def batch_put() -> object:
        return fresh().batch_put([a_payment(partner, f"batch-{i}") for i in range(3)], overwrite_versions=True)

    def query() -> object:
        return fresh().payments_of_partner(partner_id=partner)

    return {"get": get, "create": create, "update": update, "batch_put": batch_put, "query": query}


@pytest.mark.ddb
@pytest.mark.timeout(240)
@pytest.mark.parametrize("fault", ["killed", "frozen"])
def test_a_dead_or_frozen_dynamodb_local_is_a_clear_error_in_bounded_time(fault: str) -> None:
    """killed: the process is gone (connections refused); frozen: SIGSTOP, so connections are accepted by
    the kernel but nothing ever answers (timeouts and the deadline must end every call)."""
    server = DynamoDBLocal.start()
    lean = lean_transport(server.endpoint)
    try:
        boto = botocore_transport(server.endpoint)
        transports: dict[str, Transport] = {"botocore": boto, "lean": lean}
        table = make_table(boto.client, pay.TABLES["payments"], "dead")
        partner = unique("partner-")
        repos = {name: PaymentRepository(t, table_name=table) for name, t in transports.items()}
        stored = {name: repo.create(a_payment(partner, f"before-{name}")) for name, repo in repos.items()}
        for name, repo in repos.items():  # both have a warm keep-alive connection to the server now
            assert repo.get(partner_id=partner, payment_id=f"before-{name}") == stored[name]
        if fault == "killed":
            server.process.kill()
            server.process.wait(timeout=30)
        else:
            freeze(server.process)
        for name, repo in repos.items():
            for what, call in calls_to_try(repo, stored[name]).items():
                started = time.monotonic()
                with pytest.raises(Exception) as caught:
                    call()
                elapsed = time.monotonic() - started
                assert is_clear_connection_error(caught.value), f"{name} {what}: {caught.value!r}"
                if isinstance(caught.value, DeadlineExceededError) and what == "batch_put":
                    # Nothing is known to be written: every request is reported as remaining.
                    assert caught.value.remaining, caught.value
                message = str(caught.value)[:80]
                print(f"\n{fault} {name:8} {what:9} -> {type(caught.value).__name__} after {elapsed:.2f} s: {message}")
    finally:
        if fault == "frozen" and server.process.poll() is None:
            server.process.send_signal(signal.SIGCONT)
        server.stop()
        lean.close()


# -- concurrent writers on one versioned item ---------------------------------------------------------------


@dataclass
class WriterLog:
    won_at: int = -1  # the version this writer's update replaced
    conflicts: int = 0


@pytest.mark.ddb
@pytest.mark.timeout(240)
def test_concurrent_writers_one_winner_per_version(transport: Transport, ddb_client: Any) -> None:
    table = make_table(ddb_client, pay.TABLES["payments"], "race")
    repo = PaymentRepository(transport, table_name=table)
    partner = unique("partner-")
    repo.create(a_payment(partner, "contended"))
    writers = 8
    logs = [WriterLog() for _ in range(writers)]
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            while True:
                current = repo.get(partner_id=partner, payment_id="contended", consistent=True)
                mine = replace(
                    current,
                    metadata={**current.metadata, f"writer-{n}": f"v{current.version}"},
                    attempts=current.attempts + 1,
                )
                try:
                    after = repo.update(mine, ["metadata", "attempts"])
                except VersionConflictError:
                    logs[n].conflicts += 1
                    continue
                assert after.version == current.version + 1
                logs[n].won_at = current.version
                return
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not errors, errors
    assert all(not t.is_alive() for t in threads)

    final = repo.get(partner_id=partner, payment_id="contended", consistent=True)
    # Exactly one winner per version: the versions the winners replaced are 0..7, each once.
    assert sorted(log.won_at for log in logs) == list(range(writers))
    assert final.version == writers
    assert final.attempts == writers
    # Every winner's change is there, written on top of the version it read: no update was lost.
    assert final.metadata == {f"writer-{n}": f"v{log.won_at}" for n, log in enumerate(logs)}
    print(f"\n{type(transport).__name__}: {writers} writers, {sum(log.conflicts for log in logs)} version conflicts")


@pytest.mark.ddb
def test_a_stale_version_is_a_condition_failure_that_carries_the_stored_item(
    transport: Transport, ddb_client: Any
) -> None:
    table = make_table(ddb_client, pay.TABLES["payments"], "stale")
    repo = PaymentRepository(transport, table_name=table)
    partner = unique("partner-")
    first = repo.create(a_payment(partner, "p"))
    repo.update(replace(first, attempts=1), ["attempts"])
    with pytest.raises(ConditionFailedError) as caught:  # VersionConflictError is a ConditionFailedError
        repo.update(replace(first, attempts=2), ["attempts"])
    assert isinstance(caught.value, VersionConflictError)
    assert caught.value.item is not None and caught.value.item["version"] == {"N": "1"}
    with pytest.raises(VersionConflictError):
        repo.delete(partner_id=partner, payment_id="p", expected_version=0)
    assert repo.get(partner_id=partner, payment_id="p").attempts == 1


# -- throttling and transaction conflicts, injected ---------------------------------------------------------


def throttled_then_ok(throttled: int, body: dict[str, Any]) -> Callable[[int], Reply]:
    return lambda n: THROTTLED if n <= throttled else (200, body)


def stored_payment_body() -> dict[str, Any]:
    return {"Item": a_payment("partner-1", "p-1").to_item()}


@pytest.mark.parametrize("kind", ["botocore", "lean"])
def test_throttling_is_retried_within_the_deadline(kind: str) -> None:
    body = stored_payment_body()
    with stub_dynamodb(respond=throttled_then_ok(2, body)) as stub:
        transport = (
            botocore_transport(stub.endpoint, max_attempts=3) if kind == "botocore" else lean_transport(stub.endpoint)
        )
        repo = PaymentRepository(transport).with_deadline(Deadline.from_seconds(10.0, margin=0.2))
        got = repo.get(partner_id="partner-1", payment_id="p-1")
    assert got.payment_id == "p-1"
    assert len(stub.attempts) == 3  # two throttled attempts, then the answer


@pytest.mark.parametrize("kind", ["botocore", "lean"])
def test_throttling_that_outlasts_the_retries_surfaces(kind: str) -> None:
    with stub_dynamodb(respond=lambda n: THROTTLED) as stub:
        transport = (
            botocore_transport(stub.endpoint, max_attempts=3) if kind == "botocore" else lean_transport(stub.endpoint)
        )
        repo = PaymentRepository(transport).with_deadline(Deadline.from_seconds(10.0, margin=0.2))
        with pytest.raises(Exception) as caught:
            repo.create(a_payment("partner-1", "p-1"))
    assert error_code(caught.value) == "ProvisionedThroughputExceededException"
    assert isinstance(caught.value, ThrottlingError)  # on both transports
    assert caught.value.retryable and caught.value.status == 400
    assert len(stub.attempts) == 3


@pytest.mark.parametrize("kind", ["botocore", "lean"])
def test_throttling_stops_at_the_deadline_not_after_it(kind: str) -> None:
    # 0.3 s per answer and up to 10 attempts: the 1 s deadline (0.2 s margin) cuts the retries short.
    patient = RetryPolicy(max_attempts=10, base_delay=0.01, throttling_base_delay=0.02)
    with stub_dynamodb(delay=0.3, respond=lambda n: THROTTLED) as stub:
        transport = (
            botocore_transport(stub.endpoint, max_attempts=10)
            if kind == "botocore"
            else lean_transport(stub.endpoint, policy=patient)
        )
        repo = PaymentRepository(transport).with_deadline(Deadline.from_seconds(1.0, margin=0.2))
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError):
            repo.get(partner_id="partner-1", payment_id="p-1")
        elapsed = time.monotonic() - started
    assert 1 <= len(stub.attempts) < 10
    print(f"\n{kind}: {len(stub.attempts)} throttled attempts, stopped after {elapsed:.2f} s (deadline 1.0 s)")


TRANSACTION_CONFLICT: Reply = (
    400,
    {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, TransactionConflict]",
        "CancellationReasons": [
            {"Code": "None"},
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"},
        ],
    },
)


@pytest.mark.parametrize("kind", ["botocore", "lean"])
def test_transaction_conflicts_are_reported_per_action(kind: str) -> None:
    with stub_dynamodb(respond=lambda n: TRANSACTION_CONFLICT) as stub:
        transport = (
            botocore_transport(stub.endpoint, max_attempts=1) if kind == "botocore" else lean_transport(stub.endpoint)
        )
        payments = PaymentRepository(transport)
        refunds = RefundRepository(transport)
        payment = a_payment("partner-1", "p-1")
        refund = Refund(partner_id="partner-1", payment_id="p-1", refund_id="r-1", amount=Decimal("1"))
        with pytest.raises(TransactionCanceledError) as caught:
            payments.transact_write([payments.transact_put(payment), refunds.transact_create(refund)])
    reasons = caught.value.reasons
    assert [r.code for r in reasons] == ["None", "TransactionConflict"]
    assert reasons[1].message == "Transaction is ongoing for the item"
    assert len(stub.attempts) == 1  # a cancelled transaction is the caller's to retry, not the transport's

"""A bounded load test on DynamoDB Local (loopback only): nothing acknowledged is lost, nothing else appears.

8 threads run a seeded mix of create / update / delete / get / query through the generated
``PaymentRepository``, half on the lean transport and half on botocore. Each thread owns one partner
partition and records the state of every write DynamoDB acknowledged; its gets and queries must read
exactly that state back. A final scan proves every acknowledged write is present with its last
acknowledged state, and that nothing else is.

``DYNAGEN_LOAD_OPS`` sets the operations per thread (default 2000, about 75 s on a 2-core machine;
lower it for a quick local run); ``DYNAGEN_LOAD_THREADS`` the threads (default 8). Throughput is printed, never asserted.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from test_repository_support import make_table, unique

from dynagen.errors import DynagenError
from dynagen.local import DynamoDBLocal
from dynagen.runtime import Field
from dynagen.runtime.transport._botocore import BotocoreTransport
from dynagen.runtime.transport._interface import Transport
from dynagen.runtime.transport.lean import LeanTransport
from generated_example import payments as pay
from generated_example.payments import Payment, PaymentRepository, PaymentStatus

pytestmark = pytest.mark.ddb

OPS = int(os.environ.get("DYNAGEN_LOAD_OPS", "2000"))
THREADS = int(os.environ.get("DYNAGEN_LOAD_THREADS", "8"))
MIX = (("create", 30), ("update", 25), ("delete", 10), ("get", 20), ("query", 15))
STATUSES = list(PaymentStatus)


@dataclass
class Uncertain:
    """A write whose outcome is unknown (it raised): the item may be in either state."""

    operation: str
    before: Payment | None


@dataclass
class Worker:
    """One thread's partition, what DynamoDB acknowledged there, and what it saw."""

    number: int
    kind: str
    partner: str
    acknowledged: dict[str, Payment] = field(default_factory=dict)  # payment_id -> last acknowledged state
    deleted: set[str] = field(default_factory=set)
    uncertain: dict[str, Uncertain] = field(default_factory=dict)
    done: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)  # operations that raised (outcome unknown for writes)
    mismatches: list[str] = field(default_factory=list)  # reads that disagreed with what was acknowledged
    elapsed: float = 0.0


def run_worker(repo: PaymentRepository, w: Worker, ops: int) -> None:
    rng = random.Random(w.number)
    names = [name for name, _ in MIX]
    weights = [weight for _, weight in MIX]
    customer = UUID(int=w.number + 1)
    created = 0
    started = time.perf_counter()
    for n in range(ops):
        live = list(w.acknowledged)
        operation = rng.choices(names, weights)[0]
        if operation in ("update", "delete") and not live:
            operation = "create"
        try:
            if operation == "create":
                payment_id = f"p{created:05d}"
                created += 1
                model = Payment(
                    partner_id=w.partner,
                    payment_id=payment_id,
                    customer_id=customer,
                    amount=Decimal(rng.randint(1, 100_000)) / 100,
                    currency=pay.Currency.EUR,
                    created_on=date(2024, 1 + n % 12, 1 + n % 28),
                    labels={f"l{rng.randint(0, 3)}"},
                )
                w.uncertain[payment_id] = Uncertain("create", None)
                w.acknowledged[payment_id] = repo.create(model, if_not_exists=True)
                del w.uncertain[payment_id]
            elif operation == "update":
                payment_id = rng.choice(live)
                before = w.acknowledged.pop(payment_id)
                w.uncertain[payment_id] = Uncertain("update", before)
                changed = replace(
                    before, status=rng.choice(STATUSES), attempts=before.attempts + 1, metadata={"op": str(n)}
                )
                w.acknowledged[payment_id] = repo.update(changed, ["status", "attempts", "metadata"])
                del w.uncertain[payment_id]
            elif operation == "delete":
                payment_id = rng.choice(live)
                before = w.acknowledged.pop(payment_id)
                w.uncertain[payment_id] = Uncertain("delete", before)
                repo.delete(partner_id=w.partner, payment_id=payment_id, expected_version=before.version)
                del w.uncertain[payment_id]
                w.deleted.add(payment_id)
            elif operation == "get":
                pool = live + sorted(w.deleted) or ["never-created"]  # a miss must read back as None
                payment_id = rng.choice(pool)
                got = repo.find(partner_id=w.partner, payment_id=payment_id, consistent=True)
                if got != w.acknowledged.get(payment_id):
                    w.mismatches.append(f"get {payment_id}: {got!r} != {w.acknowledged.get(payment_id)!r}")
            else:
                page = repo.payments_of_partner(partner_id=w.partner, limit=25, consistent=True)
                for item in page.items:
                    if item.payment_id in w.uncertain:
                        continue
                    if item != w.acknowledged.get(item.payment_id):
                        w.mismatches.append(f"query {item.payment_id}: {item!r}")
            w.done[operation] += 1
        except DynagenError as exc:  # and below: the SDK's own errors on the botocore transport
            w.errors.append(f"{operation}: {exc!r}")
        except Exception as exc:
            if type(exc).__module__.startswith(("botocore", "urllib3")):
                w.errors.append(f"{operation}: {exc!r}")
            else:
                raise
    w.elapsed = time.perf_counter() - started


def verify_uncertain(stored: Payment | None, u: Uncertain) -> bool:
    """The item of a write that raised is in its state before the write or in a state the write could make."""
    if u.operation == "create":
        return True  # absent, or created
    assert u.before is not None
    if u.operation == "delete":
        return stored is None or stored == u.before
    return stored is not None and stored.version in (u.before.version, u.before.version + 1)


@pytest.mark.timeout(900)
def test_every_acknowledged_write_survives_and_nothing_else_appears(
    ddb_client: Any, dynamodb_local: DynamoDBLocal
) -> None:
    table = make_table(ddb_client, pay.TABLES["payments"], "load")
    run = unique("load-")
    workers = [
        Worker(n, "lean" if n % 2 else "botocore", f"{run}-{n}") for n in range(THREADS)
    ]  # half the threads on each transport
    with LeanTransport(
        "us-east-1",
        endpoint_url=dynamodb_local.endpoint,
        credentials=("testing", "testing"),
        max_pool_connections=THREADS,
    ) as lean:
        transports: dict[str, Transport] = {"lean": lean, "botocore": BotocoreTransport(ddb_client)}
        repos = {kind: PaymentRepository(t, table_name=table) for kind, t in transports.items()}
        failures: list[BaseException] = []

        def body(w: Worker) -> None:
            try:
                run_worker(repos[w.kind], w, OPS)
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=body, args=(w,), name=f"load-{w.number}") for w in workers]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        assert not failures, failures

        # Every item of this run, read back in full; nothing may be missing, stale or extra.
        scanned = {
            (p.partner_id, p.payment_id): p
            for p in repos["botocore"].iter_scan(filter=Field("partnerId").begins_with({"S": run}), page_size=500)
        }

    total = sum(sum(w.done.values()) for w in workers)
    by_kind = Counter[str]()
    for w in workers:
        by_kind[w.kind] += sum(w.done.values())
    ops = Counter[str]()
    for w in workers:
        ops.update(w.done)
    errors = [e for w in workers for e in w.errors]
    rates = ", ".join(f"{kind} threads {by_kind[kind] / elapsed:.0f} ops/s" for kind in sorted(by_kind))
    print(
        f"\nload: {THREADS} threads x {OPS} ops = {total} acknowledged in {elapsed:.1f} s = {total / elapsed:.0f} ops/s "
        f"({rates}); mix {dict(ops)}; {len(errors)} errors; {len(scanned)} items at the end"
    )
    for e in errors[:10]:
        print("  error:", e)

    assert [m for w in workers for m in w.mismatches] == []
    expected = {(w.partner, pid): p for w in workers for pid, p in w.acknowledged.items()}
    uncertain = {(w.partner, pid): u for w in workers for pid, u in w.uncertain.items()}
    for key, u in uncertain.items():
        assert verify_uncertain(scanned.get(key), u), (key, u, scanned.get(key))
    settled = {k: v for k, v in scanned.items() if k not in uncertain}
    missing = sorted(set(expected) - set(settled))
    extra = sorted(set(settled) - set(expected))
    stale = sorted(k for k in set(expected) & set(settled) if expected[k] != settled[k])
    assert missing == [] and extra == [] and stale == [], (missing[:5], extra[:5], stale[:5])
    # On loopback every operation must go through; the uncertain-write checks above stay for a slow machine
    # where one still times out, but an error is a failure (the first ones are printed above).
    assert errors == [], errors[:10]
    assert total == THREADS * OPS

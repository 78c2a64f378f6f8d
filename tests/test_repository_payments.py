"""The generated payments example against DynamoDB Local, on both transports.

Access patterns, pagination, single-item writes and updates, conditions, scans. Batches,
transactions and streams are in test_repository_batch.py; the DMS contract in test_repository_dms.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from test_repository_support import make_table, transport_fixture, unique

from dynagen.errors import (
    ConditionFailedError,
    InvalidValueError,
    ItemNotFoundError,
    VersionConflictError,
)
from dynagen.runtime import Field, decode_cursor
from dynagen.runtime.transport._botocore import BotocoreTransport
from dynagen.runtime.transport._interface import Transport
from generated_example import payments as pay
from generated_example.payments import (
    Customer,
    CustomerRepository,
    LineItem,
    Partner,
    PartnerRepository,
    Payment,
    PaymentRepository,
    PaymentStatus,
    Refund,
    RefundRepository,
)

pytestmark = pytest.mark.ddb
__all__ = ["transport_fixture"]


@pytest.fixture(scope="module")
def pay_table(ddb_client: Any) -> str:
    return make_table(ddb_client, pay.TABLES["payments"], "pay")


@dataclass
class Repos:
    partners: PartnerRepository
    customers: CustomerRepository
    payments: PaymentRepository
    refunds: RefundRepository


@pytest.fixture
def repos(transport: Transport, pay_table: str) -> Repos:
    return Repos(
        PartnerRepository(transport, table_name=pay_table),
        CustomerRepository(transport, table_name=pay_table),
        PaymentRepository(transport, table_name=pay_table),
        RefundRepository(transport, table_name=pay_table),
    )


def a_payment(partner: str, payment_id: str, customer: UUID, day: date, **kw: Any) -> Payment:
    return Payment(
        partner_id=partner,
        payment_id=payment_id,
        customer_id=customer,
        amount=kw.pop("amount", Decimal("10.50")),
        currency=kw.pop("currency", pay.Currency.EUR),
        created_on=day,
        **kw,
    )


@dataclass
class World:
    partner: str
    customers: list[UUID]
    payments: list[Payment]
    refunds: list[Refund]


def build_world(r: Repos) -> World:
    """One partner with its profile, 2 customers, 6 payments and 4 refunds: all in one partition."""
    partner = unique("partner-")
    r.partners.create(
        Partner(partner_id=partner, name="Acme", fee_rate=Decimal("0.029"), contact_emails={"ops@acme.io"})
    )
    customers = [uuid4(), uuid4()]
    for i, c in enumerate(customers):
        r.customers.create(Customer(partner_id=partner, customer_id=c, email=f"c{i}@x.io", name=f"Customer {i}"))
    statuses = [PaymentStatus.PENDING, PaymentStatus.CAPTURED] * 3
    payments = [
        r.payments.create(
            a_payment(partner, f"pay-{i:02d}", customers[i % 2], date(2024, 5, i + 1), status=statuses[i])
        )
        for i in range(6)
    ]
    refunds = [
        r.refunds.create(Refund(partner_id=partner, payment_id=pid, refund_id=rid, amount=Decimal("1")))
        for pid, rid in [("pay-01", "r-1"), ("pay-01", "r-2"), ("pay-01", "r-3"), ("pay-03", "r-1")]
    ]
    return World(partner, customers, payments, refunds)


def ids(payments: list[Payment]) -> list[str]:
    return [p.payment_id for p in payments]


# -- access patterns -----------------------------------------------------------------------------------


def test_access_patterns_return_only_their_model(repos: Repos) -> None:
    w = build_world(repos)
    page = repos.payments.payments_of_partner(partner_id=w.partner)
    assert all(type(p) is Payment for p in page.items)
    assert ids(page.items) == [f"pay-{i:02d}" for i in reversed(range(6))]  # descending by default
    assert page.cursor is None

    customers = repos.customers.customers_of_partner(partner_id=w.partner).items
    assert all(type(c) is Customer for c in customers)
    assert sorted(c.customer_id for c in customers) == sorted(w.customers)

    refunds = repos.refunds.refunds_of_payment(partner_id=w.partner, payment_id="pay-01").items
    assert all(type(x) is Refund for x in refunds)
    assert [x.refund_id for x in refunds] == ["r-1", "r-2", "r-3"]
    ranged = repos.refunds.refunds_of_payment(
        partner_id=w.partner, payment_id="pay-01", refund_id_from="r-2", refund_id_to="r-3"
    ).items
    assert [x.refund_id for x in ranged] == ["r-2", "r-3"]
    assert [x.refund_id for x in repos.refunds.refunds_of_payment(partner_id=w.partner, payment_id="pay-03").items] == [
        "r-1"
    ]
    # The whole partition holds 1 + 2 + 6 + 4 items of four types.
    assert repos.partners.get(partner_id=w.partner).name == "Acme"


def test_foreign_entity_under_a_pattern_prefix_is_never_decoded_as_the_wrong_type(
    repos: Repos, ddb_client: Any, pay_table: str
) -> None:
    w = build_world(repos)
    # A REFUND item whose SK starts like a payment's: the key prefix matches, the entity does not.
    intruder = Refund(partner_id=w.partner, payment_id="x", refund_id="y", amount=Decimal(1)).to_item()
    intruder["SK"] = {"S": "PAYMENT#pay-zz"}
    ddb_client.put_item(TableName=pay_table, Item=intruder)
    got = repos.payments.payments_of_partner(partner_id=w.partner).items
    assert ids(got) == [f"pay-{i:02d}" for i in reversed(range(6))]
    with pytest.raises(InvalidValueError, match="REFUND"):
        repos.payments.get(partner_id=w.partner, payment_id="pay-zz")
    # get of a key that holds another model is refused, not mis-decoded
    with pytest.raises(InvalidValueError):
        repos.refunds._get(Payment.make_key(partner_id=w.partner, payment_id="pay-00"))


def test_payments_of_customer_with_date_ranges(repos: Repos) -> None:
    w = build_world(repos)
    c0 = w.customers[0]  # pay-00, pay-02, pay-04 on May 1, 3, 5
    got = repos.payments.payments_of_customer(partner_id=w.partner, customer_id=c0).items
    assert ids(got) == ["pay-04", "pay-02", "pay-00"]  # newest business day first
    got = repos.payments.payments_of_customer(
        partner_id=w.partner, customer_id=c0, created_on_from=date(2024, 5, 2), created_on_to=date(2024, 5, 5)
    ).items
    assert ids(got) == ["pay-04", "pay-02"]  # the upper bound day is included
    page = repos.payments.payments_of_customer(partner_id=w.partner, customer_id=c0, created_on_to=date(2024, 5, 3))
    assert ids(page.items) == ["pay-02", "pay-00"]
    page = repos.payments.payments_of_customer(
        partner_id=w.partner, customer_id=c0, created_on_from=date(2024, 5, 3), descending=False
    )
    assert ids(page.items) == ["pay-02", "pay-04"]
    assert all(p.customer_id == c0 for p in page.items)


def test_payments_by_status_across_partners(repos: Repos) -> None:
    w = build_world(repos)
    mine = Field("partnerId").eq({"S": w.partner})
    captured = list(repos.payments.iter_payments_by_status(status=PaymentStatus.CAPTURED, filter=mine))
    assert ids(captured) == ["pay-01", "pay-03", "pay-05"]  # ascending business day
    pending = repos.payments.payments_by_status(
        status=PaymentStatus.PENDING,
        created_on_from=date(2024, 5, 3),
        created_on_to=date(2024, 5, 5),
        filter=mine,
    ).items
    assert ids(pending) == ["pay-02", "pay-04"]


def test_pagination_with_limit_and_cursor_until_exhausted(repos: Repos) -> None:
    w = build_world(repos)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = repos.payments.payments_of_partner(partner_id=w.partner, limit=4, cursor=cursor)
        pages += 1
        assert len(page.items) <= 4
        seen += ids(page.items)
        if page.cursor is None:
            break
        assert decode_cursor(page.cursor).sort == "DESC"
        cursor = page.cursor
    assert pages == 2
    assert seen == [f"pay-{i:02d}" for i in reversed(range(6))]
    assert ids(list(repos.payments.iter_payments_of_partner(partner_id=w.partner))) == seen
    ascending = list(repos.payments.iter_payments_of_partner(partner_id=w.partner, descending=False))
    assert ids(ascending) == list(reversed(seen))

    # On an index, with a filter, one item per page
    c1 = w.customers[1]
    got: list[str] = []
    cursor = None
    while True:
        page = repos.payments.payments_of_customer(partner_id=w.partner, customer_id=c1, limit=1, cursor=cursor)
        got += ids(page.items)
        if page.cursor is None:
            break
        decoded = decode_cursor(page.cursor)
        assert decoded.index == "GSI1"
        assert set(decoded.last_key) == {"PK", "SK", "GSI1PK", "GSI1SK"}
        cursor = page.cursor
    assert got == ["pay-05", "pay-03", "pay-01"]
    # A cursor of one query is refused by another
    first = repos.payments.payments_of_customer(partner_id=w.partner, customer_id=c1, limit=1)
    assert first.cursor is not None
    with pytest.raises(InvalidValueError):
        repos.payments.payments_of_partner(partner_id=w.partner, cursor=first.cursor)
    with pytest.raises(InvalidValueError):
        repos.payments.payments_of_partner(partner_id=w.partner, cursor="not a cursor!")
    assert [c.customer_id for c in repos.customers.iter_customers_of_partner(partner_id=w.partner)] == sorted(
        w.customers, key=str
    )
    assert [
        x.refund_id
        for x in repos.refunds.iter_refunds_of_payment(partner_id=w.partner, payment_id="pay-01", descending=True)
    ] == [
        "r-3",
        "r-2",
        "r-1",
    ]


# -- single items ----------------------------------------------------------------------------------


def test_get_find_and_item_not_found(repos: Repos) -> None:
    partner = unique("partner-")
    with pytest.raises(ItemNotFoundError) as caught:
        repos.partners.get(partner_id=partner)
    assert caught.value.key == {"PK": {"S": f"PARTNER#{partner}"}, "SK": {"S": "PROFILE"}}
    assert repos.partners.find(partner_id=partner) is None
    created = repos.partners.create(
        Partner(partner_id=partner, name="Acme", fee_rate=Decimal("0.029"), settings={"b": 1, "a": [True, None]})
    )
    assert created.version == 0
    assert created.created_at is not None and created.created_at == created.updated_at
    got = repos.partners.get(partner_id=partner, consistent=True)
    assert got == created
    assert repos.partners.find(partner_id=partner) == created


def test_round_trip_of_every_payment_field(repos: Repos) -> None:
    partner = unique("partner-")
    p = a_payment(
        partner,
        "pay-1",
        uuid4(),
        date(2024, 2, 29),
        amount=Decimal("1234.5600"),
        captured_amount=Decimal("0.01"),
        line_items=[
            LineItem(sku="A", quantity=2, unit_price=Decimal("3.5")),
            LineItem(sku="B", description="b", quantity=1, unit_price=Decimal(0)),
        ],
        metadata={"order": "o-1", "status": "x"},
        risk_score=0.1,
        card_fingerprint=b"\x00\xff fingerprint",
        attempts=3,
        labels={"vip", "eu"},
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    created = repos.payments.create(p)
    assert repos.payments.get(partner_id=partner, payment_id="pay-1") == created


def test_create_if_not_exists_and_put_upsert(repos: Repos) -> None:
    partner = unique("partner-")
    first = repos.partners.create(
        Partner(partner_id=partner, name="Acme", fee_rate=Decimal("0.029"), webhook_url="https://x"), if_not_exists=True
    )
    with pytest.raises(ConditionFailedError) as caught:
        repos.partners.create(Partner(partner_id=partner, name="Other", fee_rate=Decimal(0)), if_not_exists=True)
    assert not isinstance(caught.value, VersionConflictError)
    assert caught.value.item is not None and caught.value.item["name"] == {"S": "Acme"}
    assert repos.partners.get(partner_id=partner).name == "Acme"
    # put replaces the whole item: the webhook URL is gone
    replaced = repos.partners.put(Partner(partner_id=partner, name="Acme 2", fee_rate=Decimal("0.03")))
    got = repos.partners.get(partner_id=partner)
    assert got == replaced
    assert got.webhook_url is None and got.name == "Acme 2"
    assert first.webhook_url == "https://x"


def test_update_fields_set_and_remove(repos: Repos) -> None:
    partner = unique("partner-")
    p = repos.payments.create(
        a_payment(partner, "pay-1", uuid4(), date(2024, 5, 1), captured_amount=Decimal(5), risk_score=0.5)
    )
    p.amount = Decimal("99.99")
    p.captured_amount = None
    p.risk_score = None
    p.metadata = {"k": "v"}
    updated = repos.payments.update(p, ["amount", "captured_amount", "risk_score", "metadata"])
    assert updated.amount == Decimal("99.99")
    assert updated.captured_amount is None and updated.risk_score is None
    assert updated.metadata == {"k": "v"}
    assert updated.version == 1
    assert updated.updated_at is not None and p.updated_at is not None and updated.updated_at >= p.updated_at
    assert updated.created_at == p.created_at
    assert repos.payments.get(partner_id=partner, payment_id="pay-1") == updated


def test_update_add_delete_append_set_if_missing_remove(repos: Repos) -> None:
    partner = unique("partner-")
    p = repos.payments.create(
        a_payment(
            partner,
            "pay-1",
            uuid4(),
            date(2024, 5, 1),
            labels={"a", "b"},
            attempts=1,
            line_items=[LineItem(sku="A", quantity=1, unit_price=Decimal(1))],
            metadata={"m": "1"},
        )
    )
    u = repos.payments.update(
        p,
        [],
        add={"attempts": 2, "labels": {"c"}, "refunded_amount": Decimal("0.5")},
        append={"line_items": [LineItem(sku="B", quantity=2, unit_price=Decimal(2))]},
    )
    assert u.attempts == 3 and u.labels == {"a", "b", "c"} and u.refunded_amount == Decimal("0.5")
    assert [li.sku for li in u.line_items] == ["A", "B"]
    u = repos.payments.update(u, [], delete={"labels": {"a", "zzz"}}, remove=["metadata"])
    assert u.labels == {"b", "c"} and u.metadata == {}
    # set_if_missing: risk_score is missing (written), captured_amount... also missing, amount exists (kept)
    u.risk_score = 0.25
    u.amount = Decimal(1)
    u = repos.payments.update(u, [], set_if_missing=["risk_score", "amount"])
    assert u.risk_score == 0.25 and u.amount == Decimal("10.50")
    u.risk_score = 0.75
    u = repos.payments.update(u, [], set_if_missing=["risk_score"])
    assert u.risk_score == 0.25
    assert u.version == 4


def test_updating_a_gsi_key_field_moves_the_item(repos: Repos) -> None:
    partner = unique("partner-")
    mine = Field("partnerId").eq({"S": partner})
    p = repos.payments.create(a_payment(partner, "pay-1", uuid4(), date(2024, 5, 1)))
    assert ids(repos.payments.payments_by_status(status=PaymentStatus.PENDING, filter=mine).items) == ["pay-1"]
    p.status = PaymentStatus.CAPTURED
    repos.payments.update(p, ["status"])
    assert repos.payments.payments_by_status(status=PaymentStatus.PENDING, filter=mine).items == []
    assert ids(repos.payments.payments_by_status(status=PaymentStatus.CAPTURED, filter=mine).items) == ["pay-1"]
    # customer_id builds GSI1PK: the payment moves to the other customer's list
    other = uuid4()
    p = repos.payments.get(partner_id=partner, payment_id="pay-1")
    p.customer_id = other
    p.created_on = date(2024, 6, 1)
    repos.payments.update(p, ["customer_id", "created_on"])
    got = repos.payments.payments_of_customer(partner_id=partner, customer_id=other, created_on_from=date(2024, 6, 1))
    assert ids(got.items) == ["pay-1"]
    by_status = repos.payments.payments_by_status(
        status=PaymentStatus.CAPTURED, created_on_from=date(2024, 6, 1), created_on_to=date(2024, 6, 1), filter=mine
    )
    assert ids(by_status.items) == ["pay-1"]


def test_update_refuses_key_and_lifecycle_fields(repos: Repos) -> None:
    p = a_payment(unique("partner-"), "pay-1", uuid4(), date(2024, 5, 1))
    for fields in (["payment_id"], ["partner_id"], ["created_at"], ["updated_at"], ["version"]):
        with pytest.raises(InvalidValueError) as caught:
            repos.payments.update(p, fields)
        assert caught.value.field == fields[0]
    with pytest.raises(InvalidValueError, match="did you mean"):
        repos.payments.update(p, ["amout"])
    with pytest.raises(InvalidValueError):
        repos.payments.update(p, "amount")
    with pytest.raises(InvalidValueError):
        repos.payments.update(p, [], remove=["payment_id"])
    with pytest.raises(InvalidValueError):
        repos.payments.update(p, [], add={"version": 1})
    with pytest.raises(InvalidValueError):
        repos.payments.update(p, [], add={"status": PaymentStatus.FAILED})  # builds an index key
    assert repos.payments.find(partner_id=p.partner_id, payment_id="pay-1") is None  # nothing was sent


def test_version_conflict_and_missing_item(repos: Repos) -> None:
    partner = unique("partner-")
    created = repos.payments.create(a_payment(partner, "pay-1", uuid4(), date(2024, 5, 1)))
    a, b = replace(created), replace(created)
    a.attempts = 1
    b.attempts = 2
    assert repos.payments.update(a, ["attempts"]).version == 1
    with pytest.raises(VersionConflictError) as caught:
        repos.payments.update(b, ["attempts"])
    assert isinstance(caught.value, ConditionFailedError)
    assert caught.value.item is not None and caught.value.item["version"] == {"N": "1"}
    assert repos.payments.get(partner_id=partner, payment_id="pay-1").attempts == 1

    ghost = a_payment(partner, "pay-ghost", uuid4(), date(2024, 5, 1))
    with pytest.raises(ConditionFailedError) as missing:
        repos.payments.update(ghost, ["attempts"])
    assert not isinstance(missing.value, VersionConflictError)
    assert repos.payments.find(partner_id=partner, payment_id="pay-ghost") is None
    # a model without version field: a missing item is refused too
    with pytest.raises(ConditionFailedError):
        repos.customers.update(Customer(partner_id=partner, customer_id=uuid4(), email="e", name="n"), ["email"])


def test_delete_with_expected_version(repos: Repos) -> None:
    partner = unique("partner-")
    p = repos.payments.create(a_payment(partner, "pay-1", uuid4(), date(2024, 5, 1)))
    p = repos.payments.update(p, ["attempts"])
    with pytest.raises(VersionConflictError):
        repos.payments.delete(partner_id=partner, payment_id="pay-1", expected_version=0)
    assert repos.payments.find(partner_id=partner, payment_id="pay-1") is not None
    repos.payments.delete(partner_id=partner, payment_id="pay-1", expected_version=1)
    assert repos.payments.find(partner_id=partner, payment_id="pay-1") is None
    repos.payments.delete(partner_id=partner, payment_id="pay-1")  # absent: a no-op
    with pytest.raises(InvalidValueError):
        repos.customers.delete(partner_id=partner, customer_id=uuid4(), expected_version=1)
    q = repos.payments.create(a_payment(partner, "pay-2", uuid4(), date(2024, 5, 1)))
    stale = replace(q)
    repos.payments.update(q, ["attempts"])
    with pytest.raises(VersionConflictError):
        repos.payments.delete_model(stale)
    repos.payments.delete_model(repos.payments.get(partner_id=partner, payment_id="pay-2"))
    assert repos.payments.find(partner_id=partner, payment_id="pay-2") is None


# -- conditions, reserved words -------------------------------------------------------------------------


def test_user_conditions_on_create_update_delete(repos: Repos) -> None:
    partner = unique("partner-")
    p = repos.payments.create(a_payment(partner, "pay-1", uuid4(), date(2024, 5, 1), labels={"vip"}, attempts=2))
    amount = Field("amount")
    labels = Field("labels")
    holds = [
        Field("status").eq({"S": "pending"}),
        amount.between({"N": "10"}, {"N": "11"}),
        Field("paymentId").begins_with({"S": "pay-"}),
        labels.contains({"S": "vip"}),
        Field("riskScore").not_exists(),
        Field("attempts").exists(),
        labels.size().eq(1),
        Field("status").eq({"S": "failed"}) | Field("attempts").gt({"N": "1"}),
        ~Field("status").eq({"S": "failed"}),
        Field("status").is_in([{"S": "pending"}, {"S": "authorized"}]),
    ]
    fails = [
        Field("status").eq({"S": "captured"}),
        amount.between({"N": "11"}, {"N": "12"}),
        labels.contains({"S": "nope"}),
        Field("riskScore").exists(),
        labels.size().gt(1),
        Field("status").eq({"S": "pending"}) & Field("attempts").lt({"N": "2"}),
        ~Field("status").eq({"S": "pending"}),
    ]
    for condition in holds:
        p = repos.payments.update(p, ["attempts"], condition=condition)
    for condition in fails:
        with pytest.raises(ConditionFailedError) as caught:
            repos.payments.update(p, ["attempts"], condition=condition)
        assert not isinstance(caught.value, VersionConflictError), condition
    assert p.version == len(holds)
    # create with a condition: if_not_exists and a condition on the absent item
    with pytest.raises(ConditionFailedError):
        repos.payments.create(p, condition=Field("status").eq({"S": "captured"}))
    repos.payments.put(p, condition=Field("status").eq({"S": "pending"}))
    with pytest.raises(ConditionFailedError):
        repos.payments.delete(partner_id=partner, payment_id="pay-1", condition=Field("attempts").gt({"N": "100"}))
    repos.payments.delete(partner_id=partner, payment_id="pay-1", condition=Field("attempts").le({"N": "100"}))
    assert repos.payments.find(partner_id=partner, payment_id="pay-1") is None


def test_reserved_word_attributes_in_conditions_filters_updates(repos: Repos) -> None:
    partner = unique("partner-")
    created = repos.partners.create(Partner(partner_id=partner, name="Acme", status="active", fee_rate=Decimal(0)))
    created.name = "Acme Ltd"
    created.status = "suspended"
    updated = repos.partners.update(
        created, ["name", "status"], condition=Field("name").eq({"S": "Acme"}) & Field("status").eq({"S": "active"})
    )
    assert (updated.name, updated.status) == ("Acme Ltd", "suspended")
    repos.customers.create(Customer(partner_id=partner, customer_id=uuid4(), email="a@x", name="Ann"))
    repos.customers.create(Customer(partner_id=partner, customer_id=uuid4(), email="b@x", name="Bob"))
    got = repos.customers.customers_of_partner(partner_id=partner, filter=Field("name").begins_with({"S": "B"}))
    assert [c.name for c in got.items] == ["Bob"]
    got = repos.customers.customers_of_partner(partner_id=partner, filter=Field("name").eq({"S": "Ann"}), limit=1)
    assert [c.name for c in got.items] == ["Ann"]
    assert (
        repos.partners.count(filter=Field("partnerId").eq({"S": partner}) & Field("status").eq({"S": "suspended"})) == 1
    )


# -- scans ---------------------------------------------------------------------------------------------


def test_scan_parallel_scan_and_count(repos: Repos) -> None:
    w = build_world(repos)
    mine = Field("partnerId").eq({"S": w.partner})
    assert repos.payments.count(filter=mine) == 6
    assert repos.refunds.count(filter=mine) == 4
    assert repos.customers.count(filter=mine) == 2
    scanned = sorted(ids(list(repos.payments.iter_scan(filter=mine, page_size=3))))
    assert scanned == [f"pay-{i:02d}" for i in range(6)]
    parallel = repos.payments.parallel_scan(4, filter=mine, max_workers=4)
    assert sorted(ids(parallel)) == scanned
    assert all(type(p) is Payment for p in parallel)
    collected: list[str] = []
    cursor: str | None = None
    while True:
        page = repos.payments.scan(filter=mine, limit=4, cursor=cursor)
        assert all(type(p) is Payment for p in page.items)
        collected += ids(page.items)
        if page.cursor is None:
            break
        cursor = page.cursor
    assert sorted(collected) == scanned
    segments = [repos.payments.scan(filter=mine, segment=s, total_segments=2) for s in range(2)]
    assert sorted(i for page in segments for i in ids(page.items)) == scanned


def test_both_transports_give_identical_results(ddb_client: Any, dynamodb_local: Any, pay_table: str) -> None:
    """One scenario on each transport: same models, same cursors, same error types."""
    from dynagen.runtime.transport.lean import LeanTransport

    def scenario(transport: Transport, partner: str) -> list[Any]:
        r = Repos(
            PartnerRepository(transport, table_name=pay_table),
            CustomerRepository(transport, table_name=pay_table),
            PaymentRepository(transport, table_name=pay_table),
            RefundRepository(transport, table_name=pay_table),
        )
        PaymentRepository.clock = staticmethod(lambda: datetime(2024, 1, 1, tzinfo=UTC))
        try:
            out: list[Any] = []
            customer = UUID(int=7)
            for i in range(3):
                out.append(
                    r.payments.create(
                        a_payment(partner, f"p{i}", customer, date(2024, 1, i + 1), card_fingerprint=b"\x01\x02")
                    )
                )
            page = r.payments.payments_of_partner(partner_id=partner, limit=2)
            out.append((page.items, page.cursor and decode_cursor(page.cursor).last_key["SK"]))
            out.append(r.payments.update(out[0], ["attempts"], add={"labels": {"x"}}))
            actions: list[Callable[[], object]] = [
                lambda: r.payments.update(out[1], ["attempts"], condition=Field("status").eq({"S": "failed"})),
                lambda: r.payments.create(out[1], if_not_exists=True),
                lambda: r.payments.get(partner_id=partner, payment_id="none"),
                lambda: r.payments.update(out[0], ["attempts"]),
            ]
            for action in actions:
                try:
                    action()
                except Exception as exc:
                    out.append(type(exc))
            return [replace(o, partner_id="P") if isinstance(o, Payment) else o for o in out]
        finally:
            del PaymentRepository.clock

    botocore_out = scenario(BotocoreTransport(ddb_client), unique("partner-"))
    with LeanTransport(
        region="us-east-1", endpoint_url=dynamodb_local.endpoint, credentials=("testing", "testing")
    ) as lean:
        lean_out = scenario(lean, unique("partner-"))
    normalize = [
        (tuple(replace(p, partner_id="P") for p in o[0]), o[1]) if isinstance(o, tuple) else o for o in botocore_out
    ]
    lean_norm = [
        (tuple(replace(p, partner_id="P") for p in o[0]), o[1]) if isinstance(o, tuple) else o for o in lean_out
    ]
    assert normalize == lean_norm
    assert [o for o in lean_out if isinstance(o, type)] == [
        ConditionFailedError,
        ConditionFailedError,
        ItemNotFoundError,
        VersionConflictError,
    ]


def test_set_if_missing_refuses_fields_that_build_index_keys(repos: Repos) -> None:
    """SET if_not_exists keeps a stored status, but its GSI2PK would be overwritten: out of step."""
    partner = unique("partner-")
    p = repos.payments.create(a_payment(partner, "pay-1", uuid4(), date(2024, 5, 1), status=PaymentStatus.CAPTURED))
    with pytest.raises(InvalidValueError, match="index keys"):
        repos.payments.update(replace(p, status=PaymentStatus.FAILED), [], set_if_missing=["status"])
    mine = Field("partnerId").eq({"S": partner})
    assert repos.payments.payments_by_status(status=PaymentStatus.FAILED, filter=mine).items == []
    assert ids(repos.payments.payments_by_status(status=PaymentStatus.CAPTURED, filter=mine).items) == ["pay-1"]


def test_expired_deadline_refuses_to_start(repos: Repos) -> None:
    from dynagen.errors import DeadlineExceededError
    from dynagen.runtime import Deadline

    now = [100.0]
    expired = Deadline(50.0, margin=0.0, clock=lambda: now[0])
    payments = repos.payments.with_deadline(expired)
    partner = unique("partner-")
    models = [a_payment(partner, f"p{i}", uuid4(), date(2024, 5, 1)) for i in range(30)]
    with pytest.raises(DeadlineExceededError):
        payments.get(partner_id=partner, payment_id="p0")
    with pytest.raises(DeadlineExceededError) as caught:
        payments.batch_put(models, overwrite_versions=True)
    # stopped before encoding anything: nothing done, everything given remains
    assert caught.value.completed == {} and caught.value.remaining is None
    with pytest.raises(DeadlineExceededError):
        payments.get_many([m.key() for m in models])
    assert repos.payments.count(filter=Field("partnerId").eq({"S": partner})) == 0


def test_payments_by_status_with_only_an_upper_bound(repos: Repos) -> None:
    w = build_world(repos)
    mine = Field("partnerId").eq({"S": w.partner})
    got = repos.payments.payments_by_status(status=PaymentStatus.PENDING, created_on_to=date(2024, 5, 3), filter=mine)
    assert ids(got.items) == ["pay-00", "pay-02"]
    got = repos.payments.payments_by_status(status=PaymentStatus.PENDING, created_on_from=date(2024, 5, 3), filter=mine)
    assert ids(got.items) == ["pay-02", "pay-04"]

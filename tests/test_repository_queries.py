"""Access-pattern sort-key conditions, field names in conditions and bad enum values, on DynamoDB Local.

Every sort-key condition of a generated access pattern (``<field>_eq``, ``_from``, ``_to``,
``_after``, ``_before``, ``_prefix``) on the three key shapes: a fixed prefix and key parts after the
field (GSI1SK ``PAYMENT#{created_on}#{payment_id}``), no prefix (GSI2SK
``{created_on}#{partner_id}#{payment_id}``), the field last (SK ``REFUND#{payment_id}#{refund_id}``),
and a numeric sort key holding the field itself (the DMS ``seq``). Refusals go through a transport
that must not be called: they happen before any request.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID, uuid4

import pytest
from test_repository_support import NoRequests, Recording, make_table, transport_fixture, unique

from dynagen.compiler import compile_schemas, write_output
from dynagen.errors import InvalidValueError
from dynagen.runtime import Field
from dynagen.runtime.transport._interface import Transport
from generated_example import payments as pay
from generated_example.payments import (
    Customer,
    CustomerRepository,
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

EVENTS_SCHEMA = Path(__file__).parent / "goldens" / "dms_minimal" / "schema.yaml"


@pytest.fixture(scope="module")
def pay_table(ddb_client: Any) -> str:
    return make_table(ddb_client, pay.TABLES["payments"], "queries")


def a_payment(partner: str, payment_id: str, customer: UUID, day: date, **kw: Any) -> Payment:
    return Payment(
        partner_id=partner,
        payment_id=payment_id,
        customer_id=customer,
        amount=Decimal("1"),
        currency=pay.Currency.EUR,
        created_on=day,
        **kw,
    )


def ids(payments: list[Payment]) -> list[str]:
    return [p.payment_id for p in payments]


@pytest.fixture
def world(transport: Transport, pay_table: str, ddb_client: Any) -> tuple[PaymentRepository, str, UUID]:
    """One customer's payments on May 1, 2 (two), 3 and 4, plus items that must never come back."""
    payments = PaymentRepository(transport, table_name=pay_table)
    partner, customer = unique("partner-"), uuid4()
    days = {"p1": 1, "p2a": 2, "p2b": 2, "p3": 3, "p4": 4}
    for payment_id, day in days.items():
        payments.create(a_payment(partner, payment_id, customer, date(2024, 5, day), status=PaymentStatus.CAPTURED))
    payments.create(a_payment(partner, "other", uuid4(), date(2024, 5, 2), status=PaymentStatus.CAPTURED))
    # Under the same GSI1 partition: payments whose GSI1SK lies outside the template's prefix (just
    # before and after it), and a refund whose GSI1SK looks like a payment's.
    for payment_id, sort_key in [("x-before", "PAYMENS#2024-05-02#x"), ("x-after", "PAYMENT$2024-05-02#x")]:
        item = a_payment(partner, payment_id, customer, date(2024, 5, 2)).to_item()
        item["GSI1SK"] = {"S": sort_key}
        ddb_client.put_item(TableName=pay_table, Item=item)
    intruder = Refund(partner_id=partner, payment_id="p2a", refund_id="r", amount=Decimal(1)).to_item()
    intruder["GSI1PK"] = {"S": f"PARTNER#{partner}#CUSTOMER#{customer}"}
    intruder["GSI1SK"] = {"S": "PAYMENT#2024-05-02#p2c"}
    ddb_client.put_item(TableName=pay_table, Item=intruder)
    return payments, partner, customer


def test_sort_key_conditions_with_a_prefix_and_parts_after_the_field(
    world: tuple[PaymentRepository, str, UUID],
) -> None:
    payments, partner, customer = world

    def query(**kw: Any) -> list[str]:
        return ids(
            payments.payments_of_customer(partner_id=partner, customer_id=customer, descending=False, **kw).items
        )

    may = {d: date(2024, 5, d) for d in range(1, 6)}
    assert query() == ["p1", "p2a", "p2b", "p3", "p4"]
    assert query(created_on_eq=may[2]) == ["p2a", "p2b"]  # every key continuing after the day
    assert query(created_on_eq=may[5]) == []
    assert query(created_on_after=may[2]) == ["p3", "p4"]  # strict: no key of May 2, however it continues
    assert query(created_on_before=may[2]) == ["p1"]
    assert query(created_on_after=may[1], created_on_before=may[4]) == ["p2a", "p2b", "p3"]
    assert query(created_on_after=may[2], created_on_to=may[3]) == ["p3"]
    assert query(created_on_from=may[2], created_on_before=may[3]) == ["p2a", "p2b"]
    assert query(created_on_from=may[2], created_on_to=may[2]) == ["p2a", "p2b"]
    assert query(created_on_from=may[4]) == ["p4"]
    assert query(created_on_to=may[1]) == ["p1"]
    assert query(created_on_after=may[4]) == []
    assert query(created_on_before=may[1]) == []
    assert query(created_on_prefix="2024-05-0") == ["p1", "p2a", "p2b", "p3", "p4"]
    assert query(created_on_prefix="2024-05-02") == ["p2a", "p2b"]
    assert query(created_on_prefix="2024-06") == []
    newest_first = payments.payments_of_customer(partner_id=partner, customer_id=customer, created_on_before=may[4])
    assert ids(newest_first.items) == ["p3", "p2b", "p2a", "p1"]


def test_sort_key_conditions_without_a_prefix(world: tuple[PaymentRepository, str, UUID]) -> None:
    payments, partner, _ = world
    mine = Field("partnerId").eq({"S": partner})

    def query(**kw: Any) -> list[str]:
        return ids(payments.payments_by_status(status=PaymentStatus.CAPTURED, filter=mine, **kw).items)

    assert query(created_on_eq=date(2024, 5, 2)) == ["other", "p2a", "p2b"]
    assert query(created_on_after=date(2024, 5, 2)) == ["p3", "p4"]
    assert query(created_on_before=date(2024, 5, 2)) == ["p1"]
    assert query(created_on_after=date(2024, 5, 1), created_on_before=date(2024, 5, 3)) == ["other", "p2a", "p2b"]
    assert query(created_on_prefix="2024-05-0") == ["p1", "other", "p2a", "p2b", "p3", "p4"]
    got = list(
        payments.iter_payments_by_status(
            status=PaymentStatus.CAPTURED, created_on_after=date(2024, 5, 1), filter=mine, page_size=2
        )
    )
    assert ids(got) == ["other", "p2a", "p2b", "p3", "p4"]


def test_sort_key_conditions_on_the_last_key_part(transport: Transport, pay_table: str) -> None:
    refunds = RefundRepository(transport, table_name=pay_table)
    partner = unique("partner-")
    for payment_id, refund_id in [
        ("pay-1", "r-1"),
        ("pay-1", "r-2"),
        ("pay-1", "r-20"),
        ("pay-1", "r-3"),
        ("pay-10", "r-2"),
    ]:
        refunds.create(Refund(partner_id=partner, payment_id=payment_id, refund_id=refund_id, amount=Decimal(1)))

    def query(**kw: Any) -> list[str]:
        return [r.refund_id for r in refunds.refunds_of_payment(partner_id=partner, payment_id="pay-1", **kw).items]

    assert query() == ["r-1", "r-2", "r-20", "r-3"]
    assert query(refund_id_eq="r-2") == ["r-2"]  # exact: not r-20, nor pay-10's r-2
    assert query(refund_id_after="r-2") == ["r-20", "r-3"]
    assert query(refund_id_before="r-20") == ["r-1", "r-2"]
    assert query(refund_id_after="r-1", refund_id_before="r-3") == ["r-2", "r-20"]
    assert query(refund_id_prefix="r-2") == ["r-2", "r-20"]
    assert query(refund_id_from="r-2", refund_id_to="r-20") == ["r-2", "r-20"]


def test_iter_passes_every_argument_with_page_size_and_consistent(transport: Transport, pay_table: str) -> None:
    recording = Recording(transport)
    refunds = RefundRepository(recording, table_name=pay_table)
    partner = unique("partner-")
    for i in range(5):
        refunds.create(Refund(partner_id=partner, payment_id="pay-1", refund_id=f"r-{i}", amount=Decimal(1)))
    recording.requests.clear()
    got = list(
        refunds.iter_refunds_of_payment(
            partner_id=partner, payment_id="pay-1", refund_id_after="r-0", consistent=True, page_size=2
        )
    )
    assert [r.refund_id for r in got] == ["r-1", "r-2", "r-3", "r-4"]
    queries = [request for operation, request in recording.requests if operation == "Query"]
    assert len(queries) >= 2  # pages of 2 items (the entity filter keeps DynamoDB's Limit off the request)
    assert all(q["ConsistentRead"] is True for q in queries)
    recording.requests.clear()
    assert len(list(refunds.iter_refunds_of_payment(partner_id=partner, payment_id="pay-1"))) == 5
    assert [operation for operation, _ in recording.requests] == ["Query"]  # no page size: one page
    assert all(not q.get("ConsistentRead") for _, q in recording.requests)
    by_eq = refunds.iter_refunds_of_payment(partner_id=partner, payment_id="pay-1", refund_id_eq="r-3")
    assert [r.refund_id for r in by_eq] == ["r-3"]
    by_prefix = refunds.iter_refunds_of_payment(partner_id=partner, payment_id="pay-1", refund_id_prefix="r-4")
    assert [r.refund_id for r in by_prefix] == ["r-4"]
    # An index query cannot be consistent: its iter_ does not offer it.
    assert "consistent" not in inspect.signature(PaymentRepository.iter_payments_of_customer).parameters
    assert "page_size" in inspect.signature(PaymentRepository.iter_payments_of_customer).parameters


@pytest.mark.parametrize(
    ("kw", "names"),
    [
        (
            {"created_on_eq": date(2024, 5, 1), "created_on_from": date(2024, 5, 1)},
            ["created_on_eq", "created_on_from"],
        ),
        ({"created_on_eq": date(2024, 5, 1), "created_on_prefix": "2024"}, ["created_on_eq", "created_on_prefix"]),
        ({"created_on_prefix": "2024", "created_on_to": date(2024, 5, 1)}, ["created_on_prefix", "created_on_to"]),
        (
            {"created_on_after": date(2024, 5, 1), "created_on_from": date(2024, 5, 1)},
            ["created_on_from", "created_on_after"],
        ),
        (
            {"created_on_before": date(2024, 5, 1), "created_on_to": date(2024, 5, 1)},
            ["created_on_to", "created_on_before"],
        ),
        (
            {"created_on_from": date(2024, 5, 9), "created_on_to": date(2024, 5, 1)},
            ["created_on_from", "created_on_to"],
        ),
        (
            {"created_on_after": date(2024, 5, 1), "created_on_before": date(2024, 5, 1)},
            ["created_on_after", "created_on_before"],
        ),
    ],
)
def test_sort_key_conditions_dynamodb_cannot_take_are_refused_before_any_request(
    kw: dict[str, Any], names: list[str]
) -> None:
    payments = PaymentRepository(NoRequests())
    with pytest.raises(InvalidValueError) as caught:
        payments.payments_of_customer(partner_id="p", customer_id=uuid4(), **kw)
    for name in names:
        assert name in str(caught.value)
    with pytest.raises(InvalidValueError):
        list(payments.iter_payments_of_customer(partner_id="p", customer_id=uuid4(), **kw))
    with pytest.raises(InvalidValueError, match="created_on_prefix"):
        payments.payments_by_status(status=PaymentStatus.PENDING, created_on_prefix="")


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory, ddb_client: Any) -> Iterator[tuple[ModuleType, str]]:
    """The DMS ``events`` model: a numeric sort key ``seq`` holding the field itself."""
    out = tmp_path_factory.mktemp("events_generated")
    write_output(compile_schemas([EVENTS_SCHEMA], root=EVENTS_SCHEMA.parent), out)
    spec = importlib.util.spec_from_file_location("events_generated", out / "schema.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["events_generated"] = module
    try:
        spec.loader.exec_module(module)
        yield module, make_table(ddb_client, module.TABLES["events"], "events")
    finally:
        sys.modules.pop("events_generated", None)


def test_numeric_sort_key_conditions(events: tuple[ModuleType, str], transport: Transport) -> None:
    module, table = events
    repo = module.EventRepository(transport, table_name=table)
    stream = unique("stream-")
    for seq in (1, 2, 3, 10):
        repo.create(module.Event(stream_id=stream, seq=seq, active=True))

    def query(**kw: Any) -> list[int]:
        return [e.seq for e in repo.query_partition(stream_id=stream, **kw).items]

    assert query() == [1, 2, 3, 10]  # as numbers, not as text
    assert query(seq_eq=2) == [2]
    assert query(seq_after=2) == [3, 10]
    assert query(seq_before=3) == [1, 2]
    assert query(seq_from=2) == [2, 3, 10]
    assert query(seq_to=3) == [1, 2, 3]
    assert query(seq_from=2, seq_to=3) == [2, 3]
    assert [e.seq for e in repo.iter_query_partition(stream_id=stream, seq_after=1, page_size=1)] == [2, 3, 10]
    assert "seq_prefix" not in inspect.signature(module.EventRepository.query_partition).parameters
    refusing = module.EventRepository(NoRequests(), table_name=table)
    for kw in ({"seq_after": 1, "seq_to": 3}, {"seq_from": 1, "seq_before": 3}, {"seq_eq": 1, "seq_to": 3}):
        with pytest.raises(InvalidValueError, match="cannot be combined"):
            refusing.query_partition(stream_id=stream, **kw)
    with pytest.raises(InvalidValueError, match="seq_from"):
        refusing.query_partition(stream_id=stream, seq_from=3, seq_to=1)


# -- attribute names in conditions and filters -----------------------------------------------------


def test_filters_and_conditions_name_stored_attributes(transport: Transport, pay_table: str) -> None:
    payments = PaymentRepository(transport, table_name=pay_table)
    partner = unique("partner-")
    p = payments.create(a_payment(partner, "p1", uuid4(), date(2024, 5, 1)))
    # Python field names went out as they were and silently matched nothing; now they are refused.
    with pytest.raises(InvalidValueError) as caught:
        payments.payments_of_partner(partner_id=partner, filter=Field("partner_id").eq({"S": partner}))
    assert caught.value.field == "partner_id"
    assert "'partnerId'" in str(caught.value) and "Python field" in str(caught.value)
    # The stored names work, key and entity attributes included.
    mine = Field("partnerId").eq({"S": partner})
    assert ids(payments.payments_of_partner(partner_id=partner, filter=mine).items) == ["p1"]
    both = mine & Field("GSI2PK").exists() & Field("entity").eq({"S": "PAYMENT"}) & Field("SK").begins_with({"S": "P"})
    assert payments.count(filter=both) == 1
    assert payments.update(p, ["attempts"], condition=Field("createdOn").eq({"S": "2024-05-01"})).version == 1


def _refused(call: Any, field: str, hint: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        call()
    assert caught.value.field == field, caught.value
    assert hint in str(caught.value), caught.value


def test_unknown_attributes_are_refused_before_any_request() -> None:
    payments = PaymentRepository(NoRequests())
    customers = CustomerRepository(NoRequests())
    partners = PartnerRepository(NoRequests())
    p = a_payment("partner", "p1", uuid4(), date(2024, 5, 1))
    key = p.key()
    typo = Field("partnerid").eq({"S": "x"})
    nested = Field("lineItems[0].sku").eq({"S": "A"}) | Field(("riskScor",)).exists()
    _refused(
        lambda: payments.payments_of_partner(partner_id="x", filter=typo), "partnerid", "did you mean 'partnerId'?"
    )
    _refused(lambda: payments.scan(filter=~typo), "partnerid", "'partnerId'")
    _refused(lambda: list(payments.iter_scan(filter=typo)), "partnerid", "'partnerId'")
    _refused(lambda: payments.count(filter=nested), "riskScor", "did you mean 'riskScore'?")
    _refused(lambda: payments.parallel_scan(2, filter=typo), "partnerid", "'partnerId'")
    _refused(lambda: payments.create(p, condition=Field("created_on").exists()), "created_on", "'createdOn'")
    _refused(lambda: payments.put(p, condition=Field("statuss").exists()), "statuss", "'status'")
    _refused(lambda: payments.update(p, ["amount"], condition=Field("amount_").exists()), "amount_", "'amount'")
    _refused(lambda: payments.delete(partner_id="x", payment_id="y", condition=typo), "partnerid", "'partnerId'")
    _refused(lambda: payments.transact_create(p, condition=typo), "partnerid", "'partnerId'")
    _refused(lambda: payments.transact_put(p, condition=typo), "partnerid", "'partnerId'")
    _refused(lambda: payments.transact_update(p, ["amount"], condition=typo), "partnerid", "'partnerId'")
    _refused(lambda: payments.transact_delete(key, condition=typo), "partnerid", "'partnerId'")
    _refused(lambda: payments.transact_check(key, Field("fee_rate").exists()), "fee_rate", "its attributes")
    _refused(
        lambda: partners.transact_check(Partner.make_key(partner_id="x"), Field("fee_rate").exists()),
        "fee_rate",
        "'feeRate'",
    )
    # Only the first segment is the model's: nested map keys are data.
    c = Customer(partner_id="x", customer_id=uuid4(), email="e", name="n")
    customers.transact_put(c, condition=Field("address.anything").not_exists() & Field("attributes.k").exists())
    _refused(lambda: customers.transact_put(c, condition=Field("adress.city").exists()), "adress.city", "'address'")
    with pytest.raises(InvalidValueError, match="Condition"):
        payments.scan(filter={"partnerId": {"S": "x"}})  # type: ignore[arg-type]


# -- enum fields holding something else ------------------------------------------------------------


def test_bad_enum_values_are_invalid_values_naming_the_field(transport: Transport, pay_table: str) -> None:
    payments = PaymentRepository(NoRequests())
    plain = a_payment("partner", "p1", uuid4(), date(2024, 5, 1))
    plain.currency = "USD"  # type: ignore[assignment]
    with pytest.raises(InvalidValueError) as caught:
        payments.create(plain)
    assert caught.value.field == "currency"
    assert "'USD', 'EUR', 'GBP'" in str(caught.value) and "Currency('USD')" in str(caught.value)
    bogus = a_payment("partner", "p1", uuid4(), date(2024, 5, 1), status="bogus")
    with pytest.raises(InvalidValueError) as caught:
        bogus.to_item()
    assert caught.value.field == "status" and "'pending'" in str(caught.value) and "'bogus'" in str(caught.value)
    with pytest.raises(InvalidValueError, match="status"):
        payments.batch_put([bogus], overwrite_versions=True)
    with pytest.raises(InvalidValueError, match="settlement_currency"):
        PartnerRepository(NoRequests()).create(
            Partner(partner_id="x", name="n", fee_rate=Decimal(0), settlement_currency=None)  # type: ignore[arg-type]
        )
    # Another mistyped field is reported for itself, not blamed on an enum.
    wrong_day = a_payment("partner", "p1", uuid4(), "2024-05-01")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="created_on: expected date, got str"):
        wrong_day.to_item()
    # A good payment is written and read back with its enums.
    real = PaymentRepository(transport, table_name=pay_table)
    good = real.create(a_payment(unique("partner-"), "p1", uuid4(), date(2024, 5, 1), status=PaymentStatus.FAILED))
    assert real.get(partner_id=good.partner_id, payment_id="p1").status is PaymentStatus.FAILED


def test_key_range_bounds() -> None:
    """The bounds behind the DynamoDB Local tests above, including the edges of the code-point space."""
    from dynagen.runtime import SortCondition, key_range
    from dynagen.runtime.repository._key_range import _following, _preceding

    top = "\U0010ffff"
    assert _following("a#") == "a$" and _following("a\ud7ff") == "a\ue000" and _following("a" + top) == "b"
    assert _preceding("a#") == 'a"' + top and _preceding("a\ue000") == "a\ud7ff" + top and _preceding("a\x00") == "a"

    def sort(**kw: Any) -> SortCondition | None:
        got = key_range("SK", kw.pop("prefix", "P#"), field="d", encode=lambda v: str(v), **kw)
        return None if got is None else got[1]

    s = SortCondition
    assert sort() == s.begins_with({"S": "P#"}) and sort(prefix="") is None
    assert sort(eq="a", tail="#", more=True) == s.begins_with({"S": "P#a#"})
    assert sort(eq="a") == s.eq({"S": "P#a"})
    assert sort(gt="a", tail="#", more=True) == s.between({"S": "P#a$"}, {"S": "P#" + top})
    assert sort(gt="a") == s.between({"S": "P#a\x00"}, {"S": "P#" + top})
    assert sort(gt="a", prefix="") == s.gt({"S": "a"})
    assert sort(lt="b", prefix="", tail="#", more=True) == s.lt({"S": "b#"})
    assert sort(lt="b", tail="#", more=True) == s.between({"S": "P#"}, {"S": 'P#b"' + top})
    assert sort(le="b", tail="#", more=True) == s.between({"S": "P#"}, {"S": "P#b#" + top})
    assert sort(ge="a", le="b") == s.between({"S": "P#a"}, {"S": "P#b"})
    assert sort(begins_with="20") == s.begins_with({"S": "P#20"})

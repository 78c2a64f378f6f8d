"""Typed field references against DynamoDB Local, on both transports: every operator over every field type.

Three orders (every field type, nested records, lists, maps, json, untyped maps) are written with
``to_item`` through a raw ``put_item``; each case is a typed condition and the orders it must match.
It is checked as a scan filter, a query filter, and a write condition (an unchanged ``put_item``
that must succeed on a matching order and fail on the others). Typed update actions are applied with
``update_item`` and read back through ``from_item``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from ops_support import KEYS, table_definition, transport_fixture  # noqa: F401  (the `transport` fixture)
from typed_models import (
    Address,
    Currency,
    Geo,
    LineItem,
    Order,
    OrderFields,
    OrderRepository,
    OrderStatus,
)

from dynagen.errors import ConditionFailedError, InvalidValueError
from dynagen.runtime.ops._items import delete_item, get_item, put_item, update_item
from dynagen.runtime.ops._reads import query, scan
from dynagen.runtime.ops._tables import create_table, delete_table
from dynagen.runtime.transport._botocore import BotocoreTransport
from dynagen.runtime.transport._interface import Transport
from dynagen.runtime.wire._expressions import Condition, Field, Update
from dynagen.runtime.wire._typed import StringRef

pytestmark = pytest.mark.ddb

CUSTOMER = uuid.UUID("00000000-0000-4000-8000-000000000001")
U1 = uuid.UUID("11111111-1111-4111-8111-111111111111")
U2 = uuid.UUID("22222222-2222-4222-8222-222222222222")
U3 = uuid.UUID("33333333-3333-4333-8333-333333333333")
U4 = uuid.UUID("44444444-4444-4444-8444-444444444444")
PARIS = timezone(timedelta(hours=2))


def _orders() -> dict[str, Order]:
    a = Order(
        customer_id=CUSTOMER,
        order_id="o-a",
        status=OrderStatus.SHIPPED,
        currency=Currency.USD,
        total=Decimal("10.50"),
        quantity=3,
        weight=1.5,
        placed_on=date(2024, 5, 1),
        placed_at=datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
        gift=True,
        note="leave at door",
        fingerprint=b"\x01\x02\x03",
        labels={"red", "big"},
        counts={1, 2, 3},
        prices={Decimal("1.10"), Decimal("2")},
        blobs={b"a", b"\xff"},
        related={U1, U2},
        notes=["first", "second"],
        line_items=[
            LineItem(sku="A-1", quantity=2, unit_price=Decimal("5.25"), size="XL", options={"gift_wrap": True}),
            LineItem(sku="B-2", quantity=1, unit_price=Decimal("0")),
        ],
        matrix=[[1, 2], [3]],
        events=[{"kind": "created"}, None],
        tags={"env": "prod", "team.name": "core"},
        limits={"daily": Decimal("100")},
        addresses={"home": Address(line1="9 Ring", city="Berlin", geo=Geo(lat=Decimal("52.5"), lng=Decimal("13.4")))},
        billing=Address(line1="1 Main St", city="London", postal_code="N1", geo=Geo(lat=Decimal("51.5"), lng=Decimal("-0.1"))),
        shipping=Address(line1="5 Rue", city="Paris"),
        settings={"theme": "dark", "beta": True},
        extra={"source": "web", "score": 7, "flags": ["x", "y"]},
        version=3,
    )
    b = Order(
        customer_id=CUSTOMER,
        order_id="o-b",
        status=OrderStatus.PENDING,
        currency=Currency.EUR,
        total=Decimal("99"),
        quantity=1,
        weight=0.25,
        placed_on=date(2024, 6, 15),
        placed_at=datetime(2024, 6, 15, 8, 30, 0, 500000, tzinfo=UTC),
        labels={"blue"},
        counts={5},
        related={U3},
        line_items=[LineItem(sku="C-3", quantity=10, unit_price=Decimal("1.99"))],
        billing=Address(line1="2 High St", city="Leeds"),
    )
    c = Order(
        customer_id=CUSTOMER,
        order_id="o-c",
        status=OrderStatus.CANCELLED,
        currency=Currency.USD,
        total=Decimal("0.5"),
        quantity=7,
        weight=3.0,
        placed_on=date(2023, 12, 31),
        placed_at=datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC),
        expires_at=datetime(2024, 1, 1, tzinfo=UTC),
        note="call first",
        fingerprint=b"\x01\xff",
        labels={"red"},
        counts={3, 4},
        prices={Decimal("2")},
        blobs={b"b"},
        related={U1},
        notes=["only"],
        line_items=[LineItem(sku="A-1", quantity=5, unit_price=Decimal("5.25"))],
        matrix=[[9]],
        events=[None],
        tags={"env": "dev"},
        limits={"daily": Decimal("5.5")},
        addresses={"work": Address(line1="1 Office Park", city="Leeds")},
        billing=Address(line1="3 Low Rd", city="London", postal_code="E2"),
        settings=[1, 2, 3],
        extra={"source": "api"},
        version=1,
    )
    return {"A": a, "B": b, "C": c}


ORDERS = _orders()
F = OrderFields

# (case id, condition builder, the orders it matches)
CASES: list[tuple[str, Callable[[], Condition], set[str]]] = [
    # enums, uuid, bool
    ("enum eq", lambda: F.status.eq(OrderStatus.SHIPPED), {"A"}),
    ("enum ne", lambda: F.status.ne(OrderStatus.SHIPPED), {"B", "C"}),
    ("enum is_in", lambda: F.status.is_in([OrderStatus.PENDING, OrderStatus.CANCELLED]), {"B", "C"}),
    ("enum eq other field", lambda: F.currency.eq(Currency.EUR), {"B"}),
    ("uuid eq", lambda: F.customer_id.eq(CUSTOMER), {"A", "B", "C"}),
    ("uuid ne", lambda: F.customer_id.ne(U1), {"A", "B", "C"}),
    ("bool eq", lambda: F.gift.eq(True), {"A"}),
    ("bool ne", lambda: F.gift.ne(True), {"B", "C"}),
    # strings
    ("str lt", lambda: F.order_id < "o-b", {"A"}),
    ("str le", lambda: F.order_id.le("o-b"), {"A", "B"}),
    ("str gt", lambda: F.order_id > "o-a", {"B", "C"}),
    ("str ge", lambda: F.order_id >= "o-c", {"C"}),
    ("str between", lambda: F.order_id.between("o-a", "o-b"), {"A", "B"}),
    ("str begins_with", lambda: F.note.begins_with("call"), {"C"}),
    ("str contains", lambda: F.note.contains("door"), {"A"}),
    ("str exists", lambda: F.note.exists(), {"A", "C"}),
    ("str not_exists (None)", lambda: F.note.not_exists(), {"B"}),
    ("str size", lambda: F.note.size() > 10, {"A"}),
    ("str attribute_type", lambda: F.note.attribute_type("S"), {"A", "C"}),
    # numbers
    ("decimal eq is numeric", lambda: F.total.eq(Decimal("10.5")), {"A"}),
    ("decimal gt", lambda: F.total.gt(Decimal("10")), {"A", "B"}),
    ("decimal ge op", lambda: F.total >= Decimal("10.50"), {"A", "B"}),
    ("decimal lt op", lambda: F.total < Decimal("1"), {"C"}),
    ("decimal between", lambda: F.total.between(Decimal("0.5"), Decimal("10.5")), {"A", "C"}),
    ("int le", lambda: F.quantity.le(3), {"A", "B"}),
    ("int is_in", lambda: F.quantity.is_in([1, 7]), {"B", "C"}),
    ("int attribute_type N", lambda: F.quantity.attribute_type("N"), {"A", "B", "C"}),
    ("float gt", lambda: F.weight.gt(1.0), {"A", "C"}),
    ("float eq", lambda: F.weight.eq(0.25), {"B"}),
    ("float eq int", lambda: F.weight.eq(3), {"C"}),
    # dates and datetimes (stored as text)
    ("date ge", lambda: F.placed_on.ge(date(2024, 5, 1)), {"A", "B"}),
    ("date between", lambda: F.placed_on.between(date(2024, 1, 1), date(2024, 5, 31)), {"A"}),
    ("date begins_with", lambda: F.placed_on.begins_with("2024-0"), {"A", "B"}),
    ("datetime gt", lambda: F.placed_at.gt(datetime(2024, 5, 1, 10, 0, tzinfo=UTC)), {"B"}),
    ("datetime ge", lambda: F.placed_at >= datetime(2024, 5, 1, 10, 0, tzinfo=UTC), {"A", "B"}),
    ("datetime lt", lambda: F.placed_at.lt(datetime(2024, 1, 1, tzinfo=UTC)), {"C"}),
    ("datetime eq with fraction", lambda: F.placed_at.eq(datetime(2024, 6, 15, 8, 30, 0, 500000, tzinfo=UTC)), {"B"}),
    ("datetime eq other zone", lambda: F.placed_at.eq(datetime(2024, 5, 1, 12, 0, tzinfo=PARIS)), {"A"}),
    ("datetime begins_with", lambda: F.placed_at.begins_with("2024-06"), {"B"}),
    ("epoch datetime gt", lambda: F.expires_at.gt(datetime(2025, 1, 1, tzinfo=UTC)), {"A"}),
    ("epoch datetime eq", lambda: F.expires_at.eq(datetime(2024, 1, 1, tzinfo=UTC)), {"C"}),
    ("epoch datetime not_exists", lambda: F.expires_at.not_exists(), {"B"}),
    # bytes
    ("bytes eq", lambda: F.fingerprint.eq(b"\x01\x02\x03"), {"A"}),
    ("bytes lt", lambda: F.fingerprint.lt(b"\x01\x03"), {"A"}),
    ("bytes begins_with", lambda: F.fingerprint.begins_with(b"\x01"), {"A", "C"}),
    ("bytes contains", lambda: F.fingerprint.contains(b"\xff"), {"C"}),
    ("bytes size", lambda: F.fingerprint.size().eq(3), {"A"}),
    # sets
    ("string set contains", lambda: F.labels.contains("red"), {"A", "C"}),
    ("string set eq", lambda: F.labels.eq({"big", "red"}), {"A"}),
    ("string set size", lambda: F.labels.size().eq(2), {"A"}),
    ("string set attribute_type", lambda: F.labels.attribute_type("SS"), {"A", "B", "C"}),
    ("int set contains", lambda: F.counts.contains(3), {"A", "C"}),
    ("int set eq", lambda: F.counts.eq({5}), {"B"}),
    ("decimal set contains", lambda: F.prices.contains(Decimal("2")), {"A", "C"}),
    ("decimal set contains numerically", lambda: F.prices.contains(Decimal("1.1")), {"A"}),
    ("decimal set not_exists (empty)", lambda: F.prices.not_exists(), {"B"}),
    ("bytes set contains", lambda: F.blobs.contains(b"\xff"), {"A"}),
    ("uuid set contains", lambda: F.related.contains(U1), {"A", "C"}),
    ("uuid set contains other", lambda: F.related.contains(U3), {"B"}),
    ("uuid set eq", lambda: F.related.eq({U2, U1}), {"A"}),
    # lists
    ("list contains", lambda: F.notes.contains("second"), {"A"}),
    ("list eq", lambda: F.notes.eq(["only"]), {"C"}),
    ("list size", lambda: F.notes.size().eq(0), {"B"}),
    ("list index eq", lambda: F.notes[0].eq("first"), {"A"}),
    ("list index begins_with", lambda: F.notes[0].begins_with("o"), {"C"}),
    ("list index exists", lambda: F.notes[1].exists(), {"A"}),
    ("record list field", lambda: F.line_items[0].sku.eq("A-1"), {"A", "C"}),
    ("record list second element", lambda: F.line_items[1].sku.exists(), {"A"}),
    ("record list number", lambda: F.line_items[0].quantity > 4, {"B", "C"}),
    ("record list decimal", lambda: F.line_items[0].unit_price.eq(Decimal("5.25")), {"A", "C"}),
    ("record list renamed field", lambda: F.line_items[0].size_.eq("XL"), {"A"}),
    ("record list json", lambda: F.line_items[0].options.eq({"gift_wrap": True}), {"A"}),
    ("record list json None", lambda: F.line_items[0].options.eq(None), {"B", "C"}),
    ("record list whole element", lambda: F.line_items[0].eq(ORDERS["B"].line_items[0]), {"B"}),
    (
        "record list contains",
        lambda: F.line_items.contains(LineItem(sku="C-3", quantity=10, unit_price=Decimal("1.99"))),
        {"B"},
    ),
    ("nested list element", lambda: F.matrix[0][1].eq(2), {"A"}),
    ("nested list eq", lambda: F.matrix[0].eq([9]), {"C"}),
    ("nested list contains", lambda: F.matrix[0].contains(9), {"C"}),
    ("nested list size", lambda: F.matrix.size().eq(2), {"A"}),
    ("json list element", lambda: F.events[0].eq({"kind": "created"}), {"A"}),
    ("json list element None", lambda: F.events[0].eq(None), {"C"}),
    ("json list element exists", lambda: F.events[1].exists(), {"A"}),
    # maps
    ("map entry eq", lambda: F.tags["env"].eq("prod"), {"A"}),
    ("map entry key with a dot", lambda: F.tags["team.name"].eq("core"), {"A"}),
    ("map entry exists", lambda: F.tags["env"].exists(), {"A", "C"}),
    ("map entry begins_with", lambda: F.tags["env"].begins_with("d"), {"C"}),
    ("map size", lambda: F.tags.size().eq(2), {"A"}),
    ("map eq", lambda: F.tags.eq({"env": "dev"}), {"C"}),
    ("map decimal entry gt", lambda: F.limits["daily"].gt(Decimal(50)), {"A"}),
    ("map decimal entry eq", lambda: F.limits["daily"].eq(Decimal("5.50")), {"C"}),
    ("map of records", lambda: F.addresses["home"].city.eq("Berlin"), {"A"}),
    ("map of records deeper", lambda: F.addresses["home"].geo.lat.gt(Decimal(50)), {"A"}),
    ("map of records exists", lambda: F.addresses["work"].exists(), {"C"}),
    # embedded records
    ("record field", lambda: F.billing.city.eq("London"), {"A", "C"}),
    ("record optional field missing", lambda: F.billing.postal_code.not_exists(), {"B"}),
    ("record in record", lambda: F.billing.geo.lat.between(Decimal(50), Decimal(52)), {"A"}),
    ("record in record exists", lambda: F.billing.geo.exists(), {"A"}),
    ("record eq whole", lambda: F.billing.eq(Address(line1="2 High St", city="Leeds")), {"B"}),
    ("record attribute_type", lambda: F.billing.attribute_type("M"), {"A", "B", "C"}),
    ("record size", lambda: F.billing.size().eq(4), {"A"}),
    ("optional record exists", lambda: F.shipping.exists(), {"A"}),
    ("optional record field", lambda: F.shipping.city.eq("Paris"), {"A"}),
    # json (whole value, as its canonical text)
    ("json eq (keys in any order)", lambda: F.settings.eq({"beta": True, "theme": "dark"}), {"A"}),
    ("json eq None is NULL", lambda: F.settings.eq(None), {"B"}),
    ("json ne None", lambda: F.settings.ne(None), {"A", "C"}),
    ("json eq list", lambda: F.settings.eq([1, 2, 3]), {"C"}),
    ("json is_in", lambda: F.settings.is_in([[1, 2, 3], {"x": 1}]), {"C"}),
    ("json contains_text", lambda: F.settings.contains_text('"beta":true'), {"A"}),
    ("json size is the text's", lambda: F.settings.size().eq(len('{"beta":true,"theme":"dark"}')), {"A"}),
    ("json attribute_type NULL", lambda: F.settings.attribute_type("NULL"), {"B"}),
    ("json exists (NULL is stored)", lambda: F.settings.exists(), {"A", "B", "C"}),
    # untyped maps
    ("any entry eq", lambda: F.extra["source"].eq("web"), {"A"}),
    ("any entry gt", lambda: F.extra["score"].gt(5), {"A"}),
    ("any list element", lambda: F.extra["flags"][1].eq("y"), {"A"}),
    ("any contains", lambda: F.extra["flags"].contains("x"), {"A"}),
    ("any begins_with", lambda: F.extra["source"].begins_with("a"), {"C"}),
    ("any is_in", lambda: F.extra["source"].is_in(["web", "api"]), {"A", "C"}),
    ("any map size", lambda: F.extra.size().eq(1), {"C"}),
    ("any map entry eq map", lambda: F.extra.eq({"source": "api"}), {"C"}),
    # composition, and mixing with stored-name conditions
    ("or", lambda: F.status.eq(OrderStatus.SHIPPED) | (F.quantity >= 7), {"A", "C"}),
    ("and not", lambda: ~F.gift.eq(True) & F.billing.city.eq("London"), {"C"}),
    ("with a stored-name Field", lambda: F.total.lt(Decimal(50)) & Field("status").eq({"S": "cancelled"}), {"C"}),
    ("size and nested", lambda: (F.line_items.size() >= 2) | F.tags["env"].eq("dev"), {"A", "C"}),
]


@pytest.fixture(scope="module")
def loaded(ddb_client: Any) -> Iterator[str]:
    """A table holding the three orders (written with raw put_item) and a foreign item sharing their partition."""
    name = f"typed-{uuid.uuid4().hex[:10]}"
    setup = BotocoreTransport(ddb_client)
    create_table(setup, table_definition(name, ttl=False))
    for order in ORDERS.values():
        put_item(setup, name, order.to_item())
    put_item(setup, name, {"PK": {"S": f"CUSTOMER#{CUSTOMER}"}, "SK": {"S": "NOTE#1"}, "status": {"S": "shipped"}})
    yield name
    delete_table(setup, name)


def _ids(items: list[dict[str, Any]]) -> set[str]:
    """Which of the three orders came back (the foreign item and other tests' orders are not counted)."""
    by_id = {o.order_id: k for k, o in ORDERS.items()}
    return {by_id[item["orderId"]["S"]] for item in items if item.get("orderId", {}).get("S") in by_id}


@pytest.mark.parametrize(("case", "build", "expected"), CASES, ids=[c[0] for c in CASES])
def test_filter_and_condition(
    transport: Transport, loaded: str, case: str, build: Callable[[], Condition], expected: set[str]
) -> None:
    cond = build()
    scanned = scan(transport, loaded, key_attributes=KEYS, filter=cond, consistent=True)
    assert _ids(scanned.items) == expected, f"scan: {case}"
    queried = query(
        transport,
        loaded,
        partition=("PK", {"S": f"CUSTOMER#{CUSTOMER}"}),
        key_attributes=KEYS,
        filter=F.order_id.exists() & cond,
        consistent=True,
    )
    assert _ids(queried.items) == expected, f"query: {case}"
    # As a write condition: rewriting an order unchanged succeeds exactly where the condition holds.
    for name, order in ORDERS.items():
        if name in expected:
            put_item(transport, loaded, order.to_item(), condition=cond)
        else:
            with pytest.raises(ConditionFailedError):
                put_item(transport, loaded, order.to_item(), condition=cond)


@pytest.fixture
def fresh(transport: Transport, loaded: str) -> Iterator[Order]:
    """A copy of order A under another customer and id, deleted afterwards."""
    order = _orders()["A"]
    order.customer_id = uuid.uuid4()
    order.order_id = f"o-{uuid.uuid4().hex[:8]}"
    put_item(transport, loaded, order.to_item())
    yield order
    delete_item(transport, loaded, order.key())


def _apply(transport: Transport, table: str, order: Order, *actions: Any, condition: Condition | None = None) -> Order:
    item = update_item(transport, table, order.key(), Update.of(*actions), condition=condition)
    stored = get_item(transport, table, order.key(), consistent=True)
    assert stored == item
    return Order.from_item(item)


def test_update_actions_set_remove_add_delete(transport: Transport, loaded: str, fresh: Order) -> None:
    placed = datetime(2024, 7, 1, 9, 15, 30, 250000, tzinfo=PARIS)
    got = _apply(
        transport,
        loaded,
        fresh,
        F.status.set(OrderStatus.CANCELLED),
        F.placed_at.set(placed),
        F.note.remove(),
        F.total.add(Decimal("1.25")),
        F.quantity.add(-1),
        F.labels.add({"new"}),
        F.counts.delete({1, 2}),
        F.related.add({U4}),
        F.tags["env"].remove(),
        F.tags["team"].set("ops"),
        F.line_items[0].quantity.add(1),
        F.line_items[1].sku.set("Z-9"),
        F.billing.city.set("Bristol"),
        F.billing.geo.set(Geo(lat=Decimal("1"), lng=Decimal("2"))),
        F.matrix[0][0].set(42),
        F.extra["source"].set("batch"),
        F.settings.set(None),
        F.version.add(1),
        condition=F.version.eq(3) & F.labels.contains("red") & F.line_items[0].sku.eq("A-1"),
    )
    assert got.status is OrderStatus.CANCELLED
    assert got.placed_at == placed
    assert got.note is None
    assert got.total == Decimal("11.75")
    assert got.quantity == 2
    assert got.labels == {"red", "big", "new"}
    assert got.counts == {3}
    assert got.related == {U1, U2, U4}
    assert got.tags == {"team.name": "core", "team": "ops"}
    assert [li.quantity for li in got.line_items] == [3, 1]
    assert got.line_items[1].sku == "Z-9"
    assert got.billing.city == "Bristol" and got.billing.geo == Geo(lat=Decimal("1"), lng=Decimal("2"))
    assert got.matrix == [[42, 2], [3]]
    assert got.extra["source"] == "batch"
    assert got.settings is None
    assert got.version == 4
    # The typed conditions see the new values (a uuid added to a set matches a typed contains).
    scanned = scan(transport, loaded, key_attributes=KEYS, filter=F.related.contains(U4), consistent=True)
    assert [i["orderId"]["S"] for i in scanned.items] == [fresh.order_id]


def test_update_actions_lists_if_missing_and_json(transport: Transport, loaded: str, fresh: Order) -> None:
    got = _apply(
        transport,
        loaded,
        fresh,
        F.notes.append(["third"]),
        F.events.prepend([None, {"k": [1, 2]}]),
        F.line_items.append([LineItem(sku="N-1", quantity=1, unit_price=Decimal("3"))]),
        F.shipping.set_if_missing(Address(line1="never", city="Nowhere")),
        F.fingerprint.set_if_missing(b"\x00"),
        F.settings.set({"z": 1, "a": {"b": [True, None]}}),
        F.extra["flags"].append(["z"]),
        F.limits["weekly"].set(Decimal("700")),
        F.addresses["work"].set(Address(line1="1 Office Park", city="Leeds")),
    )
    assert got.notes == ["first", "second", "third"]
    assert got.events == [None, {"k": [1, 2]}, {"kind": "created"}, None]
    assert [li.sku for li in got.line_items] == ["A-1", "B-2", "N-1"]
    assert got.shipping == Address(line1="5 Rue", city="Paris")  # kept: it was there
    assert got.fingerprint == b"\x01\x02\x03"
    assert got.settings == {"a": {"b": [True, None]}, "z": 1}
    assert got.extra["flags"] == ["x", "y", "z"]
    assert got.limits == {"daily": Decimal("100"), "weekly": Decimal("700")}
    assert set(got.addresses) == {"home", "work"}
    # json compares as its canonical text: the value set above matches whatever its key order.
    match = F.settings.eq({"a": {"b": [True, None]}, "z": 1}) & F.order_id.eq(fresh.order_id)
    assert len(scan(transport, loaded, key_attributes=KEYS, filter=match, consistent=True).items) == 1

    got = _apply(
        transport,
        loaded,
        fresh,
        F.notes.prepend(["zeroth"]),
        F.events[0].remove(),
        F.note.set_if_missing("kept?"),
        F.gift.set(False),
        F.expires_at.remove(),
        F.blobs.delete({b"a", b"\xff"}),
        F.prices.add({Decimal("9.99")}),
    )
    assert got.notes == ["zeroth", "first", "second", "third"]
    assert got.events == [{"k": [1, 2]}, {"kind": "created"}, None]
    assert got.note == "leave at door"
    assert got.gift is False
    assert got.expires_at is None
    assert got.blobs == set()  # DELETE of the last members removes the attribute
    assert got.prices == {Decimal("1.10"), Decimal("2"), Decimal("9.99")}
    # An element past the end of a list is appended (DynamoDB's rule); one path per update.
    got = _apply(
        transport, loaded, fresh, F.notes[9].set("appended"), F.tags["x"].set("y"), condition=F.notes.size() >= 4
    )
    assert got.notes == ["zeroth", "first", "second", "third", "appended"]
    with pytest.raises(InvalidValueError, match="touched twice"):
        Update.of(F.notes.append(["x"]), F.notes[0].set("y"))


def test_a_failed_typed_condition_leaves_the_item(transport: Transport, loaded: str, fresh: Order) -> None:
    with pytest.raises(ConditionFailedError) as failed:
        _apply(transport, loaded, fresh, F.version.add(1), condition=F.version.eq(99))
    assert failed.value.item is not None and failed.value.item["version"] == {"N": "3"}
    stored = get_item(transport, loaded, fresh.key(), consistent=True)
    assert stored is not None and Order.from_item(stored).version == 3


def test_repository_filters_take_typed_conditions(transport: Transport, loaded: str) -> None:
    repo = OrderRepository(transport, table_name=loaded)
    found = repo.scan(filter=F.billing.city.eq("London") & F.line_items[0].sku.eq("A-1"), consistent=True)
    assert sorted(o.order_id for o in found.items) == ["o-a", "o-c"]
    assert repo.count(filter=F.status.ne(OrderStatus.SHIPPED)) == 2  # the foreign item is not an Order
    # A reference to an attribute the model does not have is refused before any request.
    with pytest.raises(InvalidValueError, match="nope"):
        repo.scan(filter=StringRef("nope", lambda v: {"S": v}).eq("x"))


# Stored texts of one second (and its neighbours) as Python and Go write them: trimmed fractions.
SECOND = "2024-05-01T10:00:05"
STORED = [
    "2024-05-01T10:00:04.999999999Z",
    SECOND + "Z",
    SECOND + ".000001Z",
    SECOND + ".1Z",
    SECOND + ".12Z",
    SECOND + ".123456Z",
    SECOND + ".123456789Z",  # a Go writer's nanoseconds
    SECOND + ".5Z",
    SECOND + ".55Z",
    SECOND + ".9Z",
    "2024-05-01T10:00:06Z",
]
BOUNDS = [
    datetime(2024, 5, 1, 10, 0, 5, tzinfo=UTC),
    datetime(2024, 5, 1, 10, 0, 5, 100000, tzinfo=UTC),
    datetime(2024, 5, 1, 10, 0, 5, 120000, tzinfo=UTC),
    datetime(2024, 5, 1, 10, 0, 5, 123456, tzinfo=UTC),
    datetime(2024, 5, 1, 10, 0, 5, 500000, tzinfo=UTC),
    datetime(2024, 5, 1, 10, 0, 5, 540000, tzinfo=UTC),
    datetime(2024, 5, 1, 12, 0, 5, 550000, tzinfo=PARIS),
    datetime(2024, 5, 1, 10, 0, 6, tzinfo=UTC),
]


def _nanos(text: str) -> int:
    """Nanoseconds since the start of the test's minute (exact, unlike the text's order)."""
    seconds = Decimal(text[17:-1])
    return int(seconds * 1_000_000_000)


def _bound_nanos(bound: datetime) -> int:
    bound = bound.astimezone(UTC)
    return bound.second * 1_000_000_000 + bound.microsecond * 1000


@pytest.fixture(scope="module")
def instants(ddb_client: Any) -> Iterator[str]:
    name = f"typed-dt-{uuid.uuid4().hex[:10]}"
    setup = BotocoreTransport(ddb_client)
    create_table(setup, table_definition(name, ttl=False))
    for i, text in enumerate(STORED):
        put_item(setup, name, {"PK": {"S": "T"}, "SK": {"S": f"{i:02d}"}, "placedAt": {"S": text}})
    yield name
    delete_table(setup, name)


@pytest.mark.parametrize("bound", BOUNDS, ids=[b.isoformat() for b in BOUNDS])
def test_datetime_order_is_exact_within_a_second(transport: Transport, instants: str, bound: datetime) -> None:
    at = _bound_nanos(bound)
    expected = {
        "lt": {t for t in STORED if _nanos(t) < at},
        "le": {t for t in STORED if _nanos(t) <= at},
        "gt": {t for t in STORED if _nanos(t) > at},
        "ge": {t for t in STORED if _nanos(t) >= at},
    }
    ref = F.placed_at
    for name, cond in (("lt", ref < bound), ("le", ref.le(bound)), ("gt", ref > bound), ("ge", ref.ge(bound))):
        got = {i["placedAt"]["S"] for i in scan(transport, instants, key_attributes=KEYS, filter=cond).items}
        assert got == expected[name], name
    low = datetime(2024, 5, 1, 10, 0, 5, 1, tzinfo=UTC)
    window = ref.between(low, bound) if low <= bound else ref.between(bound, low)
    got = {i["placedAt"]["S"] for i in scan(transport, instants, key_attributes=KEYS, filter=window).items}
    lo, hi = sorted((_bound_nanos(low), at))
    assert got == {t for t in STORED if lo <= _nanos(t) <= hi}
    # Plain text comparison would get this second wrong (why DatetimeRef builds the longer expression).
    naive = Field("placedAt").gt({"S": SECOND + ".12Z"})
    got = {i["placedAt"]["S"] for i in scan(transport, instants, key_attributes=KEYS, filter=naive).items}
    assert SECOND + "Z" in got and SECOND + ".123456Z" not in got

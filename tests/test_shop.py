"""A second single-table design (tests/shop/shop.yaml), end to end on DynamoDB Local, both transports.

Each test here is a problem a new user met with a schema other than payments.yaml (issue 12): keys
that must sort as their values (datetimes, ints), key parts that must never collide across models,
indexes that project less than the model (KEYS_ONLY, INCLUDE), an omit_empty record that must read
back, versions that must only go up, and wrong values that must be refused by name before any request.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from test_repository_support import import_generated, make_table, transport_fixture, unique

from dynagen.compiler import compile_schemas, write_output
from dynagen.errors import (
    ConditionFailedError,
    InvalidValueError,
    ItemDecodeError,
    VersionConflictError,
)
from dynagen.runtime.transport._interface import Transport

pytestmark = pytest.mark.ddb
__all__ = ["transport_fixture"]

SCHEMA = Path(__file__).parent / "shop" / "shop.yaml"
NOON = datetime(2024, 5, 6, 12, 0, 0, tzinfo=UTC)



@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = tmp_path_factory.mktemp("shop_generated")
    write_output(compile_schemas([SCHEMA]), out)
    try:
        yield import_generated(out / "shop.py", "shop_generated")
    finally:
        sys.modules.pop("shop_generated", None)


@pytest.fixture(scope="module")
def shop_table(shop: ModuleType, ddb_client: Any) -> str:
    return make_table(ddb_client, shop.TABLES["shop"], "shop")


class Repos:
    def __init__(self, shop: ModuleType, transport: Transport, table: str) -> None:
        self.customers = shop.CustomerRepository(transport, table_name=table)
        self.orders = shop.OrderRepository(transport, table_name=table)
        self.lines = shop.OrderLineRepository(transport, table_name=table)
        self.products = shop.ProductRepository(transport, table_name=table)


@pytest.fixture
def repos(shop: ModuleType, transport: Transport, shop_table: str) -> Repos:
    return Repos(shop, transport, shop_table)


class NoRequests:
    """A transport that fails the test if anything is sent."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def call(self, operation: str, request: Any, *, deadline: Any = None) -> dict[str, Any]:
        self.calls.append(operation)
        raise AssertionError(f"{operation} was sent")


def order(shop: ModuleType, customer: str, order_id: str, placed_at: datetime = NOON, **kw: Any) -> Any:
    fields: dict[str, Any] = {"status": shop.OrderStatus.PLACED, "total_cents": 100, "notes": []}
    fields.update(kw)
    return shop.Order(customer_id=customer, order_id=order_id, placed_at=placed_at, **fields)


# -- 1. datetimes in keys sort as time -----------------------------------------------------------


def test_datetime_key_parts_sort_as_time_and_bound_exactly(shop: ModuleType, repos: Repos) -> None:
    customer = unique("c")
    times = [NOON + timedelta(seconds=1), NOON + timedelta(microseconds=510000), NOON,
             NOON + timedelta(microseconds=500000)]  # fmt: skip
    for i, t in enumerate(times):
        repos.orders.create(order(shop, customer, f"o{i}", t))
    got = [o.placed_at for o in repos.orders.orders_by_time(customer_id=customer).items]
    assert got == sorted(times)  # was .51, .5, :00, :01: the trimmed fraction sorted as text
    later = [o.placed_at for o in repos.orders.orders_by_time(customer_id=customer, placed_at_from=NOON).items]
    assert later == sorted(times)  # .5 and .51 were dropped
    after = repos.orders.orders_by_time(customer_id=customer, placed_at_after=NOON + timedelta(microseconds=500000))
    assert [o.placed_at for o in after.items] == sorted(times)[2:]
    stored = repos.orders.transport.call(
        "GetItem", {"TableName": repos.orders.table_name, "Key": shop.Order.make_key(customer_id=customer, order_id="o3")}
    )["Item"]
    assert stored["GSI1SK"] == {"S": "PLACED#2024-05-06T12:00:00.500000000Z#o3"}
    assert stored["placedAt"] == {"S": "2024-05-06T12:00:00.5Z"}  # attributes keep RFC3339Nano


# -- 2. ints in keys sort as numbers ------------------------------------------------------------------


def test_int_key_parts_sort_as_numbers(shop: ModuleType, repos: Repos) -> None:
    customer = unique("c")
    for n in (1, 10, 11, 2, 12):
        repos.lines.create(shop.OrderLine(customer_id=customer, order_id="o1", line_no=n, sku="s", quantity=1,
                                          unit_price=Decimal("1.5")))  # fmt: skip
    assert [x.line_no for x in repos.lines.lines_of_order(customer_id=customer, order_id="o1").items] == [
        1, 2, 10, 11, 12
    ]  # fmt: skip
    between = repos.lines.lines_of_order(customer_id=customer, order_id="o1", line_no_from=2, line_no_to=11)
    assert [x.line_no for x in between.items] == [2, 10, 11]  # was "leave no key between them"
    assert [x.line_no for x in repos.lines.lines_of_order(
        customer_id=customer, order_id="o1", line_no_from=10).items] == [10, 11, 12]  # fmt: skip
    assert shop.OrderLine.parse_sk("ORDER#o1#LINE#0012") == ("o1", 12)


def test_numbers_that_do_not_fit_their_width_are_refused(shop: ModuleType) -> None:
    repo = shop.OrderLineRepository(wire := NoRequests(), table_name="shop")
    for bad in (-1, 10_000):
        with pytest.raises(InvalidValueError) as caught:
            repo.create(shop.OrderLine(customer_id="c", order_id="o", line_no=bad, sku="s", quantity=1,
                                       unit_price=Decimal(1)))  # fmt: skip
        assert caught.value.field == "line_no"
    with pytest.raises(InvalidValueError, match="line_no"):
        repo.lines_of_order(customer_id="c", order_id="o", line_no_from=-5)
    assert wire.calls == []


# -- 3. key parts never collide -----------------------------------------------------------------------


def test_a_key_part_holding_its_separator_is_refused_and_nothing_is_written(shop: ModuleType, repos: Repos) -> None:
    customer = unique("c")
    line = repos.lines.create(shop.OrderLine(customer_id=customer, order_id="X1", line_no=1, sku="s", quantity=1,
                                             unit_price=Decimal(2)))  # fmt: skip
    with pytest.raises(InvalidValueError) as caught:
        repos.orders.create(order(shop, customer, "X1#LINE#0001"))  # would have replaced the line
    assert caught.value.field == "order_id" and "'#'" in str(caught.value)
    assert repos.lines.get(customer_id=customer, order_id="X1", line_no=1) == line
    with pytest.raises(InvalidValueError, match="customer_id"):
        repos.orders.get(customer_id="a#b", order_id="c")
    with pytest.raises(InvalidValueError, match="order_id"):
        repos.lines.lines_of_order(customer_id=customer, order_id="X1#LINE")


# -- 4. indexes that project less than the model ------------------------------------------------------


def test_keys_only_and_include_indexes_return_keys_or_whole_items(shop: ModuleType, repos: Repos) -> None:
    customer = unique("c")
    status = shop.OrderStatus.PAID
    made = [
        repos.orders.create(order(shop, customer, f"o{i}", NOON + timedelta(minutes=i), open_status=status))
        for i in range(3)
    ]
    repos.orders.create(order(shop, customer, "closed", NOON))  # not in the sparse GSI2
    mine = [k for k in repos.orders.open_orders(open_status=status, placed_at_from=NOON).items
            if k.customer_id == customer]  # fmt: skip
    assert [k.order_id for k in mine] == ["o0", "o1", "o2"]
    assert isinstance(mine[0], shop.OrderKey) and mine[0].key() == made[0].key()
    full = [o for o in repos.orders.iter_open_orders_full(open_status=status, placed_at_from=NOON, page_size=2)
            if o.customer_id == customer]  # fmt: skip
    assert full == made
    category = unique("cat")
    for sku, cents in (("b", 500), ("a", 2000), ("c", 5)):
        repos.products.create(shop.Product(sku=f"{category}-{sku}", name=sku.upper(), category=category,
                                           price_cents=cents, attributes={"pi": Decimal("3.14159265358979323846")}))  # fmt: skip
    page = repos.products.products_by_price(category=category, price_cents_from=20, price_cents_to=5000)
    assert [(p.name, p.price_cents) for p in page.items] == [("B", 500), ("A", 2000)]
    assert page.items[0].attributes == {"pi": 3.141592653589793}  # written exactly, read as JSON reads numbers
    keys = repos.products.product_keys_by_price(category=category)
    assert [k.sku for k in keys.items] == [f"{category}-c", f"{category}-b", f"{category}-a"]
    raw = repos.products.transport.call(
        "GetItem", {"TableName": repos.products.table_name, "Key": keys.items[0].key()}
    )["Item"]
    assert raw["GSI3SK"] == {"S": f"PRICE#00000005#{category}-c"}


def test_a_filter_on_what_an_index_does_not_hold_is_refused_before_the_request(shop: ModuleType, repos: Repos) -> None:
    """GSI2 holds keys only, GSI3 keys plus entity, name and priceCents: DynamoDB answered a filter on any
    other attribute with a ValidationException ("does not project one or more filter attributes")."""
    orders, products = shop.OrderRepository(NoRequests(), table_name="shop"), shop.ProductRepository(NoRequests(), table_name="shop")
    with pytest.raises(InvalidValueError) as caught:
        orders.open_orders(open_status=shop.OrderStatus.PAID, filter=shop.OrderFields.total_cents.gt(5))
    assert caught.value.field == "totalCents" and "index GSI2 does not hold (only its keys)" in str(caught.value)
    with pytest.raises(InvalidValueError) as caught:
        products.products_by_price(category="c", filter=shop.ProductFields.description.exists())
    assert "index GSI3 does not hold (its keys and entity, name, priceCents)" in str(caught.value)
    # What the index holds filters as before, on DynamoDB Local.
    category = unique("cat")
    for sku, name in (("a", "Apple"), ("b", "Banana")):
        repos.products.create(shop.Product(sku=f"{category}-{sku}", name=name, category=category, price_cents=10))
    page = repos.products.products_by_price(category=category, filter=shop.ProductFields.name.begins_with("B"))
    assert [p.name for p in page.items] == ["Banana"]


def test_removing_a_field_an_index_key_is_built_from_takes_the_item_out_of_that_index(
    shop: ModuleType, repos: Repos
) -> None:
    """update(m, [], remove=[...]) rewrote the index key from the model's old value: the order stayed
    in the sparse "open" index under the status it no longer had (update_by_key already removed it)."""
    customer = unique("c")
    status = shop.OrderStatus.SHIPPED
    placed = repos.orders.create(order(shop, customer, "o1", NOON, open_status=status))
    opened = [k.order_id for k in repos.orders.open_orders(open_status=status, placed_at_from=NOON).items if k.customer_id == customer]
    assert opened == ["o1"]
    closed = repos.orders.update(placed, [], remove=["open_status"])
    assert closed.open_status is None
    raw = repos.orders.transport.call("GetItem", {"TableName": repos.orders.table_name, "Key": placed.key()})["Item"]
    assert "GSI2PK" not in raw  # GSI2SK is not built from open_status: without GSI2PK the item is out of GSI2
    still = [k for k in repos.orders.open_orders(open_status=status, placed_at_from=NOON).items if k.customer_id == customer]
    assert still == []


def test_projection_errors_name_the_ways_out(tmp_path: Path) -> None:
    text = SCHEMA.read_text(encoding="utf-8").replace(", returns: keys}", "}")
    (tmp_path / "shop.yaml").write_text(text, encoding="utf-8")
    from dynagen.errors import SchemaError

    with pytest.raises(SchemaError) as caught:
        compile_schemas([tmp_path / "shop.yaml"])
    message = str(caught.value)
    assert "Order.open_orders: index GSI2 (KEYS_ONLY) does not project" in message
    assert "'returns: keys'" in message and "'returns: items'" in message


# -- 5. an omit_empty record reads back -------------------------------------------------------------


def test_an_all_empty_omit_empty_record_reads_back(shop: ModuleType, repos: Repos) -> None:
    customer = unique("c")
    c = repos.customers.create(shop.Customer(customer_id=customer, email="e", name="n",
                                             billing=shop.Address(line1="", city="")))  # fmt: skip
    assert repos.customers.get(customer_id=customer) == c
    o = repos.orders.create(order(shop, customer, "o1", billing=shop.Address(line1="", city="", country="")))
    assert repos.orders.orders_of_customer(customer_id=customer).items == [o]


def test_an_undecodable_item_is_reported_with_the_rest_of_its_page(shop: ModuleType, repos: Repos) -> None:
    customer = unique("c")
    good = [repos.orders.create(order(shop, customer, f"o{i}")) for i in range(3)]
    bad = good[1].to_item() | {"totalCents": {"S": "not a number"}}
    repos.orders.transport.call("PutItem", {"TableName": repos.orders.table_name, "Item": bad})
    with pytest.raises(ItemDecodeError) as caught:
        repos.orders.orders_of_customer(customer_id=customer)
    assert caught.value.page.items == [good[0], good[2]]
    assert [item["orderId"] for item, _ in caught.value.failures] == [{"S": "o1"}]
    assert isinstance(caught.value, InvalidValueError)


# -- 7. versions only go up --------------------------------------------------------------------------


def test_versions_only_go_up(shop: ModuleType, repos: Repos) -> None:
    customer = unique("c")
    created = repos.orders.create(order(shop, customer, "o1", version=7))
    assert created.version == 0 and repos.orders.get(customer_id=customer, order_id="o1").version == 0
    with pytest.raises(ConditionFailedError):  # create never replaces a versioned item
        repos.orders.create(order(shop, customer, "o1"))
    updated = repos.orders.update(replace(created, total_cents=5), ["total_cents"])
    assert updated.version == 1
    with pytest.raises(VersionConflictError):  # a stale model (version 0) cannot reset the item
        repos.orders.put(replace(created, total_cents=1))
    assert repos.orders.get(customer_id=customer, order_id="o1").version == 1
    put = repos.orders.put(replace(updated, total_cents=9))
    assert put.version == 2 and repos.orders.get(customer_id=customer, order_id="o1").total_cents == 9
    with pytest.raises(VersionConflictError):  # and the stale holder of version 0 cannot update either
        repos.orders.update(replace(created, total_cents=3), ["total_cents"])


def test_empty_sets_are_null_and_take_members(shop: ModuleType, repos: Repos) -> None:
    customer = unique("c")
    o = repos.orders.create(order(shop, customer, "o1"))
    raw = repos.orders.transport.call("GetItem", {"TableName": repos.orders.table_name, "Key": o.key()})["Item"]
    assert raw["giftLabels"] == {"NULL": True}
    added = repos.orders.update(o, [], add={"gift_labels": {"red"}})
    assert added.gift_labels == {"red"}
    emptied = repos.orders.update(added, [], delete={"gift_labels": {"red"}})
    assert emptied.gift_labels == set()
    again = repos.orders.update(replace(emptied, gift_labels=set()), ["gift_labels"])
    assert again.gift_labels == set()
    assert repos.orders.update(again, [], delete={"gift_labels": {"x"}}).gift_labels == set()


# -- 8. wrong values are refused by name, before any request ------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"notes": "abc"}, "notes"),
        ({"notes": {"a": 1}}, "notes"),
        ({"notes": None}, "notes"),
        ({"gift_labels": "abc"}, "gift_labels"),
        ({"gift_labels": ["a"]}, "gift_labels"),
        ({"gift_labels": None}, "gift_labels"),
        ({"billing": {"line1": "x", "city": "y"}}, "billing"),
        ({"billing": None}, "billing"),
        ({"status": "placed"}, "status"),
        ({"discount": None}, "discount"),
        ({"discount": "0"}, "discount"),
        ({"customer_id": "x" * 2100}, "customer_id"),
        ({"order_id": "x" * 1100}, "order_id"),
        ({"notes": ["\ud800"]}, "notes"),
    ],
)
def test_wrong_values_are_refused_by_name(shop: ModuleType, changes: dict[str, Any], field: str) -> None:
    wire = NoRequests()
    repo = shop.OrderRepository(wire, table_name="shop")
    with pytest.raises(InvalidValueError) as caught:
        repo.create(replace(order(shop, "c", "o"), **changes))
    assert caught.value.field == field, caught.value
    assert wire.calls == []


def test_wrong_query_arguments_are_refused_by_name(shop: ModuleType) -> None:
    wire = NoRequests()
    orders = shop.OrderRepository(wire, table_name="shop")
    with pytest.raises(InvalidValueError) as caught:
        orders.open_orders(open_status="paid")
    assert caught.value.field == "open_status" and "OrderStatus('paid')" in str(caught.value)
    with pytest.raises(InvalidValueError, match="placed_at"):
        orders.orders_by_time(customer_id="c", placed_at_from=datetime(2024, 1, 1))  # naive
    products = shop.ProductRepository(wire, table_name="shop")
    with pytest.raises(InvalidValueError, match="attributes"):
        products.create(shop.Product(sku="s", name="n", category="c", price_cents=1,
                                     attributes={"x": Decimal("Infinity")}))  # fmt: skip
    with pytest.raises(InvalidValueError, match="attributes"):
        products.create(shop.Product(sku="s", name="n", category="c", price_cents=1, attributes=[Decimal("sNaN")]))
    assert wire.calls == []


def test_zero_ttl_and_zero_numbers_are_left_out(shop: ModuleType, repos: Repos) -> None:
    customer = unique("c")
    epoch = datetime(1970, 1, 1, 0, 0, 0, 999999, tzinfo=UTC)
    o = repos.orders.create(order(shop, customer, "o1", expires_at=epoch, discount=Decimal("0.00")))
    raw = repos.orders.transport.call("GetItem", {"TableName": repos.orders.table_name, "Key": o.key()})["Item"]
    assert "expiresAt" not in raw and "discount" not in raw
    back = repos.orders.get(customer_id=customer, order_id="o1")
    assert back.expires_at is None and back.discount == 0

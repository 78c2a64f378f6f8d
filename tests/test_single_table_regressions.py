"""Issue 12's findings, each on a schema the 0.1 compiler also accepted, so each test fails on that code.

(tests/test_shop.py covers the same ground on a fuller schema that uses the new syntax: widths,
``returns:``. This one keeps to the old syntax on purpose.)
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from test_repository_support import import_generated, make_table, transport_fixture, unique

from dynagen.compiler import compile_schemas, write_output
from dynagen.errors import ConditionFailedError, InvalidValueError, SchemaError, VersionConflictError
from dynagen.runtime.transport._interface import Transport

pytestmark = pytest.mark.ddb
__all__ = ["transport_fixture"]

SCHEMA = """
dynagen: 1
module: regress
tables:
  t:
    name: regress
    partition_key: PK
    sort_key: SK
    entity_attribute: entity
    indexes:
      GSI1: {partition_key: GSI1PK, sort_key: GSI1SK}
models:
  Address:
    fields: {line1: string, city: string}
  Order:
    table: t
    entity: ORDER
    keys:
      PK: "C#{customer_id}"
      SK: "ORDER#{order_id}"
      GSI1PK: "C#{customer_id}"
      GSI1SK: "PLACED#{placed_at}#{order_id}"
    fields:
      customer_id: string
      order_id: string
      placed_at: datetime
      billing: {type: Address, omit_empty: true}
      notes: list<string>
      version: {type: int, role: version}
    access_patterns:
      by_time: {index: GSI1, range: placed_at}
  Line:
    table: t
    entity: LINE
    keys:
      PK: "C#{customer_id}"
      SK: "ORDER#{order_id}#LINE#{sku}"
    fields: {customer_id: string, order_id: string, sku: string}
"""
NOON = datetime(2024, 5, 6, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def regress(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    folder = tmp_path_factory.mktemp("regress")
    (folder / "regress.yaml").write_text(SCHEMA, encoding="utf-8")
    write_output(compile_schemas([folder / "regress.yaml"], root=folder), folder / "out")
    try:
        yield import_generated(folder / "out" / "regress.py", "regress_generated")
    finally:
        sys.modules.pop("regress_generated", None)


@pytest.fixture(scope="module")
def table(regress: ModuleType, ddb_client: Any) -> str:
    return make_table(ddb_client, regress.TABLES["t"], "regress")


@pytest.fixture
def orders(regress: ModuleType, transport: Transport, table: str) -> Any:
    return regress.OrderRepository(transport, table_name=table)


def an_order(regress: ModuleType, customer: str, order_id: str, at: datetime = NOON, **kw: Any) -> Any:
    fields: dict[str, Any] = {"billing": regress.Address(line1="l", city="c"), "notes": []}
    fields.update(kw)
    return regress.Order(customer_id=customer, order_id=order_id, placed_at=at, **fields)


def test_datetimes_in_keys_sort_and_bound_as_time(regress: ModuleType, orders: Any) -> None:
    customer = unique("c")
    times = [NOON + timedelta(seconds=1), NOON + timedelta(microseconds=510000), NOON,
             NOON + timedelta(microseconds=500000)]  # fmt: skip
    for i, at in enumerate(times):
        orders.create(an_order(regress, customer, f"o{i}", at))
    assert [o.placed_at for o in orders.by_time(customer_id=customer).items] == sorted(times)
    assert [o.placed_at for o in orders.by_time(customer_id=customer, placed_at_from=NOON).items] == sorted(times)


def test_an_order_id_cannot_overwrite_another_models_item(regress: ModuleType, orders: Any, transport: Transport,
                                                          table: str) -> None:  # fmt: skip
    customer = unique("c")
    lines = regress.LineRepository(transport, table_name=table)
    line = lines.create(regress.Line(customer_id=customer, order_id="X1", sku="a"))
    with pytest.raises(InvalidValueError) as caught:
        orders.create(an_order(regress, customer, "X1#LINE#a"))
    assert caught.value.field == "order_id"
    assert lines.get(customer_id=customer, order_id="X1", sku="a") == line


def test_an_all_empty_omit_empty_record_reads_back(regress: ModuleType, orders: Any) -> None:
    customer = unique("c")
    made = orders.create(an_order(regress, customer, "o1", billing=regress.Address(line1="", city="")))
    assert orders.get(customer_id=customer, order_id="o1") == made


def test_a_stale_put_cannot_lower_the_version(regress: ModuleType, orders: Any) -> None:
    customer = unique("c")
    created = orders.create(an_order(regress, customer, "o1", version=7))
    assert created.version == 0
    updated = orders.update(replace(created, notes=["a"]), ["notes"])
    assert updated.version == 1
    with pytest.raises(VersionConflictError):
        orders.put(replace(created, notes=["stale"]))
    assert orders.get(customer_id=customer, order_id="o1").version == 1
    with pytest.raises(ConditionFailedError):
        orders.create(an_order(regress, customer, "o1"))


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"notes": "abc"}, "notes"), ({"notes": {"k": 1}}, "notes"), ({"billing": {"line1": "l", "city": "c"}}, "billing"),
     ({"customer_id": "c" * 2100}, "customer_id"), ({"notes": ["\ud800"]}, "notes")],
)  # fmt: skip
def test_wrong_values_are_invalid_values_naming_the_field(
    regress: ModuleType, orders: Any, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidValueError) as caught:
        orders.create(replace(an_order(regress, unique("c"), "o1"), **changes))
    assert caught.value.field == field


def test_two_models_with_one_entity_value_are_refused(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(SCHEMA.replace("entity: LINE", "entity: ORDER"), encoding="utf-8")
    with pytest.raises(SchemaError, match="entity 'ORDER' is already Order's"):
        compile_schemas([tmp_path / "s.yaml"], root=tmp_path)

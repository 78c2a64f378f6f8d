"""Generated models are dataclasses whose ``__init__``, ``__repr__`` and ``__eq__`` are written out.

``@dataclass`` compiles those three with ``exec`` at import, about a quarter of a millisecond per
model of every cold start; the compiler writes them instead and tells the decorator not to
(``init=False, repr=False, eq=False``). These tests hold them to what the decorator would have
made (``dataclass_reference.py``), on the example module, a second schema, and the two cases where
the decorator keeps a method: a field named like a global the ``__init__`` body reads, and a record
that can contain itself (whose ``__repr__`` must survive a cycle). The property tests over generated
schemas apply the same check to every model they draw.
"""

from __future__ import annotations

import ast
import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from dataclass_reference import assert_like_dataclass
from test_repository_support import import_generated

from dynagen.compiler import compile_schemas, write_output
from dynagen.runtime import FACTORY
from generated_example import payments as pay

ROOT = Path(__file__).resolve().parent.parent

EDGES = """\
dynagen: 1
module: edges

tables:
  things:
    partition_key: PK
    sort_key: SK
    entity_attribute: entity

models:
  Node:
    fields:
      label: string
      next: {type: Node, optional: true}

  Note:
    fields:
      text: {type: string, omit_empty: true}

  Thing:
    table: things
    keys:
      PK: "THING#{thing_id}"
      SK: "A"
    fields:
      thing_id: string
      set: set<string>
      note: {type: Note, omit_empty: true}
      tree: {type: Node, optional: true}

  Plain:
    table: things
    keys:
      PK: "PLAIN#{plain_id}"
      SK: "B"
    fields:
      plain_id: string
      tags: set<string>
      list: {type: list<string>, omit_empty: true}
      weight: {type: decimal, default: "1.5"}
"""


@pytest.fixture(scope="module")
def edges(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    folder = tmp_path_factory.mktemp("edges")
    (folder / "edges.yaml").write_text(EDGES)
    write_output(compile_schemas([folder / "edges.yaml"], root=folder), folder / "out")
    return import_generated(folder / "out" / "edges.py", "edges_dataclasses")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    folder = tmp_path_factory.mktemp("shop")
    write_output(compile_schemas([ROOT / "tests" / "shop" / "shop.yaml"], root=ROOT / "tests" / "shop"), folder)
    return import_generated(folder / "shop.py", "shop_dataclasses")


def decorator(cls: type, source: str) -> dict[str, Any]:
    """The keyword arguments of ``cls``'s ``@dataclass(...)`` line in ``source``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            call = node.decorator_list[0]
            assert isinstance(call, ast.Call)
            return {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    raise AssertionError(cls)


def a_payment(**kw: Any) -> pay.Payment:
    return pay.Payment(
        partner_id="p-1",
        payment_id="pay-1",
        customer_id=pay.UUID(int=7),
        amount=Decimal("10.50"),
        currency=pay.Currency.EUR,
        created_on=date(2024, 5, 1),
        line_items=[pay.LineItem(sku="s", description="d", quantity=2, unit_price=Decimal("1.25"))],
        metadata={"k": "v"},
        **kw,
    )


def test_the_example_models_write_their_methods_and_behave_as_dataclass_made_ones() -> None:
    source = Path(pay.__file__).read_text()
    for cls in (pay.Payment, pay.Partner, pay.Customer, pay.Refund, pay.LineItem, pay.Address):
        assert decorator(cls, source) == {"slots": True, "kw_only": True, "init": False, "repr": False, "eq": False}
        assert "__init__" in vars(cls) and "__repr__" in vars(cls) and "__eq__" in vars(cls)
    assert_like_dataclass(a_payment())
    assert_like_dataclass(a_payment(status=pay.PaymentStatus.CAPTURED, attempts=3, labels={"a", "b"}))
    partner = pay.Partner(partner_id="p-1", name="Acme", fee_rate=Decimal("0.029"), contact_emails={"a@example.com"})
    assert_like_dataclass(partner)
    assert_like_dataclass(pay.LineItem(sku="s", description="d", quantity=1, unit_price=Decimal("2")))


def test_a_changed_field_makes_models_unequal_and_each_default_is_built_per_instance() -> None:
    p = a_payment()
    for name, value in [("amount", Decimal("10.51")), ("metadata", {}), ("status", pay.PaymentStatus.FAILED)]:
        changed = dataclasses.replace(p, **{name: value})
        assert changed != p and p != changed, name
    one, two = a_payment(), a_payment()
    one.labels.add("x")
    assert two.labels == set()
    assert pay.Payment.__init__.__kwdefaults__["labels"] is FACTORY  # type: ignore[misc]
    assert repr(FACTORY) == "<factory>"


def test_every_model_of_a_second_schema_is_like_its_dataclass(shop: ModuleType) -> None:
    now = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    customer = shop.Customer(
        customer_id="c-1", email="c@example.com", name="C", billing=shop.Address(line1="1 Road", city="Town"), created_at=now
    )
    assert_like_dataclass(customer)
    assert_like_dataclass(shop.Address(line1="1 Road", city="Town", country="NL"))
    for name in ("Customer", "Order", "OrderLine", "Product", "Address"):
        if hasattr(shop, name):
            assert decorator(getattr(shop, name), Path(shop.__file__).read_text())["eq"] is False


def test_a_field_named_like_a_global_of_init_leaves_init_to_the_dataclass(edges: ModuleType) -> None:
    """``set: set<string>``: an __init__ parameter named ``set`` would hide ``set()`` in its own body."""
    source = Path(edges.__file__).read_text()
    assert "init" not in decorator(edges.Thing, source)  # @dataclass makes Thing's __init__
    assert decorator(edges.Plain, source)["init"] is False  # a field named `list` is harmless: its factory is `[]`
    thing = edges.Thing(thing_id="t-1")
    assert thing.set == set() and edges.Thing(thing_id="t-1").set is not thing.set
    assert_like_dataclass(thing)
    assert_like_dataclass(edges.Thing(thing_id="t-2", set={"a"}, note=edges.Note(text="n"), tree=edges.Node(label="x")))
    plain = edges.Plain(plain_id="p-1")
    assert plain.weight == Decimal("1.5") and plain.list == []
    assert_like_dataclass(plain)
    assert edges.Thing.from_item(thing.to_item()) == thing
    assert edges.Plain.from_item(plain.to_item()) == plain


def test_a_record_that_can_hold_itself_keeps_the_dataclass_repr_with_its_cycle_guard(edges: ModuleType) -> None:
    source = Path(edges.__file__).read_text()
    assert "repr" not in decorator(edges.Node, source) and decorator(edges.Note, source)["repr"] is False
    node = edges.Node(label="a", next=edges.Node(label="b"))
    assert_like_dataclass(node)
    assert node.next is not None
    node.next.next = node
    assert repr(node) == "Node(label='a', next=Node(label='b', next=...))"


def test_pydantic_validates_and_dumps_generated_models() -> None:
    """Users hand models to pydantic and FastAPI: it builds them from their dataclass fields and types."""
    from pydantic import TypeAdapter

    adapter = TypeAdapter(pay.Payment)
    p = adapter.validate_python(
        {
            "partner_id": "p-1",
            "payment_id": "pay-1",
            "customer_id": str(pay.UUID(int=7)),
            "amount": "10.50",
            "currency": "EUR",
            "created_on": "2024-05-01",
            "line_items": [{"sku": "s", "description": "d", "quantity": 2, "unit_price": "1.25"}],
            "metadata": {"k": "v"},
        }
    )
    assert p == a_payment()
    assert p.labels == set() and p.status is pay.PaymentStatus.PENDING  # defaults, the factory's included
    assert adapter.validate_json(adapter.dump_json(p)) == p
    assert pay.Payment.from_item(p.to_item()) == p

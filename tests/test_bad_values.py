"""Bad values are refused before any request: ``InvalidValueError`` naming the field, nothing sent.

Every repository write path (create / put, update's values, batch_put, transact_put / create / update)
runs ``dynagen.runtime.wire._checks.check_item`` over the wire item; the transport used here fails the
test if it is ever called. The size and nesting limits are also checked against DynamoDB Local, so
the estimate is known to be on the safe side.
"""

from __future__ import annotations

import timeit
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from test_repository_support import make_table, transport_fixture, unique

from dynagen.errors import InvalidValueError
from dynagen.runtime import ModelInfo, Repository, encode_cursor
from dynagen.runtime.repository._checks import check_info as _check_info
from dynagen.runtime.transport._bounds import Deadline
from dynagen.runtime.transport._interface import Transport
from dynagen.runtime.wire._checks import MAX_ITEM_SIZE, check_item, item_size
from dynagen.runtime.wire._types import AttributeValue
from generated_example import payments as pay
from generated_example.payments import (
    Customer,
    CustomerRepository,
    LineItem,
    Payment,
    PaymentRepository,
)

__all__ = ["transport_fixture"]


class NoRequests:
    """A transport that records and refuses every call: a test using it proves nothing was sent."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def call(self, operation: str, request: Mapping[str, Any], *, deadline: Deadline | None = None) -> dict[str, Any]:
        self.calls.append(operation)
        raise AssertionError(f"{operation} was sent: the bad value should have been refused first")


@pytest.fixture
def wire() -> NoRequests:
    return NoRequests()


def a_payment(**kw: Any) -> Payment:
    values: dict[str, Any] = {
        "partner_id": "partner-1",
        "payment_id": "pay-1",
        "customer_id": uuid4(),
        "amount": Decimal("10.50"),
        "currency": pay.Currency.EUR,
        "created_on": date(2024, 5, 1),
    }
    values.update(kw)
    return Payment(**values)


def a_customer(**kw: Any) -> Customer:
    values: dict[str, Any] = {"partner_id": "partner-1", "customer_id": uuid4(), "email": "a@b.io", "name": "A"}
    values.update(kw)
    return Customer(**values)


def refused(wire: NoRequests, field_name: str, action: Any, *args: Any, **kw: Any) -> InvalidValueError:
    with pytest.raises(InvalidValueError) as caught:
        action(*args, **kw)
    assert caught.value.field == field_name, str(caught.value)
    assert wire.calls == []
    return caught.value


# -- wrong Python types written unchecked by to_item ---------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "field_name", "message"),
    [
        (a_customer(email=5), "email", "expected a str"),
        (a_customer(name=None), "name", "expected a str"),
        (a_customer(marketing_opt_in="yes"), "marketing_opt_in", "expected a bool"),
        (a_customer(tags={"a", 1}), "tags", "SS members must be str"),
        (a_customer(attributes={"k": 5}), "attributes", "at attributes.k"),
    ],
    ids=["int-in-string", "none-in-string", "str-in-bool", "int-in-string-set", "int-in-map"],
)
def test_wrong_types_are_refused_on_create_and_put(
    wire: NoRequests, model: Customer, field_name: str, message: str
) -> None:
    repo = CustomerRepository(wire)
    error = refused(wire, field_name, repo.create, model)
    assert message in str(error)
    refused(wire, field_name, repo.put, model)
    refused(wire, field_name, repo.create, model, if_not_exists=True)


@pytest.mark.parametrize(
    ("model", "field_name", "message"),
    [
        # str(None) would have written the key "CUSTOMER#None" and customerId "None".
        (a_customer(customer_id=None), "customer_id", "expected UUID, got NoneType"),
        (a_customer(customer_id=str(uuid4())), "customer_id", "expected UUID, got str"),
        (a_payment(customer_id=None), "customer_id", "expected UUID, got NoneType"),
        (a_payment(created_on=None), "created_on", "expected date, got NoneType"),
        (a_payment(created_on="2024-05-01"), "created_on", "expected date, got str"),
        # A datetime is a date subclass: its time would be written into a date key.
        (a_payment(created_on=datetime(2024, 5, 1, 10, tzinfo=UTC)), "created_on", "expected date, got datetime"),
        (a_payment(currency="EUR"), "currency", "use Currency('EUR')"),
        (a_payment(status="bogus"), "status", "expected a PaymentStatus, one of"),
    ],
    ids=["none-uuid", "str-uuid", "none-uuid-in-index-key", "none-date", "str-date", "datetime-date", "str-enum", "bad-enum"],
)
def test_uuid_date_and_enum_fields_and_key_parts_are_checked(
    wire: NoRequests, model: Customer | Payment, field_name: str, message: str
) -> None:
    repo: CustomerRepository | PaymentRepository = (
        CustomerRepository(wire) if isinstance(model, Customer) else PaymentRepository(wire)
    )
    error = refused(wire, field_name, repo.create, model)  # type: ignore[arg-type]
    assert message in str(error)
    refused(wire, field_name, repo.put, model)  # type: ignore[arg-type]


def test_uuid_key_arguments_are_checked(wire: NoRequests) -> None:
    repo = CustomerRepository(wire)
    for bad in (None, "", "not-a-uuid-object"):
        error = refused(wire, "customer_id", repo.get, partner_id="partner-1", customer_id=bad)
        assert "expected UUID" in str(error)
        refused(wire, "customer_id", repo.delete, partner_id="partner-1", customer_id=bad)


def test_wrong_types_inside_nested_records_name_the_top_field(wire: NoRequests) -> None:
    repo = PaymentRepository(wire)
    bad_line = LineItem(sku=7, quantity=1, unit_price=Decimal("1"))  # type: ignore[arg-type]
    error = refused(
        wire,
        "line_items",
        repo.create,
        a_payment(line_items=[LineItem(sku="a", quantity=1, unit_price=Decimal(1)), bad_line]),
    )
    assert "lineItems[1].sku" in str(error)
    error = refused(wire, "card_fingerprint", repo.create, a_payment(card_fingerprint="not bytes"))
    assert "expected bytes" in str(error)
    refused(wire, "metadata", repo.create, a_payment(metadata={"k": b"bytes"}))


def test_naive_datetimes_are_refused_through_the_repository(wire: NoRequests) -> None:
    repo = PaymentRepository(wire)
    naive = datetime(2030, 1, 1, 12, 0)
    error = refused(wire, "expires_at", repo.create, a_payment(expires_at=naive))
    assert "naive datetime" in str(error)
    refused(wire, "expires_at", repo.update, a_payment(expires_at=naive), ["expires_at"])
    refused(wire, "expires_at", repo.batch_put, [a_payment(expires_at=naive)], overwrite_versions=True)
    refused(wire, "expires_at", repo.transact_put, a_payment(expires_at=naive))


def test_bad_cursors_are_refused_before_the_query(wire: NoRequests) -> None:
    repo = PaymentRepository(wire)
    refused(wire, "cursor", repo.payments_of_partner, partner_id="p", cursor="not a cursor!")
    refused(wire, "cursor", repo.payments_of_partner, partner_id="p", cursor="")
    # A real cursor of another access pattern (GSI1) used on the table query, and foreign key attributes.
    other = encode_cursor({"PK": {"S": "PARTNER#p"}, "SK": {"S": "PAYMENT#1"}, "GSI1PK": {"S": "x"}}, "GSI1", "DESC")
    refused(wire, "cursor", repo.payments_of_partner, partner_id="p", cursor=other)
    foreign = encode_cursor({"PK": {"S": "PARTNER#p"}, "secret": {"S": "x"}}, None, "DESC")
    refused(wire, "cursor", repo.payments_of_partner, partner_id="p", cursor=foreign)


# -- every write path -------------------------------------------------------------------------------------


def test_update_values_are_checked(wire: NoRequests) -> None:
    repo = CustomerRepository(wire)
    refused(wire, "email", repo.update, a_customer(email=5), ["email"])
    refused(wire, "attributes", repo.update, a_customer(attributes={"k": 1}), ["attributes"])
    refused(wire, "name", repo.update, a_customer(name=3), [], set_if_missing=["name"])
    refused(wire, "tags", repo.update, a_customer(), [], add={"tags": set()})  # DynamoDB has no empty set
    refused(wire, "tags", repo.update, a_customer(), [], delete={"tags": {"a", 3}})
    payments = PaymentRepository(wire)
    refused(
        wire,
        "line_items",
        payments.update,
        a_payment(),
        [],
        append={"line_items": [LineItem(sku=1, quantity=1, unit_price=Decimal(1))]},  # type: ignore[arg-type]
    )
    refused(wire, "metadata", payments.update, a_payment(metadata={"k": "x" * (MAX_ITEM_SIZE + 1)}), ["metadata"])
    # Fields the update does not touch are encoded (to_item) but their values are not sent or checked.
    with pytest.raises(AssertionError, match="UpdateItem was sent"):
        repo.update(a_customer(email=5), ["name"])


def test_batch_put_names_the_model_and_field(wire: NoRequests) -> None:
    repo = CustomerRepository(wire)
    models = [a_customer(), a_customer(), a_customer(email=["a@b.io"])]
    error = refused(wire, "email", repo.batch_put, models)
    assert "models[2]" in str(error)


def test_transaction_actions_are_checked_when_built(wire: NoRequests) -> None:
    repo = CustomerRepository(wire)
    bad = a_customer(marketing_opt_in=1)
    refused(wire, "marketing_opt_in", repo.transact_put, bad)
    refused(wire, "marketing_opt_in", repo.transact_create, bad)
    refused(wire, "marketing_opt_in", repo.transact_update, bad, ["marketing_opt_in"])


def test_items_over_400_kb_are_refused(wire: NoRequests) -> None:
    repo = PaymentRepository(wire)
    big = a_payment(metadata={f"k{i}": "x" * 1000 for i in range(420)})
    error = refused(wire, "metadata", repo.create, big)
    assert "400 KB" in str(error) and "largest attribute: 'metadata'" in str(error)
    refused(wire, "metadata", repo.batch_put, [big], overwrite_versions=True)
    refused(wire, "metadata", repo.transact_create, big)


# -- a hand-written model: what generated code cannot produce, but a wire item can hold -------------------


@dataclass(kw_only=True)
class Doc:
    """A model whose attribute values are given in wire format, as-is."""

    doc_id: str
    owner: str = "someone"
    body: dict[str, Any] = field(default_factory=dict)

    def key(self) -> dict[str, AttributeValue]:
        return {"pk": {"S": self.doc_id}}

    def to_item(self) -> dict[str, AttributeValue]:
        return {"pk": {"S": self.doc_id}, "ownerKey": {"S": self.owner}, **self.body}

    @classmethod
    def from_item(cls, item: Mapping[str, AttributeValue]) -> Doc:
        return cls(doc_id=item["pk"]["S"])


class DocRepository(Repository[Doc]):
    __slots__ = ()
    model = ModelInfo(
        name="Doc",
        table="docs",
        partition_key="pk",
        sort_key=None,
        indexes={"byOwner": ("ownerKey", None)},
        attributes={"doc_id": "pk", "owner": "ownerKey"},
        key_fields=("doc_id",),
        derived={},
        entity_attribute=None,
        entity=None,
        created_at=None,
        updated_at=None,
        version=None,
        ttl=None,
        from_item=Doc.from_item,
        encoders={},
    )


def nested(levels: int) -> dict[str, Any]:
    """``levels`` maps inside each other (the outermost is the attribute's value)."""
    value: dict[str, Any] = {"M": {}}
    for _ in range(levels - 1):
        value = {"M": {"a": value}}
    return value


@pytest.mark.parametrize(
    ("doc", "field_name", "message"),
    [
        (Doc(doc_id=""), "doc_id", "empty string"),
        (Doc(doc_id="d", owner=""), "owner", "empty string"),  # an index key attribute
        (Doc(doc_id="d", body={"deep": nested(32)}), "deep", "32 levels"),
        (Doc(doc_id="d", body={"deep": {"L": [nested(31)]}}), "deep", "32 levels"),
        (Doc(doc_id="d", body={"ns": {"NS": ["1", "1.0"]}}), "ns", "duplicate"),
        (Doc(doc_id="d", body={"ss": {"SS": ["a", "a"]}}), "ss", "duplicate"),
        (Doc(doc_id="d", body={"bs": {"BS": [b"a", bytearray(b"a")]}}), "bs", "duplicate"),
        (Doc(doc_id="d", body={"ss": {"SS": []}}), "ss", "no empty set"),
        (Doc(doc_id="d", body={"ns": {"NS": ["1", 2]}}), "ns", "must be a str"),
        (Doc(doc_id="d", body={"n": {"N": 5}}), "n", "must be a non-empty str"),
        (Doc(doc_id="d", body={"n": {"N": "five"}}), "n", "not a number"),
        (Doc(doc_id="d", body={"n": {"N": "NaN"}}), "n", "not a finite number"),
        (Doc(doc_id="d", body={"n": {"N": "1" * 39}}), "n", "more than 38 significant digits"),
        (Doc(doc_id="d", body={"ns": {"NS": ["1", "1E+126"]}}), "ns", "outside DynamoDB's number range"),
        (Doc(doc_id="d", body={"n": {"N": "1E-131"}}), "n", "outside DynamoDB's number range"),
        (Doc(doc_id="d", body={"b": {"BOOL": 1}}), "b", "expected a bool"),
        (Doc(doc_id="d", body={"x": {"NULL": False}}), "x", "NULL value must be True"),
        (Doc(doc_id="d", body={"x": {"S": "a", "N": "1"}}), "x", "one {type: value}"),
        (Doc(doc_id="d", body={"x": "plain"}), "x", "one {type: value}"),
        (Doc(doc_id="d", body={"x": {"Q": "?"}}), "x", "unknown attribute value type"),
        (Doc(doc_id="d", body={"": {"S": "a"}}), "", "attribute names must be non-empty"),
        (Doc(doc_id="d", body={"m": {"M": {"": {"S": "a"}}}}), "m", "map keys must be non-empty"),
        (Doc(doc_id="d", body={"m": {"M": {"a": {"L": [{"S": "x"}, {"SS": []}]}}}}), "m", "at m.a[1]"),
    ],
)
def test_wire_items_dynamodb_would_refuse(wire: NoRequests, doc: Doc, field_name: str, message: str) -> None:
    repo = DocRepository(wire)
    error = refused(wire, field_name, repo.put, doc)
    assert message in str(error)
    refused(wire, field_name, repo.batch_put, [doc])
    refused(wire, field_name, repo.transact_put, doc)


def test_what_dynamodb_accepts_is_not_refused() -> None:
    item = {
        "pk": {"S": "d"},
        "empty": {"S": ""},  # empty strings and binaries outside keys: fine since 2020
        "emptyBytes": {"B": b""},
        "ss": {"SS": ["", "a"]},  # and inside sets
        "deep": nested(31),
        "ns": {"NS": ["1", "2.5", "-3E+2", "9.9E+125", "1E-130", "0", "1" * 38 + "000"]},
        "l": {"L": []},
        "m": {"M": {}},
        "null": {"NULL": True},
        "unicode": {"S": "h\u00e9llo \U0001f600"},
    }
    check_item(item, keys={"pk"})
    assert item_size({"a": {"S": "h\u00e9"}}) == 1 + 3
    assert item_size({"a": {"M": {"b": {"S": "c"}}}}) == 1 + 3 + 1 + 1 + 1
    assert item_size({"a": {"L": [{"S": "b"}, {"S": "c"}]}}) == 1 + 3 + 2 + 2
    assert item_size({"a": {"N": "12345"}}) == 1 + 4  # DynamoDB: ceil(5 / 2) + 1 = 4 + name
    assert item_size({"a": {"BOOL": True}, "b": {"NULL": True}}) == 4


def test_check_cost_on_the_example_payment() -> None:
    """The check runs on every write: print what it costs next to ``to_item`` (no assertion: shared machine)."""
    now = datetime.now(UTC)
    payment = a_payment(
        line_items=[LineItem(sku="A", quantity=2, unit_price=Decimal("5.25"))],
        metadata={"order": "o-1"},
        risk_score=0.12,
        card_fingerprint=b"\x01" * 16,
        labels={"vip", "web"},
        created_at=now,
        updated_at=now,
        expires_at=now,
    )
    item = payment.to_item()
    names, keys = _check_info(PaymentRepository.model)
    number = 5000
    check = min(timeit.repeat(lambda: check_item(item, names=names, keys=keys), number=number, repeat=3)) / number
    encode = min(timeit.repeat(payment.to_item, number=number, repeat=3)) / number
    print(
        f"\ncheck_item on a Payment ({len(item)} attributes, {item_size(item)} bytes): {check * 1e6:.1f} us; "
        f"to_item: {encode * 1e6:.1f} us"
    )


# -- the limits against DynamoDB Local ------------------------------------------------------------------------


@pytest.mark.ddb
def test_size_and_nesting_limits_agree_with_dynamodb_local(ddb_client: Any, transport: Transport) -> None:
    """An item at exactly 400 KB by our count is stored; one byte more is refused here, before sending.

    The estimate only ever counts numbers high, so DynamoDB never refuses an item we let through.
    """
    table = make_table(ddb_client, {
        "TableName": "x",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "ownerKey", "AttributeType": "S"}],
        "GlobalSecondaryIndexes": [{"IndexName": "byOwner", "KeySchema": [{"AttributeName": "ownerKey", "KeyType": "HASH"}],
                                    "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        "BillingMode": "PAY_PER_REQUEST",
    }, "docs")  # fmt: skip
    repo = DocRepository(transport, table_name=table)
    doc_id = unique("doc-")
    base = Doc(doc_id=doc_id, body={"n": {"N": "12345678901234567890123456789012345678"}, "deep": nested(31)})
    used = item_size(base.to_item()) + len("v")
    fits = Doc(doc_id=doc_id, body={**base.body, "v": {"S": "x" * (MAX_ITEM_SIZE - used)}})
    assert item_size(fits.to_item()) == MAX_ITEM_SIZE
    repo.put(fits)
    stored = ddb_client.get_item(TableName=table, Key={"pk": {"S": doc_id}})["Item"]
    assert len(stored["v"]["S"]) == MAX_ITEM_SIZE - used

    too_big = Doc(doc_id=doc_id, body={**base.body, "v": {"S": "x" * (MAX_ITEM_SIZE - used + 1)}})
    with pytest.raises(InvalidValueError, match="400 KB"):
        repo.put(too_big)
    # What DynamoDB itself says about the same item and a 32-level nesting (sent around the check):
    for item in (too_big.to_item(), {"pk": {"S": doc_id}, "deep": nested(32)}):
        with pytest.raises(Exception, match=r"(?i)size|nest"):
            transport.call("PutItem", {"TableName": table, "Item": item})


@pytest.mark.parametrize("field_name", ["metadata", "labels", "line_items"])
def test_none_for_a_non_optional_collection_is_refused(wire: NoRequests, field_name: str) -> None:
    """Issue 18.8: ``metadata=None`` and ``labels=None`` were written as empty values."""
    repo = PaymentRepository(wire)
    error = refused(wire, field_name, repo.create, a_payment(**{field_name: None}))
    assert "NoneType" in str(error)

"""Typed field references without a server: paths, encoding, rendering, update actions and refusals."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from typed_models import (
    Address,
    AddressFields,
    Comment,
    CommentFields,
    Currency,
    Geo,
    LineItem,
    LineItemFields,
    Order,
    OrderFields,
    OrderRepository,
    OrderStatus,
)

from dynagen.errors import InvalidValueError
from dynagen.runtime import Condition, Field, Update, UpdateAction
from dynagen.runtime.wire._expressions import Placeholders
from dynagen.runtime.wire._typed import (
    RESERVED_NAMES,
    AnyRef,
    DatetimeRef,
    JsonRef,
    ListRef,
    NumberRef,
    RecordRef,
    Ref,
    SetRef,
    StringRef,
    ref_name,
)

F = OrderFields
U1 = uuid.UUID("11111111-1111-4111-8111-111111111111")


def _render(thing: Condition | Update) -> tuple[str, dict[str, str], dict[str, Any]]:
    ph = Placeholders()
    return thing.render(ph), ph.names, ph.values


def _order() -> Order:
    return Order(
        customer_id=uuid.UUID("00000000-0000-4000-8000-000000000001"),
        order_id="o-1",
        status=OrderStatus.SHIPPED,
        currency=Currency.EUR,
        total=Decimal("10.50"),
        quantity=3,
        weight=1.5,
        placed_on=date(2024, 5, 1),
        placed_at=datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=UTC),
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
        gift=True,
        note="n",
        fingerprint=b"\x00\x01",
        labels={"a", "b"},
        counts={1, 2},
        prices={Decimal("1.5")},
        blobs={b"x"},
        related={U1, uuid.uuid4()},
        notes=["x", "y"],
        line_items=[LineItem(sku="s", quantity=1, unit_price=Decimal("2"), size="M", options={"b": 1, "a": None})],
        matrix=[[1], [2, 3]],
        events=[None, {"k": 1}],
        tags={"env": "prod"},
        limits={"daily": Decimal("5")},
        addresses={"home": Address(line1="l", city="c", geo=Geo(lat=Decimal("1"), lng=Decimal("2")))},
        billing=Address(line1="l", city="c", postal_code="p"),
        shipping=Address(line1="s", city="t"),
        settings={"z": [1, 2], "a": True},
        extra={"k": [1, "x", {"d": Decimal("1.5")}], "n": None},
        version=2,
    )


def _sorted_sets(av: Any) -> Any:
    return {k: sorted(v) if k in ("SS", "NS", "BS") else v for k, v in av.items()}


def test_every_field_reference_encodes_as_to_item_does() -> None:
    order = _order()
    item = order.to_item()
    for field, attribute in OrderRepository.model.attributes.items():
        ref = getattr(OrderFields, ref_name(field))
        assert ref.path == attribute
        action = ref.set(getattr(order, field))
        assert _sorted_sets(action.value) == _sorted_sets(item[attribute]), field
        assert action.source is getattr(order, field)


def test_nested_references_encode_as_their_records_to_item() -> None:
    order = _order()
    line = order.line_items[0]
    for field in ("sku", "quantity", "unit_price", "size", "options"):
        ref = getattr(F.line_items[0], ref_name(field))
        stored = line.to_item()[ref.path.split(".")[-1]]
        assert ref.set(getattr(line, field)).value == stored
    assert F.addresses["home"].geo.lat.set(Decimal("1")).value == {"N": "1"}
    assert F.matrix[1][0].set(2).value == {"N": "2"}
    assert F.events[0].set(None).value == {"NULL": True}


def test_set_members_use_the_element_encoder() -> None:
    text, _, values = _render(F.related.contains(U1))
    assert text == "contains(#n0, :v0)" and values == {":v0": {"S": str(U1)}}
    assert F.counts.add({7}).value == {"NS": ["7"]}
    assert F.prices.delete({Decimal("1.50")}).value == {"NS": ["1.50"]}
    assert F.blobs.add({b"\x00"}).value == {"BS": [b"\x00"]}


def test_paths_are_built_from_stored_names() -> None:
    cases = [
        (F.total.eq(Decimal(1)), "#n0 = :v0", {"#n0": "total"}),
        (F.placed_on.eq(date(2024, 1, 1)), "#n0 = :v0", {"#n0": "placedOn"}),
        (F.billing.postal_code.exists(), "attribute_exists(#n0.#n1)", {"#n0": "billing", "#n1": "postalCode"}),
        (F.billing.geo.lat.lt(Decimal(1)), "#n0.#n1.#n2 < :v0", {"#n0": "billing", "#n1": "geo", "#n2": "lat"}),
        (F.line_items[2].size_.eq("L"), "#n0[2].#n1 = :v0", {"#n0": "lineItems", "#n1": "size"}),
        (F.matrix[1][0].ge(1), "#n0[1][0] >= :v0", {"#n0": "matrix"}),
        (F.tags["a.b[0]"].eq("x"), "#n0.#n1 = :v0", {"#n0": "tags", "#n1": "a.b[0]"}),
        (F.addresses["home"].geo.exists(), "attribute_exists(#n0.#n1.#n2)", {"#n0": "addresses", "#n1": "home", "#n2": "geo"}),
        (F.extra["k"][2]["d"].gt(1), "#n0.#n1[2].#n2 > :v0", {"#n0": "extra", "#n1": "k", "#n2": "d"}),
    ]
    for cond, text, names in cases:
        assert _render(cond)[:2] == (text, names)
    assert list((F.billing.city.eq("x") & F.line_items[0].sku.eq("y")).attribute_paths()) == [
        ("billing", "city"),
        ("lineItems", 0, "sku"),
    ]
    assert repr(F.line_items[3].unit_price) == "NumberRef('lineItems[3].unitPrice')"


def test_a_record_of_its_own_type_nests_without_end() -> None:
    deep = CommentFields.replies[0].replies[2].replies[1].text
    assert deep.path == "replies[0].replies[2].replies[1].text"
    reply = Comment(text="r", replies=[Comment(text="rr")])
    assert CommentFields.replies[0].set(reply).value == {"M": reply.to_item()}


def test_class_access_is_the_reference_itself_and_prototypes_stay_unrooted() -> None:
    assert OrderFields.total is OrderFields.total
    first = F.line_items[0]
    assert isinstance(first, LineItemFields) and first.path == "lineItems[0]"
    assert F.line_items[1].sku.path == "lineItems[1].sku"
    assert first.sku.path == "lineItems[0].sku"  # building the second did not touch the first
    assert AddressFields.city.path == "city"
    assert F.billing.city.path == "billing.city" and F.shipping.city.path == "shipping.city"


def test_every_operator_renders_with_placeholders_only() -> None:
    cases: list[tuple[Condition, str]] = [
        (F.status.eq(OrderStatus.PENDING), "#n0 = :v0"),
        (F.status.ne(OrderStatus.PENDING), "#n0 <> :v0"),
        (F.quantity.lt(1), "#n0 < :v0"),
        (F.quantity.le(1), "#n0 <= :v0"),
        (F.quantity.gt(1), "#n0 > :v0"),
        (F.quantity.ge(1), "#n0 >= :v0"),
        (F.quantity < 1, "#n0 < :v0"),
        (F.quantity <= 1, "#n0 <= :v0"),
        (F.quantity > 1, "#n0 > :v0"),
        (F.quantity >= 1, "#n0 >= :v0"),
        (F.quantity.between(1, 2), "#n0 BETWEEN :v0 AND :v1"),
        (F.quantity.is_in([1, 2]), "#n0 IN (:v0, :v1)"),
        (F.note.begins_with("a"), "begins_with(#n0, :v0)"),
        (F.note.contains("a"), "contains(#n0, :v0)"),
        (F.fingerprint.begins_with(b"a"), "begins_with(#n0, :v0)"),
        (F.fingerprint.contains(b"a"), "contains(#n0, :v0)"),
        (F.labels.contains("a"), "contains(#n0, :v0)"),
        (F.notes.contains("a"), "contains(#n0, :v0)"),
        (F.settings.contains_text("a"), "contains(#n0, :v0)"),
        (F.note.exists(), "attribute_exists(#n0)"),
        (F.note.not_exists(), "attribute_not_exists(#n0)"),
        (F.note.attribute_type("S"), "attribute_type(#n0, :v0)"),
        (F.notes.size() > 1, "size(#n0) > :v0"),
        (F.notes.size() >= 1, "size(#n0) >= :v0"),
        (F.notes.size() < 1, "size(#n0) < :v0"),
        (F.notes.size() <= 1, "size(#n0) <= :v0"),
        (~F.gift.eq(True) | F.note.exists() & Field("x").exists(), "((NOT #n0 = :v0) OR (attribute_exists(#n1) AND attribute_exists(#n2)))"),
    ]
    for cond, text in cases:
        assert _render(cond)[0] == text
    assert _render(F.quantity.is_in([1, 2]))[2] == {":v0": {"N": "1"}, ":v1": {"N": "2"}}
    assert _render(F.note.attribute_type("S"))[2] == {":v0": {"S": "S"}}


def test_json_compares_its_canonical_text() -> None:
    assert F.settings.eq({"b": 1, "a": [1, 2]}) == F.settings.eq({"a": [1, 2], "b": 1})
    assert _render(F.settings.eq({"b": 1, "a": 2}))[2] == {":v0": {"S": '{"a":2,"b":1}'}}
    assert _render(F.settings.eq(None))[2] == {":v0": {"NULL": True}}
    assert F.settings.set(None).value == {"NULL": True}
    with pytest.raises(TypeError):
        F.settings["x"]  # type: ignore[index]  # no path into a JSON string
    with pytest.raises(AttributeError):
        F.settings.gt(1)  # type: ignore[attr-defined]


def test_datetime_comparisons_list_the_texts_of_the_bounds_second() -> None:
    whole = datetime(2024, 5, 1, 10, 0, 5, tzinfo=UTC)
    text, _, values = _render(F.placed_at.ge(whole))
    assert text == "#n0 > :v0" and values == {":v0": {"S": "2024-05-01T10:00:05.000000000"}}
    text, _, values = _render(F.placed_at.gt(whole))
    assert text == "(#n0 > :v0 AND (NOT #n0 IN (:v1)))"
    assert values[":v1"] == {"S": "2024-05-01T10:00:05Z"}
    text, _, values = _render(F.placed_at.lt(whole))
    assert text == "#n0 < :v0"
    # A fraction: the whole second and each trimmed prefix of it (.1, .12 for .12) sort above the padded bound.
    bound = datetime(2024, 5, 1, 12, 0, 5, 120000, tzinfo=timezone(timedelta(hours=2)))
    text, _, values = _render(F.placed_at.le(bound))
    assert text == "(#n0 < :v0 OR #n0 IN (:v1, :v2, :v3))"
    assert [v["S"] for v in values.values()] == [
        "2024-05-01T10:00:05.120000000",
        "2024-05-01T10:00:05Z",
        "2024-05-01T10:00:05.1Z",
        "2024-05-01T10:00:05.12Z",
    ]
    text, _, values = _render(F.placed_at.lt(bound))
    assert text == "(#n0 < :v0 OR #n0 IN (:v1, :v2))"  # not the bound's own text
    assert _render(F.placed_at.eq(bound))[2] == {":v0": {"S": "2024-05-01T10:00:05.12Z"}}
    with pytest.raises(InvalidValueError, match="low <= high"):
        F.placed_at.between(bound, bound - timedelta(microseconds=1))
    with pytest.raises(InvalidValueError, match="naive"):
        F.placed_at.gt(datetime(2024, 1, 1))


def test_update_actions_render_on_the_existing_update() -> None:
    update = Update().set("raw", {"S": "x"}).with_actions(
        F.status.set(OrderStatus.CANCELLED),
        F.note.set_if_missing("n"),
        F.fingerprint.remove(),
        F.quantity.add(-2),
        F.labels.add({"x"}),
        F.counts.delete({1}),
        F.notes.append(["a"]),
        F.events.prepend([None]),
        F.tags["k"].set("v"),
        F.line_items[0].quantity.add(1),
    )
    text, names, values = _render(update)
    assert text == (
        "SET #n0 = :v0, #n1 = :v1, #n2 = if_not_exists(#n2, :v2), #n3 = list_append(if_not_exists(#n3, :v4), :v3), "
        "#n4 = list_append(:v5, if_not_exists(#n4, :v6)), #n5.#n6 = :v7 REMOVE #n7 "
        "ADD #n8 :v8, #n9 :v9, #n10[0].#n8 :v10 DELETE #n11 :v11"
    )
    assert names["#n8"] == "quantity" and names["#n10"] == "lineItems"
    assert values[":v8"] == {"N": "-2"} and values[":v11"] == {"NS": ["1"]}
    assert [a.path for a in update.actions][:3] == ["raw", "status", "note"]
    assert update.actions[1] == UpdateAction("SET", "set", ("status",), {"S": "cancelled"}, OrderStatus.CANCELLED)
    assert Update.of(F.note.remove()).attributes == ("note",)


def test_update_refuses_overlapping_paths_and_foreign_objects() -> None:
    with pytest.raises(InvalidValueError, match="touched twice"):
        Update.of(F.billing.set(Address(line1="l", city="c")), F.billing.city.set("x"))
    with pytest.raises(InvalidValueError, match="UpdateAction"):
        Update.of(F.note.eq("x"))  # type: ignore[arg-type]
    assert Update.of(F.notes[0].set("a"), F.notes[1].remove())  # siblings do not overlap


@pytest.mark.parametrize(
    ("build", "field", "message"),
    [
        (lambda: F.order_id.eq(5), "orderId", "expected a str"),
        (lambda: F.status.eq("shipped"), "status", "cannot encode str"),
        (lambda: F.total.gt(1.5), "total", "expected Decimal"),
        (lambda: F.placed_on.eq(datetime.now(UTC)), "placedOn", "expected date"),
        (lambda: F.customer_id.eq("not-a-uuid"), "customerId", "expected UUID"),
        (lambda: F.gift.eq(1), "gift", "expected a bool"),
        (lambda: F.note.eq(None), "note", "None is never stored"),
        (lambda: F.note.set(None), "note", "remove()"),
        (lambda: F.labels.eq(set()), "labels", "no empty set"),
        (lambda: F.labels.add("abc"), "labels", "expected a set"),
        (lambda: F.labels.contains(None), "labels", "cannot hold None"),
        (lambda: F.counts.eq({1, 2.5}), "counts", "expected int"),
        (lambda: F.notes.eq("abc"), "notes", "expected a list"),
        (lambda: F.notes.eq(["a", 2]), "notes", "[1]: expected a str"),
        (lambda: F.tags.eq({"k": 1}), "tags", "['k']: expected a str"),
        (lambda: F.tags.eq(["k"]), "tags", "expected a mapping"),
        (lambda: F.billing.eq({"city": "x"}), "billing", "cannot encode dict"),
        (lambda: F.billing.eq(Address(line1=1, city="c")), "billing", "(at billing.line1)"),  # type: ignore[arg-type]
        (lambda: F.quantity.is_in([]), "quantity", "IN takes 1 to 100"),
        (lambda: F.order_id.is_in("abc"), "orderId", "a collection of values"),
        (lambda: F.quantity.is_in(range(101)), "quantity", "IN takes 1 to 100"),
        (lambda: F.quantity.between(2, 1), "quantity", "low <= high"),
        (lambda: F.order_id.between("b", "a"), "orderId", "low <= high"),
        (lambda: F.note.begins_with(b"x"), "note", "str prefix"),
        (lambda: F.note.contains(1), "note", "takes a str"),
        (lambda: F.fingerprint.begins_with("x"), "fingerprint", "takes bytes"),
        (lambda: F.settings.contains_text(1), "settings", "takes a str"),
        (lambda: F.note.attribute_type("X"), "note", "attribute type must be one of"),
        (lambda: F.notes[-1], "notes", "int >= 0"),
        (lambda: F.notes[True], "notes", "int >= 0"),
        (lambda: F.tags[""], "tags", "non-empty str"),
        (lambda: F.extra["k"][-1], "extra.k", "int index >= 0"),
        (lambda: F.extra["k"].add("x"), "extra.k", "a number or a set"),
        (lambda: F.extra["k"].delete(1), "extra.k", "takes a set"),
        (lambda: F.extra["k"].append("x"), "extra.k", "expected a list"),
        (lambda: F.line_items[0].quantity.add(1.5), "lineItems[0].quantity", "expected int"),
        (lambda: F.expires_at.gt("2030"), "expiresAt", "expected datetime or int"),
    ],
)
def test_bad_values_are_refused_naming_the_path(build: Any, field: str, message: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        build()
    assert refused.value.field == field
    assert message in refused.value.reason


def test_prototypes_cannot_be_used_on_their_own() -> None:
    prototype = StringRef(None, lambda v: {"S": v})
    for use in (lambda: prototype.eq("x"), prototype.exists, prototype.remove, prototype.size):
        with pytest.raises(InvalidValueError, match="prototype"):
            use()
    with pytest.raises(InvalidValueError, match="non-empty attribute name"):
        StringRef("", lambda v: {"S": v})


def test_a_number_reference_adds_only_numbers() -> None:
    odd: NumberRef[str] = NumberRef("n", lambda v: {"S": v})
    with pytest.raises(InvalidValueError, match="ADD needs a number"):
        odd.add("1")


def test_equality_operators_are_refused_with_a_hint() -> None:
    with pytest.raises(TypeError, match=r"\.eq\(value\)"):
        _ = F.status == OrderStatus.PENDING
    with pytest.raises(TypeError, match=r"\.ne\(value\)"):
        _ = F.status != OrderStatus.PENDING
    assert len({F.status, F.total}) == 2  # still hashable


def test_reserved_names_are_the_record_references_public_names() -> None:
    public = {name for name in dir(RecordRef) if not name.startswith("_")}
    assert public == RESERVED_NAMES
    assert ref_name("size") == "size_" and ref_name("city") == "city"
    assert LineItemFields.size_.path == "size" and callable(LineItemFields.size)


def test_untyped_values_use_to_wire() -> None:
    anything = AnyRef("a", lambda v: {"N": str(v)} if isinstance(v, int) else {"S": str(v)})
    assert _render(anything[0]["x"].eq(1))[:2] == ("#n0[0].#n1 = :v0", {"#n0": "a", "#n1": "x"})
    assert _render(F.extra["k"].eq({"d": Decimal("1.5"), "n": None}))[2] == {
        ":v0": {"M": {"d": {"N": "1.5"}, "n": {"NULL": True}}}
    }
    assert F.extra["s"].add({"x"}).value == {"SS": ["x"]}
    assert F.extra["s"].delete({1}).value == {"NS": ["1"]}
    assert F.extra["l"].prepend([1]).value == {"L": [{"N": "1"}]}
    assert _render(F.extra["s"].begins_with(b"\x00"))[2] == {":v0": {"B": b"\x00"}}


def test_generic_references_for_user_code() -> None:
    # The constructors are public: a hand-written reference works like a generated one.
    score: NumberRef[int] = NumberRef("score", lambda v: {"N": str(v)})
    names: SetRef[str] = SetRef("names", lambda v: {"S": v})
    doc: JsonRef = JsonRef("doc", lambda v: {"S": str(v)})
    items: ListRef[int, Ref[int]] = ListRef("items", Ref(None, lambda v: {"N": str(v)}))
    cond = score.gt(1) & names.contains("a") & doc.exists() & items[0].eq(3)
    assert _render(cond)[0] == "(#n0 > :v0 AND contains(#n1, :v1) AND attribute_exists(#n2) AND #n3[0] = :v2)"


def test_datetime_references_compare_other_encodings_as_text() -> None:
    untrimmed = DatetimeRef("t", lambda v: {"S": v.strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
    text, _, values = _render(untrimmed.gt(datetime(2024, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)))
    assert text == "#n0 > :v0" and values == {":v0": {"S": "2024-01-01T00:00:01.500000Z"}}
    offset = DatetimeRef("t", lambda v: {"S": v.isoformat()})
    assert _render(offset.le(datetime(2024, 1, 1, tzinfo=UTC)))[0] == "#n0 <= :v0"

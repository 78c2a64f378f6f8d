from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from dynagen.errors import InvalidValueError
from dynagen.runtime.wire._expressions import (
    Field,
    Placeholders,
    SortCondition,
    Update,
    format_path,
    key_condition,
    parse_path,
    projection,
)


def _render(thing: Any) -> tuple[str, dict[str, str], dict[str, Any]]:
    ph = Placeholders()
    return thing.render(ph), ph.names, ph.values


def test_parse_path_splits_names_and_indexes() -> None:
    assert parse_path("a") == ("a",)
    assert parse_path("a.b[2].c") == ("a", "b", 2, "c")
    assert parse_path("list[0][1]") == ("list", 0, 1)
    assert parse_path(("a.b", 3)) == ("a.b", 3)
    assert format_path(("a", "b", 2, "c")) == "a.b[2].c"


@pytest.mark.parametrize("bad", ["", ".a", "a.", "a..b", "[0]", "a[x]", "a[0", "a]", ()])
def test_parse_path_rejects_malformed(bad: Any) -> None:
    with pytest.raises(InvalidValueError):
        parse_path(bad)


def test_placeholders_dedupe_names_not_values() -> None:
    ph = Placeholders()
    assert ph.path("status") == "#n0"
    assert ph.path("a.status[1].b") == "#n1.#n0[1].#n2"
    assert ph.value({"S": "x"}) == ":v0"
    assert ph.value({"S": "x"}) == ":v1"
    assert ph.names == {"#n0": "status", "#n1": "a", "#n2": "b"}
    assert ph.values == {":v0": {"S": "x"}, ":v1": {"S": "x"}}
    assert Placeholders().expression_attributes() == {}


def test_comparisons_render_with_placeholders_only() -> None:
    f = Field("status")
    cases = [
        (f.eq({"S": "a"}), "#n0 = :v0"),
        (f.ne({"S": "a"}), "#n0 <> :v0"),
        (f.lt({"S": "a"}), "#n0 < :v0"),
        (f.le({"S": "a"}), "#n0 <= :v0"),
        (f.gt({"S": "a"}), "#n0 > :v0"),
        (f.ge({"S": "a"}), "#n0 >= :v0"),
        (f.between({"S": "a"}, {"S": "b"}), "#n0 BETWEEN :v0 AND :v1"),
        (f.begins_with({"S": "a"}), "begins_with(#n0, :v0)"),
        (f.contains({"S": "a"}), "contains(#n0, :v0)"),
        (f.is_in([{"S": "a"}, {"S": "b"}]), "#n0 IN (:v0, :v1)"),
        (f.exists(), "attribute_exists(#n0)"),
        (f.not_exists(), "attribute_not_exists(#n0)"),
        (f.attribute_type("SS"), "attribute_type(#n0, :v0)"),
        (f.size().gt(3), "size(#n0) > :v0"),
        (f.size().between(1, 2), "size(#n0) BETWEEN :v0 AND :v1"),
    ]
    for condition, expected in cases:
        text, names, _ = _render(condition)
        assert text == expected
        assert names == {"#n0": "status"}
        assert "status" not in text


def test_boolean_combinators_flatten_and_parenthesize() -> None:
    a, b, c = Field("a").eq({"N": "1"}), Field("b").exists(), Field("c").not_exists()
    assert _render(a & b & c)[0] == "(#n0 = :v0 AND attribute_exists(#n1) AND attribute_not_exists(#n2))"
    assert _render((a | b) & ~c)[0] == "((#n0 = :v0 OR attribute_exists(#n1)) AND (NOT attribute_not_exists(#n2)))"
    assert _render(a | (b | c))[0] == "(#n0 = :v0 OR attribute_exists(#n1) OR attribute_not_exists(#n2))"


def test_conditions_are_immutable_and_reusable() -> None:
    cond = Field("a").eq({"S": "x"})
    with pytest.raises(AttributeError):
        cond.value = {"S": "y"}  # type: ignore[attr-defined]
    assert _render(cond) == _render(cond)


def test_field_with_encoder_encodes_python_values() -> None:
    def encode(value: Decimal) -> dict[str, Any]:
        return {"N": str(value)}

    count: Field[Decimal] = Field("count", encode=encode)
    assert _render(count.gt(Decimal("1.5")))[2] == {":v0": {"N": "1.5"}}


def test_field_rejects_bare_python_values_and_empty_sets() -> None:
    with pytest.raises(InvalidValueError) as info:
        Field("a.b").eq("plain")  # type: ignore[arg-type]
    assert info.value.field == "a.b"
    with pytest.raises(InvalidValueError):
        Field("a").contains({"SS": []})
    with pytest.raises(InvalidValueError):
        Field("a").is_in([])
    with pytest.raises(InvalidValueError):
        Field("a").is_in([{"N": str(i)} for i in range(101)])
    with pytest.raises(InvalidValueError):
        Field("a").attribute_type("STRING")
    with pytest.raises(InvalidValueError):
        Field("a").size().eq(True)


def test_update_renders_clauses_in_order() -> None:
    update = (
        Update()
        .add("version", {"N": "1"})
        .remove("ttl")
        .set("name", {"S": "n"})
        .set_if_not_exists("created", {"S": "c"})
        .delete("tags", {"SS": ["x"]})
        .append("log", {"L": [{"S": "e"}]})
        .prepend("stack", {"L": [{"S": "e"}]})
    )
    text, names, values = _render(update)
    assert text == (
        "SET #n0 = :v0, #n1 = if_not_exists(#n1, :v1), #n2 = list_append(if_not_exists(#n2, :v3), :v2), "
        "#n3 = list_append(:v4, if_not_exists(#n3, :v5)) REMOVE #n4 ADD #n5 :v6 DELETE #n6 :v7"
    )
    assert names == {
        "#n0": "name",
        "#n1": "created",
        "#n2": "log",
        "#n3": "stack",
        "#n4": "ttl",
        "#n5": "version",
        "#n6": "tags",
    }
    assert values[":v3"] == values[":v5"] == {"L": []}
    assert update.attributes == ("version", "ttl", "name", "created", "tags", "log", "stack")


def test_update_is_immutable() -> None:
    base = Update().set("a", {"S": "1"})
    longer = base.set("b", {"S": "2"})
    assert base.attributes == ("a",)
    assert longer.attributes == ("a", "b")


@pytest.mark.parametrize(("first", "second"), [("a", "a"), ("a", "a.b"), ("a.b", "a"), ("l[1]", "l")])
def test_update_rejects_attribute_touched_twice(first: str, second: str) -> None:
    with pytest.raises(InvalidValueError, match="twice"):
        Update().set(first, {"S": "x"}).remove(second)


def test_update_allows_siblings() -> None:
    text = _render(Update().set("a.b", {"S": "x"}).set("a.c", {"S": "y"}).remove("l[0]").remove("l[1]"))[0]
    assert text == "SET #n0.#n1 = :v0, #n0.#n2 = :v1 REMOVE #n3[0], #n3[1]"


def test_update_checks_value_types() -> None:
    with pytest.raises(InvalidValueError):
        Update().add("a", {"S": "x"})
    with pytest.raises(InvalidValueError):
        Update().delete("a", {"N": "1"})
    with pytest.raises(InvalidValueError):
        Update().append("a", {"SS": ["x"]})
    with pytest.raises(InvalidValueError):
        Update().render(Placeholders())
    assert not Update()


def test_key_condition_and_sort_conditions() -> None:
    cases = [
        (SortCondition.eq({"S": "a"}), "#n1 = :v1"),
        (SortCondition.lt({"S": "a"}), "#n1 < :v1"),
        (SortCondition.le({"S": "a"}), "#n1 <= :v1"),
        (SortCondition.gt({"N": "1"}), "#n1 > :v1"),
        (SortCondition.ge({"B": b"a"}), "#n1 >= :v1"),
        (SortCondition.between({"S": "a"}, {"S": "b"}), "#n1 BETWEEN :v1 AND :v2"),
        (SortCondition.begins_with({"S": "a"}), "begins_with(#n1, :v1)"),
    ]
    for sort, expected in cases:
        ph = Placeholders()
        text = key_condition(("data", {"S": "p"}), ("size", sort), ph)
        assert text == f"#n0 = :v0 AND {expected}"
        assert ph.names == {"#n0": "data", "#n1": "size"}
    assert key_condition(("PK", {"S": "p"}), None, Placeholders()) == "#n0 = :v0"
    with pytest.raises(InvalidValueError):
        SortCondition.begins_with({"N": "1"})
    with pytest.raises(InvalidValueError):
        SortCondition.eq({"BOOL": True})


def test_projection_dedupes_and_rejects_empty() -> None:
    ph = Placeholders()
    assert projection(["status", "a.b[0]", "status"], ph) == "#n0, #n1.#n2[0]"
    with pytest.raises(InvalidValueError):
        projection([], ph)
    with pytest.raises(InvalidValueError):
        projection("status", ph)

"""Generated serializers: from_item(to_item(x)) == x for every field type (Hypothesis), and to_item()
equal to boto3's TypeSerializer on the types both know; for the native dialect (the all_types golden)
and for DMS (dms_minimal compiled here, with its generic M and L, NULL, B and sets)."""

from __future__ import annotations

import importlib.util
import re
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from dynagen.compiler import compile_schemas
from dynagen.errors import InvalidValueError

GOLDENS = Path(__file__).parent / "goldens"
GOLDEN = GOLDENS / "all_types" / "expected" / "all_types.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("golden_all_types", GOLDEN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _compile_dms() -> ModuleType:
    """Compile the DMS case from its schema now (not its golden), and import the module it gives."""
    case = GOLDENS / "dms_minimal"
    text = compile_schemas([case / "schema.yaml"], root=case).files["schema.py"]
    module = ModuleType("roundtrip_dms_minimal")
    sys.modules[module.__name__] = module  # dataclasses looks the module up while the class is built
    exec(compile(text, "dms_minimal/schema.py", "exec"), module.__dict__)
    return module


m = _load()
dms = _compile_dms()

text = st.text(max_size=20)
key_text = st.text(min_size=1, max_size=20).filter(lambda t: "#" not in t)  # '#': the table's key separator
ints = st.integers(min_value=-(10**37) + 1, max_value=10**37 - 1)
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**20), max_value=10**20)
floats = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e100, max_value=1e100).filter(
    lambda f: f == 0 or abs(f) > 1e-100
)
moments = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2999, 12, 31), timezones=st.just(UTC)
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
inners = st.builds(m.Inner, label=text, weight=st.none() | decimals)

things = st.builds(
    m.Thing,
    thing_id=key_text,
    revision=st.integers(0, 999_999),  # SK "REV#{revision:06}"
    s=text,
    i=ints,
    d=decimals,
    f=floats,
    b=st.booleans(),
    raw=st.binary(max_size=16),
    when=moments,
    day=st.dates(),
    uid=st.uuids(),
    color=st.sampled_from(list(m.Color)),
    doc=json_values,
    tags=st.lists(text, max_size=4),
    scores=st.dictionaries(text, ints, max_size=4),
    inner=inners,
    inners=st.lists(inners, max_size=3),
    nested=st.dictionaries(text, st.lists(decimals, max_size=3), max_size=3),
    ss=st.sets(text, max_size=4),
    ns=st.sets(ints, max_size=4),
    ds=st.sets(decimals, max_size=4),
    bs=st.sets(st.binary(max_size=8), max_size=4),
    maybe=st.none() | text,
    empty_ok=text,
    note=st.none() | text,
    expires=st.none() | moments.map(lambda t: t.replace(microsecond=0)),
    created_at=st.none() | moments,
    updated_at=st.none() | moments,
    version=st.integers(min_value=0, max_value=10**6),
)


@settings(max_examples=300, deadline=None)
@given(things)
def test_from_item_inverts_to_item(thing: Any) -> None:
    item = thing.to_item()
    back = m.Thing.from_item(item)
    assert back == thing


@settings(max_examples=150, deadline=None)
@given(things)
def test_to_item_matches_type_serializer_where_types_are_shared(thing: Any) -> None:
    item = thing.to_item()
    ser = TypeSerializer()
    plain: dict[str, Any] = {
        "s": thing.s,
        "i": thing.i,
        "d": thing.d,
        "b": thing.b,
        "tags": thing.tags,
        "scores": thing.scores,
        "nested": thing.nested,
        "inner": _plain_inner(thing.inner),
        "inners": [_plain_inner(inner) for inner in thing.inners],
    }
    # Optional strings: TypeSerializer's S when set; dynagen writes nothing for None.
    for attribute, value in (("maybe", thing.maybe), ("noteText", thing.note)):
        if value is None:
            assert attribute not in item, attribute
        else:
            plain[attribute] = value
    for attribute, value in plain.items():
        assert item[attribute] == _normal(ser.serialize(value)), attribute
    # Bytes, given to TypeSerializer as bytes or as its Binary wrapper: the same B value.
    assert item["raw"] == _normal(ser.serialize(thing.raw)) == _normal(ser.serialize(Binary(thing.raw)))
    for attribute in ("ss", "ns", "ds", "bs"):
        value = getattr(thing, attribute)
        if value:
            expected = ser.serialize(value)
            ((tag, members),) = expected.items()
            assert tag in item[attribute]
            got = item[attribute][tag]
            assert sorted(_member(tag, v) for v in got) == sorted(_member(tag, v) for v in members)
        else:
            assert item[attribute] == {"NULL": True}, "DynamoDB has no empty set: it is stored as NULL"
    # And boto3 reads what we wrote back to the same plain values.
    de = TypeDeserializer()
    assert de.deserialize(item["i"]) == thing.i
    assert de.deserialize(item["scores"]) == thing.scores


def _plain_inner(inner: Any) -> dict[str, Any]:
    """An Inner as the plain dict TypeSerializer would be given (None fields are not written)."""
    return {"label": inner.label, **({"weight": inner.weight} if inner.weight is not None else {})}


def _normal(value: Any) -> Any:
    """TypeSerializer's wire form with Binary unwrapped, for comparison."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return getattr(value, "value", value) if type(value).__name__ == "Binary" else value


def _member(tag: str, value: Any) -> Any:
    """A set member comparable across both serializers: numbers by value, binary unwrapped."""
    if type(value).__name__ == "Binary":
        return value.value
    return Decimal(value) if tag == "NS" else value


def _thing(**changes: Any) -> Any:
    base: dict[str, Any] = {
        "thing_id": "t1", "revision": 1, "s": "", "i": 0, "d": Decimal("1.5"), "f": 0.5, "b": True,
        "raw": b"\x00\xff", "when": datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC), "day": date(2024, 5, 1),
        "uid": UUID("12345678-1234-5678-1234-567812345678"), "color": m.Color.GREEN, "doc": {"b": 1, "a": [1, 2]},
        "tags": ["x"], "scores": {"a": 1}, "inner": m.Inner(label="in"), "inners": [], "nested": {},
    }  # fmt: skip
    base.update(changes)
    return m.Thing(**base)


def test_wire_shape_of_one_item() -> None:
    item = _thing(ss={"a"}, maybe=None, empty_ok="", expires=datetime(2024, 1, 1, tzinfo=UTC)).to_item()
    assert item["PK"] == {"S": "THING#t1"} and item["SK"] == {"S": "REV#000001"}  # {revision:06}
    assert item["kind"] == {"S": "Thing"}
    assert item["GSI1PK"] == {"S": "COLOR#green"}
    assert item["GSI1SK"] == {"S": "2024-05-01T12:00:00.250000000Z#t1"}  # keys: always 9 fraction digits
    assert item["when"] == {"S": "2024-05-01T12:00:00.25Z"}  # attributes: RFC3339Nano, trimmed
    assert item["doc"] == {"S": '{"a":[1,2],"b":1}'}
    assert item["expires"] == {"N": "1704067200"}
    assert item["version"] == {"N": "0"}
    assert "maybe" not in item and "emptyOk" not in item, "None and omit_empty values are not written"
    assert item["ss"] == {"SS": ["a"]}


def test_bad_values_name_the_field() -> None:
    with pytest.raises(InvalidValueError, match="thing_id: key part must not be empty"):
        _thing(thing_id="").to_item()
    with pytest.raises(InvalidValueError, match="f: nan is not a finite number"):
        _thing(f=float("nan")).to_item()
    with pytest.raises(InvalidValueError, match="when: naive datetime"):
        _thing(when=datetime(2024, 1, 1)).to_item()
    with pytest.raises(InvalidValueError, match="i: expected int, got str"):
        _thing(i="1").to_item()


def test_reading_a_malformed_item_names_model_and_attribute() -> None:
    item = _thing().to_item()
    del item["s"]
    with pytest.raises(InvalidValueError, match="cannot read item as Thing: missing or mistyped attribute"):
        m.Thing.from_item(item)
    item = _thing().to_item()
    item["color"] = {"S": "purple"}
    with pytest.raises(InvalidValueError, match="'purple' is not a valid Color"):
        m.Thing.from_item(item)


@settings(max_examples=200, deadline=None)
@given(things)
def test_key_fields_parse_back_out_of_stored_keys(thing: Any) -> None:
    item = thing.to_item()
    assert m.Thing.parse_pk(item["PK"]["S"]) == (thing.thing_id,)
    assert m.Thing.parse_sk(item["SK"]["S"]) == (thing.revision,)
    assert m.Thing.parse_gsi1pk(item["GSI1PK"]["S"]) == (thing.color,)
    assert m.Thing.parse_gsi1sk(item["GSI1SK"]["S"]) == (thing.when, thing.thing_id)
    assert m.Thing.parse_lsi1sk(item["LSI1SK"]["S"]) == (thing.day,)


def test_a_key_that_does_not_fit_its_template_is_a_clear_error() -> None:
    with pytest.raises(InvalidValueError, match=re.escape("SK: 'PROFILE' does not match 'REV#{}'")):
        m.Thing.parse_sk("PROFILE")
    with pytest.raises(InvalidValueError, match="SK: cannot read 'REV#x'"):
        m.Thing.parse_sk("REV#x")
    with pytest.raises(InvalidValueError, match="GSI1SK: '2024' does not match"):
        m.Thing.parse_gsi1sk("2024")


# -- DMS: generic M and L, NULL, B, sets ------------------------------------------------------------

generic_scalars = (
    st.none() | st.booleans() | text | ints | decimals | st.binary(max_size=8)
)  # floats excepted: a generic number reads back as int or Decimal, never float
generic_sets = (
    st.sets(text, min_size=1, max_size=3) | st.sets(ints, min_size=1, max_size=3)
    | st.sets(st.binary(max_size=8), min_size=1, max_size=3)
)  # fmt: skip
generic = st.recursive(
    generic_scalars | generic_sets,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=10,
)
events = st.builds(
    dms.Event,
    stream_id=key_text,
    seq=ints,
    payload=json_values,
    blob=st.none() | st.binary(max_size=16),
    flags=st.none() | st.dictionaries(text, generic, max_size=4),
    history=st.none() | st.lists(generic, max_size=4),
    amounts=st.none() | st.sets(decimals, min_size=1, max_size=4),  # an empty set is not written: reads as None
    digests=st.none() | st.sets(st.binary(max_size=8), min_size=1, max_size=4),
    active=st.booleans(),
    tombstone=st.none(),
    created_at=st.none() | moments,
)


@settings(max_examples=300, deadline=None)
@given(events)
def test_dms_from_item_inverts_to_item(event: Any) -> None:
    item = event.to_item()
    back = dms.Event.from_item(item)
    assert back == event
    assert "tombstone" not in item and back.tombstone is None, "NULL's only value is None: nothing to store"


def test_dms_none_inside_generic_values_is_null() -> None:
    event = dms.Event(stream_id="s", seq=1, active=True, flags={"gone": None}, history=[None, {"x": None}])
    item = event.to_item()
    assert item["flags"] == {"M": {"gone": {"NULL": True}}}
    assert item["history"] == {"L": [{"NULL": True}, {"M": {"x": {"NULL": True}}}]}
    assert dms.Event.from_item(item) == event


@settings(max_examples=150, deadline=None)
@given(events)
def test_dms_to_item_matches_type_serializer(event: Any) -> None:
    item = event.to_item()
    ser = TypeSerializer()
    plain: dict[str, Any] = {
        "stream_id": event.stream_id, "seq": event.seq, "active": event.active, "blob": event.blob,
        "flags": event.flags, "history": event.history, "amounts": event.amounts, "digests": event.digests,
    }  # fmt: skip
    for attribute, value in plain.items():
        if value is None:
            assert attribute not in item, attribute
            continue
        assert _canonical(item[attribute]) == _canonical(ser.serialize(value)), attribute
    de = TypeDeserializer()
    if event.flags is not None:
        assert de.deserialize(item["flags"]) == event.flags, "boto3 reads the generic map back to the same values"


def _canonical(av: Any) -> Any:
    """A wire value comparable across both serializers: Binary unwrapped, set members in sorted order."""
    ((tag, value),) = av.items()
    if tag in ("SS", "NS", "BS"):
        return {tag: sorted(_unwrap(v) for v in value)}
    if tag == "M":
        return {"M": {k: _canonical(v) for k, v in value.items()}}
    if tag == "L":
        return {"L": [_canonical(v) for v in value]}
    return {tag: _unwrap(value)}


def _unwrap(value: Any) -> Any:
    return value.value if isinstance(value, Binary) else value

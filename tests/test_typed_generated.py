"""Generated typed field references on DynamoDB Local, through generated repositories, on both transports.

The ``all_types`` golden module (every native field type, an embedded record, lists, maps, sets,
json, an epoch TTL) declares ``ThingFields``. Three things are written with their generated
``to_item``; each case is a typed condition and the things it must match, checked in every place a
condition goes: ``filter=`` on a scan, on an access pattern and on a count, and as a write condition
(``transact_check`` of each thing). Every write method then takes a typed ``condition=``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from test_repository_support import import_generated, make_table, transport_fixture  # noqa: F401  (transport)

from dynagen.errors import ConditionFailedError, TransactionCanceledError, VersionConflictError
from dynagen.runtime import Condition, Field
from dynagen.runtime.ops import delete_table, put_item
from dynagen.runtime.transport._botocore import BotocoreTransport
from dynagen.runtime.transport._interface import Transport

pytestmark = pytest.mark.ddb

GOLDEN = Path(__file__).parent / "goldens" / "all_types" / "expected" / "all_types.py"
m = import_generated(GOLDEN, "typed_generated_all_types")
Thing, Inner, Color, ThingFields, ThingRepository = m.Thing, m.Inner, m.Color, m.ThingFields, m.ThingRepository
T = ThingFields

TID = "t-1"
U1 = uuid.UUID("11111111-1111-4111-8111-111111111111")
U2 = uuid.UUID("22222222-2222-4222-8222-222222222222")
U3 = uuid.UUID("33333333-3333-4333-8333-333333333333")
PARIS = timezone(timedelta(hours=2))
SECOND = datetime(2024, 5, 1, 10, 0, 5, tzinfo=UTC)  # the three things' `when` lie within this second


def _things() -> dict[int, Any]:
    one = Thing(
        thing_id=TID, revision=1, s="apple pie", i=5, d=Decimal("10.50"), f=1.5, b=True, raw=b"\x01\x02\x03",
        when=SECOND, day=date(2024, 5, 1), uid=U1, color=Color.RED, doc={"theme": "dark", "beta": True},
        tags=["first", "second"], scores={"math": 90, "team.size": 3}, inner=Inner(label="top", weight=Decimal("1.5")),
        inners=[Inner(label="a", weight=Decimal("2")), Inner(label="b")], nested={"a": [Decimal("1.10"), Decimal("2")]},
        ss={"red", "big"}, ns={1, 2, 3}, ds={Decimal("1.10"), Decimal("2")}, bs={b"a", b"\xff"}, maybe="here",
        empty_ok="x", note="leave at door", expires=datetime(2030, 1, 1, tzinfo=UTC), version=4,
    )  # fmt: skip
    two = Thing(
        thing_id=TID, revision=2, s="banana", i=-3, d=Decimal("99"), f=0.25, b=False, raw=b"\x01\xff",
        when=SECOND + timedelta(microseconds=250000), day=date(2024, 6, 15), uid=U2, color=Color.GREEN, doc=None,
        tags=[], scores={}, inner=Inner(label="mid"), inners=[], nested={},
    )  # fmt: skip
    three = Thing(
        thing_id=TID, revision=3, s="cherry", i=7, d=Decimal("0.5"), f=3.0, b=False, raw=b"\x02",
        when=SECOND + timedelta(microseconds=500000), day=date(2023, 12, 31), uid=U3, color=Color.BLUE, doc=[1, 2, 3],
        tags=["only"], scores={"math": 40}, inner=Inner(label="top", weight=Decimal("-1")),
        inners=[Inner(label="c", weight=Decimal("0.5"))], nested={"a": [Decimal("9")], "b": []}, ss={"red"},
        ns={3, 4}, ds={Decimal("2")}, bs={b"b"}, maybe="", note="call first", expires=datetime(2024, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    return {1: one, 2: two, 3: three}


THINGS = _things()
ALL = {1, 2, 3}

# (case id, condition builder, the revisions it matches)
CASES: list[tuple[str, Callable[[], Condition], set[int]]] = [
    # strings
    ("str eq", lambda: T.s.eq("banana"), {2}),
    ("str ne", lambda: T.s.ne("banana"), {1, 3}),
    ("str lt", lambda: T.s < "b", {1}),
    ("str between", lambda: T.s.between("apple", "banana"), {1, 2}),
    ("str begins_with", lambda: T.s.begins_with("ch"), {3}),
    ("str contains", lambda: T.s.contains("pie"), {1}),
    ("str is_in", lambda: T.s.is_in(["apple pie", "cherry"]), {1, 3}),
    ("str size", lambda: T.s.size() > 6, {1}),
    ("key str field", lambda: T.thing_id.eq(TID), ALL),
    # numbers
    ("int eq", lambda: T.i.eq(5), {1}),
    ("int gt", lambda: T.i.gt(0), {1, 3}),
    ("int le negative", lambda: T.i <= -3, {2}),
    ("int between", lambda: T.i.between(-5, 5), {1, 2}),
    ("int is_in", lambda: T.i.is_in([7, -3]), {2, 3}),
    ("key int field", lambda: T.revision.ge(2), {2, 3}),
    ("decimal eq is numeric", lambda: T.d.eq(Decimal("10.5")), {1}),
    ("decimal gt", lambda: T.d.gt(Decimal(1)), {1, 2}),
    ("decimal lt", lambda: T.d < Decimal("0.6"), {3}),
    ("float gt", lambda: T.f.gt(1.0), {1, 3}),
    ("float eq", lambda: T.f.eq(0.25), {2}),
    ("float eq int", lambda: T.f.eq(3), {3}),
    # bool, uuid, enum
    ("bool eq", lambda: T.b.eq(True), {1}),
    ("bool ne", lambda: T.b.ne(True), {2, 3}),
    ("uuid eq", lambda: T.uid.eq(U2), {2}),
    ("uuid is_in", lambda: T.uid.is_in([U1, U3]), {1, 3}),
    ("enum eq", lambda: T.color.eq(Color.RED), {1}),
    ("enum ne", lambda: T.color.ne(Color.BLUE), {1, 2}),
    ("enum is_in", lambda: T.color.is_in([Color.GREEN, Color.BLUE]), {2, 3}),
    # bytes
    ("bytes eq", lambda: T.raw.eq(b"\x01\x02\x03"), {1}),
    ("bytes lt", lambda: T.raw < b"\x02", {1, 2}),
    ("bytes begins_with", lambda: T.raw.begins_with(b"\x01"), {1, 2}),
    ("bytes contains", lambda: T.raw.contains(b"\xff"), {2}),
    # datetimes: stored trimmed, all three within one second
    ("datetime ge whole second", lambda: T.when >= SECOND, ALL),
    ("datetime gt whole second", lambda: T.when.gt(SECOND), {2, 3}),
    ("datetime gt fraction", lambda: T.when.gt(SECOND + timedelta(microseconds=250000)), {3}),
    ("datetime lt fraction", lambda: T.when.lt(SECOND + timedelta(microseconds=300000)), {1, 2}),
    ("datetime le fraction", lambda: T.when.le(SECOND + timedelta(microseconds=250000)), {1, 2}),
    (
        "datetime between",
        lambda: T.when.between(SECOND + timedelta(microseconds=100000), SECOND + timedelta(microseconds=500000)),
        {2, 3},
    ),
    ("datetime eq", lambda: T.when.eq(SECOND + timedelta(microseconds=250000)), {2}),
    ("datetime eq other zone", lambda: T.when.eq(SECOND.astimezone(PARIS)), {1}),
    ("datetime begins_with", lambda: T.when.begins_with("2024-05-01T10:00:05"), ALL),
    ("date ge", lambda: T.day.ge(date(2024, 5, 1)), {1, 2}),
    ("date between", lambda: T.day.between(date(2024, 1, 1), date(2024, 5, 31)), {1}),
    ("date begins_with", lambda: T.day.begins_with("2024-0"), {1, 2}),
    ("epoch gt", lambda: T.expires.gt(datetime(2025, 1, 1, tzinfo=UTC)), {1}),
    ("epoch eq", lambda: T.expires.eq(datetime(2024, 1, 1, tzinfo=UTC)), {3}),
    ("epoch not_exists", lambda: T.expires.not_exists(), {2}),
    # json: the canonical text, None is NULL
    ("json eq in any key order", lambda: T.doc.eq({"beta": True, "theme": "dark"}), {1}),
    ("json eq None", lambda: T.doc.eq(None), {2}),
    ("json ne None", lambda: T.doc.ne(None), {1, 3}),
    ("json eq list", lambda: T.doc.eq([1, 2, 3]), {3}),
    ("json contains_text", lambda: T.doc.contains_text('"beta":true'), {1}),
    ("json attribute_type NULL", lambda: T.doc.attribute_type("NULL"), {2}),
    ("json size", lambda: T.doc.size().eq(len('{"beta":true,"theme":"dark"}')), {1}),
    # lists
    ("list contains", lambda: T.tags.contains("second"), {1}),
    ("list element", lambda: T.tags[0].eq("only"), {3}),
    ("list element exists", lambda: T.tags[1].exists(), {1}),
    ("list eq", lambda: T.tags.eq(["first", "second"]), {1}),
    ("list size", lambda: T.tags.size().eq(0), {2}),
    ("list of records: field", lambda: T.inners[0].label.eq("a"), {1}),
    ("list of records: decimal", lambda: T.inners[0].weight < Decimal(1), {3}),
    ("list of records: optional missing", lambda: T.inners[1].weight.not_exists() & T.inners[1].exists(), {1}),
    ("list of records: contains", lambda: T.inners.contains(Inner(label="c", weight=Decimal("0.5"))), {3}),
    ("list of records: size", lambda: T.inners.size() >= 1, {1, 3}),
    # maps
    ("map entry gt", lambda: T.scores["math"].gt(50), {1}),
    ("map entry key with a dot", lambda: T.scores["team.size"].eq(3), {1}),
    ("map entry exists", lambda: T.scores["math"].exists(), {1, 3}),
    ("map eq", lambda: T.scores.eq({"math": 40}), {3}),
    ("map size", lambda: T.scores.size().eq(0), {2}),
    ("map of lists: element", lambda: T.nested["a"][0].eq(Decimal("1.1")), {1}),
    ("map of lists: contains", lambda: T.nested["a"].contains(Decimal("9")), {3}),
    ("map of lists: size", lambda: T.nested["b"].size().eq(0), {3}),
    # embedded record
    ("record field", lambda: T.inner.label.eq("top"), {1, 3}),
    ("record decimal field", lambda: T.inner.weight.gt(Decimal(0)), {1}),
    ("record optional field missing", lambda: T.inner.weight.not_exists(), {2}),
    ("record whole", lambda: T.inner.eq(Inner(label="mid")), {2}),
    ("record attribute_type", lambda: T.inner.attribute_type("M"), ALL),
    # sets (an empty set is stored as NULL)
    ("string set contains", lambda: T.ss.contains("red"), {1, 3}),
    ("string set eq", lambda: T.ss.eq({"big", "red"}), {1}),
    ("string set size", lambda: T.ss.size().eq(2), {1}),
    ("empty set is NULL", lambda: T.ss.attribute_type("NULL"), {2}),
    ("int set contains", lambda: T.ns.contains(3), {1, 3}),
    ("int set eq", lambda: T.ns.eq({4, 3}), {3}),
    ("decimal set contains numerically", lambda: T.ds.contains(Decimal("1.1")), {1}),
    ("decimal set contains", lambda: T.ds.contains(Decimal("2.0")), {1, 3}),
    ("bytes set contains", lambda: T.bs.contains(b"\xff"), {1}),
    ("bytes set attribute_type", lambda: T.bs.attribute_type("BS"), {1, 3}),
    # optional and omit_empty strings, a stored name that is not the field's
    ("optional exists", lambda: T.maybe.exists(), {1, 3}),
    ("optional not_exists", lambda: T.maybe.not_exists(), {2}),
    ("optional empty string", lambda: T.maybe.eq(""), {3}),
    ("omit_empty left out", lambda: T.empty_ok.not_exists(), {2, 3}),
    ("renamed attribute", lambda: T.note.begins_with("call"), {3}),
    # composition, and the stored-name escape hatch
    ("or", lambda: T.color.eq(Color.RED) | (T.i >= 7), {1, 3}),
    ("and not", lambda: ~T.b.eq(True) & T.inner.label.eq("top"), {3}),
    ("with a stored-name Field", lambda: T.d.lt(Decimal(50)) & Field("noteText").begins_with({"S": "call"}), {3}),
]


def _repo(transport: Transport, table: str) -> Any:
    return ThingRepository(transport, table_name=table)


def _table(ddb_client: Any, prefix: str) -> str:
    """A copy of the things table without its TTL: DynamoDB Local deletes expired items (a thing expired in 2024)."""
    definition = dict(m.TABLES["things"])
    definition.pop("TimeToLiveSpecification", None)
    return make_table(ddb_client, definition, prefix)


@pytest.fixture(scope="module")
def loaded(ddb_client: Any) -> Iterator[str]:
    """A table holding the three things (as ``to_item`` writes them) and another entity's item in their partition."""
    name = _table(ddb_client, "typed-gen")
    setup = BotocoreTransport(ddb_client)
    for thing in THINGS.values():
        put_item(setup, name, thing.to_item())
    put_item(setup, name, {"PK": {"S": f"THING#{TID}"}, "SK": {"S": "NOTE#1"}, "kind": {"S": "NOTE"}, "s": {"S": "banana"}})
    yield name
    delete_table(setup, name)


def _revisions(things: list[Any]) -> set[int]:
    return {t.revision for t in things}


@pytest.mark.parametrize(("case", "build", "expected"), CASES, ids=[c[0] for c in CASES])
def test_every_place_a_filter_or_condition_goes(
    transport: Transport, loaded: str, case: str, build: Callable[[], Condition], expected: set[int]
) -> None:
    repo = _repo(transport, loaded)
    cond = build()
    assert _revisions(repo.scan(filter=cond, consistent=True).items) == expected, f"scan: {case}"
    assert _revisions(list(repo.iter_scan(filter=cond))) == expected, f"iter_scan: {case}"
    assert _revisions(repo.revisions(thing_id=TID, filter=cond, consistent=True).items) == expected, f"query: {case}"
    assert repo.count(filter=cond) == len(expected), f"count: {case}"
    # As a write condition: a transaction of one condition check goes through exactly where it holds.
    for revision, thing in THINGS.items():
        check = repo.transact_check(thing.key(), cond)
        if revision in expected:
            repo.transact_write([check])
        else:
            with pytest.raises(TransactionCanceledError) as caught:
                repo.transact_write([check])
            assert caught.value.reasons[0].code == "ConditionalCheckFailed", case


@pytest.fixture
def table(transport: Transport, ddb_client: Any) -> Iterator[str]:
    name = _table(ddb_client, "typed-writes")
    yield name
    delete_table(BotocoreTransport(ddb_client), name)


def test_every_write_takes_a_typed_condition(transport: Transport, table: str) -> None:
    repo = _repo(transport, table)
    one, two = _things()[1], _things()[2]
    red, green = T.color.eq(Color.RED), T.color.eq(Color.GREEN)
    with pytest.raises(ConditionFailedError):
        repo.create(one, condition=T.s.exists())  # no item yet: nothing exists
    created = repo.create(one, condition=T.s.not_exists())
    assert [t.revision for t in repo.parallel_scan(2, filter=red)] == [1]
    assert [t.revision for t in repo.iter_revisions(thing_id=TID, filter=red & T.b.eq(True))] == [1]
    with pytest.raises(ConditionFailedError):
        repo.put(created, condition=green)
    created = repo.put(created, condition=red & T.inner.label.eq("top"))
    assert created.version == 1
    with pytest.raises(ConditionFailedError):
        repo.update(created, ["s"], condition=T.tags.contains("nope"))
    created = repo.update(created, ["s"], condition=T.tags.contains("second") & (T.when >= SECOND))
    with pytest.raises(ConditionFailedError):
        repo.update_by_key(T.i.add(1), thing_id=TID, revision=1, condition=T.doc.eq(None))
    assert repo.update_by_key(T.i.add(1), thing_id=TID, revision=1, condition=T.doc.ne(None)).i == 6
    # Transaction actions: a failed typed condition cancels the whole transaction.
    repo.create(two)
    current = repo.get(thing_id=TID, revision=1)
    with pytest.raises(TransactionCanceledError):
        repo.transact_write([
            repo.transact_put(current, condition=red),
            repo.transact_update(two, ["s"], condition=red),  # two is green
        ])  # fmt: skip
    repo.transact_write([
        repo.transact_put(current, condition=red & T.ss.contains("big")),
        repo.transact_update(two, ["s"], condition=green),
    ])  # fmt: skip
    with pytest.raises(TransactionCanceledError):
        repo.transact_write([repo.transact_update_by_key(T.f.set(0.5), thing_id=TID, revision=2, condition=T.f.gt(1.0))])
    repo.transact_write([
        repo.transact_update_by_key(T.f.set(0.5), thing_id=TID, revision=2, condition=T.f.eq(0.25)),
        repo.transact_check(current.key(), T.version.eq(current.version + 1)),  # the transact_put above
    ])  # fmt: skip
    assert repo.get(thing_id=TID, revision=2).f == 0.5
    with pytest.raises(TransactionCanceledError):
        repo.transact_write([repo.transact_delete(current.key(), condition=T.i.gt(100))])
    repo.transact_write([repo.transact_delete(current.key(), condition=T.i.gt(0))])
    with pytest.raises(ConditionFailedError):
        repo.delete(thing_id=TID, revision=2, condition=T.uid.eq(U1))
    repo.delete(thing_id=TID, revision=2, condition=T.uid.eq(U2) & T.expires.not_exists())
    assert repo.count() == 0
    # transact_create, whose item must be new, with a condition too (on an absent item: not_exists holds).
    repo.transact_write([repo.transact_create(two, condition=T.s.not_exists())])
    assert repo.get(thing_id=TID, revision=2).s == "banana"


def test_a_typed_condition_sees_what_to_item_stored_for_a_key_datetime(transport: Transport, ddb_client: Any) -> None:
    # A datetime that is an index key itself is stored fixed-width (9 fraction digits) by to_item; its
    # reference encodes it the same way, so equality and order hold on the stored text.
    tasks = import_generated(Path(__file__).parent / "goldens" / "typed_updates" / "expected" / "tasks.py", "typed_tasks_dt")
    name = make_table(ddb_client, tasks.TABLES["tasks"], "typed-dt")
    try:
        repo = tasks.TaskRepository(transport, table_name=name)
        due = datetime(2024, 5, 1, 9, 30, 0, 500000, tzinfo=UTC)
        task = tasks.Task(project="p", task_id="t1", owner="o", team="x", due_on=due.date(), due_at=due, checklist=[])
        repo.create(task)
        assert task.to_item()["dueAt"] == {"S": "2024-05-01T09:30:00.500000000Z"}
        F = tasks.TaskFields
        assert repo.count(filter=F.due_at.eq(due)) == 1
        assert repo.count(filter=F.due_at.gt(due.replace(microsecond=0))) == 1
        assert repo.count(filter=F.due_at.lt(due)) == 0
        with pytest.raises(VersionConflictError):
            repo.update_by_key(F.size_.set(3), project="p", task_id="t1", expected_version=5)
    finally:
        delete_table(BotocoreTransport(ddb_client), name)


# -- a DMS module: untyped maps and lists, number and binary sets, json, NULL ---------------------------

DMS = import_generated(Path(__file__).parent / "goldens" / "dms_minimal" / "expected" / "schema.py", "typed_generated_dms")
E = DMS.EventFields


def test_dms_references_on_untyped_values_sets_and_json(transport: Transport, ddb_client: Any) -> None:
    name = make_table(ddb_client, DMS.TABLES["events"], "typed-dms")
    try:
        repo = DMS.EventRepository(transport, table_name=name)
        repo.create(DMS.Event(stream_id="s", seq=1, active=True, payload={"b": [1, 2], "a": None},
                              flags={"env": "prod", "n": 3, "deep": {"x": [True]}}, history=[1, "two", None],
                              amounts={Decimal("1.50"), Decimal(2)}, digests={b"\x00", b"\xff"}, blob=b"\x01\x02"))  # fmt: skip
        repo.create(DMS.Event(stream_id="s", seq=2, active=False, flags={"env": "dev"}, history=[]))

        def matching(cond: Condition) -> set[int]:
            found = {e.seq for e in repo.scan(filter=cond, consistent=True).items}
            assert {e.seq for e in repo.iter_scan(filter=cond)} == found
            assert repo.count(filter=cond) == len(found)
            return found

        assert matching(E.flags["env"].eq("prod")) == {1}
        assert matching(E.flags["n"] > 2) == {1}
        assert matching(E.flags["deep"]["x"][0].eq(True)) == {1}
        assert matching(E.history[1].begins_with("tw")) == {1}
        assert matching(E.history.contains("two")) == {1}
        assert matching(E.history.size().eq(0)) == {2}
        assert matching(E.amounts.contains(Decimal("1.5"))) == {1}
        assert matching(E.digests.contains(b"\xff")) == {1}
        assert matching(E.blob.begins_with(b"\x01")) == {1}
        assert matching(E.payload.eq({"a": None, "b": [1, 2]})) == {1}
        assert matching(E.payload.eq(None)) == {2}
        assert matching(E.active.eq(False) & E.tombstone.not_exists()) == {2}
        updated = repo.update_by_key(
            E.flags["env"].set("staging"), E.history.append([4]), E.amounts.add({Decimal(3)}), E.tombstone.set(None),
            stream_id="s", seq=1, condition=E.flags["env"].eq("prod"),
        )  # fmt: skip
        assert updated.flags["env"] == "staging" and updated.history == [1, "two", None, 4]
        assert updated.amounts == {Decimal("1.5"), Decimal(2), Decimal(3)}
        assert matching(E.tombstone.attribute_type("NULL")) == {1}
        old = repo.delete(stream_id="s", seq=2, return_old=True, condition=E.flags["env"].eq("dev"))
        assert old is not None and old.flags == {"env": "dev"}
    finally:
        delete_table(BotocoreTransport(ddb_client), name)

"""Updates by key (typed actions, no read first), the old item of a put or delete, and ``get_fields`` projections.

On DynamoDB Local, both transports, with the ``typed_updates`` golden module (``tasks``): index keys
built from several fields (GSI1PK from owner and team, GSI1SK from priority, due_on and the key), a
sparse index (GSI2, from the optional assignee), lifecycle fields and sets stored empty as NULL.
Refusals are checked on a transport that refuses every request: nothing is sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from test_repository_support import (  # noqa: F401  (transport)
    NoRequests,
    Recording,
    import_generated,
    make_table,
    transport_fixture,
)

from dynagen.errors import (
    ConditionFailedError,
    InvalidValueError,
    ItemNotFoundError,
    TransactionCanceledError,
    VersionConflictError,
)
from dynagen.runtime import Update, UpdateAction
from dynagen.runtime.ops import delete_table, get_item
from dynagen.runtime.transport._botocore import BotocoreTransport
from dynagen.runtime.transport._interface import Transport
from generated_example.payments import CustomerFields, CustomerRepository, PaymentFields

GOLDEN = Path(__file__).parent / "goldens" / "typed_updates" / "expected" / "tasks.py"
tasks = import_generated(GOLDEN, "update_by_key_tasks")
Task, Thread, Comment, Priority = tasks.Task, tasks.Thread, tasks.Comment, tasks.Priority
F = tasks.TaskFields
NOW = datetime(2024, 5, 6, 7, 8, 9, 120000, tzinfo=UTC)
DUE = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def a_task(task_id: str = "t1", **changes: Any) -> Any:
    values: dict[str, Any] = {
        "project": "p",
        "task_id": task_id,
        "owner": "ann",
        "team": "core",
        "due_on": date(2024, 6, 1),
        "due_at": DUE,
        "checklist": ["a"],
    }
    values.update(changes)
    return Task(**values)


@pytest.fixture
def repo(transport: Transport, ddb_client: Any) -> Iterator[Any]:
    name = make_table(ddb_client, tasks.TABLES["tasks"], "by-key")
    tasks.TaskRepository.clock = staticmethod(lambda: NOW)
    try:
        yield tasks.TaskRepository(transport, table_name=name)
    finally:
        del tasks.TaskRepository.clock
        delete_table(BotocoreTransport(ddb_client), name)


def _stored(repo: Any, task_id: str = "t1") -> dict[str, Any]:
    item = get_item(repo.transport, repo.table_name, Task.make_key(project="p", task_id=task_id), consistent=True)
    assert item is not None
    return item


def _owned(repo: Any, owner: str, team: str) -> list[str]:
    return [t.task_id for t in repo.iter_tasks_of_owner(owner=owner, team=team)]


# -- updates -------------------------------------------------------------------------------------------


def test_typed_actions_change_the_item_and_return_it_as_stored(repo: Any) -> None:
    created = repo.create(a_task(tags={"x"}, notes={"k": "v"}))
    assert created.version == 0
    updated = repo.update_by_key(
        F.estimate.set(Decimal("2.5")),
        F.size_.add(3),
        F.checklist.append(["b", "c"]),
        F.notes["k2"].set("v2"),
        F.tags.add({"y"}),
        F.points.add({1, 2}),
        F.thread.set(Thread(title="t", comments=[Comment(text="hi")])),
        F.meta.set({"b": 1, "a": [True, None]}),
        project="p",
        task_id="t1",
    )
    assert updated == repo.get(project="p", task_id="t1", consistent=True)
    assert (updated.estimate, updated.size, updated.checklist) == (Decimal("2.5"), 3, ["a", "b", "c"])
    assert (updated.notes, updated.tags, updated.points) == ({"k": "v", "k2": "v2"}, {"x", "y"}, {1, 2})
    assert updated.thread == Thread(title="t", comments=[Comment(text="hi")])
    assert updated.meta == {"a": [True, None], "b": 1}
    # Lifecycle: updated_at stamped, the version one up, created_at untouched.
    assert (updated.updated_at, updated.version, updated.created_at) == (NOW, 1, created.created_at)
    # Nested paths: an element of a list of records, a map entry removed, a list element removed.
    again = repo.update_by_key(
        F.thread.comments[0].text.set("hello"),
        F.notes["k"].remove(),
        F.checklist[0].remove(),
        F.meta.set(None),
        project="p",
        task_id="t1",
    )
    assert again.thread.comments[0].text == "hello"
    assert (again.notes, again.checklist, again.version) == ({"k2": "v2"}, ["b", "c"], 2)
    assert again.meta is None and _stored(repo)["meta"] == {"NULL": True}  # json None is NULL, as to_item writes


def test_index_keys_follow_the_fields_they_are_built_from(repo: Any) -> None:
    task = repo.create(a_task())
    assert _owned(repo, "ann", "core") == ["t1"]
    moved = repo.update_by_key(F.owner.set("bob"), F.team.set("ops"), project="p", task_id="t1")
    assert (moved.owner, moved.team) == ("bob", "ops")
    assert _owned(repo, "ann", "core") == [] and _owned(repo, "bob", "ops") == ["t1"]
    assert _stored(repo)["GSI1PK"] == {"S": "OWNER#bob#ops"}
    # GSI1SK is built from priority, due_on and the key's task_id: both fields set, the key known.
    repo.update_by_key(F.priority.set(Priority.HIGH), F.due_on.set(date(2024, 7, 1)), project="p", task_id="t1")
    assert _stored(repo)["GSI1SK"] == {"S": "high#2024-07-01#t1"}
    assert [t.task_id for t in repo.tasks_of_owner(owner="bob", team="ops", priority_eq=Priority.HIGH).items] == ["t1"]
    # The sparse index: the optional assignee writes GSI2PK when set, and its removal takes the item out.
    assert repo.tasks_of_assignee(assignee="cy").items == []
    repo.update_by_key(F.assignee.set("cy"), project="p", task_id="t1")
    assert [t.task_id for t in repo.tasks_of_assignee(assignee="cy").items] == ["t1"]
    repo.update_by_key(F.assignee.remove(), project="p", task_id="t1")
    assert repo.tasks_of_assignee(assignee="cy").items == [] and "GSI2PK" not in _stored(repo)
    # Every key written as to_item would write it for the same values.
    final = repo.get(project="p", task_id="t1", consistent=True)
    expected = {k: v for k, v in final.to_item().items() if k.startswith(("GSI", "PK", "SK"))}
    assert {k: v for k, v in _stored(repo).items() if k.startswith(("GSI", "PK", "SK"))} == expected
    assert final.version == task.version + 4


def test_versions_are_checked_when_given_and_always_go_up(repo: Any) -> None:
    repo.create(a_task())
    assert repo.update_by_key(F.size_.set(1), project="p", task_id="t1").version == 1
    with pytest.raises(VersionConflictError, match="expected 0, stored 1"):
        repo.update_by_key(F.size_.set(2), project="p", task_id="t1", expected_version=0)
    assert repo.update_by_key(F.size_.set(2), project="p", task_id="t1", expected_version=1).version == 2
    # A model read before is stale now: its version check fails, as it must.
    with pytest.raises(VersionConflictError):
        repo.update(a_task(version=1), ["owner"])


def test_an_update_by_key_never_creates_an_item(repo: Any) -> None:
    with pytest.raises(ConditionFailedError, match="no Task item with key"):
        repo.update_by_key(F.size_.set(1), project="p", task_id="absent")
    assert repo.find(project="p", task_id="absent", consistent=True) is None
    repo.create(a_task())
    with pytest.raises(ConditionFailedError) as caught:
        repo.update_by_key(F.size_.set(1), project="p", task_id="t1", condition=F.owner.eq("zed"))
    assert type(caught.value) is ConditionFailedError and caught.value.item is not None  # the caller's condition


def test_sets_stored_empty_take_members_and_lose_none(repo: Any) -> None:
    repo.create(a_task())
    assert _stored(repo)["tags"] == {"NULL": True}  # an empty set is stored as NULL
    assert repo.update_by_key(F.tags.add({"a"}), project="p", task_id="t1").tags == {"a"}
    assert repo.update_by_key(F.points.delete({1}), F.size_.set(5), project="p", task_id="t1").points == set()
    updated = repo.update_by_key(F.tags.delete({"a"}), F.points.add({7}), project="p", task_id="t1")
    assert (updated.tags, updated.points, updated.size) == (set(), {7}, 5)


def test_update_by_key_as_a_transaction_action(repo: Any) -> None:
    repo.create(a_task())
    repo.create(a_task("t2"))
    move = repo.transact_update_by_key(F.owner.set("bob"), F.team.set("ops"), project="p", task_id="t1", expected_version=0)
    stale = repo.transact_update_by_key(F.size_.set(9), project="p", task_id="t2", expected_version=7)
    with pytest.raises(TransactionCanceledError):
        repo.transact_write([move, stale])
    assert _owned(repo, "bob", "ops") == []
    fine = repo.transact_update_by_key(F.size_.set(9), project="p", task_id="t2", expected_version=0)
    repo.transact_write([move, fine])
    assert _owned(repo, "bob", "ops") == ["t1"]
    assert repo.get(project="p", task_id="t2", consistent=True).size == 9


def test_the_request_rewrites_only_the_keys_it_must(transport: Transport, ddb_client: Any) -> None:
    name = make_table(ddb_client, tasks.TABLES["tasks"], "by-key-req")
    try:
        recording = Recording(transport)
        repo = tasks.TaskRepository(recording, table_name=name)
        repo.create(a_task())
        repo.update_by_key(F.owner.set("bob"), F.team.set("ops"), F.size_.add(1), project="p", task_id="t1")
        operation, request = recording.requests[-1]
        assert operation == "UpdateItem"
        names = request["ExpressionAttributeNames"]
        set_names = {names[n] for n in names if f"{n} =" in request["UpdateExpression"]}
        assert set_names == {"owner", "team", "GSI1PK", "updatedAt"}  # not GSI1SK, GSI2PK, GSI2SK
        assert request["ReturnValues"] == "ALL_NEW"
    finally:
        delete_table(BotocoreTransport(ddb_client), name)


# -- refused before any request ------------------------------------------------------------------------


def _refused(field: str, *actions: UpdateAction, **options: Any) -> str:
    repo = tasks.TaskRepository(NoRequests())
    with pytest.raises(InvalidValueError) as caught:
        repo.update_by_key(*actions, project="p", task_id="t1", **options)
    assert caught.value.field == field, str(caught.value)
    with pytest.raises(InvalidValueError):
        repo.transact_update_by_key(*actions, project="p", task_id="t1", **options)
    return str(caught.value)


def test_an_update_of_part_of_an_index_key_is_refused_naming_what_is_missing() -> None:
    message = _refused("team", F.owner.set("bob"))
    assert "GSI1PK" in message and "owner, team" in message and "sets owner but not team" in message
    message = _refused("due_on", F.priority.set(Priority.LOW), F.size_.set(1))
    assert "GSI1SK" in message and "priority, due_on, task_id" in message and "not due_on" in message


def test_what_cannot_be_updated_by_key_is_refused() -> None:
    assert "primary key" in _refused("task_id", F.task_id.set("t2"))
    assert "primary key" in _refused("project", F.project.set("q"))
    for owned in (F.version.add(1), F.updated_at.set(NOW), F.created_at.remove()):
        assert "maintained by dynagen" in _refused(owned.path.replace("At", "_at"), owned)
    # Fields that build index keys: only a whole new value (or none) says what the keys become.
    assert "set() or remove()" in _refused("owner", F.owner.set_if_missing("x"), F.team.set("y"))
    assert "set() or remove()" in _refused("priority", F.priority.set_if_missing(Priority.LOW))
    # An action on something Task does not have (another model's reference), no action, a bad version.
    assert "has no field stored as 'title'" in _refused("title", tasks.ThreadFields.title.set("x"))
    assert "at least one action" in _refused("actions")
    _refused("expected_version", F.size_.set(1), expected_version=-1)
    _refused("actions", "size = 1")  # type: ignore[arg-type]
    _refused("size", F.size_.set(1), F.size_.add(1))  # one path, two actions
    # The stored-name escape hatch builds actions too: they are checked the same way.
    (raw,) = Update().set("GSI1PK", {"S": "OWNER#x#y"}).actions
    assert "has no field stored as 'GSI1PK'" in _refused("GSI1PK", raw)


def test_removing_a_defaulted_field_an_index_key_is_built_from_is_refused() -> None:
    """priority (default normal) builds GSI1SK: removing it removed the key, so the task left its owner's
    index while the model read priority=normal (and the next put put it back)."""
    message = _refused("priority", F.priority.remove())
    assert "builds index key GSI1SK" in message and "set it to that value instead" in message
    repo = tasks.TaskRepository(NoRequests())
    stored = Task(project="p", task_id="t1", owner="o", team="t", due_on=date(2024, 5, 6), due_at=NOW, checklist=[], version=1)
    with pytest.raises(InvalidValueError) as caught:
        repo.update(stored, [], remove=["priority"])
    assert caught.value.field == "priority"
    # An optional field that builds a key may go: the item leaves that sparse index (GSI2, assignee).
    assert F.assignee.remove().clause == "REMOVE"


def test_a_model_without_a_version_refuses_expected_version() -> None:
    repo = CustomerRepository(NoRequests())
    with pytest.raises(InvalidValueError, match="Customer has no version field"):
        repo.update_by_key(CustomerFields.name.set("x"), partner_id="p", customer_id=a_uuid(), expected_version=1)


def a_uuid() -> Any:
    import uuid

    return uuid.UUID(int=1)


# -- the old item of a put or a delete -------------------------------------------------------------------


def test_put_and_delete_return_the_old_item_on_request(repo: Any) -> None:
    first, old = repo.put(a_task(), return_old=True)
    assert old is None and first.version == 1
    second, old = repo.put(a_task(owner="bob", version=first.version), return_old=True)
    assert old == first and second.owner == "bob" and second.version == 2
    assert repo.put(a_task(owner="cy", version=2)).owner == "cy"  # without it: the stamped model only
    assert repo.delete(project="p", task_id="t1") is None  # without return_old: nothing read back
    repo.create(a_task())
    gone = repo.delete(project="p", task_id="t1", return_old=True, expected_version=0)
    assert gone is not None and gone.task_id == "t1" and gone.version == 0
    assert repo.delete(project="p", task_id="t1", return_old=True) is None  # there was none


# -- projections -----------------------------------------------------------------------------------------


def test_get_fields_reads_only_the_chosen_fields(transport: Transport, ddb_client: Any) -> None:
    name = make_table(ddb_client, tasks.TABLES["tasks"], "by-key-proj")
    try:
        recording = Recording(transport)
        repo = tasks.TaskRepository(recording, table_name=name)
        repo.create(a_task(tags={"a"}, thread=Thread(title="t", comments=[])))
        got = repo.get_fields(F.owner, F.estimate, F.tags, F.thread, F.priority, F.due_at, project="p", task_id="t1")
        operation, request = recording.requests[-1]
        assert operation == "GetItem"
        projected = {request["ExpressionAttributeNames"][n.strip()] for n in request["ProjectionExpression"].split(",")}
        assert projected == {"owner", "estimate", "tags", "thread", "priority", "dueAt"}
        assert set(got.item) == {"owner", "tags", "thread", "priority", "dueAt"}  # estimate is not stored
        owner: str = got[F.owner]
        assert owner == "ann" and got[F.tags] == {"a"} and got[F.thread] == Thread(title="t", comments=[])
        assert got[F.priority] is Priority.NORMAL and got[F.due_at] == DUE
        assert got.get(F.estimate) is None
        with pytest.raises(InvalidValueError, match="holds no value for it"):
            got[F.estimate]
        with pytest.raises(InvalidValueError, match="not read"):
            got[F.team]
        with pytest.raises(InvalidValueError, match="not read"):
            got[PaymentFields.status]  # another model's reference
        # Only whole fields of this model, read through its own references.
        for wrong in (F.thread.title, F.checklist[0], PaymentFields.attempts, CustomerFields.name):
            with pytest.raises(InvalidValueError, match="get_fields reads whole fields of Task"):
                repo.get_fields(wrong, project="p", task_id="t1")
        with pytest.raises(InvalidValueError, match="at least one field"):
            repo.get_fields(project="p", task_id="t1")
        with pytest.raises(ItemNotFoundError):
            repo.get_fields(F.owner, project="p", task_id="absent")
    finally:
        delete_table(BotocoreTransport(ddb_client), name)


def test_a_projected_value_that_cannot_be_read_names_the_field(repo: Any) -> None:
    repo.create(a_task())
    item = _stored(repo)
    item["priority"] = {"S": "urgent"}  # written by another tool
    from dynagen.runtime.ops import put_item

    put_item(repo.transport, repo.table_name, item)
    got = repo.get_fields(F.priority, F.owner, project="p", task_id="t1")
    assert got[F.owner] == "ann"
    with pytest.raises(InvalidValueError, match=r"cannot read the stored value as Task.priority") as caught:
        got[F.priority]
    assert caught.value.field == "priority"

"""Single-item operations and table management against DynamoDB Local."""

from __future__ import annotations

from typing import Any

import pytest
from ops_support import (
    FakeClock,
    Recording,
    key,
    table_definition,
    transport_fixture,  # noqa: F401  (the `transport` fixture: both transports)
)

from dynagen.errors import ConditionFailedError, DeadlineExceededError, InvalidValueError
from dynagen.runtime.ops._items import delete_item, get_item, put_item, update_item
from dynagen.runtime.ops._tables import create_table, delete_table, ensure_table
from dynagen.runtime.transport._bounds import Deadline
from dynagen.runtime.transport._interface import Transport
from dynagen.runtime.wire._expressions import Field, Update

pytestmark = pytest.mark.ddb

RESERVED = ("status", "name", "data", "ttl", "size", "count")


@pytest.fixture
def table(transport: Transport, table_name: str) -> str:
    create_table(transport, table_definition(table_name))
    return table_name


def _item(pk: str, sk: str, **extra: Any) -> dict[str, Any]:
    return {**key(pk, sk), **extra}


def test_create_table_waits_active_and_applies_ttl(transport: Transport, table_name: str) -> None:
    description = create_table(transport, table_definition(table_name))
    assert description["TableStatus"] == "ACTIVE"
    ttl = transport.call("DescribeTimeToLive", {"TableName": table_name})["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] in ("ENABLED", "ENABLING")
    assert ttl["AttributeName"] == "ttl"
    # ensure_table: already there is fine; missing gets created.
    assert ensure_table(transport, table_definition(table_name)) is False
    other = table_name + "-2"
    assert ensure_table(transport, table_definition(other, ttl=False)) is True
    assert delete_table(transport, other) is True
    assert delete_table(transport, other) is False
    with pytest.raises(Exception) as info:
        delete_table(transport, other, missing_ok=False)
    assert "ResourceNotFoundException" in str(info.value)


def test_get_put_delete_round_trip(transport: Transport, table: str) -> None:
    assert get_item(transport, table, key("U#1", "P")) is None
    put_item(transport, table, _item("U#1", "P", status={"S": "open"}, n={"N": "1"}))
    assert get_item(transport, table, key("U#1", "P"), consistent=True) == _item(
        "U#1", "P", status={"S": "open"}, n={"N": "1"}
    )
    assert get_item(transport, table, key("U#1", "P"), projection=["status"]) == {"status": {"S": "open"}}
    assert delete_item(transport, table, key("U#1", "P"), return_old=True) == _item(
        "U#1", "P", status={"S": "open"}, n={"N": "1"}
    )
    assert get_item(transport, table, key("U#1", "P")) is None
    assert delete_item(transport, table, key("U#1", "P"), return_old=True) is None  # missing: no error


def test_condition_failure_carries_current_item(transport: Transport, table: str) -> None:
    stored = _item("U#1", "P", version={"N": "3"})
    put_item(transport, table, stored)
    with pytest.raises(ConditionFailedError) as info:
        put_item(transport, table, _item("U#1", "P"), condition=Field("PK").not_exists())
    assert info.value.item == stored
    with pytest.raises(ConditionFailedError) as info:
        update_item(
            transport,
            table,
            key("U#1", "P"),
            Update().add("version", {"N": "1"}),
            condition=Field("version").eq({"N": "2"}),
        )
    assert info.value.item == stored
    with pytest.raises(ConditionFailedError) as info:
        delete_item(transport, table, key("U#1", "P"), condition=Field("version").eq({"N": "9"}))
    assert info.value.item == stored
    # Against a missing item the condition fails without an item to report.
    with pytest.raises(ConditionFailedError) as info:
        delete_item(transport, table, key("U#2", "P"), condition=Field("PK").exists())
    assert info.value.item is None


def test_update_returns_new_item_and_supports_every_action(transport: Transport, table: str) -> None:
    put_item(
        transport,
        table,
        _item("U#1", "P", gone={"S": "x"}, tags={"SS": ["a", "b"]}, doc={"M": {"inner": {"L": [{"N": "1"}]}}}),
    )
    new = update_item(
        transport,
        table,
        key("U#1", "P"),
        Update()
        .set("title", {"S": "t"})
        .set_if_not_exists("created", {"S": "c1"})
        .remove("gone")
        .add("version", {"N": "1"})
        .delete("tags", {"SS": ["a"]})
        .append("log", {"L": [{"S": "e1"}]})
        .append("doc.inner", {"L": [{"N": "2"}]})
        .prepend("stack", {"L": [{"S": "s1"}]}),
        condition=Field("PK").exists(),
    )
    assert new == _item(
        "U#1",
        "P",
        title={"S": "t"},
        created={"S": "c1"},
        version={"N": "1"},
        tags={"SS": ["b"]},
        log={"L": [{"S": "e1"}]},
        doc={"M": {"inner": {"L": [{"N": "1"}, {"N": "2"}]}}},
        stack={"L": [{"S": "s1"}]},
    )
    again = update_item(
        transport,
        table,
        key("U#1", "P"),
        Update()
        .set_if_not_exists("created", {"S": "c2"})
        .add("version", {"N": "1"})
        .prepend("stack", {"L": [{"S": "s0"}]}),
    )
    assert again["created"] == {"S": "c1"}
    assert again["version"] == {"N": "2"}
    assert again["stack"] == {"L": [{"S": "s0"}, {"S": "s1"}]}


def test_reserved_words_in_every_single_item_expression(transport: Transport, table: str) -> None:
    words = {w: {"S": f"{w}-value"} for w in RESERVED}
    put_item(transport, table, _item("R", "1", **words), condition=Field("status").not_exists())
    condition = Field("status").eq({"S": "status-value"})
    for word in RESERVED:
        condition = condition & Field(word).exists() & Field(word).size().gt(0) & Field(word).begins_with({"S": word})
    update = Update()
    for word in RESERVED:
        update = update.set(word, {"S": f"{word}-2"})
    new = update_item(transport, table, key("R", "1"), update, condition=condition)
    assert all(new[w] == {"S": f"{w}-2"} for w in RESERVED)
    assert get_item(transport, table, key("R", "1"), projection=list(RESERVED)) == {
        w: {"S": f"{w}-2"} for w in RESERVED
    }
    nested = update_item(
        transport, table, key("R", "1"), Update().set("data", {"M": {"name": {"M": {"size": {"N": "1"}}}}})
    )
    assert nested["data"] == {"M": {"name": {"M": {"size": {"N": "1"}}}}}
    update_item(
        transport,
        table,
        key("R", "1"),
        Update().add("data.name.size", {"N": "2"}).remove("ttl"),
        condition=Field("data.name.size").eq({"N": "1"}) & Field("count").is_in([{"S": "count-2"}]),
    )
    assert get_item(transport, table, key("R", "1"), projection=["data.name.size", "ttl"]) == {
        "data": {"M": {"name": {"M": {"size": {"N": "3"}}}}}
    }
    delete_item(transport, table, key("R", "1"), condition=Field("name").eq({"S": "name-2"}) & ~Field("ttl").exists())
    assert get_item(transport, table, key("R", "1")) is None


def test_invalid_values_are_caught_before_any_request(transport: Transport, table: str) -> None:
    recording = Recording(transport)
    with pytest.raises(InvalidValueError):
        get_item(recording, table, {})
    with pytest.raises(InvalidValueError):
        update_item(recording, table, key("a", "b"), Update())
    with pytest.raises(InvalidValueError):
        get_item(recording, table, key("a", "b"), projection=[])
    assert recording.calls == []


def test_deadline_refuses_single_requests(transport: Transport, table: str) -> None:
    clock = FakeClock()
    deadline = Deadline(clock.now + 1.0, margin=0.5, clock=clock)
    recording = Recording(transport)
    assert get_item(recording, table, key("a", "b"), deadline=deadline) is None
    clock.now += 0.6
    with pytest.raises(DeadlineExceededError):
        get_item(recording, table, key("a", "b"), deadline=deadline)
    with pytest.raises(DeadlineExceededError):
        put_item(recording, table, key("a", "b"), deadline=deadline)
    assert recording.count("GetItem") == 1
    assert recording.count("PutItem") == 0

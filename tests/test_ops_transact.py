"""Transactions against DynamoDB Local: success, cancellation reasons with items, limits."""

from __future__ import annotations

import pytest
from ops_support import (
    Recording,
    fake_deadline,
    key,
    table_definition,
    transport_fixture,  # noqa: F401  (the `transport` fixture: both transports)
)

from dynagen.errors import DeadlineExceededError, InvalidValueError, TransactionCanceledError
from dynagen.runtime.ops._items import get_item, put_item
from dynagen.runtime.ops._tables import create_table
from dynagen.runtime.ops._transact import (
    TransactConditionCheck,
    TransactDelete,
    TransactGet,
    TransactPut,
    TransactUpdate,
    transact_get,
    transact_write,
)
from dynagen.runtime.transport._interface import Transport
from dynagen.runtime.wire._expressions import Field, Update

pytestmark = pytest.mark.ddb


@pytest.fixture
def table(transport: Transport, table_name: str) -> str:
    create_table(transport, table_definition(table_name, ttl=False))
    return table_name


def test_transact_write_applies_every_action(transport: Transport, table: str) -> None:
    put_item(transport, table, {**key("A", "1"), "status": {"S": "new"}, "count": {"N": "1"}})
    put_item(transport, table, {**key("A", "2"), "name": {"S": "old"}})
    put_item(transport, table, {**key("A", "3"), "data": {"S": "keep"}})
    transact_write(
        transport,
        [
            TransactPut(table, {**key("A", "0"), "ttl": {"N": "5"}}, condition=Field("PK").not_exists()),
            TransactUpdate(
                table,
                key("A", "1"),
                Update().set("status", {"S": "done"}).add("count", {"N": "1"}),
                condition=Field("status").eq({"S": "new"}),
            ),
            TransactDelete(table, key("A", "2"), condition=Field("name").eq({"S": "old"})),
            TransactConditionCheck(table, key("A", "3"), Field("data").eq({"S": "keep"})),
        ],
        client_token=f"token-{table}",  # unique: a reused token with another request is refused
    )
    got = transact_get(
        transport,
        [
            TransactGet(table, key("A", "0")),
            TransactGet(table, key("A", "1"), projection=["status", "count"]),
            TransactGet(table, key("A", "2")),
        ],
    )
    assert got == [{**key("A", "0"), "ttl": {"N": "5"}}, {"status": {"S": "done"}, "count": {"N": "2"}}, None]


def test_cancelled_transaction_has_per_action_reasons_and_items(transport: Transport, table: str) -> None:
    stored = {**key("B", "1"), "status": {"S": "closed"}, "size": {"N": "3"}}
    put_item(transport, table, stored)
    with pytest.raises(TransactionCanceledError) as info:
        transact_write(
            transport,
            [
                TransactPut(table, {**key("B", "0"), "name": {"S": "n"}}),
                TransactUpdate(
                    table,
                    key("B", "1"),
                    Update().set("status", {"S": "open"}),
                    condition=Field("status").eq({"S": "open"}) & Field("size").size().ge(0),
                ),
                TransactConditionCheck(table, key("B", "9"), Field("PK").exists()),
            ],
        )
    reasons = info.value.reasons
    assert [r.code for r in reasons] == ["None", "ConditionalCheckFailed", "ConditionalCheckFailed"]
    assert reasons[1].item == stored
    assert reasons[2].item is None  # nothing stored under that key
    # Nothing was applied.
    assert get_item(transport, table, key("B", "0")) is None
    assert get_item(transport, table, key("B", "1")) == stored


def test_transaction_limits_are_checked_before_any_request(transport: Transport, table: str) -> None:
    recording = Recording(transport)
    with pytest.raises(InvalidValueError):
        transact_write(recording, [])
    with pytest.raises(InvalidValueError):
        transact_write(recording, [TransactPut(table, key("C", str(i))) for i in range(101)])
    with pytest.raises(InvalidValueError):
        transact_get(recording, [TransactGet(table, key("C", str(i))) for i in range(101)])
    with pytest.raises(InvalidValueError):
        transact_write(recording, [TransactUpdate(table, key("C", "1"), Update())])
    assert recording.calls == []
    transact_write(recording, [TransactPut(table, key("C", str(i))) for i in range(100)])
    assert len(recording.calls) == 1
    assert all(
        item["Put"]["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
        for item in recording.calls[0][1]["TransactItems"]
    )


def test_transaction_respects_the_deadline(transport: Transport, table: str) -> None:
    deadline, _ = fake_deadline(0)
    recording = Recording(transport)
    with pytest.raises(DeadlineExceededError):
        transact_write(recording, [TransactPut(table, key("D", "1"))], deadline=deadline)
    with pytest.raises(DeadlineExceededError):
        transact_get(recording, [TransactGet(table, key("D", "1"))], deadline=deadline)
    assert recording.calls == []

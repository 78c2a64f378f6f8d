from __future__ import annotations

from typing import Any

import pytest

from dynagen.errors import ConditionFailedError
from dynagen.runtime.transport._botocore import BotocoreTransport


def test_server_answers_and_transport_maps_condition_failure(ddb_client: Any, table_name: str) -> None:
    ddb_client.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    transport = BotocoreTransport(ddb_client)
    transport.call("PutItem", {"TableName": table_name, "Item": {"PK": {"S": "a"}}})
    got = transport.call("GetItem", {"TableName": table_name, "Key": {"PK": {"S": "a"}}})
    assert got == {"Item": {"PK": {"S": "a"}}}
    with pytest.raises(ConditionFailedError):
        transport.call(
            "PutItem",
            {
                "TableName": table_name,
                "Item": {"PK": {"S": "a"}},
                "ConditionExpression": "attribute_not_exists(#k)",
                "ExpressionAttributeNames": {"#k": "PK"},
            },
        )

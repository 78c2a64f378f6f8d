"""The lean transport against DynamoDB Local: same results and errors as a botocore client."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from dynagen.errors import ConditionFailedError, ServiceError, TransactionCanceledError
from dynagen.local import DynamoDBLocal
from dynagen.runtime.transport._botocore import BotocoreTransport
from dynagen.runtime.transport.lean import LeanTransport

pytestmark = pytest.mark.ddb


@pytest.fixture(scope="module")
def lean(dynamodb_local: DynamoDBLocal) -> Iterator[LeanTransport]:
    with LeanTransport("us-east-1", endpoint_url=dynamodb_local.endpoint, credentials=("testing", "testing")) as t:
        yield t


def _both(client: Any, lean: LeanTransport, operation: str, request: dict[str, Any]) -> dict[str, Any]:
    """Run a read on both transports and insist on identical results."""
    ours = lean.call(operation, request)
    theirs = BotocoreTransport(client).call(operation, request)
    assert ours == theirs, operation
    return ours


def _create(lean: LeanTransport, ddb_client: Any, table: str, key_type: str = "S") -> None:
    request = {
        "TableName": table,
        "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        "AttributeDefinitions": [
            {"AttributeName": "PK", "AttributeType": key_type},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    created = lean.call("CreateTable", request)
    described = ddb_client.describe_table(TableName=table)["Table"]
    # Same shapes, same types (datetimes for timestamps), same values.
    assert created["TableDescription"] == described


BIN_ITEM = {
    "PK": {"B": b"\x00\x01\xffkey"},
    "SK": {"S": "profile"},
    "blob": {"B": b"\x00" * 5 + bytes(range(256))},
    "blobs": {"BS": [b"a", b"\xff\xfe", b"z"]},
    "strings": {"SS": ["x", "y"]},
    "numbers": {"NS": ["1", "2.5", "-3"]},
    "nested": {
        "M": {
            "B": {"B": b"named B"},
            "BS": {"S": "an attribute called BS"},
            "list": {"L": [{"B": b"in a list"}, {"M": {"deep": {"BS": [b"\x01"]}}}, {"NULL": True}, {"BOOL": False}]},
        }
    },
    "text": {"S": 'quote " and unicode é漢 and "B":"x"'},
    "n": {"N": "42"},
}


def test_item_round_trip_matches_botocore_with_binary_and_sets(
    lean: LeanTransport, ddb_client: Any, table_name: str
) -> None:
    _create(lean, ddb_client, table_name, key_type="B")
    assert lean.call("PutItem", {"TableName": table_name, "Item": BIN_ITEM}) == {}
    key = {"PK": BIN_ITEM["PK"], "SK": BIN_ITEM["SK"]}
    got = _both(ddb_client, lean, "GetItem", {"TableName": table_name, "Key": key, "ConsistentRead": True})
    assert got["Item"]["blob"]["B"] == BIN_ITEM["blob"]["B"]
    assert sorted(got["Item"]["blobs"]["BS"]) == sorted(BIN_ITEM["blobs"]["BS"])
    assert got["Item"]["nested"]["M"]["B"] == {"B": b"named B"}

    query = {
        "TableName": table_name,
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :p)",
        "ExpressionAttributeNames": {"#pk": "PK", "#sk": "SK"},
        "ExpressionAttributeValues": {":pk": {"B": b"\x00\x01\xffkey"}, ":p": {"S": "pro"}},
        "ReturnConsumedCapacity": "TOTAL",
    }
    result = _both(ddb_client, lean, "Query", query)
    assert result["Count"] == 1

    update = {
        "TableName": table_name,
        "Key": key,
        "UpdateExpression": "SET #b = :b ADD #n :one, #bs :more",
        "ConditionExpression": "#n = :n",
        "ExpressionAttributeNames": {"#b": "blob", "#n": "n", "#bs": "blobs"},
        "ExpressionAttributeValues": {
            ":b": {"B": b"new"},
            ":one": {"N": "1"},
            ":n": {"N": "42"},
            ":more": {"BS": [b"\x07"]},
        },
        "ReturnValues": "ALL_NEW",
    }
    updated = lean.call("UpdateItem", update)
    assert updated["Attributes"]["blob"] == {"B": b"new"}
    assert updated["Attributes"]["n"] == {"N": "43"}
    assert b"\x07" in updated["Attributes"]["blobs"]["BS"]
    assert _both(ddb_client, lean, "GetItem", {"TableName": table_name, "Key": key})["Item"] == updated["Attributes"]
    # The same update through botocore on a twin item answers the same (but for the sort key).
    twin = {**BIN_ITEM, "SK": {"S": "twin"}}
    lean.call("PutItem", {"TableName": table_name, "Item": twin})
    boto_updated = BotocoreTransport(ddb_client).call(
        "UpdateItem", {**update, "Key": {"PK": twin["PK"], "SK": twin["SK"]}}
    )
    assert boto_updated["Attributes"] | {"SK": key["SK"]} == updated["Attributes"]

    deleted = lean.call("DeleteItem", {"TableName": table_name, "Key": key, "ReturnValues": "ALL_OLD"})
    assert deleted["Attributes"] == updated["Attributes"]
    assert _both(ddb_client, lean, "GetItem", {"TableName": table_name, "Key": key}) == {}


def test_batch_and_transaction_calls_match_botocore(lean: LeanTransport, ddb_client: Any, table_name: str) -> None:
    _create(lean, ddb_client, table_name)
    items = [{"PK": {"S": "p"}, "SK": {"S": f"{i:03}"}, "bin": {"B": bytes([i])}} for i in range(30)]
    written = lean.call(
        "BatchWriteItem",
        {"RequestItems": {table_name: [{"PutRequest": {"Item": item}} for item in items[:25]]}},
    )
    assert written == {"UnprocessedItems": {}}
    keys = [{"PK": item["PK"], "SK": item["SK"]} for item in items[:25]]
    ours = lean.call("BatchGetItem", {"RequestItems": {table_name: {"Keys": keys, "ConsistentRead": True}}})
    theirs = BotocoreTransport(ddb_client).call(
        "BatchGetItem", {"RequestItems": {table_name: {"Keys": keys, "ConsistentRead": True}}}
    )
    # BatchGetItem returns items in no particular order.
    key_of = lambda item: item["SK"]["S"]  # noqa: E731
    assert sorted(ours["Responses"][table_name], key=key_of) == sorted(theirs["Responses"][table_name], key=key_of)
    assert sorted(ours["Responses"][table_name], key=key_of) == items[:25]
    assert ours["UnprocessedKeys"] == theirs["UnprocessedKeys"] == {}

    transact = {
        "TransactItems": [
            {"Put": {"TableName": table_name, "Item": items[25]}},
            {
                "Update": {
                    "TableName": table_name,
                    "Key": keys[0],
                    "UpdateExpression": "SET #b = :b",
                    "ExpressionAttributeNames": {"#b": "bin"},
                    "ExpressionAttributeValues": {":b": {"B": b"\xaa"}},
                }
            },
            {"Delete": {"TableName": table_name, "Key": keys[1]}},
            {
                "ConditionCheck": {
                    "TableName": table_name,
                    "Key": keys[2],
                    "ConditionExpression": "#b = :b",
                    "ExpressionAttributeNames": {"#b": "bin"},
                    "ExpressionAttributeValues": {":b": {"B": bytes([2])}},
                }
            },
        ]
    }
    assert lean.call("TransactWriteItems", transact) == {}
    got = _both(
        ddb_client,
        lean,
        "TransactGetItems",
        {"TransactItems": [{"Get": {"TableName": table_name, "Key": k}} for k in keys[:3]]},
    )
    assert got["Responses"][0]["Item"]["bin"] == {"B": b"\xaa"}
    assert got["Responses"][1] == {}
    scanned = _both(ddb_client, lean, "Scan", {"TableName": table_name, "Limit": 7, "ConsistentRead": True})
    assert scanned["Count"] == 7
    page2 = _both(
        ddb_client,
        lean,
        "Scan",
        {"TableName": table_name, "Limit": 7, "ExclusiveStartKey": scanned["LastEvaluatedKey"]},
    )
    assert page2["Items"][0] != scanned["Items"][0]


def test_errors_match_botocore_transport(lean: LeanTransport, ddb_client: Any, table_name: str) -> None:
    _create(lean, ddb_client, table_name)
    boto = BotocoreTransport(ddb_client)
    item = {"PK": {"S": "a"}, "SK": {"S": "b"}, "bin": {"B": b"\x01\x02"}}
    lean.call("PutItem", {"TableName": table_name, "Item": item})

    conditional = {
        "TableName": table_name,
        "Item": item,
        "ConditionExpression": "attribute_not_exists(#pk)",
        "ExpressionAttributeNames": {"#pk": "PK"},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    errors = []
    for transport in (lean, boto):
        with pytest.raises(ConditionFailedError) as caught:
            transport.call("PutItem", conditional)
        errors.append(caught.value)
    assert str(errors[0]) == str(errors[1])
    assert errors[0].item == errors[1].item == item

    transact = {
        "TransactItems": [
            {"Put": {"TableName": table_name, "Item": {"PK": {"S": "new"}, "SK": {"S": "x"}}}},
            {
                "ConditionCheck": {
                    "TableName": table_name,
                    "Key": {"PK": {"S": "a"}, "SK": {"S": "b"}},
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": "PK"},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ]
    }
    cancelled = []
    for transport in (lean, boto):
        with pytest.raises(TransactionCanceledError) as tcaught:
            transport.call("TransactWriteItems", transact)
        cancelled.append(tcaught.value)
    assert cancelled[0].reasons == cancelled[1].reasons
    assert [r.code for r in cancelled[0].reasons] == ["None", "ConditionalCheckFailed"]
    assert cancelled[0].reasons[1].item == item
    assert str(cancelled[0]) == str(cancelled[1])

    # An error without a more specific mapping: the same ServiceError on both, botocore's own as the cause.
    missing = []
    for transport in (lean, boto):
        with pytest.raises(ServiceError) as scaught:
            transport.call("GetItem", {"TableName": "no-such-table", "Key": {"PK": {"S": "a"}}})
        missing.append(scaught.value)
    assert type(missing[0]) is type(missing[1]) is ServiceError
    for e in missing:
        assert (e.code, e.status, e.retryable) == ("ResourceNotFoundException", 400, False)
        assert e.request_id
    assert missing[0].message == missing[1].message
    assert str(missing[0]) == str(missing[1])
    from botocore.exceptions import ClientError

    assert isinstance(missing[1].__cause__, ClientError)


def test_eight_threads_share_one_transport(lean: LeanTransport, ddb_client: Any, table_name: str) -> None:
    _create(lean, ddb_client, table_name)
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(40):
                item = {"PK": {"S": f"w{worker}"}, "SK": {"S": f"{i:03}"}, "b": {"B": f"{worker}-{i}".encode()}}
                lean.call("PutItem", {"TableName": table_name, "Item": item})
                got = lean.call("GetItem", {"TableName": table_name, "Key": {"PK": item["PK"], "SK": item["SK"]}})
                assert got["Item"] == item
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    for worker in range(8):
        result = lean.call(
            "Query",
            {
                "TableName": table_name,
                "KeyConditionExpression": "PK = :p",
                "ExpressionAttributeValues": {":p": {"S": f"w{worker}"}},
                "Select": "COUNT",
            },
        )
        assert result["Count"] == 40
    assert lean._pool.idle_count <= lean._pool.max_size

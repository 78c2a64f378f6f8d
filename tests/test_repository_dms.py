"""DynamORM contract semantics (docs/encoding.md) on the compiled DMS models, on DynamoDB Local.

The two DMS schemas in tests/dms/ (copies of DynamORM's contract models) are compiled into a temporary package and the
raw items are checked with the boto3 client: what a DynamORM (Go) service sharing the table reads.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from test_repository_support import FIXED_NOW, FIXED_NOW_TEXT, import_generated, make_table, transport_fixture, unique

from dynagen.compiler import compile_schemas, write_output
from dynagen.errors import ConditionFailedError, InvalidValueError, TransactionCanceledError, VersionConflictError
from dynagen.runtime import Field, decode_cursor, encode_cursor, transact_write
from dynagen.runtime.transport._interface import Transport

pytestmark = pytest.mark.ddb
__all__ = ["transport_fixture"]

DMS_MODELS = Path(__file__).parent / "dms"  # copies of DynamORM's contract schemas (shared/dms/v0.1/models)
VECTOR_JSON = '{"lastKey":{"PK":{"S":"USER#1"},"SK":{"S":"PROFILE"}},"index":"gsi-email","sort":"ASC"}'
VECTOR = "eyJsYXN0S2V5Ijp7IlBLIjp7IlMiOiJVU0VSIzEifSwiU0siOnsiUyI6IlBST0ZJTEUifX0sImluZGV4IjoiZ3NpLWVtYWlsIiwic29ydCI6IkFTQyJ9"



@pytest.fixture(scope="module")
def dms(tmp_path_factory: pytest.TempPathFactory, ddb_client: Any) -> Iterator[SimpleNamespace]:
    out = tmp_path_factory.mktemp("dms_generated")
    write_output(compile_schemas(sorted(DMS_MODELS.glob("*.yml"))), out)
    user = import_generated(out / "user.py", "dms_generated_user")
    order = import_generated(out / "order.py", "dms_generated_order")
    try:
        yield SimpleNamespace(
            User=user.User,
            UserRepository=user.UserRepository,
            Order=order.Order,
            OrderRepository=order.OrderRepository,
            user_module=user,
            users_table=make_table(ddb_client, user.TABLES["users_contract"], "users"),
            orders_table=make_table(ddb_client, order.TABLES["orders_contract"], "orders"),
        )
    finally:
        sys.modules.pop("dms_generated_user", None)
        sys.modules.pop("dms_generated_order", None)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(dms: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(FIXED_NOW)
    for repository in (dms.UserRepository, dms.OrderRepository):
        monkeypatch.setattr(repository, "clock", staticmethod(clock))
    return clock


@pytest.fixture
def users(dms: SimpleNamespace, transport: Transport) -> Any:
    return dms.UserRepository(transport, table_name=dms.users_table)


@pytest.fixture
def orders(dms: SimpleNamespace, transport: Transport) -> Any:
    return dms.OrderRepository(transport, table_name=dms.orders_table)


def raw(ddb_client: Any, table: str, key: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = ddb_client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    return item


def test_lifecycle_stamps_and_version(dms: SimpleNamespace, users: Any, clock: Clock, ddb_client: Any) -> None:
    pk = unique("USER#")
    created = users.create(dms.User(pk=pk, sk="PROFILE", email_hash="h"))
    item = raw(ddb_client, dms.users_table, created.key())
    assert item["createdAt"] == {"S": FIXED_NOW_TEXT}
    assert item["updatedAt"] == {"S": FIXED_NOW_TEXT}
    assert item["version"] == {"N": "0"}
    assert created.created_at == FIXED_NOW and created.version == 0

    clock.now = datetime(2024, 5, 6, 7, 8, 10, tzinfo=UTC)  # no fraction at all
    updated = users.update(replace(created, email_hash="h2"), ["email_hash"])
    item = raw(ddb_client, dms.users_table, created.key())
    assert item["updatedAt"] == {"S": "2024-05-06T07:08:10Z"}
    assert item["createdAt"] == {"S": FIXED_NOW_TEXT}
    assert item["version"] == {"N": "1"} and updated.version == 1

    clock.now = datetime(2024, 5, 6, 9, 8, 10, 100, tzinfo=UTC)  # 100 microseconds: trailing zeros trimmed
    users.update(updated, ["email_hash"])
    item = raw(ddb_client, dms.users_table, created.key())
    assert item["updatedAt"] == {"S": "2024-05-06T09:08:10.0001Z"}
    assert item["version"] == {"N": "2"}

    # put replaces and stamps again, but never lowers or repeats the stored version: a stale model
    # (version 0 over a stored 2) is refused and changes nothing; the current one writes version 3
    clock.now = datetime(2024, 5, 7, tzinfo=UTC)
    with pytest.raises(VersionConflictError, match="expected 0, stored 2"):
        users.put(dms.User(pk=pk, sk="PROFILE"))
    assert raw(ddb_client, dms.users_table, created.key())["version"] == {"N": "2"}
    put = users.put(dms.User(pk=pk, sk="PROFILE", version=2))
    item = raw(ddb_client, dms.users_table, created.key())
    assert item["createdAt"] == {"S": "2024-05-07T00:00:00Z"} and item["version"] == {"N": "3"} and put.version == 3


def test_reads_dynamorm_written_timestamps_with_nanoseconds(dms: SimpleNamespace, users: Any, ddb_client: Any) -> None:
    pk = unique("USER#")
    ddb_client.put_item(
        TableName=dms.users_table,
        Item={
            "PK": {"S": pk},
            "SK": {"S": "PROFILE"},
            "createdAt": {"S": "2024-01-02T03:04:05.123456789Z"},
            "updatedAt": {"S": "2024-01-02T03:04:05Z"},
            "version": {"N": "7"},
            "ttl": {"N": "1893456000"},
        },
    )
    user = users.get(pk=pk, sk="PROFILE")
    assert user.created_at == datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert user.updated_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert user.version == 7
    assert user.ttl == datetime(2030, 1, 1, tzinfo=UTC)
    assert users.update(user, []).version == 8


def test_ttl_is_epoch_seconds(dms: SimpleNamespace, users: Any, orders: Any, clock: Clock, ddb_client: Any) -> None:
    expires = datetime(2030, 1, 1, 0, 0, 0, 999999, tzinfo=UTC)
    user = users.create(dms.User(pk=unique("USER#"), sk="PROFILE", ttl=expires))
    assert raw(ddb_client, dms.users_table, user.key())["ttl"] == {"N": "1893456000"}
    order = orders.create(dms.Order(pk=unique("ORDER#"), sk="META", ttl=FIXED_NOW + timedelta(days=1)))
    item = raw(ddb_client, dms.orders_table, order.key())
    assert item["ttl"] == {"N": str(int((FIXED_NOW + timedelta(days=1)).timestamp()))}
    assert orders.get(pk=order.pk, sk="META").ttl == (FIXED_NOW + timedelta(days=1)).replace(microsecond=0)
    no_ttl = users.create(dms.User(pk=unique("USER#"), sk="PROFILE"))
    assert "ttl" not in raw(ddb_client, dms.users_table, no_ttl.key())


def test_omit_empty_and_string_sets(dms: SimpleNamespace, users: Any, clock: Clock, ddb_client: Any) -> None:
    user = users.create(dms.User(pk=unique("USER#"), sk="PROFILE", nickname="", tags=set()))
    item = raw(ddb_client, dms.users_table, user.key())
    assert "nickname" not in item and "tags" not in item and "emailHash" not in item
    assert set(item) == {"PK", "SK", "createdAt", "updatedAt", "version"}

    user.nickname = "neo"
    user.tags = {"b", "a"}
    user = users.update(user, ["nickname", "tags"])
    item = raw(ddb_client, dms.users_table, user.key())
    assert item["nickname"] == {"S": "neo"}
    assert sorted(item["tags"]["SS"]) == ["a", "b"] and set(item["tags"]) == {"SS"}
    with pytest.raises(InvalidValueError):  # DynamoDB refuses two clauses on one attribute: caught before sending
        users.update(user, [], add={"tags": {"c"}}, delete={"tags": {"a"}})
    user = users.update(user, [], add={"tags": {"c"}})
    user = users.update(user, [], delete={"tags": {"a"}})
    assert user.tags == {"b", "c"}

    # setting an omit_empty field to its empty value removes the attribute
    user.nickname = ""
    user.tags = set()
    user = users.update(user, ["nickname", "tags"])
    item = raw(ddb_client, dms.users_table, user.key())
    assert "nickname" not in item and "tags" not in item
    assert users.get(pk=user.pk, sk="PROFILE").tags in (None, set())


def test_cursor_test_vector() -> None:
    key = {"SK": {"S": "PROFILE"}, "PK": {"S": "USER#1"}}
    assert encode_cursor(key, index="gsi-email", sort="ASC") == VECTOR
    import base64

    assert base64.urlsafe_b64decode(VECTOR + "=" * (-len(VECTOR) % 4)).decode() == VECTOR_JSON
    decoded = decode_cursor(VECTOR)
    assert (decoded.last_key, decoded.index, decoded.sort) == (
        {"PK": {"S": "USER#1"}, "SK": {"S": "PROFILE"}},
        "gsi-email",
        "ASC",
    )
    assert decoded.encode() == VECTOR
    with pytest.raises(InvalidValueError):
        decode_cursor(VECTOR[:-3] + "!!")


def test_gsi_email_query_and_its_cursor(dms: SimpleNamespace, users: Any, clock: Clock) -> None:
    email = unique("hash-")
    made = [users.create(dms.User(pk=f"USER#{i}-{email}", sk="PROFILE", email_hash=email)) for i in range(3)]
    users.create(dms.User(pk=unique("USER#"), sk="PROFILE", email_hash=unique("other-")))
    page = users.query_gsi_email(email_hash=email, limit=2)
    assert len(page.items) == 2 and page.cursor is not None
    cursor = decode_cursor(page.cursor)
    assert cursor.index == "gsi-email" and cursor.sort == "ASC"
    assert set(cursor.last_key) == {"PK", "SK", "emailHash"}
    assert list(cursor.last_key) == sorted(cursor.last_key)
    rest = users.query_gsi_email(email_hash=email, cursor=page.cursor)
    found = page.items + rest.items
    assert rest.cursor is None
    assert sorted(u.pk for u in found) == sorted(u.pk for u in made)
    assert sorted(u.pk for u in users.iter_query_gsi_email(email_hash=email)) == sorted(u.pk for u in made)


def test_order_reserved_words_status_and_ttl(dms: SimpleNamespace, orders: Any, clock: Clock) -> None:
    pk = unique("ORDER#")
    soon = datetime(2030, 1, 1, tzinfo=UTC)
    for i, status in enumerate(["open", "open", "closed"]):
        clock.now = FIXED_NOW + timedelta(seconds=i)
        orders.create(dms.Order(pk=pk, sk=f"LINE#{i}", status=status, amount=Decimal(i), ttl=soon if i else None))
    got = orders.query_partition(pk=pk, filter=Field("status").eq({"S": "open"}) & Field("ttl").exists())
    assert [o.sk for o in got.items] == ["LINE#1"]
    got = orders.query_partition(pk=pk, sk_from="LINE#1", filter=Field("ttl").lt({"N": "1893456001"}))
    assert [o.sk for o in got.items] == ["LINE#1", "LINE#2"]

    order = orders.get(pk=pk, sk="LINE#0")
    order.status = "closed"
    order.ttl = soon
    updated = orders.update(
        order, ["status", "ttl"], condition=Field("status").eq({"S": "open"}) & Field("ttl").not_exists()
    )
    assert updated.status == "closed" and updated.ttl == soon and updated.version == 1
    with pytest.raises(ConditionFailedError):
        orders.update(updated, ["status"], condition=Field("status").eq({"S": "open"}))
    updated = orders.update(updated, [], remove=["ttl"])
    assert updated.ttl is None

    # gsi-status: status is the partition key, createdAt the sort key
    closed = list(orders.iter_query_gsi_status(status="closed", filter=Field("PK").eq({"S": pk})))
    assert sorted(o.sk for o in closed) == ["LINE#0", "LINE#2"]
    ranged = orders.query_gsi_status(
        status="closed",
        created_at_from=FIXED_NOW + timedelta(seconds=1),
        created_at_to=FIXED_NOW + timedelta(seconds=5),
        filter=Field("PK").eq({"S": pk}),
    )
    assert [o.sk for o in ranged.items] == ["LINE#2"]
    assert [
        o.sk for o in orders.query_gsi_status(status="closed", descending=True, filter=Field("PK").eq({"S": pk})).items
    ] == [
        "LINE#2",
        "LINE#0",
    ]


def test_dms_version_conflict_and_versioned_delete(dms: SimpleNamespace, orders: Any, clock: Clock) -> None:
    order = orders.create(dms.Order(pk=unique("ORDER#"), sk="META", status="open"))
    first, second = replace(order, amount=Decimal(1)), replace(order, amount=Decimal(2))
    orders.update(first, ["amount"])
    with pytest.raises(VersionConflictError):
        orders.update(second, ["amount"])
    with pytest.raises(VersionConflictError):
        orders.delete(pk=order.pk, sk="META", expected_version=0)
    orders.delete(pk=order.pk, sk="META", expected_version=1)
    assert orders.find(pk=order.pk, sk="META") is None
    with pytest.raises(InvalidValueError):
        orders.update(order, ["pk"])
    with pytest.raises(InvalidValueError):
        orders.update(order, ["created_at"])


def test_create_if_not_exists_on_an_existing_item(
    dms: SimpleNamespace, users: Any, clock: Clock, ddb_client: Any
) -> None:
    pk = unique("USER#")
    users.create(dms.User(pk=pk, sk="PROFILE", nickname="first"), if_not_exists=True)
    with pytest.raises(ConditionFailedError) as caught:
        users.create(dms.User(pk=pk, sk="PROFILE", nickname="second"), if_not_exists=True)
    assert not isinstance(caught.value, VersionConflictError)
    assert raw(ddb_client, dms.users_table, {"PK": {"S": pk}, "SK": {"S": "PROFILE"}})["nickname"] == {"S": "first"}
    # Another sort key under the same partition is another item: created.
    users.create(dms.User(pk=pk, sk="SETTINGS"), if_not_exists=True)
    assert users.get(pk=pk, sk="SETTINGS").version == 0


def test_transaction_across_the_users_and_orders_tables(
    dms: SimpleNamespace, users: Any, orders: Any, clock: Clock, ddb_client: Any
) -> None:
    pk = unique("USER#")
    user = users.create(dms.User(pk=pk, sk="PROFILE", nickname="neo"))
    order = dms.Order(pk=unique("ORDER#"), sk="META", status="open", amount=Decimal("12.5"))
    user.nickname = "trinity"
    transact_write(
        users.transport,
        [users.transact_update(user, ["nickname"]), orders.transact_create(order)],
        client_token=unique("token-"),
    )
    assert users.get(pk=pk, sk="PROFILE").nickname == "trinity"
    stored = orders.get(pk=order.pk, sk="META")
    assert (stored.status, stored.amount, stored.version, stored.created_at) == ("open", Decimal("12.5"), 0, FIXED_NOW)

    # One failed condition in one table cancels the writes in the other.
    user = users.get(pk=pk, sk="PROFILE")
    user.nickname = "morpheus"
    with pytest.raises(TransactionCanceledError) as caught:
        users.transact_write([users.transact_update(user, ["nickname"]), orders.transact_create(order)])
    assert [r.code for r in caught.value.reasons] == ["None", "ConditionalCheckFailed"]
    assert users.get(pk=pk, sk="PROFILE").nickname == "trinity"
    assert raw(ddb_client, dms.users_table, user.key())["version"] == {"N": "1"}


def test_replaying_a_client_request_token_applies_once(
    dms: SimpleNamespace, users: Any, orders: Any, clock: Clock, ddb_client: Any
) -> None:
    user = users.create(dms.User(pk=unique("USER#"), sk="PROFILE"))
    order = orders.create(dms.Order(pk=unique("ORDER#"), sk="META", status="open", amount=Decimal(1)))
    # Built once, sent twice (a retry after a lost response): the same request under the same token.
    actions = [
        users.transact_update(user, [], add={"tags": {"vip"}}),
        orders.transact_update(order, [], add={"amount": 5}),
    ]
    token = unique("token-")
    transact_write(users.transport, actions, client_token=token)
    transact_write(users.transport, actions, client_token=token)  # success, not a version conflict
    assert raw(ddb_client, dms.users_table, user.key())["version"] == {"N": "1"}
    item = raw(ddb_client, dms.orders_table, order.key())
    assert item["amount"] == {"N": "6"} and item["version"] == {"N": "1"}  # added once
    # The same actions under a new token are a new transaction: the version condition refuses them.
    with pytest.raises(TransactionCanceledError):
        transact_write(users.transport, actions, client_token=unique("token-"))
    assert raw(ddb_client, dms.orders_table, order.key())["amount"] == {"N": "6"}


def test_dms_entities_and_stream_decoder(dms: SimpleNamespace, users: Any, clock: Clock, ddb_client: Any) -> None:
    """A DMS table has no entity attribute: its one model is listed under its name, and every image is one."""
    module = dms.user_module
    entities = module.ENTITIES
    assert entities == {"users_contract": {"User": dms.User}}
    user = users.create(dms.User(pk=unique("USER#"), sk="PROFILE", tags={"a"}))
    image = raw(ddb_client, dms.users_table, user.key())
    change = module.decode_users_contract_record(
        {"eventName": "INSERT", "dynamodb": {"Keys": user.key(), "NewImage": image}}
    )
    assert change.new == user and change.old is None and change.keys == user.key()

"""DMS v0.1 exactly as DynamORM writes it, on DynamoDB Local through both transports (issue 13).

The items written raw here are what DynamORM's SDKs (Go, TypeScript, Python) store for the same
values: empty sets as NULL, zero numbers left out under omit_empty, strict version conditions,
nanosecond timestamps, and JSON in each SDK's own bytes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from test_repository_support import import_generated, make_table, transport_fixture, unique

from dynagen.compiler import compile_schemas, write_output
from dynagen.errors import ConditionFailedError, VersionConflictError
from dynagen.runtime.transport._interface import Transport

pytestmark = pytest.mark.ddb
__all__ = ["transport_fixture"]

DMS = """
dms_version: "0.1"
models:
  - name: "Account"
    table: { name: "accounts_dms" }
    naming: { convention: "camelCase" }
    keys:
      partition: { attribute: "PK", type: "S" }
      sort: { attribute: "SK", type: "S" }
    attributes:
      - { attribute: "PK", type: "S", required: true, roles: ["pk"] }
      - { attribute: "SK", type: "S", required: true, roles: ["sk"] }
      - { attribute: "labels", type: "SS", required: true }
      - { attribute: "scores", type: "NS", required: true }
      - { attribute: "tags", type: "SS", optional: true, omit_empty: true }
      - { attribute: "balance", type: "N", optional: true, omit_empty: true }
      - { attribute: "lastSeen", type: "S", format: "rfc3339nano", optional: true }
      - { attribute: "settings", type: "S", json: true, optional: true }
      - { attribute: "updatedAt", type: "S", format: "rfc3339nano", roles: ["updated_at"] }
      - { attribute: "version", type: "N", format: "int", roles: ["version"] }
      - { attribute: "ttl", type: "N", format: "unix_seconds", roles: ["ttl"], optional: true, omit_empty: true }
"""



@pytest.fixture(scope="module")
def dms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    folder = tmp_path_factory.mktemp("dms_semantics")
    (folder / "accounts.yml").write_text(DMS, encoding="utf-8")
    write_output(compile_schemas([folder / "accounts.yml"], root=folder), folder / "out")
    try:
        yield import_generated(folder / "out" / "accounts.py", "dms_semantics_accounts")
    finally:
        sys.modules.pop("dms_semantics_accounts", None)


@pytest.fixture(scope="module")
def table(dms: ModuleType, ddb_client: Any) -> str:
    return make_table(ddb_client, dms.TABLES["accounts_dms"], "accounts")


@pytest.fixture
def accounts(dms: ModuleType, transport: Transport, table: str) -> Any:
    return dms.AccountRepository(transport, table_name=table)


def stored(ddb_client: Any, table: str, pk: str) -> dict[str, Any]:
    item: dict[str, Any] = ddb_client.get_item(
        TableName=table, Key={"PK": {"S": pk}, "SK": {"S": "A"}}, ConsistentRead=True
    )["Item"]
    return item


def test_empty_sets_are_stored_as_null_or_left_out(dms: ModuleType, accounts: Any, table: str, ddb_client: Any) -> None:
    pk = unique("ACC#")
    accounts.create(dms.Account(pk=pk, sk="A", labels=set(), scores=set(), tags=set()))
    item = stored(ddb_client, table, pk)
    assert item["labels"] == {"NULL": True} and item["scores"] == {"NULL": True}  # DMS: "encoded as NULL"
    assert "tags" not in item  # "... and then omitted if omit_empty is true"


def test_null_and_missing_sets_read_as_empty_sets(accounts: Any, table: str, ddb_client: Any) -> None:
    pk = unique("ACC#")
    # What DynamORM writes for an account with no labels, no scores and no tags.
    ddb_client.put_item(TableName=table, Item={
        "PK": {"S": pk}, "SK": {"S": "A"}, "labels": {"NULL": True}, "scores": {"NULL": True},
        "tags": {"NULL": True}, "version": {"N": "0"},
    })  # fmt: skip
    account = accounts.get(pk=pk, sk="A")
    assert account.labels == set() and account.scores == set() and account.tags == set()
    ddb_client.delete_item(TableName=table, Key={"PK": {"S": pk}, "SK": {"S": "A"}})
    ddb_client.put_item(TableName=table, Item={"PK": {"S": pk}, "SK": {"S": "A"}, "version": {"N": "0"}})
    missing = accounts.get(pk=pk, sk="A")
    assert missing.labels == set() and missing.scores == set() and missing.tags is None  # tags is optional


def test_zero_numbers_and_an_epoch_zero_ttl_are_empty(dms: ModuleType, accounts: Any, table: str, ddb_client: Any) -> None:
    pk = unique("ACC#")
    epoch = datetime(1970, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)  # stored as 0: empty
    accounts.create(dms.Account(pk=pk, sk="A", labels={"x"}, scores={Decimal(1)}, balance=Decimal("0.00"), ttl=epoch))
    item = stored(ddb_client, table, pk)
    assert "ttl" not in item and "balance" not in item  # p0.encoding.omitempty: ttl 0 is absent
    back = accounts.get(pk=pk, sk="A")
    assert back.ttl is None and back.balance is None


def test_the_version_condition_is_strict(dms: ModuleType, accounts: Any, table: str, ddb_client: Any) -> None:
    pk = unique("ACC#")
    # An item another tool wrote without a version attribute: DynamORM's `version = :v` never matches it.
    ddb_client.put_item(TableName=table, Item={"PK": {"S": pk}, "SK": {"S": "A"}, "labels": {"SS": ["a"]}})
    account = accounts.get(pk=pk, sk="A")
    assert account.version == 0
    with pytest.raises(ConditionFailedError):
        accounts.update(replace(account, labels={"b"}), ["labels"])
    with pytest.raises(ConditionFailedError):
        accounts.put(replace(account, labels={"b"}))
    assert stored(ddb_client, table, pk)["labels"] == {"SS": ["a"]}
    ddb_client.put_item(TableName=table, Item={"PK": {"S": pk}, "SK": {"S": "A"}, "version": {"N": "4"}})
    with pytest.raises(VersionConflictError):
        accounts.update(account, ["labels"])
    assert accounts.update(replace(account, version=4), ["labels"]).version == 5


def test_nanosecond_timestamps_keep_microseconds_when_written_back(accounts: Any, table: str, ddb_client: Any) -> None:
    pk = unique("ACC#")
    ddb_client.put_item(TableName=table, Item={
        "PK": {"S": pk}, "SK": {"S": "A"}, "lastSeen": {"S": "2024-05-06T07:08:09.123456789Z"}, "version": {"N": "0"},
    })  # fmt: skip
    account = accounts.get(pk=pk, sk="A")
    assert account.last_seen == datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)  # nanoseconds truncated
    accounts.update(account, ["last_seen"])
    assert stored(ddb_client, table, pk)["lastSeen"] == {"S": "2024-05-06T07:08:09.123456Z"}


def test_json_from_any_sdk_reads_and_is_written_back_canonical(accounts: Any, table: str, ddb_client: Any) -> None:
    pk = unique("ACC#")
    # The TypeScript SDK's bytes: integer-like keys first, 1e16 written out in full; non-ASCII escaped (Python SDK).
    ts_bytes = '{"2":true,"b":10000000000000000,"a":"caf\\u00e9 <&>"}'
    ddb_client.put_item(TableName=table, Item={
        "PK": {"S": pk}, "SK": {"S": "A"}, "settings": {"S": ts_bytes}, "version": {"N": "0"},
    })  # fmt: skip
    account = accounts.get(pk=pk, sk="A")
    assert account.settings == {"2": True, "b": 10**16, "a": "café <&>"}
    pi = Decimal("3.14159265358979323846264338327950288")
    accounts.update(replace(account, settings={**account.settings, "pi": pi}), ["settings"])
    text = stored(ddb_client, table, pk)["settings"]["S"]
    assert text == '{"2":true,"a":"café <&>","b":10000000000000000,"pi":3.14159265358979323846264338327950288}'
    assert json.loads(text, parse_float=Decimal)["pi"] == pi  # exact, not through a float


def test_a_number_set_of_ints_compiles(tmp_path: Path) -> None:
    """docs/schema.md: NS with ``format: int`` is ``set[int]`` (the loader refused it: "format int needs type N")."""
    (tmp_path / "s.yml").write_text(DMS.replace('"scores", type: "NS"', '"scores", type: "NS", format: "int"'))
    text = compile_schemas([tmp_path / "s.yml"], root=tmp_path).files["s.py"]
    assert "scores: set[int]" in text

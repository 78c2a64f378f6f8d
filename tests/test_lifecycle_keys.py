"""A created_at in the primary key (``SK: "COMMENT#{created_at}#{id}"``) is the item's identity.

Before, ``put`` stamped a new created_at, so a model read, changed and put back moved to a new key
and the table held two copies; its generated ``key()`` also failed ``mypy --strict`` (created_at is
``datetime | None``). Now create and put keep a created_at the model already has, ``key()`` says
which field is missing, and updated_at or a ttl in a primary key (which change on every write, or may
be None) are refused by the compiler.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from mypy import api as mypy_api
from test_repository_support import import_generated, make_table, transport_fixture, unique

from dynagen.compiler import compile_schemas, write_output
from dynagen.errors import InvalidValueError, SchemaError
from dynagen.runtime.transport._interface import Transport

__all__ = ["transport_fixture"]

SCHEMA = """\
dynagen: 1
module: comments
tables:
  comments:
    name: comments
    partition_key: PK
    sort_key: SK
    entity_attribute: entity
models:
  Comment:
    table: comments
    entity: COMMENT
    keys:
      PK: "POST#{post_id}"
      SK: "COMMENT#{created_at}#{id}"
    fields:
      post_id: string
      id: string
      body: string
      created_at: {type: datetime, role: created_at}
      updated_at: {type: datetime, role: updated_at}
      version: {type: int, role: version}
    access_patterns:
      comments_of_post: {range: created_at}
"""


@pytest.fixture(scope="module")
def module_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("comments")
    (folder / "comments.yaml").write_text(SCHEMA, encoding="utf-8")
    write_output(compile_schemas([folder / "comments.yaml"], root=folder), folder / "out")
    return folder / "out" / "comments.py"


@pytest.fixture(scope="module")
def comments(module_file: Path) -> Iterator[ModuleType]:
    try:
        yield import_generated(module_file, "lifecycle_comments")
    finally:
        sys.modules.pop("lifecycle_comments", None)


def test_the_module_type_checks(module_file: Path) -> None:
    out, err, status = mypy_api.run(["--strict", "--no-incremental", "--cache-dir=/dev/null", str(module_file)])
    assert status == 0, out + err


def test_a_key_needs_its_created_at(comments: ModuleType) -> None:
    fresh = comments.Comment(post_id="p", id="c", body="hi")
    with pytest.raises(InvalidValueError) as caught:
        fresh.key()
    assert caught.value.field == "created_at"
    at = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert comments.Comment(post_id="p", id="c", body="hi", created_at=at).key()["SK"]["S"].startswith("COMMENT#2024")


@pytest.mark.ddb
def test_put_replaces_the_item_instead_of_writing_a_second_one(
    comments: ModuleType, transport: Transport, ddb_client: Any
) -> None:
    repo = comments.CommentRepository(transport, table_name=make_table(ddb_client, comments.TABLES["comments"], "life"))
    post = unique("post-")
    created = repo.create(comments.Comment(post_id=post, id="c1", body="first"))
    assert created.created_at is not None
    stored = repo.get(post_id=post, created_at=created.created_at, id="c1")
    changed = repo.put(dataclasses.replace(stored, body="edited"))
    assert changed.created_at == created.created_at and changed.version == 1
    page = repo.comments_of_post(post_id=post)
    assert [(c.id, c.body, c.created_at) for c in page.items] == [("c1", "edited", created.created_at)]
    # A model without one is stamped, as before.
    other = repo.put(comments.Comment(post_id=post, id="c2", body="second"))
    assert other.created_at is not None and len(repo.comments_of_post(post_id=post).items) == 2


@pytest.mark.parametrize(
    ("role", "message"),
    [
        ("updated_at", "Comment: stamp (updated_at) changes on every write, so it cannot be part of the primary key SK"),
        ("ttl", "Comment: stamp (datetime) cannot be part of key SK"),  # stored as epoch seconds (N)
    ],
)
def test_an_updated_at_or_ttl_in_a_primary_key_is_refused(tmp_path: Path, role: str, message: str) -> None:
    schema = SCHEMA.replace('SK: "COMMENT#{created_at}#{id}"', 'SK: "COMMENT#{stamp}#{id}"').replace(
        "      version: {type: int, role: version}\n", f"      version: {{type: int, role: version}}\n      stamp: {{type: datetime, role: {role}}}\n"
    ).replace("comments_of_post: {range: created_at}", "comments_of_post: {range: id}")
    if role == "updated_at":
        schema = schema.replace("      updated_at: {type: datetime, role: updated_at}\n", "")
    (tmp_path / "comments.yaml").write_text(schema, encoding="utf-8")
    with pytest.raises(SchemaError) as caught:
        compile_schemas([tmp_path / "comments.yaml"], root=tmp_path)
    assert message in str(caught.value)
    assert "range field" not in str(caught.value)  # no knock-on error from the refused template

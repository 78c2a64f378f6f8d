"""Field names that are also names generated code reads: a field called ``date``, ``set`` or ``type``.

Before, generated methods bound field names as locals and parameters and then read globals of the
same name: a field ``date`` broke ``from_item`` of its model (``date.fromisoformat`` on the local), a
field ``set`` every read of a set, a field ``field`` the class itself, and a leading sort-key field
``limit`` made a pattern method with two ``limit`` parameters (a SyntaxError in the generated module).
Now such names work, or the compiler refuses them by name, before anything is written.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID

import pytest
from mypy import api as mypy_api
from test_repository_support import import_generated, make_table, transport_fixture, unique

from dynagen.compiler import compile_schemas, write_output
from dynagen.errors import SchemaError
from dynagen.runtime.transport._interface import Transport

__all__ = ["transport_fixture"]

SCHEMA = """\
dynagen: 1
module: names
enums:
  Kind: [plain, fancy]
tables:
  days:
    name: names
    partition_key: PK
    sort_key: SK
    entity_attribute: entity
models:
  Slot:
    fields:
      type: {type: Kind, default: plain}
      value: {type: string, omit_empty: true}
  Day:
    table: days
    entity: DAY
    keys:
      PK: "CAL#{id}"
      SK: "DAY#{date}#{type}#{datetime}"
    fields:
      id: string
      date: date
      type: Kind
      datetime: datetime
      set: set<string>
      list: list<string>
      dict: map<int>
      uuid: {type: uuid, optional: true}
      decimal: {type: decimal, default: "1.5"}
      int: {type: int, omit_empty: true}
      str: {type: string, optional: true}
      value: {type: Slot, omit_empty: true}
      exc: {type: bool, optional: true}
      av: {type: string, optional: true}
    access_patterns:
      on_date: {range: date}
      at_time: {range: datetime}
      list: {}
"""


@pytest.fixture(scope="module")
def names_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("names")
    (folder / "names.yaml").write_text(SCHEMA, encoding="utf-8")
    write_output(compile_schemas([folder / "names.yaml"], root=folder), folder / "out")
    return folder / "out" / "names.py"


@pytest.fixture(scope="module")
def names(names_file: Path) -> Iterator[ModuleType]:
    try:
        yield import_generated(names_file, "names_generated")
    finally:
        sys.modules.pop("names_generated", None)


def test_the_module_type_checks_although_its_fields_are_named_like_types(names_file: Path) -> None:
    """Inside ``class Day`` the name ``date`` is the field: mypy (and pydantic) would read
    ``when: date`` as that field. Annotations there use ``T_date`` and the like instead."""
    out, err, status = mypy_api.run(["--strict", "--no-incremental", "--cache-dir=/dev/null", str(names_file)])
    assert status == 0, out + err
    source = names_file.read_text()
    assert "T_date = date\n" in source and "    datetime: T_datetime\n" in source
    assert "def __repr__(self) -> T_str:" in source  # str is a field too
    assert "def list(" in source and "class DayRepository" in source  # a pattern named list


def test_pydantic_reads_the_annotations_of_fields_named_like_types(names: ModuleType) -> None:
    from pydantic import TypeAdapter

    day = a_day(names, "c-1", date(2024, 5, 6))
    adapter = TypeAdapter(names.Day)
    assert adapter.validate_json(adapter.dump_json(day)) == day


def a_day(names: ModuleType, calendar: str, day: date, **kw: Any) -> Any:
    fields: dict[str, Any] = {
        "type": names.Kind.FANCY,
        "datetime": datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        "set": {"a", "b"},
        "list": ["x"],
        "dict": {"k": 3},
        "uuid": UUID(int=5),
        "int": 4,
        "str": "s",
        "value": names.Slot(type=names.Kind.FANCY, value="v"),
        "exc": True,
        "av": "w",
    }
    fields.update(kw)
    return names.Day(id=calendar, date=day, **fields)


def test_fields_named_like_builtins_and_imports_round_trip_and_parse(names: ModuleType) -> None:
    day = a_day(names, "c-1", date(2024, 5, 6))
    assert names.Day.from_item(day.to_item()) == day
    slot = names.Slot()
    bare = names.Day(id="c-1", date=date(2024, 5, 6), type=names.Kind.PLAIN, datetime=day.datetime, list=[], dict={}, value=slot)
    assert bare.set == set() and bare.decimal == Decimal("1.5") and slot.type == names.Kind.PLAIN
    assert names.Day.from_item(bare.to_item()) == bare
    assert names.Day.parse_sk(day.key()["SK"]["S"]) == (date(2024, 5, 6), names.Kind.FANCY, day.datetime)


@pytest.mark.ddb
def test_fields_named_like_builtins_and_imports_on_dynamodb_local(
    names: ModuleType, transport: Transport, ddb_client: Any
) -> None:
    repo = names.DayRepository(transport, table_name=make_table(ddb_client, names.TABLES["days"], "names"))
    calendar = unique("cal-")
    days = [a_day(names, calendar, date(2024, 5, d)) for d in (3, 1, 2)]
    for d in days:
        repo.create(d)
    assert repo.get(id=calendar, date=date(2024, 5, 1), type=names.Kind.FANCY, datetime=days[0].datetime) == days[1]
    found = repo.on_date(id=calendar, date_from=date(2024, 5, 2)).items
    assert [d.date for d in found] == [date(2024, 5, 2), date(2024, 5, 3)]
    assert list(repo.iter_on_date(id=calendar, page_size=1)) == sorted(days, key=lambda d: d.date)
    assert len(repo.list(id=calendar).items) == 3


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("field: string", "field name 'field' of Thing is a name generated code calls"),
        ("key_part: string", "field name 'key_part' of Thing is a name generated code calls"),
        ("split_key: {type: int, optional: true}", "field name 'split_key' of Thing is a name generated code calls"),
    ],
)
def test_a_field_named_like_what_generated_code_calls_is_refused_by_name(tmp_path: Path, field: str, message: str) -> None:
    schema = f"""\
dynagen: 1
module: refused
tables:
  things: {{partition_key: PK}}
models:
  Thing:
    table: things
    keys: {{PK: "T#{{thing_id}}"}}
    fields:
      thing_id: string
      {field}
"""
    (tmp_path / "refused.yaml").write_text(schema, encoding="utf-8")
    with pytest.raises(SchemaError) as caught:
        compile_schemas([tmp_path / "refused.yaml"], root=tmp_path)
    assert message in str(caught.value)
    assert str(caught.value).startswith("refused.yaml:11:")


@pytest.mark.parametrize("name", ["limit", "page", "page_size"])
def test_a_sort_key_argument_named_like_a_query_option_is_refused_by_name(tmp_path: Path, name: str) -> None:
    """``{limit}`` before the range field is an argument of ``by_time``, which has a ``limit`` option too."""
    schema = f"""\
dynagen: 1
module: refused
tables:
  things: {{partition_key: PK, sort_key: SK}}
models:
  Thing:
    table: things
    keys: {{PK: "T#{{thing_id}}", SK: "{{{name}}}#{{at}}"}}
    fields:
      thing_id: string
      {name}: string
      at: datetime
    access_patterns:
      by_time: {{range: at}}
"""
    (tmp_path / "refused.yaml").write_text(schema, encoding="utf-8")
    with pytest.raises(SchemaError) as caught:
        compile_schemas([tmp_path / "refused.yaml"], root=tmp_path)
    assert f"Thing.by_time: key field {name!r} clashes with a query option" in str(caught.value)


DMS = """\
dms_version: "0.1"
models:
  - name: "Entry"
    table: { name: "entries_dms" }
    naming: { convention: "camelCase" }
    keys:
      partition: { attribute: "PK", type: "S" }
    attributes:
      - { attribute: "PK", type: "S", required: true, roles: ["pk"] }
      - { attribute: "item", type: "S", required: true }
      - { attribute: "keyPart", type: "N", format: "int", optional: true }
      - { attribute: "date", type: "S", optional: true }
"""


def test_dms_attribute_names_that_generated_code_uses_get_an_underscore(tmp_path: Path) -> None:
    """A DMS file cannot rename fields: ``item`` (a from_item local) and ``keyPart`` (a runtime helper)."""
    (tmp_path / "entries.yml").write_text(DMS, encoding="utf-8")
    write_output(compile_schemas([tmp_path / "entries.yml"], root=tmp_path), tmp_path / "out")
    module = import_generated(tmp_path / "out" / "entries.py", "entries_dms_names")
    try:
        entry = module.Entry(pk="E#1", item_="thing", key_part_=3, date="2024-05-06")
        item = entry.to_item()
        assert item == {"PK": {"S": "E#1"}, "item": {"S": "thing"}, "keyPart": {"N": "3"}, "date": {"S": "2024-05-06"}}
        assert module.Entry.from_item(item) == entry
    finally:
        sys.modules.pop("entries_dms_names", None)

"""Schema checks of both loaders, asserted as exact ``path:line:col: message`` lists (every error at once):
DMS index roles, empty INCLUDE projections, key-template positions, DMS NULL attributes, doc types,
duplicate DMS model names."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from dynagen.compiler import compile_schemas
from dynagen.errors import SchemaError


def _errors(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        compile_schemas([path], root=tmp_path)
    return [str(d) for d in info.value.diagnostics]


def _compile(tmp_path: Path, text: str) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return compile_schemas([path], root=tmp_path).files["s.py"]


def _exec_module(name: str, text: str) -> types.ModuleType:
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(text, f"{name}.py", "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module


# -- 1. DMS index_pk:<index> / index_sk:<index> roles name an index of indexes[] -------------------

DMS_ROLES = """dms_version: "0.1"
models:
  - name: A
    table: {name: aaa}
    keys: {partition: {attribute: id, type: S}}
    attributes:
      - {attribute: id, type: S, required: true}
      - {attribute: emailHash, type: S, roles: ["index_pk:byEmail"]}
      - {attribute: other, type: S, roles: ["index_pk:byEmial", "index_sk:nothing"]}
      - {attribute: sorted, type: S, roles: ["index_sk:byEmail", "index_pk:byEmail"]}
    indexes:
      - name: byEmail
        type: GSI
        partition: {attribute: emailHash, type: S}
"""


def test_dms_index_roles_are_checked_against_indexes(tmp_path: Path) -> None:
    assert _errors(tmp_path, DMS_ROLES) == [
        "s.yaml:9:45: A.other: role 'index_pk:byEmial' names no index of this model (did you mean 'byEmail'?)",
        "s.yaml:9:65: A.other: role 'index_sk:nothing' names no index of this model; its indexes: byEmail",
        "s.yaml:10:46: A.sorted: role 'index_sk:byEmail', but index byEmail has no sort key",
        "s.yaml:10:66: A.sorted: role 'index_pk:byEmail', but the partition key of index byEmail is 'emailHash'",
    ]


def test_dms_index_role_on_a_model_without_indexes(tmp_path: Path) -> None:
    text = DMS_ROLES.split("      - {attribute: other")[0]
    text = text.replace('roles: ["index_pk:byEmail"]', 'roles: ["index_pk:byEmail", "index_sk:byEmail"]')
    assert _errors(tmp_path, text) == [
        "s.yaml:8:49: A.emailHash: role 'index_pk:byEmail' names no index of this model; it declares no indexes",
        "s.yaml:8:69: A.emailHash: role 'index_sk:byEmail' names no index of this model; it declares no indexes",
    ]


def test_dms_index_roles_that_match_their_indexes_compile(tmp_path: Path) -> None:
    text = DMS_ROLES.replace('"index_pk:byEmial", "index_sk:nothing"', '"index_sk:byEmail"')
    text = text.replace('roles: ["index_sk:byEmail", "index_pk:byEmail"]', "roles: []")
    text += "        sort: {attribute: other, type: S}\n"
    assert "query_by_email" in _compile(tmp_path, text)


# -- 2. native projection: [] ------------------------------------------------------------------------

NATIVE_EMPTY_INCLUDE = """dynagen: 1
tables:
  ttt:
    partition_key: PK
    indexes:
      GSI1: {partition_key: GSI1PK, projection: []}
      GSI2: {partition_key: GSI2PK, projection: [nope]}
models:
  A:
    table: ttt
    keys: {PK: "A#{s}", GSI1PK: "X#{s}", GSI2PK: "Y#{s}"}
    fields: {s: string}
"""


def test_native_empty_include_projection_is_refused(tmp_path: Path) -> None:
    assert _errors(tmp_path, NATIVE_EMPTY_INCLUDE) == [
        "s.yaml:6:49: index GSI1: an INCLUDE projection needs at least one attribute; for only the keys write "
        "'projection: keys_only'",
        "s.yaml:7:50: index GSI2 of table 'ttt': projected attribute 'nope' is not an attribute of any model on "
        "that table",
    ]


def test_native_keys_only_projection_compiles(tmp_path: Path) -> None:
    text = NATIVE_EMPTY_INCLUDE.replace("projection: []", "projection: keys_only").replace("[nope]", "[s]")
    assert '"KEYS_ONLY"' in _compile(tmp_path, text)


# -- 3. key-template errors point at the template ----------------------------------------------------

KEY_TEMPLATES = """dynagen: 1
tables:
  ttt:
    partition_key: PK
    sort_key: SK
    entity_attribute: kind
    indexes:
      GSI1: {partition_key: {attribute: GSI1PK, type: N}, projection: keys_only}
models:
  A:
    table: ttt
    keys:
      PK: "A#{nope}"
      SK: "T#{tags}#{note}"
      GSI1PK: "N#{n}"
      GSIX: "{n}"
    fields:
      n: int
      tags: list<string>
      note: string?
  B:
    table: ttt
    keys:
      PK: "B#{v}"
      SK: "B#{s}"
    fields:
      s: {type: string, attribute: SK}
      v: {type: int, role: version}
"""


def test_key_template_errors_point_at_the_template(tmp_path: Path) -> None:
    assert _errors(tmp_path, KEY_TEMPLATES) == [
        "s.yaml:13:11: A: key template PK uses {nope}, which is not a field (did you mean 'note'?)",
        "s.yaml:14:11: A: note is part of the primary key SK, so it cannot be optional",
        "s.yaml:14:11: A: tags (list) cannot be part of key SK; key parts are string, int, decimal, uuid, date, "
        "datetime, enum",
        "s.yaml:15:15: A: key GSI1PK has type N, so its template must be a single {field} of a matching type",
        "s.yaml:16:13: A: 'GSIX' is not a key of table 'ttt' (its keys: PK, SK, GSI1PK) (did you mean 'GSI1PK'?)",
        "s.yaml:24:11: B: the version field cannot be part of a key",
        "s.yaml:25:11: B: key 'SK' is also a field's attribute; drop the template or rename the field's attribute",
    ]


def test_missing_key_value_still_points_at_the_model(tmp_path: Path) -> None:
    text = KEY_TEMPLATES.split("  B:\n")[0].replace('      SK: "T#{tags}#{note}"\n', "")
    text = text.replace('"A#{nope}"', '"A#{n}"').replace('"N#{n}"', '"{n}"').replace('      GSIX: "{n}"\n', "")
    assert _errors(tmp_path, text) == [
        "s.yaml:11:5: A: no value for the table's key 'SK': add a key template (keys: {SK: \"...\"}) or a field "
        "with that attribute",
    ]


# -- 4. DMS NULL attributes ------------------------------------------------------------------------

DMS_NULL = """dms_version: "0.1"
models:
  - name: A
    table: {name: aaa}
    keys: {partition: {attribute: id, type: S}}
    attributes:
      - {attribute: id, type: S, required: true}
      - {attribute: marker, type: "NULL", required: true}
      - {attribute: maybe, type: "NULL"}
"""


def test_dms_null_attribute_written_only_when_required(tmp_path: Path) -> None:
    module = _exec_module("null_attrs", _compile(tmp_path, DMS_NULL))
    item = module.A(id="x", marker=None).to_item()
    assert item == {"id": {"S": "x"}, "marker": {"NULL": True}}
    back = module.A.from_item({"id": {"S": "x"}, "marker": {"NULL": True}, "maybe": {"NULL": True}})
    assert back.marker is None and back.maybe is None


def test_dms_bare_null_type_says_to_quote_it(tmp_path: Path) -> None:
    text = DMS_NULL.replace('type: "NULL", required', "type: NULL, required").replace('"NULL"}', "~}")
    assert _errors(tmp_path, text) == [
        's.yaml:8:35: type must be a string, got null (for the DMS NULL type write it quoted: "NULL")',
        's.yaml:9:34: type must be a string, got null (for the DMS NULL type write it quoted: "NULL")',
    ]


# -- 5. every doc is a string ----------------------------------------------------------------------

NATIVE_DOCS = """dynagen: 1
doc: 5
enums:
  Colour: {values: [red], doc: [x]}
  Shade: {doc: true}
tables:
  ttt: {partition_key: PK, doc: {a: 1}}
  uuu: {doc: 7}
models:
  A:
    table: ttt
    doc: 1.5
    keys: {PK: "A#{s}"}
    fields:
      s: {type: string, doc: 3}
      t: {type: strin, doc: 4}
      u: {doc: 6}
    access_patterns:
      all_a: {doc: false}
"""


def test_native_doc_must_be_a_string_everywhere(tmp_path: Path) -> None:
    assert _errors(tmp_path, NATIVE_DOCS) == [
        "s.yaml:2:6: doc must be a string, got int",
        "s.yaml:4:32: doc must be a string, got a list",
        "s.yaml:5:10: enum Shade needs 'values'",
        "s.yaml:5:16: doc must be a string, got bool",
        "s.yaml:7:33: doc must be a string, got a mapping",
        "s.yaml:8:8: table uuu needs a partition_key",
        "s.yaml:8:14: doc must be a string, got int",
        "s.yaml:12:10: doc must be a string, got float",
        "s.yaml:15:30: doc must be a string, got int",
        "s.yaml:16:17: field A.t: unknown type 'strin' (did you mean 'string'?)",
        "s.yaml:16:29: doc must be a string, got int",
        "s.yaml:17:10: field A.u needs a 'type'",
        "s.yaml:17:16: doc must be a string, got int",
        "s.yaml:19:20: doc must be a string, got bool",
    ]


def test_native_string_docs_compile(tmp_path: Path) -> None:
    text = """dynagen: 1
doc: ""
tables:
  ttt: {partition_key: PK, doc: "The table."}
models:
  A:
    table: ttt
    doc: A model.
    keys: {PK: "A#{s}"}
    fields: {s: {type: string, doc: A field.}}
"""
    assert "A model." in _compile(tmp_path, text)


# -- 6. duplicate DMS model names --------------------------------------------------------------------

DMS_DUPLICATE = """dms_version: "0.1"
models:
  - name: A
    table: {name: aaa}
    keys: {partition: {attribute: id, type: S}}
    attributes:
      - {attribute: id, type: S, required: true}
  - name: A
    table: {name: aaa}
    keys: {partition: {attribute: id, type: S}}
    attributes:
      - {attribute: id, type: S, required: true}
"""


def test_dms_duplicate_model_name_is_reported_once(tmp_path: Path) -> None:
    assert _errors(tmp_path, DMS_DUPLICATE) == ["s.yaml:8:11: duplicate model name 'A' (first at 3:11)"]


def test_dms_duplicate_model_on_another_table_is_reported_once(tmp_path: Path) -> None:
    text = DMS_DUPLICATE[::-1].replace("aaa", "bbb", 1)[::-1]
    assert _errors(tmp_path, text) == ["s.yaml:8:11: duplicate model name 'A' (first at 3:11)"]


def test_dms_duplicate_model_still_reports_its_own_errors(tmp_path: Path) -> None:
    text = DMS_DUPLICATE + "      - {attribute: x, type: SX}\n"
    assert _errors(tmp_path, text) == [
        "s.yaml:8:11: duplicate model name 'A' (first at 3:11)",
        "s.yaml:13:30: type must be one of B, BOOL, BS, L, M, N, NS, NULL, S, SS; got 'SX' (did you mean 'S'?)",
    ]

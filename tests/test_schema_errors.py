"""Bad schemas: every problem reported at once as path:line:col, no traceback, no output; hostile
text never reaches generated code unescaped; a fuzz over mutated valid schemas never crashes."""

from __future__ import annotations

import ast
import copy
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynagen.compiler import compile_schemas
from dynagen.errors import SchemaError
from dynagen.runtime import GENERATED_API

ROOT = Path(__file__).resolve().parent.parent


def _exec_module(name: str, text: str) -> types.ModuleType:
    """Run generated module text as a module (registered, as dataclasses needs, then removed)."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(text, f"{name}.py", "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module


def _errors(tmp_path: Path, text: str, name: str = "s.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        compile_schemas([path], root=tmp_path)
    return [str(d) for d in info.value.diagnostics]


CASES: list[tuple[str, str, list[str]]] = [
    # The wording after the position is the YAML parser's (libyaml's and pure-Python PyYAML's differ).
    ("yaml syntax", "dynagen: 1\nmodels: [\n", ["s.yaml:3:1: YAML syntax error: ", "node content"]),
    ("empty file", "", ["s.yaml:1:1: file is empty"]),
    ("only a comment", "# nothing\n", ["s.yaml:1:1: file is empty"]),
    ("wrong top-level shape", "- a\n", ["s.yaml:1:1: not a schema"]),
    ("unsupported version", "dynagen: 2\nmodels: {}\n", ["s.yaml:1:10: unsupported dynagen schema version 2"]),
    ("unsupported dms version", 'dms_version: "9"\nmodels: []\n', ["s.yaml:1:14: unsupported dms_version '9'"]),
    ("dms version as a number", "dms_version: 0.1\nmodels: []\n", ["write it as a quoted string"]),
    (
        "unknown top-level key",
        "dynagen: 1\nmodel: {}\n",
        ["s.yaml:2:1: unknown key 'model' in the schema document (did you mean 'models'?)"],
    ),
    ("duplicate key", "dynagen: 1\nmodels: {}\nmodels: {}\n", ["s.yaml:3:1: duplicate key 'models'"]),
    ("non-string key", "dynagen: 1\nmodels:\n  1: {}\n", ["s.yaml:3:3: mapping keys must be strings"]),
    (
        "wrong types",
        "dynagen: 1\ntables: []\nmodels:\n  A:\n    fields: [x]\n",
        ["s.yaml:2:9: tables must be a mapping, got a list", "s.yaml:5:13: fields of A must be a mapping, got a list"],
    ),
    (
        "unknown field type with a hint",
        "dynagen: 1\nmodels:\n  A:\n    fields:\n      a: integer\n",
        ["s.yaml:5:10: field A.a: unknown type 'integer' (did you mean 'int'?)"],
    ),
    (
        "names that are not identifiers",
        "dynagen: 1\nmodels:\n  a-b:\n    fields: {x: string}\n  B:\n    fields:\n      import: string\n      Fo: string\n",
        [
            "s.yaml:3:3: model name 'a-b' must be a CapitalizedName",
            "s.yaml:7:7: field name 'import' must be a snake_case Python identifier",
            "s.yaml:8:7: field name 'Fo' must be a snake_case Python identifier",
        ],
    ),
    (
        "names colliding after snake_case",
        'dms_version: "0.1"\nmodels:\n  - name: A\n    table: {name: aaa}\n    keys: {partition: {attribute: id, type: S}}\n'
        "    attributes:\n      - {attribute: id, type: S, required: true}\n"
        "      - {attribute: userId, type: S}\n      - {attribute: user_id, type: S}\n",
        ["both become the Python name 'user_id'"],
    ),
    (
        "generated name clash",
        "dynagen: 1\nmodels:\n  Page:\n    fields: {a: string}\n",
        ["s.yaml:4:5: the name 'Page' is used by generated code; choose another"],
    ),
    (
        "key template on a missing and a non-scalar field",
        "dynagen: 1\ntables:\n  ttt: {partition_key: PK}\nmodels:\n  A:\n    table: ttt\n"
        '    keys: {PK: "A#{nope}#{tags}"}\n    fields: {tags: list<string>}\n',
        [  # both at the template's own line:col, not the model's
            "s.yaml:7:16: A: key template PK uses {nope}, which is not a field",
            "s.yaml:7:16: A: tags (list) cannot be part of key PK",
        ],
    ),
    (
        "keys and indexes on undeclared attributes",
        "dynagen: 1\ntables:\n  ttt: {partition_key: PK}\nmodels:\n  A:\n    table: ttt\n"
        '    keys: {PK: "A#{a}", GSIX: "{a}"}\n    fields: {a: string}\n'
        "    access_patterns:\n      by_x: {index: GSIX}\n",
        ["s.yaml:7:31: A: 'GSIX' is not a key of table 'ttt'", "s.yaml:10:13: A.by_x: table 'ttt' has no index 'GSIX'"],
    ),
    (
        "roles on the wrong type",
        "dynagen: 1\ntables:\n  ttt: {partition_key: PK}\nmodels:\n  A:\n    table: ttt\n"
        '    keys: {PK: "A#{a}"}\n    fields:\n      a: string\n      c: {type: string, role: created_at}\n'
        "      v: {type: decimal, role: version}\n      e: {type: string, role: ttl}\n",
        ["role created_at needs type datetime", "role version needs type int", "role ttl needs type datetime or int"],
    ),
    (
        "shared table without entity attribute",
        "dynagen: 1\ntables:\n  ttt: {partition_key: PK}\nmodels:\n"
        '  A:\n    table: ttt\n    keys: {PK: "A#{a}"}\n    fields: {a: string}\n'
        '  B:\n    table: ttt\n    keys: {PK: "B#{a}"}\n    fields: {a: string}\n',
        ["set its entity_attribute"],
    ),
    (
        "dms anchors and aliases",
        'dms_version: "0.1"\nmodels:\n  - &m {name: A}\n  - *m\n',
        ["s.yaml:3:5: anchors and aliases are not allowed in DMS documents"],
    ),
    (
        "dms encrypted field",
        'dms_version: "0.1"\nmodels:\n  - name: A\n    table: {name: aaa}\n    keys: {partition: {attribute: id, type: S}}\n'
        "    attributes:\n      - {attribute: id, type: S, required: true}\n"
        "      - {attribute: secret, type: S, encryption: {v: 1}}\n",
        ["encrypted attributes are not supported by dynagen yet"],
    ),
    (
        "dms naming convention",
        'dms_version: "0.1"\nmodels:\n  - name: A\n    table: {name: aaa}\n    naming: {convention: camelCase}\n'
        "    keys: {partition: {attribute: PK, type: S}}\n"
        "    attributes:\n      - {attribute: PK, type: S, required: true}\n      - {attribute: user_id, type: S}\n",
        ["A.user_id: attribute name does not follow the camelCase naming convention"],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in CASES], ids=[n for n, _, _ in CASES])
def test_bad_schema_reports_every_error(tmp_path: Path, text: str, expected: list[str]) -> None:
    errors = "\n".join(_errors(tmp_path, text))
    for fragment in expected:
        assert fragment in errors


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["dynagen: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    lines.append("models: {}")
    assert "alias bomb" in _errors(tmp_path, "\n".join(lines) + "\n")[0]


def test_huge_file_is_refused(tmp_path: Path) -> None:
    text = "dynagen: 1\n" + "# padding\n" * 120_000 + "models: {}\n"
    assert "larger than 1024 KiB" in _errors(tmp_path, text)[0]


def test_errors_from_several_files_are_all_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("dynagen: 1\nmodels: {A: {fields: {x: strin}}}\n")
    (tmp_path / "b.yaml").write_text("dynagen: 1\nmodels: {B: {fields: {y: flot}}}\n")
    with pytest.raises(SchemaError) as info:
        compile_schemas([tmp_path], root=tmp_path)
    assert [d.path for d in info.value.diagnostics] == ["a.yaml", "b.yaml"]


def test_hostile_names_and_docs_never_reach_code_unescaped() -> None:
    source = ROOT / "tests" / "schemas_bad" / "hostile.yaml"
    text = compile_schemas([source], root=ROOT).files["hostile.py"]
    tree = ast.parse(text)
    # Nothing but the expected top-level statements: no smuggled import or call ran at module level.
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert all(getattr(n, "module", "") in {"__future__", "collections.abc", "dataclasses", "typing",
                                            "dynagen.runtime"} for n in imports)  # fmt: skip
    calls = [ast.unparse(n) for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]
    assert calls == [f"require_api({GENERATED_API}, __name__)"], calls  # the runtime check, and only it
    module = _exec_module("hostile_fuzz", text)
    model = module.A(a="v")
    assert model.to_item()['x"); import os; ("'] == {"S": "v"}
    assert model.b == "''' ; import os \\"


# -- fuzz: mutate the example schema, compile, and require a clean outcome -------------------------

BASE = yaml.safe_load((ROOT / "schemas" / "payments.yaml").read_text())
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["", "x", "string", "PK", "{a}", "A#{partner_id}",
    "int?", "list<Address>", "set<int>", "map<decimal>", "GSI1", "created_at", "class", "9x", '"""', "\\"]),
)  # fmt: skip


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


ALL_PATHS = _paths(BASE)[1:]


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent: Any = doc
        try:
            for part in path[:-1]:
                parent = parent[part]
            action = draw(st.sampled_from(["delete", "replace", "rename"]))
            if action == "delete":
                del parent[path[-1]]
            elif action == "replace":
                parent[path[-1]] = draw(SCALARS)
            elif isinstance(parent, dict):
                parent[draw(st.sampled_from(["x", "Type", "fields2", "optional", "keys"]))] = parent.pop(path[-1])
        except (KeyError, IndexError, TypeError):
            continue
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_fuzz_never_crashes(tmp_path_factory: pytest.TempPathFactory, doc: dict[str, Any]) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "payments.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    try:
        files = compile_schemas([path], root=folder).files
    except SchemaError as error:
        assert error.diagnostics
        assert all(d.path == "payments.yaml" and d.line >= 1 and d.col >= 1 for d in error.diagnostics)
        return
    for name, text in files.items():
        _exec_module("fuzz_" + name.removesuffix(".py"), text)


# -- INCLUDE projections name attributes the table's models write ---------------------------------

NATIVE_INCLUDE = """dynagen: 1
tables:
  ttt:
    partition_key: PK
    entity_attribute: kind
    indexes:
      GSI1:
        partition_key: GSI1PK
        projection: [s, nope, amout, GSI1PK, kind, label]
models:
  A:
    table: ttt
    keys: {PK: "A#{s}", GSI1PK: "X#{s}"}
    fields: {s: string, amount: int}
  B:
    table: ttt
    keys: {PK: "B#{s}"}
    fields: {s: string, label: string}
"""


def test_native_include_projection_names_are_checked(tmp_path: Path) -> None:
    assert _errors(tmp_path, NATIVE_INCLUDE) == [
        "s.yaml:9:25: index GSI1 of table 'ttt': projected attribute 'nope' is not an attribute of any model on "
        "that table",
        "s.yaml:9:31: index GSI1 of table 'ttt': projected attribute 'amout' is not an attribute of any model on "
        "that table (did you mean 'amount'?)",
    ]


def test_native_include_projection_of_known_attributes_compiles(tmp_path: Path) -> None:
    # Field attributes of any model on the table, key-template attributes and the entity attribute.
    path = tmp_path / "s.yaml"
    path.write_text(NATIVE_INCLUDE.replace("nope, amout, ", ""), encoding="utf-8")
    assert "s.py" in compile_schemas([path], root=tmp_path).files


def test_native_include_projection_names_attributes_not_field_names(tmp_path: Path) -> None:
    text = NATIVE_INCLUDE.replace("nope, amout, GSI1PK, kind, label", "created_on").replace(
        "amount: int}", "amount: int, created_on: date}"
    )
    assert _errors(tmp_path, text) == [
        "s.yaml:9:25: index GSI1 of table 'ttt': projected attribute 'created_on' is not an attribute of any "
        "model on that table (did you mean 'createdOn'?)",
    ]


DMS_INCLUDE = """dms_version: "0.1"
models:
  - name: A
    table: {name: aaa}
    keys: {partition: {attribute: id, type: S}}
    attributes:
      - {attribute: id, type: S, required: true}
      - {attribute: emailHash, type: S}
    indexes:
      - name: by-email
        type: GSI
        partition: {attribute: emailHash, type: S}
        projection: {type: INCLUDE, fields: ["nope", "emailHsh", "id"]}
"""


def test_dms_include_projection_names_are_checked(tmp_path: Path) -> None:
    assert _errors(tmp_path, DMS_INCLUDE) == [
        "s.yaml:13:46: A: index by-email projects 'nope', which is not declared in attributes",
        "s.yaml:13:54: A: index by-email projects 'emailHsh', which is not declared in attributes "
        "(did you mean 'emailHash'?)",
    ]


def test_dms_include_projection_of_declared_attributes_compiles(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(DMS_INCLUDE.replace('"nope", "emailHsh", ', ""), encoding="utf-8")
    assert "s.py" in compile_schemas([path], root=tmp_path).files


# -- DMS naming conventions ------------------------------------------------------------------------


def _dms_named(convention: str, key: str, names: list[str]) -> str:
    lines = [
        'dms_version: "0.1"', "models:", "  - name: A", "    table: {name: aaa}",
        f"    naming: {{convention: {convention}}}", f"    keys: {{partition: {{attribute: {key}, type: S}}}}",
        "    attributes:", f"      - {{attribute: {key}, type: S, required: true}}",
    ]  # fmt: skip
    lines += [f"      - {{attribute: {name}, type: S}}" for name in names]
    return "\n".join(lines) + "\n"


def test_dms_snake_case_convention_reports_each_violation(tmp_path: Path) -> None:
    bad = ["emailHash", "Phone", "street__name", "city_", "PK", "gsi1PK"]
    good = ["user_name", "gsi1_pk", "a1", "created_at2"]
    errors = _errors(tmp_path, _dms_named("snake_case", "stream_id", good + bad))
    assert errors == [
        f"s.yaml:{9 + len(good) + i}:21: A.{name}: attribute name does not follow the snake_case naming convention"
        for i, name in enumerate(bad)
    ]


def test_dms_snake_case_convention_has_no_pk_sk_allowance(tmp_path: Path) -> None:
    errors = _errors(tmp_path, _dms_named("snake_case", "PK", ["SK"]))
    assert errors == [
        "s.yaml:8:21: A.PK: attribute name does not follow the snake_case naming convention",
        "s.yaml:9:21: A.SK: attribute name does not follow the snake_case naming convention",
    ]


def test_dms_camel_case_convention_allows_pk_and_sk(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(_dms_named("camelCase", "PK", ["SK", "emailHash", "gsi1pk", "a"]), encoding="utf-8")
    module = compile_schemas([path], root=tmp_path).files["s.py"]
    assert "pk: str" in module and "sk: str | None" in module and "email_hash: str | None" in module


def test_dms_camel_case_convention_reports_each_violation(tmp_path: Path) -> None:
    # Only PK and SK themselves are allowed upper case; other key-like names are not.
    bad = ["email_hash", "PhoneNumber", "GSI1PK", "Pkey", "PKs", "SKs"]
    errors = _errors(tmp_path, _dms_named("camelCase", "PK", ["SK", *bad]))
    assert errors == [
        f"s.yaml:{10 + i}:21: A.{name}: attribute name does not follow the camelCase naming convention"
        for i, name in enumerate(bad)
    ]


def test_a_range_field_outside_the_sort_key_suggests_a_field_of_that_key_never_itself(tmp_path: Path) -> None:
    """It said "range field 'date' is not part of the sort key 'SK' (did you mean 'date'?)"."""
    text = """\
dynagen: 1
tables:
  posts: {partition_key: PK, sort_key: SK}
models:
  Post:
    table: posts
    keys: {PK: "POST#{id}", SK: "AT#{dates}"}
    fields: {id: string, date: date, dates: string}
    access_patterns:
      by_date: {range: date}
"""
    assert _errors(tmp_path, text) == [
        "s.yaml:10:16: Post.by_date: range field 'date' is not part of the sort key 'SK' (did you mean 'dates'?)"
    ]


def test_a_table_rule_is_reported_in_the_same_run_as_another_tables_errors(tmp_path: Path) -> None:
    """A sort key part without a width (a rule across the table's models) came only after every other
    error of the file was fixed: a new user fixed four rounds of errors before seeing it."""
    text = """\
dynagen: 1
tables:
  blog: {partition_key: PK, sort_key: SK, indexes: {GSI1: {partition_key: GSI1PK, sort_key: GSI1SK}}}
  other: {partition_key: PK, sort_key: SK}
models:
  Post:
    table: blog
    keys: {PK: "POST#{id}", SK: "POST", GSI1PK: "ALL", GSI1SK: "{views}#{id}"}
    fields: {id: string, views: int}
  Thing:
    table: other
    keys: {PK: "T#{idd}", SK: "X"}
    fields: {id: strng}
"""
    errors = _errors(tmp_path, text)
    assert [e.split(": ", 1)[0] for e in errors] == ["s.yaml:8:64", "s.yaml:12:16", "s.yaml:13:18"], errors
    assert "give it a fixed width, e.g. {views:06}" in errors[0]

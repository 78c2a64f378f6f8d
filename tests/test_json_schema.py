"""The JSON Schemas for editors stay true to the loaders.

- the shipped files are what ``dynagen._json_schema`` renders (and ``dynagen json-schema`` prints);
- every schema in the repository that compiles validates against them, and the ones that do not compile
  are refused by them too, unless the rule is one JSON Schema cannot say (listed with the reason);
- every key a loader accepts, read from the loaders' code, is a property there, and nothing else is;
- every value a loader offers as a choice is one of the schema's enums;
- hostile schemas the loaders refuse are refused wherever the rule can be said, and no schema the
  compiler accepts is refused (a fuzz over mutated schemas).
"""

from __future__ import annotations

import ast
import copy
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from test_schema_errors import CASES, mutated

from dynagen import _json_schema
from dynagen.cli import main
from dynagen.compiler import _dms, _native, compile_schemas
from dynagen.errors import SchemaError

ROOT = Path(__file__).resolve().parent.parent
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def _validator(dialect: str) -> jsonschema.Draft7Validator:
    schema = _json_schema.native_schema() if dialect == "native" else _json_schema.dms_schema()
    return jsonschema.Draft7Validator(schema)


VALIDATORS = {d: _validator(d) for d in _json_schema.DIALECTS}


def _dialect(doc: Any) -> str | None:
    if isinstance(doc, dict) and "dms_version" in doc:
        return "dms"
    if isinstance(doc, dict) and "dynagen" in doc:
        return "native"
    return None


def _problems(doc: Any) -> list[str]:
    """What the JSON Schema of the document's dialect says is wrong with it (empty: valid)."""
    dialect = _dialect(doc)
    assert dialect is not None, "not a schema document"
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATORS[dialect].iter_errors(doc)]


def _compiles(text: str, tmp: Path, name: str = "s.yaml") -> bool:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    try:
        compile_schemas([path], root=tmp)
    except SchemaError:
        return False
    return True


# -- the shipped files and the command ------------------------------------------------------------


@pytest.mark.parametrize("dialect", _json_schema.DIALECTS)
def test_shipped_file_is_what_the_generator_renders(dialect: str) -> None:
    shipped = _json_schema.shipped_path(dialect)
    assert shipped.read_text(encoding="utf-8") == _json_schema.render(dialect), (
        f"{shipped} is stale: run `python -m dynagen._json_schema` and commit the result"
    )


@pytest.mark.parametrize("dialect", _json_schema.DIALECTS)
def test_schema_is_valid_draft_7(dialect: str) -> None:
    jsonschema.Draft7Validator.check_schema(VALIDATORS[dialect].schema)


def test_command_prints_and_writes_the_shipped_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["json-schema"]) == 0
    assert capsys.readouterr().out == _json_schema.shipped_path("native").read_text(encoding="utf-8")
    assert main(["json-schema", "--dialect", "dms", "-o", str(tmp_path / "dms.json")]) == 0
    assert (tmp_path / "dms.json").read_text(encoding="utf-8") == _json_schema.render("dms")
    assert "yaml-language-server: $schema=" in capsys.readouterr().out
    assert main(["json-schema", "--dialect", "xml"]) == 2


def test_every_property_has_a_description_for_hover() -> None:
    missing: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for name, sub in (node.get("properties") or {}).items():
                if isinstance(sub, dict) and "description" not in sub and "$ref" not in sub:
                    missing.append(f"{path}/properties/{name}")
            for key, sub in node.items():
                walk(sub, f"{path}/{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{path}/{i}")

    for dialect in _json_schema.DIALECTS:
        walk(VALIDATORS[dialect].schema, dialect)
    # A property inside a rule (if/then/else/not) only narrows a value described where it is declared.
    declared = [m for m in missing if not re.search(r"/(?:if|then|else|not)/", m)]
    assert declared == []


def test_schemas_folder_and_docs_carry_the_modeline() -> None:
    for path in sorted((ROOT / "schemas").glob("*.y*ml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        match = MODELINE.match(first)
        assert match, f"{path.name} does not start with the yaml-language-server modeline"
        assert (path.parent / match.group(1)).resolve() == _json_schema.shipped_path("native")
    doc = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert any(MODELINE.match(line) for line in doc.splitlines()), "docs/schema.md shows no modeline"


# -- every schema of the repository ---------------------------------------------------------------


def _schema_files() -> Iterator[Path]:
    for folder in ("schemas", "tests", "examples", "docs"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".yaml", ".yml") and path.is_file():
                try:
                    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
                except yaml.YAMLError:
                    continue
                if _dialect(doc) is not None:
                    yield path


def _doc_examples() -> list[str]:
    text = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```yaml\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    return [b for b in blocks if _dialect(yaml.safe_load(b)) is not None]


REPO_SCHEMAS = [p.relative_to(ROOT).as_posix() for p in _schema_files()]


def test_the_repository_has_schemas_of_both_dialects() -> None:
    dialects = {_dialect(yaml.safe_load((ROOT / p).read_text(encoding="utf-8"))) for p in REPO_SCHEMAS}
    assert dialects == {"native", "dms"}
    assert "schemas/payments.yaml" in REPO_SCHEMAS and _doc_examples()


@pytest.mark.parametrize("relative", REPO_SCHEMAS)
def test_repository_schema_validates_exactly_when_it_compiles(relative: str, tmp_path: Path) -> None:
    text = (ROOT / relative).read_text(encoding="utf-8")
    problems = _problems(yaml.safe_load(text))
    if _compiles(text, tmp_path, Path(relative).name):
        assert problems == [], f"{relative} compiles, but the JSON Schema refuses it"
    else:
        assert problems, f"{relative} does not compile, yet the JSON Schema finds nothing wrong"


def test_docs_examples_validate(tmp_path: Path) -> None:
    for number, block in enumerate(_doc_examples()):
        assert _compiles(block, tmp_path, f"example_{number}.yaml")
        assert _problems(yaml.safe_load(block)) == [], f"docs/schema.md example {number}"


# -- keys and choices, read from the loaders' code ------------------------------------------------

# Each accepted-key set of a loader -> where the JSON Schema lists those keys (a JSON pointer).
KEY_SETS: dict[tuple[str, str], str] = {
    ("native", "TOP_KEYS"): "",
    ("native", "TABLE_KEYS"): "/definitions/table",
    ("native", "INDEX_KEYS"): "/definitions/index",
    ("native", "KEY_KEYS"): "/definitions/table/properties/partition_key/oneOf/1",
    ("native", "BILLING_KEYS"): "/definitions/table/properties/billing/oneOf/1",
    ("native", "MODEL_KEYS"): "/definitions/model",
    ("native", "FIELD_KEYS"): "/definitions/model/properties/fields/additionalProperties/oneOf/1",
    ("native", "ENUM_KEYS"): "/properties/enums/additionalProperties/oneOf/1",
    ("native", "PATTERN_KEYS"): "/definitions/model/properties/access_patterns/additionalProperties/oneOf/1",
    ("dms", "TOP_KEYS"): "",
    ("dms", "MODEL_KEYS"): "/properties/models/items",
    ("dms", "TABLE_KEYS"): "/properties/models/items/properties/table",
    ("dms", "NAMING_KEYS"): "/properties/models/items/properties/naming",
    ("dms", "KEYS_KEYS"): "/properties/models/items/properties/keys",
    ("dms", "KEY_KEYS"): "/properties/models/items/properties/keys/properties/partition",
    ("dms", "ATTR_KEYS"): "/properties/models/items/properties/attributes/items",
    ("dms", "INDEX_KEYS"): "/properties/models/items/properties/indexes/items",
    ("dms", "PROJECTION_KEYS"): "/properties/models/items/properties/indexes/items/properties/projection",
}
# Places that take the same keys as one listed above.
SAME_KEYS: dict[str, str] = {
    "/definitions/table/properties/sort_key/oneOf/1": "/definitions/table/properties/partition_key/oneOf/1",
    "/definitions/index/properties/partition_key/oneOf/1": "/definitions/table/properties/partition_key/oneOf/1",
    "/definitions/index/properties/sort_key/oneOf/1": "/definitions/table/properties/partition_key/oneOf/1",
    "/properties/models/items/properties/keys/properties/sort":
        "/properties/models/items/properties/keys/properties/partition",
    "/properties/models/items/properties/indexes/items/properties/partition":
        "/properties/models/items/properties/keys/properties/partition",
    "/properties/models/items/properties/indexes/items/properties/sort":
        "/properties/models/items/properties/keys/properties/partition",
}  # fmt: skip
LOADERS: dict[str, ModuleType] = {"native": _native, "dms": _dms}


def _at(schema: dict[str, Any], pointer: str) -> dict[str, Any]:
    node: Any = schema
    for part in filter(None, pointer.split("/")):
        node = node[int(part)] if isinstance(node, list) else node[part]
    assert isinstance(node, dict)
    return node


def test_every_accepted_key_set_of_the_loaders_is_mapped() -> None:
    # A new *_KEYS constant in a loader must be given its place in the JSON Schema (KEY_SETS above).
    found = {(d, name) for d, module in LOADERS.items() for name in vars(module) if name.endswith("_KEYS")}
    assert found == set(KEY_SETS)


@pytest.mark.parametrize(("dialect", "constant"), sorted(KEY_SETS))
def test_json_schema_has_exactly_the_keys_the_loader_accepts(dialect: str, constant: str) -> None:
    accepted = set(getattr(LOADERS[dialect], constant))
    schema = VALIDATORS[dialect].schema
    pointers = [KEY_SETS[dialect, constant]]
    pointers += [p for p, same in SAME_KEYS.items() if same == pointers[0]]
    for pointer in pointers:
        node = _at(schema, pointer)
        assert set(node["properties"]) == accepted, f"{dialect} {constant} at {pointer or '/'}"
        assert node.get("additionalProperties") is False, f"{pointer}: other keys must be refused, as the loader does"


def _calls(module: ModuleType, method: str) -> Iterator[ast.Call]:
    tree = ast.parse(inspect.getsource(module))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method:
            yield node


@pytest.mark.parametrize("dialect", sorted(LOADERS))
def test_loaders_check_keys_only_against_their_key_sets(dialect: str) -> None:
    # So that the test above sees every key the loader accepts: no mapping is checked against an inline list.
    for call in _calls(LOADERS[dialect], "mapping"):
        if len(call.args) < 3:
            continue  # a mapping by name (models, fields, ...): any key
        allowed = call.args[2]
        assert isinstance(allowed, ast.Name) and allowed.id.endswith("_KEYS"), (
            f"{LOADERS[dialect].__name__} line {call.lineno}: keys checked against {ast.unparse(allowed)}; "
            "make it a module-level *_KEYS constant and map it in KEY_SETS"
        )


def _enum_values(node: Any) -> set[Any]:
    out: set[Any] = set()
    if isinstance(node, dict):
        out.update(node.get("enum") or [])
        if "const" in node:
            out.add(node["const"])
        for sub in node.values():
            out |= _enum_values(sub)
    elif isinstance(node, list):
        for sub in node:
            out |= _enum_values(sub)
    return out


def _choices(module: ModuleType, call: ast.Call) -> list[str]:
    node = call.args[2] if len(call.args) > 2 else next(k.value for k in call.keywords if k.arg == "choices")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tuple":
        node = node.args[0]
    if isinstance(node, ast.Name):
        return [str(v) for v in getattr(module, node.id)]
    value = ast.literal_eval(node)
    assert isinstance(value, tuple | list), ast.unparse(node)
    return [str(v) for v in value]


@pytest.mark.parametrize("dialect", sorted(LOADERS))
def test_every_choice_a_loader_offers_is_in_the_json_schema(dialect: str) -> None:
    module = LOADERS[dialect]
    offered = {choice for call in _calls(module, "choice") for choice in _choices(module, call)}
    assert offered, "no r.choice(...) call found: the test no longer reads the loader"
    assert offered - _enum_values(VALIDATORS[dialect].schema) == set()


def test_native_scalars_and_roles_come_from_the_loader() -> None:
    schema = VALIDATORS["native"].schema
    scalars = {branch.get("const") for branch in schema["definitions"]["type"]["anyOf"]} - {None}
    assert scalars == set(_native.SCALARS)
    assert set(_at(schema, "/definitions/model/properties/fields/additionalProperties/oneOf/1/properties/role")
               ["enum"]) == set(_native.ROLES)  # fmt: skip


# -- hostile schemas ------------------------------------------------------------------------------

# The loader refuses these for rules a JSON Schema cannot state (they span the document or need the
# YAML text itself), so the JSON Schema accepts them; any other case of CASES must be refused.
NOT_EXPRESSIBLE = {
    "yaml syntax": "not YAML",
    "empty file": "no document",
    "only a comment": "no document",
    "wrong top-level shape": "not a schema document",
    "duplicate key": "YAML keeps one of duplicate keys; only the loader sees the text",
    "names colliding after snake_case": "two attribute names that become one Python name",
    "generated name clash": "names generated code uses: follows the code generator",
    "key template on a missing and a non-scalar field": "template placeholders name fields of the model",
    "keys and indexes on undeclared attributes": "key attributes and index names refer to the table",
    "shared table without entity attribute": "models counted per table",
    "dms anchors and aliases": "anchors are YAML text, gone once parsed",
}


def _case_doc(text: str) -> Any:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if isinstance(doc, dict):  # keys that are not strings: as an editor shows them
        doc = yaml.safe_load(yaml.safe_dump(_string_keys(doc)))
    return doc


def _string_keys(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _string_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_string_keys(v) for v in node]
    return node


@pytest.mark.parametrize(("name", "text"), [(n, t) for n, t, _ in CASES], ids=[n for n, _, _ in CASES])
def test_hostile_cases_are_refused_where_json_schema_can_say_so(name: str, text: str) -> None:
    doc = _case_doc(text)
    if name in NOT_EXPRESSIBLE:
        return
    assert doc is not None and _dialect(doc) is not None, f"{name}: classify it in NOT_EXPRESSIBLE"
    assert _problems(doc), f"the loader refuses {name!r}; the JSON Schema should too (or say why not)"


def test_not_expressible_names_cases_that_exist() -> None:
    assert set(NOT_EXPRESSIBLE) <= {n for n, _, _ in CASES}


NATIVE_BASE: dict[str, Any] = {
    "dynagen": 1,
    "enums": {"Status": ["open", "closed"]},
    "tables": {
        "things": {
            "partition_key": "PK",
            "sort_key": {"attribute": "SK", "type": "S"},
            "entity_attribute": "kind",
            "ttl": "expiresAt",
            "indexes": {"GSI1": {"partition_key": "GSI1PK", "sort_key": "GSI1SK"}},
        }
    },
    "models": {
        "Address": {"fields": {"city": "string"}},
        "Thing": {
            "table": "things",
            "keys": {"PK": "THING#{thing_id}", "SK": "META", "GSI1PK": "S#{status}", "GSI1SK": "{thing_id}"},
            "fields": {
                "thing_id": "string",
                "status": {"type": "Status", "default": "open"},
                "tags": "set<string>",
                "home": "Address?",
                "created_at": {"type": "datetime", "role": "created_at"},
                "version": {"type": "int", "role": "version"},
                "expires_at": {"type": "datetime?", "role": "ttl"},
            },
            "access_patterns": {"by_status": {"index": "GSI1", "range": "thing_id"}, "all_of_thing": None},
        },
    },
}
DMS_BASE: dict[str, Any] = {
    "dms_version": "0.1",
    "models": [
        {
            "name": "User",
            "table": {"name": "users"},
            "naming": {"convention": "camelCase"},
            "keys": {"partition": {"attribute": "PK", "type": "S"}, "sort": {"attribute": "SK", "type": "S"}},
            "attributes": [
                {"attribute": "PK", "type": "S", "required": True, "roles": ["pk"]},
                {"attribute": "SK", "type": "S", "required": True, "roles": ["sk"]},
                {"attribute": "email", "type": "S", "roles": ["index_pk:byEmail"]},
                {"attribute": "createdAt", "type": "S", "roles": ["created_at"]},
                {"attribute": "version", "type": "N", "format": "int", "roles": ["version"]},
                {"attribute": "ttl", "type": "N", "roles": ["ttl"]},
            ],
            "indexes": [{"name": "byEmail", "type": "GSI", "partition": {"attribute": "email", "type": "S"}}],
        }
    ],
}
DELETE = object()
_T = ("tables", "things")
_M = ("models", "Thing")
_F = (*_M, "fields")
_A = ("models", 0, "attributes")
# (name, dialect, path, new value): each makes a valid schema one the loader refuses.
MUTATIONS: list[tuple[str, str, tuple[Any, ...], Any]] = [
    ("unknown top key", "native", ("model",), {}),
    ("version 2", "native", ("dynagen",), 2),
    ("naming", "native", ("naming",), "kebab"),
    ("module name", "native", ("module",), "Bad-Name"),
    ("module keyword", "native", ("module",), "import"),
    ("models missing", "native", ("models",), DELETE),
    ("enum name", "native", ("enums", "status"), ["a"]),
    ("enum without values", "native", ("enums", "Status"), []),
    ("enum long form without values", "native", ("enums", "Status"), {"doc": "x"}),
    ("unknown table key", "native", (*_T, "sortkey"), "SK"),
    ("table name too short", "native", (*_T, "name"), "ab"),
    ("table without partition key", "native", (*_T, "partition_key"), DELETE),
    ("key type", "native", (*_T, "sort_key", "type"), "X"),
    ("stream", "native", (*_T, "stream"), "new_images"),
    ("billing word", "native", (*_T, "billing"), "provisioned"),
    ("billing without capacity", "native", (*_T, "billing"), {"mode": "provisioned", "read": 5}),
    ("billing capacity range", "native", (*_T, "billing"), {"mode": "provisioned", "read": 0, "write": 5}),
    ("provisioned gsi capacities", "native", (*_T, "billing"), {"mode": "provisioned", "read": 5, "write": 5}),
    ("unknown index key", "native", (*_T, "indexes", "GSI1", "projecton"), "all"),
    ("index type", "native", (*_T, "indexes", "GSI1", "type"), "regional"),
    ("index name", "native", (*_T, "indexes", "G1"), {"partition_key": "X"}),
    ("local index without sort key", "native", (*_T, "indexes", "LSI1"), {"type": "local"}),
    ("global index without partition key", "native", (*_T, "indexes", "GSI2"), {"sort_key": "X"}),
    ("empty include", "native", (*_T, "indexes", "GSI1", "projection"), []),
    ("projection word", "native", (*_T, "indexes", "GSI1", "projection"), "some"),
    ("unknown model key", "native", (*_M, "tabel"), "things"),
    ("model name", "native", ("models", "thing"), {"fields": {"a": "string"}}),
    ("model name keyword", "native", ("models", "None"), {"fields": {"a": "string"}}),
    ("model without fields", "native", (*_M, "fields"), DELETE),
    ("model with no fields", "native", (*_M, "fields"), {}),
    ("keys without table", "native", ("models", "Address", "keys"), {"PK": "{city}"}),
    ("entity without table", "native", ("models", "Address", "entity"), "ADDR"),
    ("unknown type", "native", (*_F, "a"), "integer"),
    ("lower-case type name", "native", (*_F, "a"), "address"),
    ("set of bool", "native", (*_F, "a"), "set<bool>"),
    ("set of a model", "native", (*_F, "a"), "set<Address>"),
    ("unclosed generic", "native", (*_F, "a"), "list<string"),
    ("field name case", "native", (*_F, "Fo"), "string"),
    ("field name keyword", "native", (*_F, "class"), "string"),
    ("field name reserved", "native", (*_F, "to_item"), "string"),
    ("unknown field key", "native", (*_F, "a"), {"type": "string", "optinal": True}),
    ("field without type", "native", (*_F, "a"), {"optional": True}),
    ("optional not a bool", "native", (*_F, "a"), {"type": "string", "optional": "yes"}),
    ("unknown role", "native", (*_F, "a"), {"type": "datetime", "role": "deleted_at"}),
    ("role on the wrong type", "native", (*_F, "created_at", "type"), "date"),
    ("version role on a decimal", "native", (*_F, "version", "type"), "decimal"),
    ("pattern name", "native", (*_M, "access_patterns", "ByStatus"), {}),
    ("unknown pattern key", "native", (*_M, "access_patterns", "by_status", "order"), "asc"),
    ("descending not a bool", "native", (*_M, "access_patterns", "by_status", "descending"), "yes"),
    ("adjacent placeholders", "native", (*_M, "keys", "SK"), "{thing_id}{status}"),
    ("unbalanced template", "native", (*_M, "keys", "SK"), "A#{thing_id"),
    ("empty placeholder", "native", (*_M, "keys", "SK"), "A#{}"),
    ("doc not a string", "native", (*_M, "doc"), ["a"]),
    ("dms version", "dms", ("dms_version",), "0.2"),
    ("dms version number", "dms", ("dms_version",), 0.1),
    ("dms unknown top key", "dms", ("model",), []),
    ("dms namespace blank", "dms", ("namespace",), " "),
    ("dms unknown model key", "dms", ("models", 0, "tabel"), {}),
    ("dms model without attributes", "dms", ("models", 0, "attributes"), DELETE),
    ("dms model with no attributes", "dms", ("models", 0, "attributes"), []),
    ("dms model name", "dms", ("models", 0, "name"), "user"),
    ("dms table name", "dms", ("models", 0, "table", "name"), "u"),
    ("dms keys without partition", "dms", ("models", 0, "keys", "partition"), DELETE),
    ("dms key without type", "dms", ("models", 0, "keys", "sort"), {"attribute": "SK"}),
    ("dms convention", "dms", ("models", 0, "naming", "convention"), "kebab"),
    ("dms convention broken", "dms", (*_A, 2, "attribute"), "e_mail"),
    ("dms type", "dms", (*_A, 2, "type"), "STRING"),
    ("dms bare null type", "dms", (*_A, 2, "type"), None),
    ("dms format", "dms", (*_A, 2, "format"), "iso"),
    ("dms json on N", "dms", (*_A, 4, "json"), True),
    ("dms binary on S", "dms", (*_A, 2, "binary"), True),
    ("dms rfc3339nano on N", "dms", (*_A, 4, "format"), "rfc3339nano"),
    ("dms unix_seconds on S", "dms", (*_A, 2, "format"), "unix_seconds"),
    ("dms created_at on N", "dms", (*_A, 3, "type"), "N"),
    ("dms version on S", "dms", (*_A, 4, "type"), "S"),
    ("dms ttl on S", "dms", (*_A, 5, "type"), "S"),
    (
        "dms required and optional",
        "dms",
        (*_A, 2),
        {"attribute": "email", "type": "S", "required": True, "optional": True},
    ),
    ("dms unknown role", "dms", (*_A, 2, "roles"), ["primary"]),
    ("dms two lifecycle roles", "dms", (*_A, 5, "roles"), ["ttl", "version"]),
    ("dms encryption", "dms", (*_A, 2, "encryption"), {"v": 1}),
    ("dms tags not a mapping", "dms", (*_A, 2, "tags"), ["a"]),
    ("dms unknown attribute key", "dms", (*_A, 2, "requird"), True),
    ("dms index type", "dms", ("models", 0, "indexes", 0, "type"), "global"),
    ("dms index name", "dms", ("models", 0, "indexes", 0, "name"), "ix"),
    ("dms lsi without sort", "dms", ("models", 0, "indexes", 0, "type"), "LSI"),
    ("dms include without fields", "dms", ("models", 0, "indexes", 0, "projection"), {"type": "INCLUDE"}),
    ("dms projection type", "dms", ("models", 0, "indexes", 0, "projection"), {"type": "SOME"}),
]


def _mutate(dialect: str, path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(NATIVE_BASE if dialect == "native" else DMS_BASE)
    parent: Any = doc
    for part in path[:-1]:
        parent = parent[part]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc


@pytest.mark.parametrize("dialect", ["native", "dms"])
def test_the_bases_compile_and_validate(dialect: str, tmp_path: Path) -> None:
    doc = NATIVE_BASE if dialect == "native" else DMS_BASE
    assert _compiles(yaml.safe_dump(doc, sort_keys=False), tmp_path)
    assert _problems(doc) == []


@pytest.mark.parametrize(("dialect", "path", "value"), [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS])
def test_both_refuse(dialect: str, path: tuple[Any, ...], value: Any, tmp_path: Path) -> None:
    doc = _mutate(dialect, path, value)
    assert not _compiles(yaml.safe_dump(doc, sort_keys=False), tmp_path), "the loader accepts it: not a hostile case"
    assert _problems(doc), "the loader refuses it, the JSON Schema does not"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_json_schema_never_refuses_what_compiles(tmp_path_factory: pytest.TempPathFactory, doc: dict[str, Any]) -> None:
    folder = tmp_path_factory.mktemp("jsonschema")
    text = yaml.safe_dump(doc, sort_keys=False)
    if _compiles(text, folder, "payments.yaml"):
        assert _problems(yaml.safe_load(text)) == []

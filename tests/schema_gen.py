"""Random native schemas and random values for them, for the property tests (no tests here).

``schemas()`` draws a single-table schema: one to three models on one table (their partitions may
coincide), sort keys of one to three typed parts with random widths, separators and prefixes, an
index, an embedded record, an enum, and extra fields of every type with random optional / omit_empty
/ default flags. Some drawn schemas are refused by the compiler (two models that could write one
key, a field flag combination that could not read back); the tests count and skip those.

``values_for(model, ...)`` draws a model instance field by field from the intermediate model, so the
values fit the types the generated code expects.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import uuid as uuid_module
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from hypothesis import strategies as st

from dynagen.compiler import compile_schemas, write_output
from dynagen.compiler._ir import Field, FieldType, Model, Module
from dynagen.compiler._table_rules import key_rules
from dynagen.errors import SchemaError

__all__ = ["Compiled", "compile_text", "schemas", "sort_values", "values_for"]

SORT_KINDS = ["string", "int", "decimal", "date", "datetime", "uuid", "enum"]
EXTRA_TYPES = [
    "string", "int", "decimal", "float", "bool", "bytes", "datetime", "date", "uuid", "json", "Color", "Rec",
    "list<string>", "list<int>", "list<Rec>", "map<decimal>", "map<list<string>>", "set<string>", "set<int>",
    "set<decimal>", "set<bytes>",
]  # fmt: skip
COLORS = ["red", "green", "blue-ish", "zz top"]
# Field names that shadow what generated code reads (builtins, imported types, runtime helpers, the
# locals and parameters of generated methods): a generated module must work with any of them.
RISKY_NAMES = [
    "date", "datetime", "set", "list", "dict", "type", "id", "value", "int", "str", "float", "bytes", "bool",
    "uuid", "decimal", "av", "exc", "e0", "k0", "v", "limit", "cursor", "filter", "consistent", "page_size",
    "deadline", "condition", "changes", "index", "items", "count", "len", "min", "max", "format", "hash", "object",
    "key_part", "enc_date", "expect", "split_key", "key_error", "decode_error", "parse_datetime", "as_record",
]  # fmt: skip
# Key-part text: letters and digits sort above every separator used here ('#', '|'), so text order is
# value order for them; '#', ' ' and '!' appear too, to hit the separator rule and the text-range rule.
KEY_ALPHABET = "abcxyzAB019_-"


@st.composite
def _sort_part(draw: st.DrawFn, name: str) -> tuple[dict[str, Any], str]:
    """(the field's spec, its placeholder) for one sort-key part."""
    kind = draw(st.sampled_from(SORT_KINDS))
    if kind == "int":
        width = draw(st.integers(1, 6))
        return {"type": "int"}, f"{{{name}:0{width}}}"
    if kind == "decimal":
        scale = draw(st.integers(0, 3))
        width = draw(st.integers(scale + 2, scale + 7)) if scale else draw(st.integers(1, 6))
        return {"type": "decimal"}, f"{{{name}:0{width}.{scale}f}}" if scale else f"{{{name}:0{width}}}"
    if kind == "enum":
        return {"type": "Color"}, f"{{{name}}}"
    return {"type": kind}, f"{{{name}}}"


@st.composite
def _extra_field(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": draw(st.sampled_from(EXTRA_TYPES))}
    flag = draw(st.sampled_from(["", "", "", "optional", "omit_empty", "default"] * 3 + ["optional+omit_empty"]))
    if "optional" in flag:
        spec["optional"] = True
    if "omit_empty" in flag:
        spec["omit_empty"] = True
    if flag == "default":
        defaults = {"string": "dflt", "int": 7, "decimal": "1.25", "float": 0.5, "bool": True, "Color": "green",
                    "list<string>": [], "list<int>": [], "list<Rec>": [], "map<decimal>": {}, "set<string>": [],
                    "set<int>": [], "set<decimal>": [], "set<bytes>": [], "map<list<string>>": {}}  # fmt: skip
        if spec["type"] in defaults:
            spec["default"] = defaults[spec["type"]]
    return spec


@st.composite
def _field_name(draw: st.DrawFn, plain: str, taken: dict[str, Any]) -> str:
    """``plain`` (``s0``, ``x1``) most of the time, else a name from ``RISKY_NAMES`` not yet in the model."""
    if draw(st.integers(0, 3)) == 0:
        name = draw(st.sampled_from(RISKY_NAMES))
        if name not in taken:
            return name
    return plain


@st.composite
def schemas(draw: st.DrawFn) -> str:
    """A native schema document (YAML text) of one table and one to three models."""
    separator = draw(st.sampled_from(["#", "#", "#", "|"]))
    models: dict[str, Any] = {
        "Rec": {
            "fields": {
                "label": {"type": "string", "omit_empty": True},
                "count": draw(st.sampled_from([{"type": "int"}, {"type": "int", "omit_empty": True}])),
                "note": {"type": "string", "optional": True},
            }
        }
    }
    for i in range(draw(st.integers(1, 3))):
        fields: dict[str, Any] = {"pid": "string"}
        placeholders = []
        sort_names = []
        for j in range(draw(st.integers(1, 3))):
            name = draw(_field_name(f"s{j}", fields))
            spec, placeholder = draw(_sort_part(name))
            fields[name] = spec
            placeholders.append(placeholder)
            sort_names.append(name)
        for j in range(draw(st.integers(0, 5))):
            fields[draw(_field_name(f"x{j}", fields))] = draw(_extra_field())
        prefix = draw(st.sampled_from(["A" + separator, "A" + separator, "B" + separator, "A", ""]))
        gsi_part = placeholders[-1]
        models[f"M{i}"] = {
            "table": "t",
            "entity": f"E{i}",
            "keys": {
                "PK": draw(st.sampled_from(["P" + separator, "Q" + separator])) + "{pid}",
                "SK": prefix + separator.join(placeholders),
                "GSI1PK": "G" + separator + "{pid}",
                "GSI1SK": "X" + separator + gsi_part + separator + "{pid}",
            },
            "fields": fields,
            "access_patterns": {
                "by_sort": {"range": sort_names[0]},
                "by_last": {"range": sort_names[-1]},
                "by_index": {"index": "GSI1", "range": gsi_part.strip("{}").split(":")[0]},
            },
        }
    document = {
        "dynagen": 1,
        "module": "gen",
        "enums": {"Color": COLORS},
        "tables": {
            "t": {
                "name": "generated",
                "partition_key": "PK",
                "sort_key": "SK",
                "entity_attribute": "entity",
                "indexes": {"GSI1": {"partition_key": "GSI1PK", "sort_key": "GSI1SK"}},
            }
        },
        "models": models,
    }
    return yaml.safe_dump(document, sort_keys=False)


@dataclass
class Compiled:
    text: str
    ir: Module | None  # None: the compiler refused the schema
    module: ModuleType | None
    errors: str = ""

    def model(self, name: str) -> Model:
        assert self.ir is not None
        return next(m for m in self.ir.models if m.name == name)

    def forbidden(self, model: Model) -> dict[str, frozenset[str]]:
        assert self.ir is not None
        bound = [m for m in self.ir.models if m.table is not None]
        return key_rules(bound).of(model)


_CACHE: dict[str, Compiled] = {}


def compile_text(text: str) -> Compiled:
    """Compile a schema text into an imported module (cached by text)."""
    if text in _CACHE:
        return _CACHE[text]
    folder = Path(tempfile.mkdtemp(prefix="dynagen-gen-"))
    (folder / "gen.yaml").write_text(text, encoding="utf-8")
    try:
        output = compile_schemas([folder / "gen.yaml"], root=folder)
    except SchemaError as error:
        compiled = Compiled(text, None, None, str(error))
    else:
        write_output(output, folder / "out")
        name = f"gen_{uuid_module.uuid4().hex}"
        spec = importlib.util.spec_from_file_location(name, folder / "out" / "gen.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        compiled = Compiled(text, output.modules[0], module)
    _CACHE[text] = compiled
    return compiled


_UTC_OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-7, minutes=-30))])


def _scalar(kind: str, *, key: bool, forbidden: frozenset[str] = frozenset()) -> st.SearchStrategy[Any]:
    if kind == "string":
        alphabet = KEY_ALPHABET + "".join(sorted(forbidden)) if key else st.characters(codec="utf-8")
        return st.text(alphabet=alphabet, min_size=1 if key else 0, max_size=8)
    if kind == "int":
        return st.integers(-(10**20), 10**20)
    if kind == "decimal":
        return st.builds(lambda n, e: Decimal(n).scaleb(-e), st.integers(-(10**12), 10**12), st.integers(0, 6))
    if kind == "float":
        return st.floats(min_value=-1e100, max_value=1e100, allow_nan=False, allow_infinity=False).filter(
            lambda f: f == 0 or abs(f) > 1e-100
        )
    if kind == "bool":
        return st.booleans()
    if kind == "bytes":
        return st.binary(max_size=8)
    if kind == "datetime":
        return st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_UTC_OFFSETS)
    if kind == "date":
        return st.dates(min_value=date(1, 1, 1))
    if kind == "uuid":
        return st.uuids()
    if kind == "json":
        leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=5)
        return st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6)
    raise AssertionError(kind)


def _value(t: FieldType, module: ModuleType, key: bool = False, forbidden: frozenset[str] = frozenset()) -> st.SearchStrategy[Any]:
    if t.kind == "enum":
        return st.sampled_from(list(getattr(module, t.ref or "")))
    if t.kind == "model":
        record = getattr(module, t.ref or "")
        return st.builds(
            lambda label, count, note: record(label=label, count=count, note=note),
            st.text(max_size=4), st.integers(0, 3), st.none() | st.text(max_size=4),
        )  # fmt: skip
    if t.kind == "list":
        return st.lists(_value(t.item or FieldType("string"), module), max_size=3)
    if t.kind == "map":
        return st.dictionaries(st.text(min_size=1, max_size=4), _value(t.item or FieldType("string"), module), max_size=3)
    if t.kind == "set":
        return st.sets(_value(t.item or FieldType("string"), module), max_size=3)
    return _scalar(t.kind, key=key, forbidden=forbidden)


def sort_values(f: Field, width: int, scale: int, module: ModuleType) -> st.SearchStrategy[Any]:
    """Values of a sort-key part that fit its width (a fixed-width part refuses the others)."""
    kind = f.type.kind
    if kind == "int":
        return st.integers(0, 10**width - 1)
    if kind == "decimal":
        digits = width - scale - (1 if scale else 0)
        return st.builds(lambda n: Decimal(n).scaleb(-scale), st.integers(0, 10 ** (digits + scale) - 1))
    return _value(f.type, module, key=True)


@st.composite
def values_for(draw: st.DrawFn, compiled: Compiled, model: Model, *, separators: bool = True) -> Any:
    """An instance of ``model``'s generated class; string key parts may hold a separator (``separators``)."""
    module = compiled.module
    assert module is not None
    widths = {
        part.field: (part.width, part.scale)
        for key in model.keys
        for part in key.template
        if not isinstance(part, str)
    }
    forbidden = compiled.forbidden(model) if separators else {}
    kwargs: dict[str, Any] = {}
    for f in model.fields:
        if f.name in widths:
            kwargs[f.name] = draw(sort_values(f, *widths[f.name], module) if f.type.kind != "string"
                                  else _scalar("string", key=True, forbidden=forbidden.get(f.name, frozenset())))  # fmt: skip
            continue
        strategy = _value(f.type, module)
        if f.optional:
            strategy = st.none() | strategy
        kwargs[f.name] = draw(strategy)
    return getattr(module, model.name)(**kwargs)

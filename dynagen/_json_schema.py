"""JSON Schemas of the two schema dialects, for editors (yaml-language-server) and other tools.

``render("native")`` / ``render("dms")`` give the text shipped in ``dynagen/json_schema/`` and printed
by ``dynagen json-schema``. Value sets (types, roles, stream views, DMS types and formats) come from
the loaders' own constants, so the two cannot disagree; the keys and their descriptions are written
here, from docs/schema.md, and tests/test_json_schema.py holds them to the loaders: every key a
loader accepts is described, every golden and example schema validates, and the hostile schemas the
loaders refuse are refused here wherever JSON Schema can say the rule.

Draft-07, the draft every YAML language server supports (``if``/``then``, ``dependencies``).
Regenerate the shipped files with ``python -m dynagen._json_schema`` after changing this module.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
from pathlib import Path
from typing import Any

from dynagen.compiler import _dms, _native
from dynagen.compiler._names import RESERVED_FIELDS

__all__ = ["DIALECTS", "FILES", "dms_schema", "native_schema", "render", "shipped_path"]

DIALECTS = ("native", "dms")
FILES = {"native": "dynagen.schema.json", "dms": "dms-0.1.schema.json"}
DRAFT = "http://json-schema.org/draft-07/schema#"
# Type expressions nest (list<map<list<T>>>); JSON Schema has no recursion inside a regex, so the
# pattern spells out this many levels. The loader has no such limit: deeper types are not flagged wrongly
# only up to here, and nothing real comes close.
MAX_TYPE_DEPTH = 8

Schema = dict[str, Any]


def _text(description: str) -> Schema:
    return {"description": description}


def _string(description: str, **more: Any) -> Schema:
    return {"type": "string", "description": description, **more}


def _non_empty(description: str, **more: Any) -> Schema:
    # The loaders refuse an empty or blank string wherever a name or reference is expected.
    return _string(description, pattern=r"\S", **more)


def _bool(description: str) -> Schema:
    return {"type": "boolean", "description": description}


def _folded(values: list[str], description: str | None = None) -> Schema:
    """One of ``values`` in any letter case (the loader folds these), completing to the lower-case spelling."""

    def any_case(value: str) -> str:
        return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in value)

    pattern = "^(?:" + "|".join(any_case(v) for v in values) + ")$"
    schema: Schema = {"anyOf": [{"enum": values}, {"type": "string", "pattern": pattern}]}
    return {"description": description, **schema} if description else schema


def _not_keyword(pattern: str, reserved: frozenset[str] = frozenset()) -> Schema:
    """A name matching ``pattern`` that is not a Python keyword (nor one of ``reserved``)."""
    words = sorted(w for w in {*keyword.kwlist, *reserved} if re.match(pattern, w))
    schema: Schema = {"type": "string", "pattern": pattern}
    if words:
        schema["not"] = {"enum": words}
    return schema


_SNAKE = r"^(?!__)[a-z_][a-z0-9_]*$"
_CLASS = r"^[A-Z][A-Za-z0-9]*$"
_AWS_NAME = r"^[A-Za-z0-9_.-]{3,255}$"


def _type_pattern() -> str:
    """A native type expression, as ``parse_type`` reads it: scalars, names, list/map/set of them, ``?``."""
    scalars = "|".join(_native.SCALARS)
    set_items = "|".join(_native.SET_ITEMS)
    base = rf"(?:{scalars}|[A-Z][A-Za-z0-9]*|set\s*<\s*(?:{set_items})\s*>)"
    expression = base
    for _ in range(MAX_TYPE_DEPTH):
        expression = rf"(?:{base}|(?:list|map)\s*<\s*{expression}\s*>)"
    # The loader drops one trailing "?" (optional), then surrounding blanks.
    return rf"^\s*{expression}\s*\??$"


_SCALAR_DOCS = {
    "string": "str, stored as S",
    "int": "int, stored as N (exact, up to 38 digits)",
    "decimal": "Decimal, stored as N (exact)",
    "float": "float, stored as N (shortest round-trip repr; NaN and infinities refused)",
    "bool": "bool, stored as BOOL",
    "bytes": "bytes, stored as B",
    "datetime": "timezone-aware datetime, stored as S in RFC 3339 UTC",
    "date": "date, stored as S (YYYY-MM-DD)",
    "uuid": "UUID, stored as S",
    "json": "any JSON value, stored as S holding compact JSON with sorted keys",
}


def _type_expression() -> Schema:
    suggestions = [{"const": s, "description": _SCALAR_DOCS.get(s, s)} for s in _native.SCALARS]
    return {
        "description": "A type: string, int, decimal, float, bool, bytes, datetime, date, uuid, json, an enum or "
        "model of this file, list<T>, map<T>, set<string|int|decimal|float|bytes>; a trailing ? makes it optional.",
        "anyOf": [*suggestions, {"type": "string", "pattern": _type_pattern()}],
    }


# The type each lifecycle role needs (optional or not).
_ROLE_TYPES = {
    "created_at": ("datetime",),
    "updated_at": ("datetime",),
    "version": ("int",),
    "ttl": ("datetime", "int"),
}


def _role_type(role: str, types: tuple[str, ...]) -> Schema:
    pattern = rf"^\s*(?:{'|'.join(types)})\s*\??$"
    return {"if": {"required": ["role"], "properties": {"role": {"const": role}}},
            "then": {"properties": {"type": {"type": "string", "pattern": pattern}}}}  # fmt: skip


# A key template: literal text and {field} placeholders, braces balanced, a literal between two placeholders.
_TEMPLATE = r"^(?:[^{}]|\{\s*[A-Za-z_][^{}]*\}(?!\{))+$"

_DOC = _string("Free text for readers of the schema (a model's, field's, enum's or access pattern's becomes its docstring).")


def _key_attribute(what: str) -> Schema:
    # Descriptions sit on the property, not on the branches: an editor's hover shows the matching branch's.
    return {
        "description": f"The {what}: NAME (an S attribute) or {{attribute: NAME, type: S|N|B}}.",
        "oneOf": [
            {"type": "string", "minLength": 1},  # an attribute of type S
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["attribute"],
                "properties": {
                    "attribute": _non_empty("The attribute name."),
                    "type": {"enum": ["S", "N", "B"], "description": "S (string), N (number) or B (binary)."},
                },
            },
        ],
    }


def _capacity(what: str) -> Schema:
    return {"type": "integer", "minimum": 1, "maximum": 40000, "description": f"Provisioned {what} capacity units."}


def native_schema() -> Schema:
    """The JSON Schema of the native dialect (documents with ``dynagen: 1``)."""
    billing = {
        "description": "on_demand (default) or {mode: provisioned, read: N, write: N}.",
        "oneOf": [
            {"const": "on_demand"},
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "mode": {"enum": ["on_demand", "provisioned"], "description": "on_demand or provisioned."},
                    "read": _text("Provisioned read capacity units."),
                    "write": _text("Provisioned write capacity units."),
                },
                # Capacities are read (and checked) only for provisioned billing.
                "if": {"required": ["mode"], "properties": {"mode": {"const": "provisioned"}}},
                "then": {
                    "required": ["read", "write"],
                    "properties": {"read": _capacity("read"), "write": _capacity("write")},
                },
            },
        ],
    }
    index = {
        "type": "object",
        "description": "A secondary index.",
        "additionalProperties": False,
        "properties": {
            "type": _folded(
                ["global", "local"],
                "global (default) or local; a local index shares the table's partition key and needs a sort_key.",
            ),
            "partition_key": _key_attribute("index's partition key"),
            "sort_key": _key_attribute("index's sort key"),
            "projection": {
                "description": "all (default), keys_only, or a list of attribute names (INCLUDE): DynamoDB "
                "attributes some model on the table writes.",
                "oneOf": [
                    _folded(["all", "keys_only"], "all or keys_only."),
                    {"type": "array", "minItems": 1, "items": _non_empty("A DynamoDB attribute name.")},
                ],
            },
            "read_capacity": _capacity("read"),
            "write_capacity": _capacity("write"),
        },
        "if": {"required": ["type"], "properties": {"type": _folded(["local"])}},
        "then": {"required": ["sort_key"]},
        "else": {"required": ["partition_key"]},
    }
    table = {
        "type": "object",
        "description": "A DynamoDB table; models refer to it by this id.",
        "additionalProperties": False,
        "required": ["partition_key"],
        "properties": {
            "name": _string(
                "Physical table name (default: the id); 3-255 of A-Z a-z 0-9 _ . -. Repositories "
                "accept table_name= to override it per environment.",
                pattern=_AWS_NAME,
            ),
            "partition_key": _key_attribute("table's partition key"),
            "sort_key": _key_attribute("table's sort key"),
            "billing": billing,
            "ttl": _non_empty("The TTL attribute; a model's role: ttl field must use it."),
            "stream": _folded(sorted(_native.STREAMS), "Stream view type."),
            "entity_attribute": _non_empty(
                "Attribute holding each item's model (its entity value); needed when several models share the table."
            ),
            "indexes": {
                "type": "object",
                "description": "Secondary indexes, by name.",
                "propertyNames": {"pattern": _AWS_NAME},
                "additionalProperties": {"$ref": "#/definitions/index"},
            },
            "doc": _DOC,
        },
        # A provisioned table's global indexes need their own capacities.
        "if": {
            "required": ["billing"],
            "properties": {
                "billing": {"type": "object", "required": ["mode"], "properties": {"mode": {"const": "provisioned"}}}
            },
        },
        "then": {
            "properties": {
                "indexes": {
                    "additionalProperties": {
                        "if": {"required": ["type"], "properties": {"type": _folded(["local"])}},
                        "else": {"required": ["read_capacity", "write_capacity"]},
                    }
                }
            },
        },
    }
    field_object = {
        "type": "object",
        "additionalProperties": False,
        "required": ["type"],
        "properties": {
            "type": {"$ref": "#/definitions/type"},
            "attribute": _non_empty("The DynamoDB attribute name (default: from naming)."),
            "optional": _bool("The field may be None; None is not written, and a missing attribute reads as None."),
            "default": _text(
                "A literal used when the constructor omits the field and when an item lacks the "
                "attribute ([] or {} for collections)."
            ),
            "omit_empty": _bool(
                'Not written when empty ("", 0, false, empty collection, an all-empty record); a '
                "missing attribute reads as the empty value."
            ),
            "doc": _DOC,
            "role": {
                "enum": list(_native.ROLES),
                "description": "Lifecycle role: created_at / updated_at (datetime, stamped by the library), "
                "version (int, optimistic locking), ttl (datetime or int, epoch seconds).",
            },
        },
        "allOf": [_role_type(role, types) for role, types in _ROLE_TYPES.items()],
    }
    pattern = {
        "description": "A query method (and its iter_ variant) of the model's repository.",
        "oneOf": [
            {"type": "null"},
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "index": _non_empty("The index to query (default: the table)."),
                    "doc": _DOC,
                    "range": _non_empty(
                        "The sort-key field the query narrows: adds <field>_eq/_from/_to/_after/"
                        "_before/_prefix arguments."
                    ),
                    "descending": _bool("Newest (highest sort key) first by default."),
                    "returns": {
                        "enum": list(_native.RETURNS),
                        "description": "What each result is: model (default; the index must project every "
                        "attribute of the model), keys (the primary key fields, typed, from any projection) or "
                        "items (the full items, read with BatchGetItem after the query).",
                    },
                },
            },
        ],
    }
    model = {
        "type": "object",
        "description": "A model: with a table it is stored as items and gets a repository; without one it is an "
        "embedded record stored as a map (M).",
        "additionalProperties": False,
        "required": ["fields"],
        "properties": {
            "table": _non_empty("Id of the table the model's items live in."),
            "entity": _non_empty("Value of the table's entity attribute for this model (default: the model name)."),
            "doc": _DOC,
            "keys": {
                "type": "object",
                "description": "Key templates by key attribute (of the table and its indexes): literal text and "
                "{field} placeholders, with literal text between placeholders; a number in a sort key needs a "
                "fixed width: {line_no:06} or {price:010.2f}.",
                "additionalProperties": _string('A key template such as "PAYMENT#{payment_id}".', pattern=_TEMPLATE),
            },
            "fields": {
                "type": "object",
                "description": "Fields by snake_case name: a type, or {type, attribute, optional, default, "
                "omit_empty, doc, role}.",
                "minProperties": 1,
                "propertyNames": _not_keyword(_SNAKE, RESERVED_FIELDS),
                "additionalProperties": {"oneOf": [{"$ref": "#/definitions/type"}, field_object]},
            },
            "access_patterns": {
                "type": "object",
                "description": "Queries by snake_case method name.",
                "propertyNames": _not_keyword(_SNAKE),
                "additionalProperties": pattern,
            },
        },
        # Keys, access patterns and an entity value only mean something for a model stored in a table.
        "dependencies": {"keys": ["table"], "access_patterns": ["table"], "entity": ["table"]},
    }
    enum = {
        "description": "A string enum (StrEnum in Python): its values, or {values, doc}.",
        "oneOf": [
            {"type": "array", "minItems": 1, "items": _non_empty("A value.")},
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["values"],
                "properties": {
                    "values": {
                        "type": "array",
                        "minItems": 1,
                        "items": _non_empty("A value."),
                        "description": "The enum's values.",
                    },
                    "doc": _DOC,
                },
            },
        ],
    }
    return {
        "$schema": DRAFT,
        "title": "dynagen schema (native dialect, version 1)",
        "description": "DynamoDB tables and models compiled by dynagen into typed Python modules.",
        "type": "object",
        "additionalProperties": False,
        "required": ["dynagen", "models"],
        "properties": {
            "dynagen": {"const": 1, "description": "Schema version; this dynagen reads 1."},
            "module": {
                **_not_keyword(_SNAKE),
                "description": "Python module name (lower-case identifier; default: the file name in snake_case).",
            },
            "doc": _DOC,
            "naming": {
                "enum": ["camelCase", "snake_case"],
                "description": "How attribute names derive from field names: camelCase (default) or snake_case.",
            },
            "enums": {
                "type": "object",
                "description": "String enums, by CapitalizedName.",
                "propertyNames": _not_keyword(_CLASS),
                "additionalProperties": enum,
            },
            "tables": {
                "type": "object",
                "description": "Table definitions, by id.",
                "additionalProperties": {"$ref": "#/definitions/table"},
            },
            "models": {
                "type": "object",
                "description": "Models, by class name (CapitalizedName).",
                "propertyNames": _not_keyword(_CLASS),
                "additionalProperties": {"$ref": "#/definitions/model"},
            },
        },
        "definitions": {"table": table, "index": index, "model": model, "type": _type_expression()},
    }


def _dms_key(what: str) -> Schema:
    return {
        "type": "object",
        "description": f"The {what}.",
        "additionalProperties": False,
        "required": ["attribute", "type"],
        "properties": {
            "attribute": _non_empty("An attribute declared in attributes[]."),
            "type": {"enum": ["S", "N", "B"], "description": "S, N or B."},
        },
    }


def _when(prop: str, value: Any, then: Schema) -> Schema:
    return {"if": {"required": [prop], "properties": {prop: {"const": value}}}, "then": then}


def _when_role(role: str, then: Schema) -> Schema:
    return {"if": {"required": ["roles"], "properties": {"roles": {"contains": {"const": role}}}}, "then": then}


def dms_schema() -> Schema:
    """The JSON Schema of DynamORM's DMS v0.1 as dynagen reads it."""
    stored_as = {
        "S": "string", "N": "number", "B": "binary", "BOOL": "boolean", "M": "map", "L": "list",
        "SS": "string set", "NS": "number set", "BS": "binary set", "NULL": 'null (write it quoted: "NULL")',
    }  # fmt: skip
    attribute_type = {
        "description": "The DynamoDB type.",
        "anyOf": [{"const": t, "description": stored_as.get(t, t)} for t in _dms.TYPES],
    }
    lifecycle_roles = [r for r in _dms.ROLES if r not in ("pk", "sk")]
    attribute = {
        "type": "object",
        "description": "One attribute of the model.",
        "additionalProperties": False,
        "required": ["attribute", "type"],
        "properties": {
            "attribute": _non_empty("The attribute name (its Python field is the snake_case of it)."),
            "type": attribute_type,
            "required": _bool("Always present; a NULL attribute with required: true is written as NULL."),
            "optional": _bool("May be missing (None in Python)."),
            "omit_empty": _bool("Not written when empty."),
            "roles": {
                "type": "array",
                "description": "pk, sk, created_at, updated_at, version, ttl, index_pk:<index>, index_sk:<index>.",
                "items": {
                    "anyOf": [
                        {"enum": list(_dms.ROLES)},
                        {"type": "string", "pattern": r"^index_(?:pk|sk):.+$"},
                    ]
                },
            },
            "format": {
                "enum": list(_dms.FORMATS),
                "description": "rfc3339nano (S: datetime), unix_seconds (N: datetime as epoch seconds), int (N: int).",
            },
            "json": _bool("An S attribute holding any JSON value."),
            "binary": _bool("A B attribute."),
            "encryption": {"not": {}, "description": "Encrypted attributes are not supported by dynagen yet."},
            "tags": {"type": "object", "description": "Free-form metadata for other tools."},
        },
        "allOf": [
            {"not": {"required": ["required", "optional"], "properties": {"required": {"const": True},
                                                                        "optional": {"const": True}}}},
            _when("json", True, {"properties": {"type": {"const": "S"}}}),
            _when("binary", True, {"properties": {"type": {"const": "B"}}}),
            _when("format", "rfc3339nano", {"properties": {"type": {"const": "S"}}}),
            _when("format", "unix_seconds", {"properties": {"type": {"const": "N"}}}),
            *(_when_role(role, {"properties": {"type": {"const": "S"}, "format": {"const": "rfc3339nano"}}})
              for role in ("created_at", "updated_at")),
            _when_role("version", {"properties": {"type": {"const": "N"}, "format": {"const": "int"}}}),
            _when_role("ttl", {"properties": {"type": {"const": "N"}, "format": {"enum": ["unix_seconds", "int"]}}}),
            _when("format", "int", {"properties": {"type": {"const": "N"}}}),
            # At most one lifecycle role (draft-07 has no maxContains: every pair is ruled out).
            *({"not": {"required": ["roles"], "properties": {"roles": {"allOf": [{"contains": {"const": a}},
                                                                                 {"contains": {"const": b}}]}}}}
              for i, a in enumerate(lifecycle_roles) for b in lifecycle_roles[i + 1:]),
        ],
    }  # fmt: skip
    index = {
        "type": "object",
        "description": "A secondary index; each gives the repository a query_<index> method.",
        "additionalProperties": False,
        "required": ["name", "type", "partition"],
        "properties": {
            "name": _string("Index name: 3-255 of A-Z a-z 0-9 _ . -", pattern=_AWS_NAME),
            "type": {"enum": ["GSI", "LSI"], "description": "GSI or LSI (an LSI shares the table's partition key)."},
            "partition": _dms_key("index's partition key"),
            "sort": _dms_key("index's sort key"),
            "projection": {
                "type": "object",
                "description": "What the index holds besides the keys.",
                "additionalProperties": False,
                "properties": {
                    "type": {
                        "enum": ["ALL", "KEYS_ONLY", "INCLUDE"],
                        "description": "ALL (default), KEYS_ONLY or INCLUDE.",
                    },
                    "fields": {
                        "type": "array",
                        "items": _non_empty("An attribute declared in attributes[]."),
                        "description": "The attributes an INCLUDE projection carries.",
                    },
                },
                "if": {"required": ["type"], "properties": {"type": {"const": "INCLUDE"}}},
                "then": {"required": ["fields"], "properties": {"fields": {"minItems": 1}}},
            },
        },
        "if": {"required": ["type"], "properties": {"type": {"const": "LSI"}}},
        "then": {"required": ["sort"]},
    }
    conventions = [_when_convention(name, regex.pattern) for name, regex in sorted(_dms.CONVENTIONS.items())]
    model = {
        "type": "object",
        "description": "One model: its table, keys, attributes and indexes.",
        "additionalProperties": False,
        "required": ["name", "table", "keys", "attributes"],
        "properties": {
            "name": {**_not_keyword(_CLASS), "description": "The model (class) name: a CapitalizedName."},
            "table": {
                "type": "object",
                "description": "The model's table.",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {"name": _string("The table name: 3-255 of A-Z a-z 0-9 _ . -", pattern=_AWS_NAME)},
            },
            "naming": {
                "type": "object",
                "description": "The naming convention attribute names follow.",
                "additionalProperties": False,
                "properties": {
                    "convention": {"enum": sorted(_dms.CONVENTIONS), "description": "Attribute names must follow it."}
                },
            },
            "keys": {
                "type": "object",
                "description": "The table's primary key: partition and optional sort attribute.",
                "additionalProperties": False,
                "required": ["partition"],
                "properties": {"partition": _dms_key("partition key"), "sort": _dms_key("sort key")},
            },
            "attributes": {
                "type": "array",
                "minItems": 1,
                "items": attribute,
                "description": "The model's attributes (Python fields: their snake_case names).",
            },
            "indexes": {"type": "array", "items": index, "description": "Secondary indexes."},
        },
        "allOf": conventions,
    }
    return {
        "$schema": DRAFT,
        "title": "DynamORM schema (DMS v0.1), as dynagen reads it",
        "description": "DynamORM's language-neutral schema: models with their table, keys, attributes and indexes.",
        "type": "object",
        "additionalProperties": False,
        "required": ["dms_version", "models"],
        "properties": {
            "dms_version": {"enum": list(_dms.SUPPORTED_VERSIONS), "description": 'DMS version, quoted: "0.1".'},
            "namespace": _non_empty("A namespace for the models (read, otherwise unused)."),
            "models": {"type": "array", "items": model, "description": "The models, each with its own table."},
        },
    }


def _when_convention(name: str, pattern: str) -> Schema:
    return {
        "if": {
            "required": ["naming"],
            "properties": {"naming": {"required": ["convention"], "properties": {"convention": {"const": name}}}},
        },
        "then": {"properties": {"attributes": {"items": {"properties": {"attribute": {"pattern": pattern}}}}}},
    }


def render(dialect: str) -> str:
    """The JSON Schema of ``dialect`` ("native" or "dms") as the text shipped with dynagen."""
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}, got {dialect!r}")
    schema = native_schema() if dialect == "native" else dms_schema()
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def shipped_path(dialect: str) -> Path:
    """Where the package carries the JSON Schema of ``dialect``."""
    return Path(__file__).resolve().parent / "json_schema" / FILES[dialect]


if __name__ == "__main__":  # pragma: no cover - the maintainers' regeneration step
    for name in DIALECTS:
        shipped_path(name).parent.mkdir(exist_ok=True)
        shipped_path(name).write_text(render(name), encoding="utf-8")
        sys.stdout.write(f"wrote {shipped_path(name)}\n")

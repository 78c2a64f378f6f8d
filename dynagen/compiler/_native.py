"""The native dialect (documents with a top-level ``dynagen:`` key) into the intermediate model.

The syntax is documented in docs/schema.md. This module only reads and checks shapes and references
local to one construct; cross-cutting rules (name clashes, key templates, roles) live in ``_check``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast

from dynagen.compiler._ir import (
    AccessPattern,
    EnumDef,
    Field,
    FieldType,
    Index,
    KeyAttr,
    KeyType,
    Model,
    Module,
    Placeholder,
    Table,
)
from dynagen.compiler._names import did_you_mean, is_class_name, is_identifier, snake_case
from dynagen.compiler._reader import Reader
from dynagen.compiler._yaml import Node

__all__ = ["load_native"]

TOP_KEYS = ("dynagen", "module", "doc", "naming", "enums", "tables", "models")
TABLE_KEYS = ("name", "partition_key", "sort_key", "billing", "ttl", "stream", "entity_attribute", "indexes", "doc")
INDEX_KEYS = ("type", "partition_key", "sort_key", "projection", "read_capacity", "write_capacity")
KEY_KEYS = ("attribute", "type")
BILLING_KEYS = ("mode", "read", "write")
MODEL_KEYS = ("table", "entity", "doc", "keys", "fields", "access_patterns")
FIELD_KEYS = ("type", "attribute", "optional", "default", "omit_empty", "doc", "role")
ENUM_KEYS = ("values", "doc")
PATTERN_KEYS = ("index", "doc", "range", "descending", "returns")
RETURNS = ("model", "keys", "items")

SCALARS = ("string", "int", "decimal", "float", "bool", "bytes", "datetime", "date", "uuid", "json")
SET_ITEMS = ("string", "int", "decimal", "float", "bytes")
ROLES = ("created_at", "updated_at", "version", "ttl")
STREAMS = {"new_image": "NEW_IMAGE", "old_image": "OLD_IMAGE", "new_and_old_images": "NEW_AND_OLD_IMAGES",
           "keys_only": "KEYS_ONLY"}  # fmt: skip
_GENERIC = re.compile(r"^(list|map|set)\s*<\s*(.+)\s*>$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_SPEC = re.compile(r"0([1-9][0-9]?)(?:\.([1-9][0-9]?)f)?")
_ENUM_MEMBER = re.compile(r"[^A-Za-z0-9]+")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def load_native(root: Node, r: Reader, source: str, default_module: str) -> Module | None:
    top = r.mapping(root, "the schema document", TOP_KEYS)
    if top is None:
        return None
    version = top["dynagen"]
    if version.value != 1:
        r.error(version, f"unsupported dynagen schema version {version.value!r}; this dynagen reads version 1")
        return None

    module_name = default_module
    if "module" in top and (name := r.string(top["module"], "module")) is not None:
        if not is_identifier(name) or name != name.lower():
            r.error(top["module"], f"module {name!r} must be a lower-case Python identifier")
        module_name = name
    if "doc" in top:
        r.string(top["doc"], "doc", non_empty=False)
    naming = "camelCase"
    if "naming" in top:
        naming = r.choice(top["naming"], "naming", ("camelCase", "snake_case")) or naming

    enums = _enums(top["enums"], r) if "enums" in top else []
    projected: list[_Projected] = []
    tables = _tables(top["tables"], r, projected) if "tables" in top else {}
    models = _models(top.get("models"), r, tables, {e.name for e in enums}, naming) if "models" in top else []
    if "models" not in top:
        r.error(root, "a schema needs a 'models' section")
    _check_projections(projected, models, r)
    return Module(source, module_name, "dynagen", tuple(tables.values()), tuple(models), tuple(enums))


def _enums(node: Node, r: Reader) -> list[EnumDef]:
    out: list[EnumDef] = []
    for name, spec in (r.mapping(node, "enums") or {}).items():
        if not is_class_name(name):
            r.error(node.key_pos[name], f"enum name {name!r} must be a CapitalizedName")
            continue
        doc = ""
        values_node = spec
        if spec.is_map:
            fields = r.mapping(spec, f"enum {name}", ENUM_KEYS) or {}
            doc = (r.string(fields["doc"], "doc", non_empty=False) or "") if "doc" in fields else ""
            if "values" not in fields:
                r.error(spec, f"enum {name} needs 'values'")
                continue
            values_node = fields["values"]
        values = r.strings(values_node, f"values of enum {name}")
        if values is None:
            continue
        if not values:
            r.error(values_node, f"enum {name} needs at least one value")
            continue
        members: list[tuple[str, str]] = []
        seen: set[str] = set()
        for value in values:
            member = _ENUM_MEMBER.sub("_", value).strip("_").upper()
            if not member or member[0].isdigit():
                member = "V_" + member
            if member in seen or not is_identifier(member):
                r.error(values_node, f"enum {name}: value {value!r} collides with another or gives no valid member name")
                continue
            seen.add(member)
            members.append((member, value))
        out.append(EnumDef(name, tuple(members), doc))
    return out


def _key_spec(node: Node, r: Reader, what: str) -> tuple[str, KeyType] | None:
    if isinstance(node.value, str):
        return (node.value, "S") if node.value else None
    spec = r.mapping(node, what, KEY_KEYS)
    if spec is None:
        return None
    if "attribute" not in spec:
        r.error(node, f"{what} needs 'attribute'")
        return None
    name = r.string(spec["attribute"], f"{what} attribute")
    kind = r.choice(spec["type"], f"{what} type", ("S", "N", "B")) if "type" in spec else "S"
    if name is None or kind is None:
        return None
    return name, cast(KeyType, kind)


@dataclass(frozen=True)
class _Projected:
    """One name of an INCLUDE projection, kept with its node until the models are known."""

    table_id: str
    index: str
    node: Node


def _check_projections(projected: list[_Projected], models: list[Model], r: Reader) -> None:
    """Every INCLUDE name is an attribute some model on that table writes (a typo projects nothing)."""
    for p in projected:
        carried: set[str] = set()
        for model in models:
            if model.table is not None and model.table.id == p.table_id:
                carried.update(f.attribute for f in model.fields)
                carried.update(k.attribute for k in model.keys)
                if model.table.entity_attribute:
                    carried.add(model.table.entity_attribute)
        name = p.node.value
        if name not in carried:
            r.error(p.node, f"index {p.index} of table {p.table_id!r}: projected attribute {name!r} is not an "
                            f"attribute of any model on that table{did_you_mean(str(name), tuple(carried))}")  # fmt: skip


def _tables(node: Node, r: Reader, projected: list[_Projected]) -> dict[str, Table]:
    out: dict[str, Table] = {}
    for table_id, spec_node in (r.mapping(node, "tables") or {}).items():
        spec = r.mapping(spec_node, f"table {table_id}", TABLE_KEYS)
        if spec is None:
            continue
        if "doc" in spec:  # free text for readers of the schema; not carried into the code
            r.string(spec["doc"], "doc", non_empty=False)
        name = r.string(spec["name"], "table name") if "name" in spec else table_id
        if name is not None and not re.fullmatch(r"[A-Za-z0-9_.-]{3,255}", name):
            r.error(spec.get("name", spec_node), f"table name {name!r} must be 3-255 characters of A-Z a-z 0-9 _ . -")
        if "partition_key" not in spec:
            r.error(spec_node, f"table {table_id} needs a partition_key")
            continue
        pk = _key_spec(spec["partition_key"], r, "partition_key")
        sk = _key_spec(spec["sort_key"], r, "sort_key") if "sort_key" in spec else None
        if pk is None or name is None:
            continue
        billing: Literal["PAY_PER_REQUEST", "PROVISIONED"] = "PAY_PER_REQUEST"
        rcu = wcu = None
        if "billing" in spec:
            billing_node = spec["billing"]
            if isinstance(billing_node.value, str):
                mode = r.choice(billing_node, "billing", ("on_demand", "provisioned"))
                if mode == "provisioned":
                    r.error(billing_node, "provisioned billing needs read and write capacity: {mode: provisioned, read: N, write: N}")
            else:
                b = r.mapping(billing_node, "billing", BILLING_KEYS) or {}
                mode = r.choice(b["mode"], "billing mode", ("on_demand", "provisioned")) if "mode" in b else None
                if mode == "provisioned":
                    billing = "PROVISIONED"
                    rcu = r.integer(b["read"], "read capacity", low=1, high=40000) if "read" in b else None
                    wcu = r.integer(b["write"], "write capacity", low=1, high=40000) if "write" in b else None
                    if rcu is None or wcu is None:
                        r.error(billing_node, "provisioned billing needs read and write capacity")
        ttl = r.string(spec["ttl"], "ttl") if "ttl" in spec else None
        stream = None
        if "stream" in spec:
            choice = r.choice(spec["stream"], "stream", tuple(STREAMS), fold=True)
            stream = STREAMS[choice] if choice else None
        entity_attr = r.string(spec["entity_attribute"], "entity_attribute") if "entity_attribute" in spec else None
        indexes: list[Index] = []
        for index_name, index_node in (r.mapping(spec["indexes"], "indexes") or {}).items() if "indexes" in spec else ():
            index = _index(index_name, index_node, r, billing, pk)
            if index is not None and index.include:  # the names read as strings: check them once models are read
                names = index_node.value["projection"].value
                projected.extend(_Projected(table_id, index_name, n) for n in names)
            if index is not None:
                indexes.append(index)
        out[table_id] = Table(
            id=table_id, name=name, partition_key=pk[0], partition_type=pk[1],
            sort_key=sk[0] if sk else None, sort_type=sk[1] if sk else None, indexes=tuple(indexes),
            billing=billing, read_capacity=rcu, write_capacity=wcu, ttl_attribute=ttl,
            stream=cast("Literal['NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES', 'KEYS_ONLY'] | None", stream),
            entity_attribute=entity_attr, loc=r.loc(spec_node),
        )  # fmt: skip
    return out


def _index(name: str, node: Node, r: Reader, billing: str, table_pk: tuple[str, KeyType]) -> Index | None:
    spec = r.mapping(node, f"index {name}", INDEX_KEYS)
    if spec is None:
        return None
    if not re.fullmatch(r"[A-Za-z0-9_.-]{3,255}", name):
        r.error(node, f"index name {name!r} must be 3-255 characters of A-Z a-z 0-9 _ . -")
    kind = r.choice(spec["type"], "index type", ("global", "local"), fold=True) if "type" in spec else "global"
    if "partition_key" not in spec and kind != "local":
        r.error(node, f"index {name} needs a partition_key")
        return None
    pk = _key_spec(spec["partition_key"], r, "partition_key") if "partition_key" in spec else table_pk
    sk = _key_spec(spec["sort_key"], r, "sort_key") if "sort_key" in spec else None
    if kind == "local":
        if pk is not None and pk[0] != table_pk[0]:
            r.error(spec["partition_key"], f"local index {name} must share the table's partition key {table_pk[0]!r}")
        if sk is None:
            r.error(node, f"local index {name} needs a sort_key")
    projection: Literal["ALL", "KEYS_ONLY", "INCLUDE"] = "ALL"
    include: tuple[str, ...] = ()
    if "projection" in spec:
        p = spec["projection"]
        if p.is_list:
            projection, include = "INCLUDE", tuple(r.strings(p, "projection") or ())
            if not p.value:  # DynamoDB refuses an INCLUDE without attributes; keys_only is what it would mean
                r.error(p, f"index {name}: an INCLUDE projection needs at least one attribute; "
                           "for only the keys write 'projection: keys_only'")  # fmt: skip
        else:
            choice = r.choice(p, "projection", ("all", "keys_only"), fold=True)
            projection = "KEYS_ONLY" if choice == "keys_only" else "ALL"
    rcu = r.integer(spec["read_capacity"], "read_capacity", low=1, high=40000) if "read_capacity" in spec else None
    wcu = r.integer(spec["write_capacity"], "write_capacity", low=1, high=40000) if "write_capacity" in spec else None
    if billing == "PROVISIONED" and kind == "global" and (rcu is None or wcu is None):
        r.error(node, f"global index {name} of a provisioned table needs read_capacity and write_capacity")
    if pk is None or kind is None:
        return None
    return Index(
        name=name, kind="LSI" if kind == "local" else "GSI", partition_key=pk[0], partition_type=pk[1],
        sort_key=sk[0] if sk else None, sort_type=sk[1] if sk else None, projection=projection, include=include,
        read_capacity=rcu, write_capacity=wcu,
    )  # fmt: skip


def parse_type(text: str, known: set[str]) -> FieldType | str:
    """A type expression (``list<map<decimal>>``) or an error message."""
    text = text.strip()
    if text in SCALARS:
        return FieldType(cast("Literal['string']", text))
    generic = _GENERIC.match(text)
    if generic:
        outer, inner_text = generic.group(1), generic.group(2)
        inner = parse_type(inner_text, known)
        if isinstance(inner, str):
            return inner
        if outer == "set":
            if inner.kind not in SET_ITEMS:
                return f"set<{inner_text}> is not a DynamoDB set; sets hold {', '.join(SET_ITEMS)}"
            return FieldType("set", item=inner)
        return FieldType(cast("Literal['list', 'map']", outer), item=inner)
    if text in known:
        return FieldType("model", ref=text)  # enum or model, resolved by the caller
    choices = (*SCALARS, "list<T>", "map<T>", "set<T>", *sorted(known))
    return f"unknown type {text!r}{did_you_mean(text, choices)}"


def _models(node: Node | None, r: Reader, tables: dict[str, Table], enums: set[str], naming: str) -> list[Model]:
    if node is None:
        return []
    specs = r.mapping(node, "models") or {}
    for name in specs:
        if not is_class_name(name):
            r.error(node.key_pos[name], f"model name {name!r} must be a CapitalizedName (letters and digits)")
    known = set(specs) | enums
    out: list[Model] = []
    for name, spec_node in specs.items():
        spec = r.mapping(spec_node, f"model {name}", MODEL_KEYS)
        if spec is None or not is_class_name(name):
            continue
        fields = _fields(spec.get("fields"), r, name, known, enums, naming)
        if "fields" not in spec:
            r.error(spec_node, f"model {name} needs 'fields'")
        elif not spec["fields"].value:
            r.error(spec["fields"], f"model {name} has no fields")
        table = None
        if "table" in spec and (table_id := r.string(spec["table"], "table")) is not None:
            table = tables.get(table_id)
            if table is None:
                r.error(spec["table"], f"model {name}: unknown table {table_id!r}{did_you_mean(table_id, tuple(tables))}")
        doc = (r.string(spec["doc"], "doc", non_empty=False) or "") if "doc" in spec else ""
        entity = r.string(spec["entity"], "entity") if "entity" in spec else None
        if table is None and ("keys" in spec or "access_patterns" in spec or "entity" in spec):
            bad = next(k for k in ("keys", "access_patterns", "entity") if k in spec)
            r.error(spec.get(bad, spec_node), f"model {name}: '{bad}' needs a 'table' (a model without one is embedded)")
        keys = _keys(spec["keys"], r, name) if "keys" in spec and table is not None else ()
        patterns = _patterns(spec["access_patterns"], r) if "access_patterns" in spec and table is not None else ()
        if table is not None and table.entity_attribute and entity is None:
            entity = name
        out.append(
            Model(name=name, fields=tuple(fields), table=table, keys=keys, entity=entity, access_patterns=patterns,
                  doc=doc, loc=r.loc(spec_node))
        )  # fmt: skip
    return out


def _fields(node: Node | None, r: Reader, model: str, known: set[str], enums: set[str], naming: str) -> list[Field]:
    if node is None:
        return []
    out: list[Field] = []
    for name, spec_node in (r.mapping(node, f"fields of {model}") or {}).items():
        pos = node.key_pos[name]
        if not is_identifier(name) or name != name.lower():
            r.error(pos, f"field name {name!r} must be a snake_case Python identifier")
            continue
        spec: dict[str, Node] = {"type": spec_node} if isinstance(spec_node.value, str) else {}
        doc = ""
        if not spec:
            spec = r.mapping(spec_node, f"field {model}.{name}", FIELD_KEYS) or {}
            doc = (r.string(spec["doc"], "doc", non_empty=False) or "") if "doc" in spec else ""
            if "type" not in spec:
                r.error(spec_node, f"field {model}.{name} needs a 'type'")
                continue
        type_text = r.string(spec["type"], "type")
        if type_text is None:
            continue
        optional = type_text.endswith("?")
        parsed = parse_type(type_text.removesuffix("?"), known)
        if isinstance(parsed, str):
            r.error(spec["type"], f"field {model}.{name}: {parsed}")
            continue
        parsed = _resolve(parsed, enums)
        attribute = _camel(name) if naming == "camelCase" else name
        if "attribute" in spec and (given := r.string(spec["attribute"], "attribute")) is not None:
            attribute = given
        if "optional" in spec:
            optional = bool(r.boolean(spec["optional"], "optional"))
        omit_empty = bool(r.boolean(spec["omit_empty"], "omit_empty")) if "omit_empty" in spec else False
        role = r.choice(spec["role"], "role", ROLES) if "role" in spec else None
        has_default = "default" in spec
        default = spec["default"].plain() if has_default else None
        out.append(
            Field(name=name, attribute=attribute, type=parsed, optional=optional, has_default=has_default,
                  default=default, omit_empty=omit_empty, doc=doc,
                  role=cast("Literal['created_at', 'updated_at', 'version', 'ttl'] | None", role),
                  loc=r.loc(spec.get("type", spec_node)))
        )  # fmt: skip
    return out


def _resolve(t: FieldType, enums: set[str]) -> FieldType:
    if t.kind == "model" and t.ref in enums:
        return FieldType("enum", ref=t.ref)
    if t.item is not None:
        return FieldType(t.kind, item=_resolve(t.item, enums), ref=t.ref, epoch=t.epoch)
    return t


def parse_template(text: str) -> tuple[str | Placeholder, ...] | str:
    """``"PAYMENT#{created_at}#{payment_id}"`` -> parts, or an error message."""
    parts: list[str | Placeholder] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(text):
        if match.start() > pos:
            parts.append(text[pos : match.start()])
        name, colon, spec = match.group(1).partition(":")
        name, spec = name.strip(), spec.strip()
        if not is_identifier(name):
            return f"placeholder {{{match.group(1)}}} must name a field"
        if parts and isinstance(parts[-1], Placeholder):
            return "two placeholders need a literal separator between them"
        width = scale = 0
        if colon:
            fixed = _SPEC.fullmatch(spec)
            if fixed is None:
                return (f"placeholder {{{match.group(1)}}}: format spec {spec!r} is not a fixed width; write "
                        f"{{{name}:06}} (an int or decimal, 6 digits zero-padded) or {{{name}:010.2f}} (a decimal, "
                        "10 characters with 2 decimal places)")  # fmt: skip
            width, scale = int(fixed.group(1)), int(fixed.group(2) or 0)
            if scale and width < scale + 2:
                return f"placeholder {{{match.group(1)}}}: width {width} leaves no digit before the {scale} decimal places"
        parts.append(Placeholder(name, width, scale, spec))
        pos = match.end()
    if pos < len(text):
        parts.append(text[pos:])
    leftover = "".join(p for p in parts if isinstance(p, str))
    if "{" in leftover or "}" in leftover:
        return "unbalanced '{' or '}' in key template"
    if not parts:
        return "key template must not be empty"
    return tuple(parts)


def _keys(node: Node, r: Reader, model: str) -> tuple[KeyAttr, ...]:
    out: list[KeyAttr] = []
    for attribute, value in (r.mapping(node, f"keys of {model}") or {}).items():
        text = r.string(value, f"key template {attribute}")
        if text is None:
            continue
        template = parse_template(text)
        if isinstance(template, str):
            r.error(value, f"model {model}, key {attribute}: {template}")
            continue
        out.append(KeyAttr(attribute, "S", template, r.loc(value)))
    return tuple(out)


def _patterns(node: Node, r: Reader) -> tuple[AccessPattern, ...]:
    out: list[AccessPattern] = []
    for name, spec_node in (r.mapping(node, "access_patterns") or {}).items():
        if not is_identifier(name) or name != name.lower():
            r.error(node.key_pos[name], f"access pattern name {name!r} must be a snake_case Python identifier")
            continue
        spec = {} if spec_node.value is None else (r.mapping(spec_node, f"access pattern {name}", PATTERN_KEYS) or {})
        index = r.string(spec["index"], "index") if "index" in spec else None
        doc = (r.string(spec["doc"], "doc", non_empty=False) or "") if "doc" in spec else ""
        range_field = r.string(spec["range"], "range") if "range" in spec else None
        descending = bool(r.boolean(spec["descending"], "descending")) if "descending" in spec else False
        returns = (r.choice(spec["returns"], "returns", RETURNS) or "model") if "returns" in spec else "model"
        out.append(AccessPattern(name, index, doc, range_field, descending, r.loc(spec_node),
                                 cast("Literal['model', 'keys', 'items']", returns)))  # fmt: skip
    return tuple(out)


__all__ += ["parse_template", "parse_type", "snake_case"]

"""DynamORM's language-neutral schema (DMS v0.1, ``dms_version: "0.1"``) into the intermediate model."""

from __future__ import annotations

import re
from typing import Literal, cast

from dynagen.compiler._ir import AccessPattern, Field, FieldType, Index, KeyType, Model, Module, Table
from dynagen.compiler._names import (
    GENERATED_GLOBALS,
    RESERVED_FIELDS,
    did_you_mean,
    is_class_name,
    is_identifier,
    snake_case,
)
from dynagen.compiler._reader import Reader
from dynagen.compiler._yaml import Node

__all__ = ["SUPPORTED_VERSIONS", "load_dms"]

SUPPORTED_VERSIONS = ("0.1",)
TOP_KEYS = ("dms_version", "namespace", "models")
MODEL_KEYS = ("name", "table", "naming", "keys", "attributes", "indexes")
TABLE_KEYS = ("name",)
NAMING_KEYS = ("convention",)
KEYS_KEYS = ("partition", "sort")
KEY_KEYS = ("attribute", "type")
ATTR_KEYS = ("attribute", "type", "required", "optional", "omit_empty", "roles", "format", "json", "binary",
             "encryption", "tags")  # fmt: skip
INDEX_KEYS = ("name", "type", "partition", "sort", "projection")
PROJECTION_KEYS = ("type", "fields")
TYPES = ("S", "N", "B", "BOOL", "M", "L", "SS", "NS", "BS", "NULL")
ROLES = ("pk", "sk", "created_at", "updated_at", "version", "ttl")
FORMATS = ("rfc3339nano", "unix_seconds", "int")
CONVENTIONS = {
    "camelCase": re.compile(r"^(?:[a-z][A-Za-z0-9]*|PK|SK)$"),
    "snake_case": re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"),
}


def load_dms(root: Node, r: Reader, source: str, module_name: str) -> Module | None:
    top = r.mapping(root, "the DMS document", TOP_KEYS)
    if top is None:
        return None
    version = top["dms_version"]
    if version.value not in SUPPORTED_VERSIONS:
        r.error(version, f"unsupported dms_version {version.value!r}; supported: {', '.join(SUPPORTED_VERSIONS)} "
                         "(write it as a quoted string)")  # fmt: skip
        return None
    if "namespace" in top:
        r.string(top["namespace"], "namespace")
    if "models" not in top:
        r.error(root, "a DMS document needs 'models'")
        return None
    tables: dict[str, Table] = {}
    models: list[Model] = []
    names: dict[str, Node] = {}  # model name -> its first name node
    for item in r.sequence(top["models"], "models") or []:
        model = _model(item, r, tables, names)
        if model is not None:
            models.append(model)
    return Module(source, module_name, "dms", tuple(tables.values()), tuple(models))


def _key(node: Node, r: Reader, what: str) -> tuple[str, KeyType] | None:
    spec = r.mapping(node, what, KEY_KEYS)
    if spec is None:
        return None
    if "attribute" not in spec or "type" not in spec:
        r.error(node, f"{what} needs 'attribute' and 'type'")
        return None
    name = r.string(spec["attribute"], f"{what} attribute")
    kind = r.choice(spec["type"], f"{what} type", ("S", "N", "B"))
    return (name, cast(KeyType, kind)) if name and kind else None


def _model(node: Node, r: Reader, tables: dict[str, Table], names: dict[str, Node]) -> Model | None:
    spec = r.mapping(node, "a model", MODEL_KEYS)
    if spec is None:
        return None
    missing = [k for k in ("name", "table", "keys", "attributes") if k not in spec]
    if missing:
        r.error(node, f"model needs {', '.join(repr(k) for k in missing)}")
        return None
    name = r.string(spec["name"], "model name")
    if name is None:
        return None
    if not is_class_name(name):
        r.error(spec["name"], f"model name {name!r} must be a CapitalizedName (letters and digits)")
        return None
    # A second model of the same name is read for its own errors, then dropped: no clash cascade.
    first = names.setdefault(name, spec["name"])
    duplicate = first is not spec["name"]
    if duplicate:
        r.error(spec["name"], f"duplicate model name {name!r} (first at {first.line}:{first.col})")
    table_spec = r.mapping(spec["table"], "table", TABLE_KEYS) or {}
    table_name = r.string(table_spec["name"], "table name") if "name" in table_spec else None
    if "name" not in table_spec:
        r.error(spec["table"], f"model {name}: table needs a 'name'")
    if table_name is not None and not re.fullmatch(r"[A-Za-z0-9_.-]{3,255}", table_name):
        r.error(table_spec["name"], f"table name {table_name!r} must be 3-255 characters of A-Z a-z 0-9 _ . -")
    convention = None
    if "naming" in spec:
        naming = r.mapping(spec["naming"], "naming", NAMING_KEYS) or {}
        if "convention" in naming:
            convention = r.choice(naming["convention"], "naming convention", tuple(CONVENTIONS))
    keys = r.mapping(spec["keys"], "keys", KEYS_KEYS) or {}
    pk = _key(keys["partition"], r, "keys.partition") if "partition" in keys else None
    if "partition" not in keys:
        r.error(spec["keys"], f"model {name}: keys need a 'partition'")
    sk = _key(keys["sort"], r, "keys.sort") if "sort" in keys else None

    fields: list[Field] = []
    for attr_node in r.sequence(spec["attributes"], "attributes") or []:
        f = _attribute(attr_node, r, name, convention)
        if f is not None:
            fields.append(f)
    if not spec["attributes"].value:
        r.error(spec["attributes"], f"model {name} has no attributes")
    by_attr = {f.attribute: f for f in fields}
    for key, what in ((pk, "partition"), (sk, "sort")):
        if key is not None and key[0] not in by_attr:
            r.error(keys[what], f"model {name}: key attribute {key[0]!r} is not declared in attributes")

    indexes: list[Index] = []
    index_nodes = (r.sequence(spec["indexes"], "indexes") or []) if "indexes" in spec else []
    for index_node in index_nodes:
        index = _index(index_node, r, name, by_attr, pk)
        if index is not None:
            indexes.append(index)
    _check_index_roles(spec["attributes"], index_nodes, indexes, r, name)
    if pk is None or table_name is None or duplicate:
        return None
    ttl = next((f.attribute for f in fields if f.role == "ttl"), None)
    table = Table(
        id=table_name, name=table_name, partition_key=pk[0], partition_type=pk[1],
        sort_key=sk[0] if sk else None, sort_type=sk[1] if sk else None, indexes=tuple(indexes),
        ttl_attribute=ttl, loc=r.loc(spec["table"]),
    )  # fmt: skip
    if table_name in tables:
        r.error(spec["table"], f"model {name}: table {table_name!r} is already used by another model in this file; "
                               "DMS v0.1 has no entity attribute to tell them apart")  # fmt: skip
    tables[table_name] = table
    patterns = [AccessPattern("query_partition", None, f"Items of one {pk[0]} value.", loc=r.loc(spec["keys"]),
                              range_field=by_attr[sk[0]].name if sk and sk[0] in by_attr else None)]  # fmt: skip
    for index in indexes:
        sort_field = by_attr[index.sort_key].name if index.sort_key in by_attr else None
        method = "query_" + snake_case(index.name)
        if not is_identifier(method):
            r.error(spec.get("indexes", node), f"index {index.name!r} gives no usable method name")
            continue
        # An index that does not carry every attribute cannot return whole models: its method returns
        # the primary key fields of each item (read the items with get_many).
        projected = {*index.include, pk[0], index.partition_key} | {a for a in (sk and sk[0], index.sort_key) if a}
        whole = index.projection == "ALL" or not {f.attribute for f in fields} - projected
        patterns.append(AccessPattern(method, index.name, f"Query the {index.name} index.",
                                      range_field=sort_field, loc=r.loc(spec.get("indexes", node)),
                                      returns="model" if whole else "keys"))  # fmt: skip
    return Model(name=name, fields=tuple(fields), table=table, access_patterns=tuple(patterns),
                 loc=r.loc(node))  # fmt: skip


def _check_index_roles(attributes: Node, index_nodes: list[Node], indexes: list[Index], r: Reader, model: str) -> None:
    """``index_pk:<index>`` / ``index_sk:<index>`` name an index of ``indexes[]`` whose key is that attribute."""
    declared = [n.value["name"].value for n in index_nodes
                if n.is_map and "name" in n.value and isinstance(n.value["name"].value, str)]  # fmt: skip
    by_name = {i.name: i for i in indexes}
    for attr_node in attributes.value if attributes.is_list else ():
        if not attr_node.is_map or not isinstance(attr_node.value.get("attribute"), Node):
            continue
        attribute, roles = attr_node.value["attribute"].value, attr_node.value.get("roles")
        if roles is None or not roles.is_list:
            continue
        for role_node in roles.value:
            role = role_node.value
            if not isinstance(role, str) or not role.startswith(("index_pk:", "index_sk:")):
                continue
            kind, _, index_name = role.partition(":")
            if index_name not in declared:
                known = f"; its indexes: {', '.join(declared)}" if declared else "; it declares no indexes"
                hint = did_you_mean(index_name, tuple(declared))
                r.error(role_node, f"{model}.{attribute}: role {role!r} names no index of this model{hint or known}")
                continue
            index = by_name.get(index_name)
            if index is None:  # declared but invalid: already reported
                continue
            key, what = (index.partition_key, "partition") if kind == "index_pk" else (index.sort_key, "sort")
            if key is None:
                r.error(role_node, f"{model}.{attribute}: role {role!r}, but index {index_name} has no sort key")
            elif key != attribute:
                r.error(role_node, f"{model}.{attribute}: role {role!r}, but the {what} key of index {index_name} "
                                   f"is {key!r}")  # fmt: skip


def _attribute(node: Node, r: Reader, model: str, convention: str | None) -> Field | None:
    spec = r.mapping(node, "an attribute", ATTR_KEYS)
    if spec is None:
        return None
    if "attribute" not in spec or "type" not in spec:
        r.error(node, "attribute needs 'attribute' and 'type'")
        return None
    attribute = r.string(spec["attribute"], "attribute")
    if spec["type"].value is None:  # YAML reads a bare NULL (and Null, null, ~) as null, not as the DMS type
        r.error(spec["type"], 'type must be a string, got null (for the DMS NULL type write it quoted: "NULL")')
        dtype = None
    else:
        dtype = r.choice(spec["type"], "type", TYPES)
    if attribute is None or dtype is None:
        return None
    where = f"{model}.{attribute}"
    if convention is not None and not CONVENTIONS[convention].match(attribute):
        r.error(spec["attribute"], f"{where}: attribute name does not follow the {convention} naming convention")
    if "encryption" in spec:
        r.error(spec["encryption"], f"{where}: encrypted attributes are not supported by dynagen yet")
        return None

    def flag(key: str) -> bool:
        return bool(r.boolean(spec[key], key)) if key in spec else False

    required, optional, omit_empty, is_json, is_binary = (flag(k) for k in ("required", "optional", "omit_empty",
                                                                             "json", "binary"))  # fmt: skip
    if required and optional:
        r.error(node, f"{where}: an attribute cannot be both required and optional")
    roles = r.strings(spec["roles"], "roles") if "roles" in spec else []
    role = None
    for role_name in roles or []:
        if role_name.startswith(("index_pk:", "index_sk:")):
            continue  # index membership comes from indexes[]; these are checked against it by the model
        if role_name not in ROLES:
            r.error(spec["roles"], f"{where}: unknown role {role_name!r}; roles are {', '.join(ROLES)}")
        elif role_name in ("created_at", "updated_at", "version", "ttl"):
            if role is not None:
                r.error(spec["roles"], f"{where}: an attribute has at most one lifecycle role")
            role = role_name
    fmt = r.choice(spec["format"], "format", FORMATS) if "format" in spec else None
    ftype = _type(dtype, fmt, is_json, is_binary, role, r, spec, where)
    if ftype is None:
        return None
    if "tags" in spec:
        r.mapping(spec["tags"], "tags")
    name = snake_case(attribute)
    # A DMS file cannot choose Python names: one that generated code already uses (``item``, ``key``,
    # ``key_part``) gets a ``_``, as typed references do for operator names. Stored names are unchanged.
    while name in RESERVED_FIELDS or name in GENERATED_GLOBALS:
        name += "_"
    if not is_identifier(name):
        r.error(spec["attribute"], f"{where}: attribute name gives no usable Python name ({name!r})")
        return None
    lifecycle = role in ("created_at", "updated_at", "ttl")
    is_optional = optional or lifecycle or (not required and role != "version")
    has_default = role == "version"
    return Field(
        name=name, attribute=attribute, type=ftype, optional=is_optional and role != "version",
        has_default=has_default, default=0 if has_default else None, omit_empty=omit_empty,
        role=cast("Literal['created_at', 'updated_at', 'version', 'ttl'] | None", role), loc=r.loc(node),
    )  # fmt: skip


def _type(
    dtype: str, fmt: str | None, is_json: bool, is_binary: bool, role: str | None, r: Reader, spec: dict[str, Node],
    where: str,
) -> FieldType | None:
    bad = None
    if is_json and dtype != "S":
        bad = "json attributes are stored as S"
    if is_binary and dtype != "B":
        bad = "binary attributes are stored as B"
    if fmt == "rfc3339nano" and dtype != "S":
        bad = "format rfc3339nano needs type S"
    if fmt == "unix_seconds" and dtype != "N":
        bad = "format unix_seconds needs type N"
    if fmt == "int" and dtype not in ("N", "NS"):
        bad = "format int needs type N or NS"
    if role in ("created_at", "updated_at") and (dtype != "S" or fmt not in (None, "rfc3339nano")):
        bad = f"role {role} needs type S (RFC 3339)"
    if role == "version" and (dtype != "N" or fmt not in (None, "int")):
        bad = "role version needs type N with format int"
    if role == "ttl" and (dtype != "N" or fmt not in (None, "unix_seconds", "int")):
        bad = "role ttl needs type N (epoch seconds)"
    if bad:
        r.error(spec.get("format", spec["type"]), f"{where}: {bad}")
        return None
    if dtype == "S":
        if is_json:
            return FieldType("json")
        if fmt == "rfc3339nano" or role in ("created_at", "updated_at"):
            return FieldType("datetime")
        return FieldType("string")
    if dtype == "N":
        if fmt == "unix_seconds" or role == "ttl":
            return FieldType("datetime", epoch=True)
        if fmt == "int" or role == "version":
            return FieldType("int")
        return FieldType("decimal")
    simple: dict[str, FieldType] = {
        "B": FieldType("bytes"),
        "BOOL": FieldType("bool"),
        "M": FieldType("any_map"),
        "L": FieldType("any_list"),
        "SS": FieldType("set", item=FieldType("string")),
        "NS": FieldType("set", item=FieldType("int" if fmt == "int" else "decimal")),
        "BS": FieldType("set", item=FieldType("bytes")),
        "NULL": FieldType("null"),
    }
    return simple[dtype]


def _index(
    node: Node, r: Reader, model: str, by_attr: dict[str, Field], pk: tuple[str, KeyType] | None
) -> Index | None:
    spec = r.mapping(node, "an index", INDEX_KEYS)
    if spec is None:
        return None
    if "name" not in spec or "type" not in spec or "partition" not in spec:
        r.error(node, "index needs 'name', 'type' and 'partition'")
        return None
    name = r.string(spec["name"], "index name")
    kind = r.choice(spec["type"], "index type", ("GSI", "LSI"))
    ipk = _key(spec["partition"], r, "partition")
    isk = _key(spec["sort"], r, "sort") if "sort" in spec else None
    if name is None or kind is None or ipk is None:
        return None
    if not re.fullmatch(r"[A-Za-z0-9_.-]{3,255}", name):
        r.error(spec["name"], f"index name {name!r} must be 3-255 characters of A-Z a-z 0-9 _ . -")
    for key, what in ((ipk, "partition"), (isk, "sort")):
        if key is not None and key[0] not in by_attr:
            r.error(spec[what], f"{model}: index {name} key {key[0]!r} is not declared in attributes")
    if kind == "LSI" and (isk is None or (pk is not None and ipk[0] != pk[0])):
        r.error(node, f"{model}: LSI {name} must share the table's partition key and have a sort key")
    projection: Literal["ALL", "KEYS_ONLY", "INCLUDE"] = "ALL"
    include: tuple[str, ...] = ()
    if "projection" in spec:
        p = r.mapping(spec["projection"], "projection", PROJECTION_KEYS) or {}
        if "type" in p:
            choice = r.choice(p["type"], "projection type", ("ALL", "KEYS_ONLY", "INCLUDE"))
            projection = cast("Literal['ALL', 'KEYS_ONLY', 'INCLUDE']", choice or "ALL")
        if "fields" in p:
            include = tuple(r.strings(p["fields"], "projection fields") or ())
            # A typo here would silently project nothing: every name must be one of this model's attributes.
            for field_node in p["fields"].value if include else ():
                if field_node.value not in by_attr:
                    r.error(field_node, f"{model}: index {name} projects {field_node.value!r}, which is not declared "
                                        f"in attributes{did_you_mean(field_node.value, tuple(by_attr))}")  # fmt: skip
        if projection == "INCLUDE" and not include:
            r.error(spec["projection"], f"{model}: INCLUDE projection of {name} needs 'fields'")
    return Index(name, cast("Literal['GSI', 'LSI']", kind), ipk[0], ipk[1], isk[0] if isk else None,
                 isk[1] if isk else None, projection, include)  # fmt: skip

"""Rules that span constructs, shared by both dialects: clashes, keys, roles, access patterns, defaults.

``finalize`` returns the model with every key attribute resolved (direct-field keys added, key types
filled in from the table) or records diagnostics.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from dynagen.compiler._diagnostics import Diagnostics
from dynagen.compiler._ir import (
    AccessPattern,
    EnumDef,
    Field,
    FieldType,
    KeyAttr,
    KeyType,
    Loc,
    Model,
    Module,
    Placeholder,
)
from dynagen.compiler._names import GENERATED_GLOBALS, RESERVED_FIELDS, did_you_mean, is_identifier
from dynagen.compiler._table_rules import check_table

__all__ = ["REPOSITORY_METHODS", "finalize"]

# Methods every generated repository has; access patterns may not take these names.
REPOSITORY_METHODS = frozenset(
    {
        "get", "get_many", "create", "put", "update", "delete", "scan", "count", "query", "batch_get",
        "batch_put", "batch_delete", "with_deadline", "with_table", "model", "table_name", "transport",
        "deadline", "parallel_scan", "iter_scan", "exists", "transact_put", "transact_create",
        "transact_update", "transact_delete", "transact_check", "condition_check",
    }
)  # fmt: skip
_KEY_FIELD_KINDS = ("string", "int", "decimal", "uuid", "date", "datetime", "enum")


class _Ctx:
    def __init__(self, diags: Diagnostics) -> None:
        self.diags = diags

    def error(self, loc: Loc, message: str) -> None:
        self.diags.error(loc.path, loc.line, loc.col, message)

    def warn(self, loc: Loc, message: str) -> None:
        self.diags.warning(loc.path, loc.line, loc.col, message)


def finalize(module: Module, diags: Diagnostics) -> Module:
    ctx = _Ctx(diags)
    names: dict[str, str] = {}
    models_by_name = {m.name: m for m in module.models}
    for enum in module.enums:
        names[enum.name] = "enum"
    for model in module.models:
        for taken in (model.name, f"{model.name}Repository", f"{model.name}Fields"):
            if taken in names:
                ctx.error(model.loc, f"model {model.name}: generated name {taken!r} clashes with {names[taken]} {taken!r}")
            names[taken] = "model"
    per_table: dict[str, list[str]] = {}
    for model in module.models:
        if model.table is not None:
            per_table.setdefault(model.table.id, []).append(model.name)
    out = []
    unsound: set[str] = set()  # tables with a model that has errors of its own
    for model in module.models:
        model = _stored_forms(model)
        errors_before = len(diags)
        _fields(model, ctx, models_by_name, module)
        if model.table is None:
            out.append(model)
            continue
        table_id = model.table.id
        if len(per_table[model.table.id]) > 1 and not model.table.entity_attribute:
            ctx.error(model.loc, f"table {model.table.id!r} holds models {', '.join(per_table[model.table.id])}: "
                                 "set its entity_attribute so items of one model are never read as another")  # fmt: skip
        declared = {k.attribute for k in model.keys}
        model = _keys(model, ctx)
        _key_arguments(model, ctx)
        # A template already refused is not reported again as a missing key by each pattern that uses it.
        _patterns(model, ctx, failed=declared - {k.attribute for k in model.keys})
        if len(diags) > errors_before:
            unsound.add(table_id)
        out.append(model)
    # The rules across a table's models (collisions, widths, separators) need each of its models'
    # keys resolved: they run for every table whose models are sound, so that their errors are
    # reported in the same run as the others (before, any error anywhere held them all back).
    enums = {e.name: e for e in module.enums}
    for table in module.tables:
        bound = [m for m in out if m.table is not None and m.table.id == table.id]
        if bound and table.id not in unsound:
            check_table(table, bound, enums, ctx.error, ctx.warn)
    return dataclasses.replace(module, models=tuple(out))


# The options of the repository methods that take the primary key fields as keyword arguments
# (get, find, delete, get_fields, update_by_key, transact_update_by_key).
_KEY_METHOD_OPTIONS = frozenset({"consistent", "expected_version", "condition", "return_old", "actions"})


def _key_arguments(model: Model, ctx: _Ctx) -> None:
    assert model.table is not None
    primary = {model.table.partition_key, model.table.sort_key}
    fields = {name for k in model.keys if k.attribute in primary for name in k.fields}
    for name in sorted(fields & _KEY_METHOD_OPTIONS):
        ctx.error(model.loc, f"{model.name}: key field {name!r} clashes with an option of get/delete/update_by_key; "
                             "rename the field (its stored attribute can stay, with 'attribute:')")  # fmt: skip


def _stored_forms(model: Model) -> Model:
    """A ttl datetime is stored as epoch seconds (N), whatever the dialect said."""
    fields = tuple(
        dataclasses.replace(f, type=dataclasses.replace(f.type, epoch=True))
        if f.role == "ttl" and f.type.kind == "datetime" and not f.type.epoch
        else f
        for f in model.fields
    )
    return dataclasses.replace(model, fields=fields)


def _fields(model: Model, ctx: _Ctx, models: dict[str, Model], module: Module) -> None:
    seen_names: dict[str, Field] = {}
    seen_attrs: dict[str, Field] = {}
    roles: dict[str, Field] = {}
    enums = {e.name: e for e in module.enums}
    for f in model.fields:
        if not is_identifier(f.name) or f.name in RESERVED_FIELDS:
            ctx.error(f.loc, f"field name {f.name!r} of {model.name} is not usable as a Python field name")
        elif f.name in GENERATED_GLOBALS:
            ctx.error(f.loc, f"field name {f.name!r} of {model.name} is a name generated code calls; rename the "
                             "field (its stored attribute can stay, with 'attribute:')")  # fmt: skip
        if f.name in seen_names:
            ctx.error(f.loc, f"{model.name}: field {f.attribute!r} and field {seen_names[f.name].attribute!r} "
                             f"both become the Python name {f.name!r}")  # fmt: skip
        seen_names[f.name] = f
        if not f.attribute or len(f.attribute.encode()) > 255:
            ctx.error(f.loc, f"{model.name}.{f.name}: attribute names must be 1-255 bytes")
        if f.attribute in seen_attrs:
            ctx.error(f.loc, f"{model.name}: attribute {f.attribute!r} is used by two fields")
        seen_attrs[f.attribute] = f
        _check_type(f.type, f, model, ctx, models)
        if f.role:
            if f.role in roles:
                ctx.error(f.loc, f"{model.name}: two fields have the role {f.role}")
            roles[f.role] = f
            _check_role(f, model, ctx)
        if f.has_default:
            _check_default(f, model, ctx, enums)
        if module.dialect == "dynagen":
            _check_empties(f, model, ctx)
    if model.table is not None and model.table.entity_attribute in seen_attrs:
        ctx.error(seen_attrs[model.table.entity_attribute].loc, f"{model.name}: field attribute {model.table.entity_attribute!r} clashes with the "
                             "table's entity_attribute")  # fmt: skip


def _check_type(t: FieldType, f: Field, model: Model, ctx: _Ctx, models: dict[str, Model]) -> None:
    if t.kind == "model":
        target = models.get(t.ref or "")
        if target is None:
            ctx.error(f.loc, f"{model.name}.{f.name}: unknown model {t.ref!r}")
        elif target.table is not None:
            ctx.error(f.loc, f"{model.name}.{f.name}: {t.ref} is bound to a table; only models without a table "
                             "can be nested")  # fmt: skip
        elif target.name == model.name and not f.optional:
            ctx.error(f.loc, f"{model.name}.{f.name}: a model can only contain itself through an optional field")
    if t.item is not None:
        _check_type(t.item, f, model, ctx, models)


def _check_empties(f: Field, model: Model, ctx: _Ctx) -> None:
    """omit_empty beside optional or a non-empty default would read an empty value back as something else."""
    if not f.omit_empty:
        return
    if f.optional:
        ctx.error(f.loc, f"{model.name}.{f.name}: optional and omit_empty together would read an empty value back "
                         "as None; choose one (optional: None is not written; omit_empty: an empty value is not "
                         "written and reads back as the empty value)")  # fmt: skip
    elif f.has_default and not _is_empty_literal(f.default, f.type.kind):
        ctx.error(f.loc, f"{model.name}.{f.name}: omit_empty with the default {f.default!r} would read an empty "
                         "value back as the default; drop one of them")  # fmt: skip


def _is_empty_literal(value: object, kind: str) -> bool:
    if kind == "decimal" and isinstance(value, str):
        try:
            return Decimal(value) == 0  # a decimal default given as text ("0.00")
        except ArithmeticError:
            return False
    return not value


def _check_role(f: Field, model: Model, ctx: _Ctx) -> None:
    kind = f.type.kind
    if f.role in ("created_at", "updated_at") and (kind != "datetime" or f.type.epoch):
        ctx.error(f.loc, f"{model.name}.{f.name}: role {f.role} needs type datetime (stored as RFC 3339), got {kind}")
    elif f.role == "version" and kind != "int":
        ctx.error(f.loc, f"{model.name}.{f.name}: role version needs type int, got {kind}")
    elif f.role == "ttl":
        if kind not in ("datetime", "int"):
            ctx.error(f.loc, f"{model.name}.{f.name}: role ttl needs type datetime or int (epoch seconds), got {kind}")
        table = model.table
        if table is not None and table.ttl_attribute and table.ttl_attribute != f.attribute:
            ctx.error(f.loc, f"{model.name}.{f.name}: the ttl field's attribute {f.attribute!r} is not the table's "
                             f"ttl attribute {table.ttl_attribute!r}")  # fmt: skip
    if f.role and model.table is None:
        ctx.error(f.loc, f"{model.name}.{f.name}: lifecycle roles only apply to models bound to a table")


def _check_default(f: Field, model: Model, ctx: _Ctx, enums: dict[str, EnumDef]) -> None:
    value, kind = f.default, f.type.kind
    where = f"{model.name}.{f.name}: default"
    if value is None:
        if not f.optional:
            ctx.error(f.loc, f"{where} null needs the field to be optional")
        return
    ok = {
        "string": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "decimal": isinstance(value, int | str) and not isinstance(value, bool) and _is_decimal(value),
        "bool": isinstance(value, bool),
        "json": True,
        "list": value == [],
        "map": value == {},
        "set": value == [],
    }.get(kind, False)
    if kind == "enum":
        enum = enums.get(f.type.ref or "")
        stored = [v for _, v in enum.values] if enum else []
        ok = isinstance(value, str) and value in stored
        if not ok:
            ctx.error(f.loc, f"{where} {value!r} is not a value of {f.type.ref}{did_you_mean(str(value), stored)}")
            return
    if not ok:
        hint = " (collections default to empty: [] or {})" if kind in ("list", "map", "set") else ""
        ctx.error(f.loc, f"{where} {value!r} does not fit type {kind}{hint}")


def _is_decimal(value: object) -> bool:
    try:
        return Decimal(str(value)).is_finite()
    except ArithmeticError:
        return False


def _key_names(model: Model) -> dict[str, KeyType]:
    assert model.table is not None
    table = model.table
    names: dict[str, KeyType] = {table.partition_key: table.partition_type}
    if table.sort_key and table.sort_type:
        names[table.sort_key] = table.sort_type
    for index in table.indexes:
        names.setdefault(index.partition_key, index.partition_type)
        if index.sort_key and index.sort_type:
            names.setdefault(index.sort_key, index.sort_type)
    return names


def _keys(model: Model, ctx: _Ctx) -> Model:
    assert model.table is not None
    table = model.table
    key_types = _key_names(model)
    by_attr = {f.attribute: f for f in model.fields}
    primary = {table.partition_key, table.sort_key} - {None}
    resolved: list[KeyAttr] = []
    defined = {k.attribute for k in model.keys}
    for key in model.keys:
        at = key.loc if key.loc.line else model.loc  # the template's own line:col
        if key.attribute not in key_types:
            ctx.error(at, f"{model.name}: {key.attribute!r} is not a key of table {table.id!r} "
                      f"(its keys: {', '.join(key_types)}){did_you_mean(key.attribute, tuple(key_types))}")  # fmt: skip
            continue
        if key.attribute in by_attr:
            ctx.error(at, f"{model.name}: key {key.attribute!r} is also a field's attribute; drop the template "
                      "or rename the field's attribute")  # fmt: skip
            continue
        key_type = key_types[key.attribute]
        ok = True
        for name in key.fields:
            f = model.field(name)
            if f is None:
                choices = tuple(x.name for x in model.fields)
                ctx.error(at, f"{model.name}: key template {key.attribute} uses {{{name}}}, which is not a "
                          f"field{did_you_mean(name, choices)}")  # fmt: skip
                ok = False
            elif f.type.kind not in _KEY_FIELD_KINDS or f.type.epoch:
                ctx.error(at, f"{model.name}: {name} ({f.type.kind}) cannot be part of key {key.attribute}; key "
                          f"parts are {', '.join(_KEY_FIELD_KINDS)}")  # fmt: skip
                ok = False
            elif key.attribute in primary and f.optional:
                ctx.error(at, f"{model.name}: {name} is part of the primary key {key.attribute}, so it cannot be "
                          "optional")  # fmt: skip
                ok = False
            elif f.role == "version":
                ctx.error(at, f"{model.name}: the version field cannot be part of a key")
                ok = False
            elif key.attribute in primary and f.role in ("updated_at", "ttl"):
                # created_at may be (it never changes once set: put keeps it); these change or may be None.
                why = "changes on every write" if f.role == "updated_at" else "may be None"
                ctx.error(at, f"{model.name}: {name} ({f.role}) {why}, so it cannot be part of the primary key "
                          f"{key.attribute} (an index key is fine)")  # fmt: skip
                ok = False
        if key_type != "S":
            direct = model.field(key.direct_field or "")
            fits = direct is not None and (
                (key_type == "N" and direct.type.kind in ("int", "decimal"))
                or (key_type == "B" and direct.type.kind == "bytes")
            )
            if not fits:
                ctx.error(at, f"{model.name}: key {key.attribute} has type {key_type}, so its template must be "
                          "a single {field} of a matching type")  # fmt: skip
                ok = False
        if ok:
            resolved.append(dataclasses.replace(key, type=key_type))
    for attribute, key_type in key_types.items():
        f = by_attr.get(attribute)
        if f is None or attribute in defined:
            continue
        expected = {"S": ("string", "uuid", "date", "datetime", "enum"), "N": ("int", "decimal"), "B": ("bytes",)}
        if f.type.kind not in expected[key_type] or f.type.epoch:
            ctx.error(f.loc, f"{model.name}.{f.name}: key attribute {attribute} has type {key_type}, but the field "
                             f"is {f.type.kind}")  # fmt: skip
            continue
        if attribute in primary and (f.optional or f.role in ("updated_at", "ttl")):
            ctx.error(f.loc, f"{model.name}.{f.name}: a primary key attribute cannot be optional "
                             "(nor an updated_at or ttl field)")  # fmt: skip
            continue
        resolved.append(KeyAttr(attribute, key_type, (Placeholder(f.name),)))
    got = {k.attribute for k in resolved}
    for required in (table.partition_key, table.sort_key):
        if required and required not in got and required not in defined:
            ctx.error(model.loc, f"{model.name}: no value for the table's key {required!r}: add a key template "
                                 f"(keys: {{{required}: \"...\"}}) or a field with that attribute")  # fmt: skip
    return dataclasses.replace(model, keys=tuple(resolved))


# The options of a pattern's methods (``iter_<name>`` adds page_size, and holds ``page`` and ``cursor``
# as locals while it calls ``<name>`` with the key arguments).
_QUERY_OPTIONS = frozenset({"limit", "cursor", "filter", "projection", "descending", "consistent", "page_size", "page"})


def _patterns(model: Model, ctx: _Ctx, failed: set[str]) -> None:
    assert model.table is not None
    table = model.table
    seen: set[str] = set()
    for p in model.access_patterns:
        if p.name in REPOSITORY_METHODS or p.name.startswith("_"):
            ctx.error(p.loc, f"{model.name}: access pattern {p.name!r} clashes with a repository method")
        if p.name in seen:
            ctx.error(p.loc, f"{model.name}: access pattern {p.name!r} is defined twice")
        seen.add(p.name)
        pk, sk = table.partition_key, table.sort_key
        if p.index is not None:
            index = table.index(p.index)
            if index is None:
                names = tuple(i.name for i in table.indexes)
                ctx.error(p.loc, f"{model.name}.{p.name}: table {table.id!r} has no index {p.index!r}"
                                 f"{did_you_mean(p.index, names)}")  # fmt: skip
                continue
            pk, sk = index.partition_key, index.sort_key
        pk_attr = model.key(pk)
        if pk_attr is None and pk in failed:
            continue
        if pk_attr is None:
            ctx.error(p.loc, f"{model.name}.{p.name}: the model writes no {pk!r}, so it is not in "
                             f"{'index ' + p.index if p.index else 'the table'}")  # fmt: skip
            continue
        # The method's key arguments: the partition key's fields, then the sort key's up to the range field.
        arguments = list(pk_attr.fields)
        sk_attr = model.key(sk) if sk else None
        if sk_attr is not None and p.range_field is not None and p.range_field in sk_attr.fields:
            for part in sk_attr.template:
                if isinstance(part, Placeholder):
                    if part.field == p.range_field:
                        break
                    arguments.append(part.field)
        clash = set(arguments) & _QUERY_OPTIONS
        if clash:
            ctx.error(p.loc, f"{model.name}.{p.name}: key field {sorted(clash)[0]!r} clashes with a query option")
        if p.range_field is not None:
            bounds = {f"{p.range_field}_{suffix}" for suffix in ("eq", "from", "to", "after", "before", "prefix")}
            for name in sorted(bounds & set(arguments)):
                ctx.error(p.loc, f"{model.name}.{p.name}: key field {name!r} clashes with a bound of range "
                                 f"field {p.range_field!r}")  # fmt: skip
        if p.range_field is not None and sk not in failed:
            sk_attr = model.key(sk)
            if sk_attr is None or p.range_field not in sk_attr.fields:
                where = f"the sort key {sk!r}" if sk else "a sort key (there is none)"
                # Suggest a field of that sort key, never the name itself (it is a field, just not in there).
                parts = tuple(n for n in (sk_attr.fields if sk_attr else ()) if n != p.range_field)
                hint = did_you_mean(p.range_field, parts)
                ctx.error(p.loc, f"{model.name}.{p.name}: range field {p.range_field!r} is not part of {where}{hint}")


__all__ += ["AccessPattern"]

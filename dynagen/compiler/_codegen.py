"""Compile-time type inspection: every Python expression the generated module needs, as text.

The template only lays these out. Literals from schemas are rendered with ``repr`` and every name
was validated as an identifier by the front ends, so schema text can never become code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from dynagen.compiler._ir import AccessPattern, EnumDef, Field, FieldType, KeyAttr, Model, Module, Placeholder, Table
from dynagen.compiler._names import GENERATED_GLOBALS, snake_case
from dynagen.compiler._table_rules import key_rules
from dynagen.runtime._api import GENERATED_API
from dynagen.runtime.wire._typed import ref_name

__all__ = ["ModelView", "ModuleView", "build_view", "lit"]


def lit(value: object) -> str:
    """A Python literal for ``value``; strings in double quotes, as the rest of the generated code."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        return "(" + ", ".join(lit(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(lit(v) for v in value) + "]"
    text = repr(value)
    if isinstance(value, str) and text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1].replace("\\'", "'") + '"'
    return text

# Names a generated module imports or defines; model and enum names must not shadow them.
GENERATED_NAMES = frozenset(
    {
        "Any", "ClassVar", "Condition", "Decimal", "Field", "Iterable", "Iterator", "Mapping", "ModelInfo", "Page",
        "Repository", "StrEnum", "StreamRecord", "UUID", "AttributeValue", "TransactAction", "BatchGetResult",
        "ENTITIES", "StreamChange", "TABLES", "TYPE_CHECKING", "decode_stream_record", "enum_error", "key_range",
        "require_api", "AnyRef", "BytesRef", "DatetimeRef", "JsonRef", "ListRef", "MapRef", "NumberRef",
        "OrderedRef", "Projection", "RecordRef", "Ref", "SetRef", "StringRef", "TextRef", "TransactUpdate",
        "UpdateAction",
    }
)  # fmt: skip

# The empty value of each kind that has one: what omit_empty leaves out and reads back.
_EMPTY_VALUES = {
    "string": '""', "int": "0", "decimal": 'Decimal("0")', "float": "0.0", "bool": "False", "bytes": 'b""',
    "list": "list", "map": "dict", "set": "set", "any_map": "dict", "any_list": "list",
}  # fmt: skip
_FACTORY_LITERALS = {"list": "[]", "dict": "{}", "set": "set()"}
# The Python types a value of each kind may have (checked where a wrong falsy value would pass silently).
_TYPES = {
    "string": "str", "int": "int", "decimal": "Decimal, int", "float": "float, int", "bool": "bool",
    "bytes": "bytes", "list": "list, tuple", "map": "dict", "set": "set, frozenset", "any_map": "dict",
    "any_list": "list, tuple",
}  # fmt: skip


class Imports:
    """Collects what the module uses, so it imports exactly that.

    Names used only in annotations (``typing.Any``, ``AttributeValue``, ``Condition``...) are imported
    under ``if TYPE_CHECKING:``: the module never imports ``typing`` at run time (about 5 ms of a
    Lambda cold start), and its annotations stay strings (``from __future__ import annotations``).
    """

    def __init__(self) -> None:
        self.stdlib: dict[str, set[str]] = {}
        self.runtime: set[str] = set()
        self.typing_names: set[str] = set()
        self.runtime_types: set[str] = set()

    def std(self, module: str, name: str) -> str:
        self.stdlib.setdefault(module, set()).add(name)
        return name

    def rt(self, name: str) -> str:
        self.runtime.add(name)
        return name

    def typing(self, name: str) -> str:
        """A ``typing`` name, for annotations only."""
        self.typing_names.add(name)
        return name

    def rt_type(self, name: str) -> str:
        """A ``dynagen.runtime`` name, for annotations only."""
        self.runtime_types.add(name)
        return name

    def lines(self) -> list[str]:
        return [f"from {m} import {', '.join(sorted(names))}" for m, names in sorted(self.stdlib.items())]

    def runtime_names(self) -> list[str]:
        # isort's order (as ruff applies it): CONSTANTS, then Classes, then functions.
        return sorted(self.runtime, key=lambda n: (0 if n.isupper() else 1 if n[:1].isupper() else 2, n))

    def type_checking_lines(self) -> list[str]:
        """The body of the ``if TYPE_CHECKING:`` block (blank lines between import sections)."""
        lines = [f"from typing import {', '.join(sorted(self.typing_names))}"] if self.typing_names else []
        names = sorted(self.runtime_types - self.runtime)
        if names:
            lines += [""] if lines else []
            lines += ["from dynagen.runtime import (", *(f"    {n}," for n in names), ")"]
        return lines


@dataclass
class FieldView:
    name: str
    attribute: str
    annotation: str
    default: str | None  # text after "=" in the dataclass body, or None when required
    doc: str
    encode: str  # expression of the attribute value, from self.<name>
    guard: str | None  # condition under which the attribute is written; None: always
    otherwise: str | None  # statement when ``guard`` is false for a value that may have a wrong type
    decode: str  # expression from ``av`` (the attribute value, when it may be absent)
    decode_required: str  # expression from ``item[attribute]``
    read_missing: str | None  # value when the attribute is absent; None: required
    read_null: str | None  # value for ``{"NULL": true}`` (a set: empty; otherwise as when absent)
    empty_check: str  # expression that is true when the value is empty (embedded models' is_empty)
    value_type: str  # the type of one value
    ref: RefView | None = None  # the field's typed reference in ``<Model>Fields``
    factory: str | None = None  # expression of a default built per instance (``default_factory``)
    local: str = ""  # its name as a local variable of from_item and the key parsers (see _locals)


@dataclass
class RefView:
    """One attribute of a ``<Model>Fields`` class: the field's typed reference."""

    name: str  # the attribute (``ref_name`` of the field)
    annotation: str
    call: str  # the reference class
    args: list[str]  # the constructor's arguments
    records: set[str]  # the embedded models whose ``Fields`` classes the value uses
    deferred: bool = False  # assigned after the classes (it uses a Fields class not defined yet: recursion)

    @property
    def value(self) -> str:
        return f"{self.call}({', '.join(self.args)})"

    def statement(self, target: str, annotation: str | None, indent: str) -> str:
        """``target[: annotation] = value``, its arguments one per line when it would be long."""
        head = f"{target}: {annotation} = " if annotation else f"{target} = "
        if len(indent + head + self.value) <= 120:
            return head + self.value
        return head + f"{self.call}(" + "".join(f"\n{indent}    {a}," for a in self.args) + f"\n{indent})"


@dataclass
class FieldsView:
    """A ``<Model>Fields`` class."""

    name: str
    model: str
    doc: str
    refs: list[RefView]


@dataclass
class PatternView:
    name: str
    doc: str
    index: str | None
    params: list[tuple[str, str]]  # (name, annotation) of required key inputs
    partition_attr: str
    partition_value: str
    sort_attr: str | None
    sort_prefix: str | None  # expression; None when no sort condition applies
    range_param: str | None
    range_encode: str  # expression over ``v``: the key text (or, N/B sort keys, the attribute value) of a value
    range_tail: str  # literal that follows the range field in the template ("" when it is last)
    range_more: bool  # more key parts follow the tail
    # (parameter, annotation, key_range keyword) of each sort-key condition the method offers
    range_conditions: list[tuple[str, str, str]]
    range_text: bool  # the range part is free text followed by more key: bounds are made exact in Python
    descending: bool
    consistent_allowed: bool
    returns: str  # "model", "keys" or "items"
    result: str  # the annotation of one result
    entity_filter: bool  # filter on the entity attribute (False: the index holds this model only)


@dataclass
class EntitiesView:
    """One table's entity -> model map, and its stream-record decoder (when the models can be told apart)."""

    table_id: str
    table_name: str
    models: list[tuple[str, str]]  # (entity value, model class)
    union: str  # "Partner | Customer | ..."
    decoder: str | None  # function name, e.g. decode_payments_record
    entity_attribute: str | None


@dataclass
class ParserView:
    name: str  # method name, e.g. parse_gsi1sk
    attribute: str
    layout: str  # the template, for the docstring
    literals: tuple[str, ...]
    names: list[str]  # local names of the parts (the fields)
    annotation: str  # return annotation
    result: str  # the returned expression
    targets: str  # the assignment targets of split_key's parts
    plain: bool  # every part is a string: nothing to convert, nothing can fail


@dataclass
class ModelView:
    name: str
    doc: str
    fields: list[FieldView]
    always: list[tuple[str, str]] = field(default_factory=list)  # (attribute, expression) in the dict literal
    # (guard, attribute, expression, statement when the guard is false or None)
    conditional: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    shared: list[tuple[str, str]] = field(default_factory=list)  # (local, expression): key parts encoded once
    embedded: bool = True
    key_params: list[tuple[str, str]] = field(default_factory=list)
    key_values: list[tuple[str, str]] = field(default_factory=list)  # over parameter names
    key_args: str = ""  # "partner_id=self.partner_id, ..."
    unset_key_fields: list[str] = field(default_factory=list)  # key fields that may be None (a created_at)
    key_call: str = ""  # "partner_id=partner_id, ..."
    info: dict[str, str] = field(default_factory=dict)
    patterns: list[PatternView] = field(default_factory=list)
    parsers: list[ParserView] = field(default_factory=list)
    table_name: str = ""
    entity_attribute: str | None = None
    entity: str | None = None
    table_id: str = ""
    # ``returns: keys`` patterns: a record of the primary key fields (name, its fields, how each is read)
    key_class: str | None = None
    key_class_fields: list[tuple[str, str, str]] = field(default_factory=list)  # (name, annotation, from item)
    # Templated index key attributes: (attribute, the fields it is built from, expression over them)
    index_keys: list[tuple[str, list[str], str]] = field(default_factory=list)
    key_dict: str = ""  # '{"partner_id": partner_id, ...}': the key fields by name
    # __init__ / __repr__ / __eq__ written out here instead of compiled by @dataclass at import; False
    # where the dataclass must make them: a field named like a global the __init__ body reads (``set``)
    # would shadow it; a record that can contain itself keeps repr's cycle guard.
    own_init: bool = True
    own_repr: bool = True

    @property
    def dataclass_args(self) -> str:
        """The ``@dataclass`` arguments: the methods this module writes out are not compiled again."""
        own = [x for x, mine in (("init", self.own_init), ("repr", self.own_repr), ("eq", True)) if mine]
        return ", ".join(["slots=True", "kw_only=True", *(f"{x}=False" for x in own)])

    @property
    def repr_lines(self) -> list[str]:
        """The f-strings of ``__repr__``, as @dataclass formats it, a few fields per line."""
        parts = [f"{f.name}={{self.{f.name}!r}}" for f in self.fields]
        return _wrap("{self.__class__.__qualname__}(", parts, ")", quote=True)

    @property
    def eq_line(self) -> str | None:
        """``__eq__``'s comparison on one line, when it fits."""
        tail = "," if len(self.fields) == 1 else ""
        mine = ", ".join(f"self.{f.name}" for f in self.fields) + tail
        theirs = ", ".join(f"other.{f.name}" for f in self.fields) + tail
        line = f"({mine}) == ({theirs})"
        return line if len(line) <= 100 else None

    @property
    def eq_lines(self) -> tuple[list[str], list[str]]:
        """Both sides of ``__eq__``'s tuple comparison (as @dataclass compares: field by field, in order)."""
        tail = "," if len(self.fields) == 1 else ""
        return (
            _wrap("", [f"self.{f.name}" for f in self.fields], tail),
            _wrap("", [f"other.{f.name}" for f in self.fields], tail),
        )


def _wrap(head: str, parts: list[str], tail: str, *, quote: bool = False, width: int = 96) -> list[str]:
    """``head + ", ".join(parts) + tail`` cut into lines of about ``width`` characters (f-strings if ``quote``)."""
    lines: list[str] = []
    line = head
    for i, part in enumerate(parts):
        text = part + (", " if i < len(parts) - 1 else "")
        if len(line) + len(text) > width and line.strip() not in ("", head.strip()):
            lines.append(line)
            line = ""
        line += text
    lines.append(line + tail)
    if quote:
        return [f'f"{x}"' for x in lines]
    return [x.rstrip() for x in lines]


@dataclass
class ModuleView:
    header: str
    doc: str
    enums: list[EnumDef]
    models: list[ModelView]
    tables: list[tuple[str, str]]  # (table id, repr of the CreateTable definition)
    entities: list[EntitiesView]
    imports: list[str]
    runtime_imports: list[str]
    all_names: list[str]
    type_checking: list[str]
    api: int  # the runtime API the module is written against (dynagen.runtime._api)
    # Type names a class of this module binds as a field, reference or method name (a field ``date``,
    # a pattern ``list``): inside that class the name is the field, so annotations use ``T_<name>``.
    hidden_types: list[str] = field(default_factory=list)
    fields_classes: list[FieldsView] = field(default_factory=list)  # in an order where each uses only earlier ones
    deferred_refs: list[tuple[str, RefView]] = field(default_factory=list)  # (class, reference) assigned after them


@dataclass
class _Ctx:
    """What every expression builder of one module needs."""

    imp: Imports
    enums: dict[str, EnumDef]
    records: dict[str, Model]  # every model of the module, by name
    native: bool  # native dialect: datetimes in keys at a fixed width (DMS keeps DynamORM's trimmed form)
    separators: dict[str, dict[str, frozenset[str]]]  # model -> field -> characters its key text may not hold

    def seps(self, model: Model, name: str) -> str:
        return "".join(sorted(self.separators.get(model.name, {}).get(name, frozenset())))


def _annotation(t: FieldType, imp: Imports) -> str:
    k = t.kind
    if k in ("string", "int", "float", "bool", "bytes"):
        return {"string": "str"}.get(k, k)
    if k == "decimal":
        return imp.std("decimal", "Decimal")
    if k == "datetime":
        return imp.std("datetime", "datetime")
    if k == "date":
        return imp.std("datetime", "date")
    if k == "uuid":
        return imp.std("uuid", "UUID")
    if k == "json":
        return imp.typing("Any")
    if k in ("enum", "model"):
        return t.ref or ""
    if k == "list":
        return f"list[{_annotation(t.item or FieldType('null'), imp)}]"
    if k == "map":
        return f"dict[str, {_annotation(t.item or FieldType('null'), imp)}]"
    if k == "set":
        return f"set[{_annotation(t.item or FieldType('null'), imp)}]"
    if k == "any_map":
        return f"dict[str, {imp.typing('Any')}]"
    if k == "any_list":
        return f"list[{imp.typing('Any')}]"
    return "None"


def _checked(v: str, cls: str, check: str, name: str, imp: Imports) -> str:
    """``v`` when its class is exactly ``cls`` (the common case, inline), else the runtime's checking call."""
    return f"({v} if {v}.__class__ is {cls} else {imp.rt(check)}({v}, {lit(name)}))"


def _encode(t: FieldType, v: str, name: str, imp: Imports, depth: int = 0) -> str:
    """An expression of the attribute value of ``v``.

    Values whose wrong type would otherwise be written silently (a str iterated as a list, another
    model's record, a plain str for an enum) are checked here; ``check_item`` refuses the rest
    (``{"S": 5}``) before any request.
    """
    n = lit(name)
    k = t.kind
    e, key = f"e{depth}", f"k{depth}"
    if k == "string":
        return f'{{"S": {v}}}'
    if k == "int":
        return f'{{"N": {imp.rt("enc_int")}({v}, {n})}}'
    if k == "decimal":
        return f'{{"N": {imp.rt("enc_decimal")}({v}, {n})}}'
    if k == "float":
        return f'{{"N": {imp.rt("enc_float")}({v}, {n})}}'
    if k == "bool":
        return f'{{"BOOL": {v}}}'
    if k == "bytes":
        return f'{{"B": {v}}}'
    if k == "datetime":
        if t.epoch:
            return f'{{"N": {imp.rt("format_epoch")}({v}, {n})}}'
        return f'{{"S": {imp.rt("format_datetime")}({v}, {n})}}'
    if k == "date":
        return f'{{"S": {imp.rt("enc_date")}({v}, {n})}}'
    if k == "uuid":
        return f'{{"S": {imp.rt("enc_uuid")}({v}, {n})}}'
    if k == "enum":
        return f'{{"S": {v}.value if {v}.__class__ is {t.ref} else {imp.rt("enum_value")}({v}, {t.ref}, {n})}}'
    if k == "json":
        return f'{{"S": {imp.rt("dump_json")}({v}, {n})}}'
    if k == "model":
        return f'{{"M": {_record(v, t.ref or "", name, imp)}.to_item()}}'
    if k == "list":
        inner = _encode(t.item or FieldType("null"), e, name, imp, depth + 1)
        return f'{{"L": [{inner} for {e} in {_checked(v, "list", "as_list", name, imp)}]}}'
    if k == "map":
        inner = _encode(t.item or FieldType("null"), e, name, imp, depth + 1)
        return f'{{"M": {{{key}: {inner} for {key}, {e} in {_checked(v, "dict", "as_map", name, imp)}.items()}}}}'
    if k == "set":
        item = (t.item or FieldType("string")).kind
        fn = imp.rt({"string": "enc_ss", "bytes": "enc_bs"}.get(item, "enc_ns"))
        member = "" if item in ("string", "bytes") else ", " + imp.rt({"int": "enc_int", "decimal": "enc_decimal",
                                                                     "float": "enc_float"}[item])  # fmt: skip
        return f"{fn}({v}, {n}{member})"
    if k == "any_map":  # a str or a list would otherwise be stored as S or L
        return f"{imp.rt('to_wire')}({_checked(v, 'dict', 'as_map', name, imp)}, {n})"
    if k == "any_list":
        return f"{imp.rt('to_wire')}({_checked(v, 'list', 'as_list', name, imp)}, {n})"
    return '{"NULL": True}'


# The reference class of each scalar kind (containers, records, json and untyped values: see ``_ref``).
_REF_CLASSES = {
    "string": "StringRef", "int": "NumberRef", "decimal": "NumberRef", "float": "NumberRef", "bool": "Ref",
    "uuid": "Ref", "enum": "Ref", "date": "TextRef", "datetime": "DatetimeRef", "bytes": "BytesRef", "json": "JsonRef",
}  # fmt: skip


def _ref(
    t: FieldType,
    attribute: str | None,
    name: str,
    imp: Imports,
    encode: str | None = None,
    decode: str | None = None,
    *,
    required: bool = False,
) -> RefView:
    """The typed reference to a value of type ``t`` stored at ``attribute`` (None: a list element's or map value's).

    ``encode``: the expression over ``v`` of one value, as ``to_item`` writes it (default: ``_encode``'s);
    sets, lists and maps are given their member / element / value reference, from which the runtime
    builds the whole value's encoder. ``decode``: the expression over ``av`` (None: absent) of the
    value ``from_item`` reads, for ``get_fields``.
    """
    args = [lit(attribute) if attribute is not None else "None"]
    tail = [f"decode=lambda av: {decode}"] if decode is not None else []
    if required:  # from_item needs it: remove() is refused
        tail.append("required=True")
    k = t.kind
    item = t.item or FieldType("null")
    if k == "set":
        member = _encode(item, "v", name, imp)
        return RefView("", f"SetRef[{_annotation(item, imp)}]", imp.rt("SetRef"), [*args, f"lambda v: {member}", *tail], set())
    if k in ("list", "map"):
        inner = _ref(item, None, name, imp)
        cls = imp.rt("ListRef" if k == "list" else "MapRef")
        annotation = f"{cls}[{_annotation(item, imp)}, {inner.annotation}]"
        return RefView("", annotation, cls, [*args, inner.value, *tail], inner.records)
    if k in ("any_map", "any_list"):
        cls = imp.rt("MapRef" if k == "any_map" else "ListRef")
        value = f"{imp.rt('AnyRef')}(None, lambda v: {imp.rt('to_wire')}(v, {lit(name)}))"
        return RefView("", f"{cls}[{imp.typing('Any')}, AnyRef]", cls, [*args, value, *tail], set())
    if k == "null":  # DMS NULL: nothing but NULL is stored, so nothing but None is written
        return RefView("", "AnyRef", imp.rt("AnyRef"), [*args, f"lambda v: {imp.rt('enc_null')}(v, {lit(name)})", *tail], set())
    encoder = f"lambda v: {encode or _encode(t, 'v', name, imp)}"
    if k == "model":
        cls = f"{t.ref}Fields"
        return RefView("", cls, cls, [*args, encoder, *tail], {t.ref or ""})
    cls = annotation = _REF_CLASSES[k]
    if k == "datetime" and t.epoch:
        cls, annotation = "OrderedRef", f"OrderedRef[{_annotation(t, imp)}]"  # epoch seconds: a number
    elif k == "datetime" and encode is not None and "key_datetime" in encode:
        cls, annotation = "TextRef", f"TextRef[{_annotation(t, imp)}]"  # fixed width: text order is time order
    elif cls in ("NumberRef", "Ref", "TextRef"):
        annotation = f"{cls}[{_annotation(t, imp)}]"
    return RefView("", annotation, imp.rt(cls), [*args, encoder, *tail], set())


def _record(v: str, ref: str, name: str, imp: Imports) -> str:
    imp.rt("as_record")
    return f"({v} if {v}.__class__ is {ref} else as_record({v}, {ref}, {lit(name)}))"


def _decode(t: FieldType, av: str, imp: Imports, depth: int = 0) -> str:
    """An expression of the Python value of attribute value ``av``."""
    k = t.kind
    e, key = f"e{depth}", f"k{depth}"
    simple = {
        "string": f'{av}["S"]',
        "int": f'int({av}["N"])',
        "float": f'float({av}["N"])',
        "bool": f'{av}["BOOL"]',
        "bytes": f'{av}["B"]',
    }
    if k in simple:
        return simple[k]
    if k == "decimal":
        return f'{imp.std("decimal", "Decimal")}({av}["N"])'
    if k == "datetime":
        if t.epoch:
            return f'{imp.rt("parse_epoch")}({av}["N"])'
        return f'{imp.rt("parse_datetime")}({av}["S"])'
    if k == "date":
        return f'{imp.std("datetime", "date")}.fromisoformat({av}["S"])'
    if k == "uuid":
        return f'{imp.std("uuid", "UUID")}({av}["S"])'
    if k == "enum":
        return f'{t.ref}({av}["S"])'
    if k == "json":
        return f"{imp.rt('load_json')}({av})"
    if k == "model":
        return f'{t.ref}.from_item({av}["M"])'
    if k == "list":
        return f'[{_decode(t.item or FieldType("null"), e, imp, depth + 1)} for {e} in {av}["L"]]'
    if k == "map":
        return f'{{{key}: {_decode(t.item or FieldType("null"), e, imp, depth + 1)} for {key}, {e} in {av}["M"].items()}}'
    if k == "set":
        item = (t.item or FieldType("string")).kind
        if item == "string":
            values = f'set({av}["SS"])'
        elif item == "bytes":
            values = f'set({av}["BS"])'
        else:
            conv = {"int": "int", "float": "float", "decimal": imp.std("decimal", "Decimal")}[item]
            values = f'{{{conv}({e}) for {e} in {av}["NS"]}}'
        # An empty set is stored as NULL (DynamoDB has no empty set); a field's own NULL is read by from_item.
        return values if depth == 0 else f'(set() if "NULL" in {av} else {values})'
    if k in ("any_map", "any_list"):
        return f"{imp.rt('from_wire')}({av})"
    return "None"


def _key_text(f: Field, v: str, ctx: _Ctx, model: Model, ph: Placeholder | None = None, *, checked: bool = True) -> str:
    """A string expression of one key part, written so that key text order is value order.

    ``checked`` False (inside ``to_item``): an enum part reads ``.value``, whose failure the item's
    other encoders report; everywhere else a plain ``str`` given for an enum is refused by name.
    """
    imp = ctx.imp
    n = lit(f.name)
    k = f.type.kind
    width = ph.width if ph else 0
    if k == "string":
        seps = ctx.seps(model, f.name)
        return f"{imp.rt('key_part')}({v}, {n}{', ' + lit(seps) if seps else ''})"
    if k == "int":
        return f"{imp.rt('key_int')}({v}, {n}{', ' + str(width) if width else ''})"
    if k == "decimal":
        spec = f", {width}, {ph.scale}" if ph and width else ""
        return f"{imp.rt('key_decimal')}({v}, {n}{spec})"
    if k == "uuid":
        return f"{imp.rt('enc_uuid')}({v}, {n})"
    if k == "date":
        return f"{imp.rt('enc_date')}({v}, {n})"
    if k == "datetime":
        return f"{imp.rt('key_datetime' if ctx.native else 'format_datetime')}({v}, {n})"
    if not checked:
        return f"{v}.value if {v}.__class__ is {f.type.ref} else {imp.rt('enum_value')}({v}, {f.type.ref}, {n})"
    return f"{imp.rt('enum_value')}({v}, {f.type.ref}, {n})"


def _share_key_parts(model: Model, view: ModelView) -> None:
    """Encode a field that several keys (or its own attribute) use once, into a local of ``to_item``."""
    for f in model.fields:
        if f.optional or f.type.epoch:
            continue
        calls: dict[str, int] = {}
        marker = f"(self.{f.name}, {lit(f.name)}"
        for text in [e for _, e in view.always] + [e for _, _, e, _ in view.conditional]:
            for call in _calls_on(text, marker):
                calls[call] = calls.get(call, 0) + 1
        for i, (call, uses) in enumerate(sorted(calls.items())):
            if uses < 2:
                continue
            local = f"p_{f.name}" + (f"_{i}" if len(calls) > 1 else "")  # never item, e0, k0: to_item's other locals
            view.always = [(a, e.replace(call, local)) for a, e in view.always]
            view.conditional = [(g, a, e.replace(call, local), o) for g, a, e, o in view.conditional]
            view.shared.append((local, call))


def _calls_on(text: str, marker: str) -> list[str]:
    """The ``name(self.field, "field"...)`` calls inside ``text`` (the key-part encoders of one field)."""
    found: list[str] = []
    at = text.find(marker)
    while at >= 0:
        start = at
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start -= 1
        end = text.index(")", at) + 1
        if start < at:
            found.append(text[start:end])
        at = text.find(marker, end)
    return found


def _is_field_itself(key: KeyAttr, model: Model) -> bool:
    """True when the key attribute is a field's own attribute (written with the fields, DMS style)."""
    f = model.field(key.direct_field or "")
    return f is not None and f.attribute == key.attribute


def _key_value(key: KeyAttr, model: Model, prefix: str, ctx: _Ctx, *, checked: bool = True) -> str:
    """The attribute value expression of a key attribute, over ``<prefix><field>`` names."""
    direct = key.direct_field
    if direct is not None and key.type != "S":
        f = model.field(direct)
        assert f is not None
        return _encode(f.type, prefix + direct, f.name, ctx.imp)
    return f'{{"S": {_template_text(key.template, model, prefix, ctx, checked=checked)}}}'


def _template_text(
    parts: tuple[str | Placeholder, ...], model: Model, prefix: str, ctx: _Ctx, *, checked: bool = True
) -> str:
    pieces = []
    for part in parts:
        if isinstance(part, Placeholder):
            f = model.field(part.field)
            assert f is not None
            text = _key_text(f, prefix + f.name, ctx, model, part, checked=checked)
            pieces.append(f"({text})" if " if " in text else text)
        else:
            pieces.append(lit(part))
    return " + ".join(pieces) if pieces else '""'


def _empty_literal(ref: str, ctx: _Ctx, seen: frozenset[str] = frozenset()) -> str | None:
    """An all-empty ``ref`` record (what an omit_empty record field reads back as), or None when it has none."""
    record = ctx.records.get(ref)
    if record is None or ref in seen:
        return None
    args: list[str] = []
    for f in record.fields:
        k = f.type.kind
        if f.optional or k == "json":
            value: str | None = "None"
        elif k == "model":
            value = _empty_literal(f.type.ref or "", ctx, seen | {ref})
        elif k in ("list", "map", "set", "any_map", "any_list"):
            value = _FACTORY_LITERALS.get(_EMPTY_VALUES[k], "[]")
        else:
            value = _EMPTY_VALUES.get(k)
            if value is not None and "Decimal" in value:
                ctx.imp.std("decimal", "Decimal")
        if value is None:
            return None
        args.append(f"{f.name}={value}")
    return f"{ref}({', '.join(args)})"


def _key_attributes(table: Table | None) -> set[str]:
    if table is None:
        return set()
    names = {table.partition_key, *(i.partition_key for i in table.indexes)}
    return names | {a for a in (table.sort_key, *(i.sort_key for i in table.indexes)) if a}


def _field_view(f: Field, model: Model, key_fields: set[str], ctx: _Ctx) -> FieldView:
    imp = ctx.imp
    t = f.type
    ann = _annotation(t, imp)
    v = f"self.{f.name}"
    n = lit(f.name)
    nullable = f.optional or f.role in ("created_at", "updated_at", "ttl")
    annotation = f"{ann} | None" if nullable and t.kind != "null" else ann
    default: str | None = None
    factory: str | None = None
    read_missing: str | None = None
    empty_value = _EMPTY_VALUES.get(t.kind)
    if f.role == "version":
        default, read_missing = "0", "0"
    elif f.has_default and f.default is not None:
        enum_values = ctx.enums[f.type.ref].values if f.type.kind == "enum" and f.type.ref in ctx.enums else ()
        default = read_missing = _literal(f, imp, enum_values)
        if default in _FACTORY_LITERALS:
            read_missing = factory = _FACTORY_LITERALS[default]
            default = f"{imp.std('dataclasses', 'field')}(default_factory={_builtin_factory(default, model)})"
    elif nullable or t.kind == "json":  # a json value may be None (stored NULL, or left out by omit_empty)
        default, read_missing = "None", "None"
    elif t.kind == "set" or (f.omit_empty and empty_value is not None):
        assert empty_value is not None
        default = read_missing = empty_value
        if empty_value in _FACTORY_LITERALS:
            read_missing = factory = _FACTORY_LITERALS[empty_value]
            default = f"{imp.std('dataclasses', 'field')}(default_factory={_builtin_factory(empty_value, model)})"
        elif "Decimal" in empty_value:
            imp.std("decimal", "Decimal")
    elif f.omit_empty and t.kind == "datetime" and t.epoch:
        # Left out at epoch 0 (empty, judged on the stored seconds): read back as epoch 0, not refused.
        read_missing = f'{imp.rt("parse_epoch")}("0")'
    elif f.omit_empty and t.kind == "model":
        read_missing = _empty_literal(t.ref or "", ctx)  # an all-empty record was left out: read it back
        if read_missing is not None:  # and, as for other omit_empty fields, the empty value is the default
            factory = read_missing
            default = f"{imp.std('dataclasses', 'field')}(default_factory=lambda: {read_missing})"
    read_null = "set()" if t.kind == "set" else read_missing
    # A string key field's own attribute shares its key text (one check of emptiness and separators);
    # a native datetime that is a key attribute itself is written at the width that sorts.
    own_key = t.kind == "datetime" and not t.epoch and ctx.native and f.attribute in _key_attributes(model.table)
    if own_key or (f.name in key_fields and t.kind == "string"):
        encode = f'{{"S": {_key_text(f, v, ctx, model)}}}'
        ref_encode = f'{{"S": {_key_text(f, "v", ctx, model)}}}'
    else:
        encode = _encode(t, v, f.name, imp)
        ref_encode = _encode(t, "v", f.name, imp)
    if t.kind == "json":  # None is stored as NULL, as to_item writes it (omit_empty leaves it out instead)
        ref_encode = f'{{"NULL": True}} if v is None else {ref_encode}'
    guard: str | None = None
    otherwise: str | None = None
    if t.kind == "json":
        if f.omit_empty:
            guard = f"{v} is not None"  # judged on the stored value: only None is stored empty (NULL)
        else:
            encode = f'{{"NULL": True}} if {v} is None else {encode}'
    elif f.omit_empty and t.kind == "datetime" and t.epoch:
        # Judged on the stored value: any time in the first second of 1970 is stored as 0, which is empty.
        local = f"t_{f.name}"
        guard = f'{v} is not None and ({local} := {imp.rt("format_epoch")}({v}, {n})) != "0"'
        encode = f'{{"N": {local}}}'
    elif f.omit_empty and t.kind in _EMPTY_VALUES:
        guard = v
        if not nullable:
            otherwise = f"{imp.rt('expect')}({v}, ({_types(t, imp)},), {n})"  # None or a wrong falsy type
    elif f.omit_empty and t.kind == "model" and not nullable:
        guard = f"not {_record(v, t.ref or '', f.name, imp)}.is_empty()"
    elif nullable:
        guard = f"{v} is not None"
    # A field is empty (for its record's is_empty) when it holds what it reads back as when left out:
    # None for a nullable field, else its kind's empty value. So an omitted record reads back equal.
    if nullable:
        empty_check = f"{v} is None"
    elif t.kind == "model":
        empty_check = f"{v}.is_empty()"
    elif t.kind == "json":
        empty_check = f"{v} is None"
    elif t.kind in _EMPTY_VALUES:
        empty_check = f"not {v}"
    else:
        empty_check = f"{v} is None"
    decode = _decode(t, "av", imp)
    read: str | None = None
    if model.table is not None:  # get_fields reads the top-level fields of table models, as from_item does
        if decode == "None":
            read = "None"
        elif read_missing is None:
            read = f"None if av is None else {decode}"
        elif read_null == read_missing:
            read = f'{read_missing} if av is None or "NULL" in av else {decode}'
        else:
            read = f'{read_missing} if av is None else {read_null} if "NULL" in av else {decode}'
    ref = _ref(
        t, f.attribute, f.name, imp, None if t.kind in ("set", "list", "map") else ref_encode, read,
        required=read_missing is None,
    )  # fmt: skip
    ref.name = ref_name(f.name)
    return FieldView(
        name=f.name, attribute=f.attribute, annotation=annotation, default=default, doc=f.doc, encode=encode,
        guard=guard, otherwise=otherwise, decode=decode,
        decode_required=_decode(t, f"item[{lit(f.attribute)}]", imp), read_missing=read_missing, read_null=read_null,
        empty_check=empty_check, value_type=ann, ref=ref, factory=factory,
    )  # fmt: skip


def _builtin_factory(name: str, model: Model) -> str:
    """``set``, ``list`` or ``dict`` as a ``default_factory``; in a class body where a field of that name
    may already hide the builtin, a lambda (whose body reads the module's globals, not the class's)."""
    return f"lambda: {_FACTORY_LITERALS[name]}" if model.field(name) is not None else name


def _types(t: FieldType, imp: Imports) -> str:
    text = _TYPES[t.kind]
    if "Decimal" in text:
        imp.std("decimal", "Decimal")
    return text


def _literal(f: Field, imp: Imports, enum_values: tuple[tuple[str, str], ...] = ()) -> str:
    value, kind = f.default, f.type.kind
    if kind == "enum":
        member = next((m for m, v in enum_values if v == value), None)
        return f"{f.type.ref}.{member}" if member else f"{f.type.ref}({lit(value)})"
    if kind == "decimal":
        return f"{imp.std('decimal', 'Decimal')}({lit(str(value))})"
    if kind == "float":
        return lit(float(value))  # type: ignore[arg-type]
    if kind in ("list", "set", "map"):
        return {"list": "list", "set": "set", "map": "dict"}[kind]
    return lit(value)


def build_view(module: Module, header: str, tables: dict[str, dict[str, object]]) -> ModuleView:
    imp = Imports()
    imp.std("dataclasses", "dataclass")
    enums = {e.name: e for e in module.enums}
    separators: dict[str, dict[str, frozenset[str]]] = {}
    for table in module.tables:
        on_table = [m for m in module.models if m.table is not None and m.table.id == table.id]
        separators.update(key_rules(on_table).forbidden)
    ctx = _Ctx(imp, enums, {m.name: m for m in module.models}, module.dialect == "dynagen", separators)
    models = [_model_view(m, ctx, module) for m in module.models]
    fields_classes = _fields_views(models)
    if fields_classes:
        imp.rt("RecordRef")
    if any(r.deferred for c in fields_classes for r in c.refs):
        imp.typing("ClassVar")
    if module.enums:
        imp.std("enum", "StrEnum")
    bound = [m for m in models if not m.embedded]
    if bound:
        imp.rt("Repository")
        imp.rt("ModelInfo")
    if any(not m.embedded for m in models) or models:
        imp.std("collections.abc", "Mapping")
        imp.rt_type("AttributeValue")
        imp.rt("decode_error")
    if any(m.patterns for m in bound):
        for name in ("Condition", "Page"):
            imp.rt_type(name)
        imp.std("collections.abc", "Iterator")
    if any(p.sort_prefix is not None for m in bound for p in m.patterns):
        imp.rt("key_range")
    if bound:
        imp.rt_type("Condition")
    if bound:
        for name in ("UpdateAction", "TransactUpdate", "Projection", "Ref"):
            imp.rt_type(name)
        imp.typing("Any")
    names = [e.name for e in module.enums]
    for m in models:
        names.append(m.name)
        names.append(f"{m.name}Fields")
        if not m.embedded:
            names.append(f"{m.name}Repository")
        if m.key_class:
            names.append(m.key_class)
    if tables:
        names.append("TABLES")
        imp.typing("Any")
    entities = _entities_views(module, bound, set(names))
    if entities:
        names.append("ENTITIES")
        names += [e.decoder for e in entities if e.decoder]
    if any(e.decoder for e in entities):
        imp.std("collections.abc", "Mapping")
        imp.typing("Any")
        imp.rt_type("StreamChange")  # decode_stream_record is imported by the decoder itself, on first use
    imp.rt("require_api")
    in_classes: set[str] = set()  # the names the module's classes bind
    for model in module.models:
        in_classes.update(f.name for f in model.fields)
        in_classes.update(ref_name(f.name) for f in model.fields)
        in_classes.update(p.name for p in model.access_patterns)
    return ModuleView(
        header=header, doc=f"Typed DynamoDB access generated from {module.source}.", enums=list(module.enums),
        models=models, tables=[(k, _pretty(v)) for k, v in sorted(tables.items())], entities=entities,
        imports=imp.lines(), runtime_imports=imp.runtime_names(), all_names=sorted(names),
        type_checking=imp.type_checking_lines(), api=GENERATED_API, fields_classes=fields_classes,
        deferred_refs=[(c.name, r) for c in fields_classes for r in c.refs if r.deferred],
        hidden_types=sorted(in_classes & TYPE_NAMES & (_BUILTIN_TYPES | imp.stdlib.get("datetime", set()))),
    )  # fmt: skip


def _fields_views(models: list[ModelView]) -> list[FieldsView]:
    """One ``<Model>Fields`` class per model, each after the classes of the records it holds.

    A reference to a record whose class comes later (a record holding itself, or records holding
    each other) is declared ``ClassVar`` in the class and assigned after every class is defined.
    """
    by_name = {m.name: m for m in models}
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name not in by_name:
            return
        seen.add(name)
        for f in by_name[name].fields:
            for record in sorted(f.ref.records if f.ref else ()):
                visit(record)
        order.append(name)

    for m in models:
        visit(m.name)
    views: list[FieldsView] = []
    for position, name in enumerate(order):
        m = by_name[name]
        refs = [f.ref for f in m.fields if f.ref is not None]
        for ref in refs:
            ref.deferred = any(order.index(r) >= position for r in ref.records if r in by_name)
        doc = (
            f"Typed references to the fields of {'an' if m.name[0] in 'AEIOU' else 'a'} {m.name} record, wherever one is stored."
            if m.embedded
            else f"Typed references to {m.name}'s fields: ``filter=``, ``condition=``, update actions and ``get_fields``."
        )
        views.append(FieldsView(f"{m.name}Fields", m.name, doc, refs))
    return views


def _entities_views(module: Module, bound: list[ModelView], taken: set[str]) -> list[EntitiesView]:
    """Per table of this module's models: entity -> model, and ``decode_<table>_record`` where it can decide."""
    views: list[EntitiesView] = []
    for table in sorted(module.tables, key=lambda t: t.id):
        mine = [m for m in bound if m.table_id == table.id]
        if not mine:
            continue
        # Without an entity attribute, nothing in an item tells models apart: the map holds model names,
        # and a decoder exists only for a table of one model.
        pairs = [(m.entity if table.entity_attribute and m.entity else m.name, m.name) for m in mine]
        name = "decode_" + "".join(c if c.isalnum() else "_" for c in snake_case(table.id)) + "_record"
        decoder: str | None = None
        if (table.entity_attribute or len(mine) == 1) and name.isidentifier() and name not in taken:
            decoder = name
            taken.add(name)
        views.append(EntitiesView(
            table_id=table.id, table_name=table.name, models=sorted(pairs), union=" | ".join(m.name for m in mine),
            decoder=decoder, entity_attribute=table.entity_attribute,
        ))  # fmt: skip
    return views


def _model_view(model: Model, ctx: _Ctx, module: Module) -> ModelView:
    imp = ctx.imp
    primary = {model.table.partition_key, model.table.sort_key} if model.table else set()
    key_fields = {
        name for k in model.keys if k.attribute in primary for name in k.fields
    }
    view = ModelView(name=model.name, doc=model.doc, fields=[], embedded=model.table is None)
    for f in model.fields:
        fv = _field_view(f, model, key_fields, ctx)
        view.fields.append(fv)
        if fv.guard is None:
            view.always.append((f.attribute, fv.encode))
        else:
            view.conditional.append((fv.guard, f.attribute, fv.encode, fv.otherwise))
    names = _locals(model)
    for fv in view.fields:
        fv.local = names[fv.name]
    _own_methods(view, model, ctx)
    if model.table is None:
        return view
    table = model.table
    view.table_name = table.name
    view.table_id = table.id
    # Key attributes that are not plain fields, written from their templates: primary key first, then
    # index keys in the table's order, then the entity type, then the fields.
    order = [table.partition_key, table.sort_key]
    for index in table.indexes:
        order += [index.partition_key, index.sort_key]
    templated = sorted((k for k in model.keys if not _is_field_itself(k, model)), key=lambda k: order.index(k.attribute))
    head: list[tuple[str, str]] = []
    guarded: list[tuple[str, str, str, str | None]] = []
    for k in templated:
        optional = [n for n in k.fields if (part := model.field(n)) is not None and part.optional]
        value = _key_value(k, model, "self.", ctx, checked=False)
        if optional:
            guarded.append((" and ".join(f"self.{n} is not None" for n in optional), k.attribute, value, None))
        else:
            head.append((k.attribute, value))
    if table.entity_attribute and model.entity:
        view.entity_attribute = table.entity_attribute
        view.entity = model.entity
        head.append((table.entity_attribute, f'{{"S": {lit(model.entity)}}}'))
    view.always = head + view.always
    view.conditional = guarded + view.conditional
    _share_key_parts(model, view)
    primary_keys = [k for k in model.keys if k.attribute in primary]
    params: list[str] = []
    for k in primary_keys:
        for name in k.fields:
            if name not in params:
                params.append(name)
    fields = {f.name: f for f in model.fields}
    view.key_params = [(n, _annotation(fields[n].type, imp)) for n in params]
    view.key_values = [(k.attribute, _key_value(k, model, "", ctx)) for k in sorted(primary_keys, key=lambda k: k.attribute != table.partition_key)]
    view.key_args = ", ".join(f"{n}=self.{n}" for n in params)
    view.unset_key_fields = [n for n in params if fields[n].role == "created_at"]
    if view.unset_key_fields:
        imp.rt("key_unset")
    view.key_call = ", ".join(f"{n}={n}" for n in params)
    view.key_dict = "{" + ", ".join(f"{lit(n)}: {n}" for n in params) + "}"
    view.parsers = [_parser_view(k, model, imp, names) for k in templated if k.fields]
    if any(p.returns == "keys" for p in model.access_patterns):
        view.key_class = f"{model.name}Key"
        view.key_class_fields = _key_class_fields(model, primary_keys, params, imp)
    view.patterns = [_pattern_view(p, model, ctx, view.key_class, module) for p in model.access_patterns]
    # Index keys built from templates must be rewritten when a field they use is updated.
    derived: dict[str, list[str]] = {}
    for k in templated:
        if k.attribute not in primary:
            for n in k.fields:
                derived.setdefault(n, []).append(k.attribute)
    # How an update by key rewrites them: each built from its fields (arguments named after them).
    view.index_keys = [
        (k.attribute, list(k.fields), _key_value(k, model, "", ctx)) for k in templated if k.attribute not in primary and k.fields
    ]
    role = {r: (held.name if (held := model.role(r)) else None) for r in ("created_at", "updated_at", "version", "ttl")}
    indexes = {
        i.name: (i.partition_key, i.sort_key) for i in table.indexes
    }
    view.info = {
        "name": lit(model.name),
        "table": lit(table.name),
        "partition_key": lit(table.partition_key),
        "sort_key": lit(table.sort_key),
        "indexes": _pretty(dict(sorted(indexes.items())), 2),
        "attributes": _pretty({f.name: f.attribute for f in model.fields}, 2),
        "key_fields": lit(tuple(sorted(key_fields))),
        "key_parts": _pretty({k.attribute: k.fields for k in sorted(templated, key=lambda k: k.attribute) if k.fields}, 2),
        "derived": _pretty({k: tuple(v) for k, v in sorted(derived.items())}, 2),
        "entity_attribute": lit(view.entity_attribute),
        "entity": lit(view.entity),
        "created_at": lit(role["created_at"]),
        "updated_at": lit(role["updated_at"]),
        "version": lit(role["version"]),
        "ttl": lit(role["ttl"]),
        # DMS models check versions as DynamORM does: an item without a version attribute never matches.
        "strict_version": lit(module.dialect == "dms"),
    }
    # What the indexes that do not project every attribute hold besides keys (a filter there may name no more).
    projected = {i.name: tuple(i.include) for i in sorted(table.indexes, key=lambda i: i.name) if i.projection != "ALL"}
    if projected:
        view.info["projected"] = _pretty(projected, 2)
    return view


# The lowercase names generated annotations use: a class that binds one of them (a field ``date``)
# hides it from the annotations in its body, for mypy and for pydantic alike.
_BUILTIN_TYPES = frozenset({"str", "int", "float", "bool", "bytes", "set", "list", "dict", "tuple", "object"})
TYPE_NAMES = _BUILTIN_TYPES | {"date", "datetime"}


def unhide_types(text: str, hidden: list[str]) -> str:
    """``text`` with every ``hidden`` name in an annotation inside a class replaced by ``T_<name>``.

    The module defines ``T_date = date`` and so on (``T_`` names are neither field names, which are
    lowercase, nor class names, which have no ``_``), so the annotations mean the types again.
    """
    if not hidden:
        return text
    spots: list[tuple[int, int, int]] = []  # (line, start byte, end byte) of each name to replace
    for cls in (n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.ClassDef)):
        names = _bound_in(cls) & set(hidden)
        for node in ast.walk(cls) if names else ():
            annotations: list[ast.expr | None] = []
            if isinstance(node, ast.AnnAssign):
                annotations.append(node.annotation)
            elif isinstance(node, ast.FunctionDef):
                a = node.args
                annotations += [x.annotation for x in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg) if x]
                annotations.append(node.returns)
            for annotation in annotations:
                for name in ast.walk(annotation) if annotation is not None else ():
                    if isinstance(name, ast.Name) and name.id in names:
                        spots.append((name.lineno, name.col_offset, name.end_col_offset or name.col_offset))
    lines = text.split("\n")
    for line, start, end in sorted(set(spots), reverse=True):  # right to left: offsets stay valid
        raw = lines[line - 1].encode()
        lines[line - 1] = (raw[:start] + b"T_" + raw[start:end] + raw[end:]).decode()
    return "\n".join(lines)


def _bound_in(cls: ast.ClassDef) -> set[str]:
    """The names a class body binds: its fields, class attributes and methods."""
    out: set[str] = set()
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out.add(node.target.id)
        elif isinstance(node, ast.Assign):
            out.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.FunctionDef):
            out.add(node.name)
    return out


# Names that from_item and the key parsers read as globals (builtins, the types and runtime helpers
# generated code imports) or hold as locals of their own.
# (A fixed list, not dir(builtins): the output must not depend on the compiling Python's version.)
_TAKEN = _BUILTIN_TYPES | GENERATED_GLOBALS | {"frozenset", "len", "isinstance", "type", "date", "datetime"} | {
    "av", "item", "cls", "exc", "value",
}  # fmt: skip


def _locals(model: Model) -> dict[str, str]:
    """Each field's local variable in from_item and the key parsers: its name, unless that would hide a
    name the method reads (a field ``date`` in front of ``date.fromisoformat``), then ``date_`` (or
    ``date__`` when ``date_`` is a field too)."""
    fields = {f.name for f in model.fields}
    out: dict[str, str] = {}
    for f in model.fields:
        local = f.name
        while local in _TAKEN or (local != f.name and local in fields) or local in out.values():
            local += "_"
        out[f.name] = local
    return out


def _own_methods(view: ModelView, model: Model, ctx: _Ctx) -> None:
    """Decide which of ``__init__``, ``__repr__`` and ``__eq__`` the module writes out for ``model``.

    ``@dataclass`` compiles them with ``exec`` when the module is imported, ~0.25 ms per model of every
    cold start; written out they are ordinary code from the ``.pyc``, and the class is still a
    dataclass (``fields``, ``replace``, ``asdict``). The one exception is a clash: the ``__init__``
    signature's defaults are read in the class body and its factories in the method, where a field
    of the same name (``set`` before ``set()``) would hide the global; such a model leaves
    ``__init__`` to the dataclass. A record that can contain itself keeps the dataclass
    ``__repr__``, which guards against cycles.
    """
    used: set[str] = set()
    for fv in view.fields:
        expressions = [fv.default] if fv.default is not None and fv.factory is None else []
        if fv.factory is not None:
            used.add("FACTORY")
            expressions.append(fv.factory)
        for text in expressions:
            used.update(n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name))
    if used & {fv.name for fv in view.fields}:
        view.own_init = False
    elif any(fv.factory is not None for fv in view.fields):
        ctx.imp.rt("FACTORY")
    view.own_repr = model.name not in _reachable_records(model, ctx)


def _reachable_records(model: Model, ctx: _Ctx) -> set[str]:
    """The records a value of ``model`` can hold, at any depth."""
    seen: set[str] = set()
    todo = [model]
    while todo:
        for f in todo.pop().fields:
            t: FieldType | None = f.type
            while t is not None:
                if t.kind == "model" and t.ref and t.ref not in seen:
                    seen.add(t.ref)
                    if t.ref in ctx.records:
                        todo.append(ctx.records[t.ref])
                t = t.item
    return seen


def _key_class_fields(model: Model, primary_keys: list[KeyAttr], params: list[str], imp: Imports) -> list[tuple[str, str, str]]:
    """The primary key fields of ``model`` and, for each, how it is read from a stored item's key attributes."""
    out: list[tuple[str, str, str]] = []
    for name in params:
        f = model.field(name)
        assert f is not None
        key = next(k for k in primary_keys if name in k.fields)
        if _is_field_itself(key, model) or key.type != "S":
            read = _decode(f.type, f"item[{lit(key.attribute)}]", imp)
        else:
            position = key.fields.index(name)
            read = f"{model.name}.parse_{snake_case(key.attribute)}(item[{lit(key.attribute)}][\"S\"])[{position}]"
        out.append((name, _annotation(f.type, imp), read))
    return out


def _key_part_decode(f: Field, text: str, imp: Imports) -> str:
    """The expression turning one key part's text back into the field's value."""
    k = f.type.kind
    if k == "int":
        return f"int({text})"
    if k == "decimal":
        return f"{imp.std('decimal', 'Decimal')}({text})"
    if k == "uuid":
        return f"{imp.std('uuid', 'UUID')}({text})"
    if k == "date":
        return f"{imp.std('datetime', 'date')}.fromisoformat({text})"
    if k == "datetime":
        return f"{imp.rt('parse_datetime')}({text})"
    if k == "enum":
        return f"{f.type.ref}({text})"
    return text


def _parser_view(key: KeyAttr, model: Model, imp: Imports, locals_: dict[str, str]) -> ParserView:
    """``parse_<attr>(value)``: the fields a stored key value was built from (into ``locals_`` names)."""
    literals: list[str] = [""]
    names: list[str] = []
    for part in key.template:
        if isinstance(part, Placeholder):
            names.append(locals_[part.field])
            literals.append("")
        else:
            literals[-1] += part
    fields = [model.field(p.field) for p in key.template if isinstance(p, Placeholder)]
    annotations = [_annotation(f.type, imp) for f in fields if f is not None]
    converted = [_key_part_decode(f, locals_[f.name], imp) for f in fields if f is not None]
    imp.rt("split_key")
    if converted != names:
        imp.rt("key_error")
    layout = "".join(p if isinstance(p, str) else "{" + p.field + (":" + p.spec if p.spec else "") + "}" for p in key.template)
    return ParserView(
        name="parse_" + snake_case(key.attribute), attribute=key.attribute, layout=layout, literals=tuple(literals),
        names=names, annotation=f"tuple[{', '.join(annotations)}]",
        result=f"({converted[0]},)" if len(converted) == 1 else ", ".join(converted),
        targets=f"({names[0]},)" if len(names) == 1 else ", ".join(names), plain=converted == names,
    )  # fmt: skip


def _pattern_view(p: AccessPattern, model: Model, ctx: _Ctx, key_class: str | None, module: Module) -> PatternView:
    assert model.table is not None
    imp = ctx.imp
    table = model.table
    pk_name, sk_name = table.partition_key, table.sort_key
    index = table.index(p.index) if p.index else None
    if index is not None:
        pk_name, sk_name = index.partition_key, index.sort_key
    pk = model.key(pk_name)
    assert pk is not None
    sk = model.key(sk_name)
    fields = {f.name: f for f in model.fields}
    params: list[str] = list(pk.fields)
    sort_prefix: str | None = None
    range_param = None
    range_encode = ""
    range_tail = ""
    range_more = False
    range_text = False
    conditions: list[tuple[str, str, str]] = []
    if sk is not None:
        parts = sk.template
        stop = len(parts)
        if p.range_field is not None:
            stop = next(i for i, part in enumerate(parts) if isinstance(part, Placeholder) and part.field == p.range_field)
            placeholder = parts[stop]
            assert isinstance(placeholder, Placeholder)
            rf = fields[p.range_field]
            range_param = rf.name
            annotation = _annotation(rf.type, imp)
            # A numeric or binary sort key holds the field itself: compared as a number (or bytes), no prefix.
            direct = sk.type != "S"
            range_encode = _encode(rf.type, "v", rf.name, imp) if direct else _key_text(rf, "v", ctx, model, placeholder)
            rest = parts[stop + 1 :]
            range_tail = rest[0] if rest and isinstance(rest[0], str) else ""
            range_more = any(isinstance(part, Placeholder) for part in rest)
            # Free text (strings, enums) followed by more key does not sort as its value: "a b" sorts before
            # "a" when "#" follows. DynamoDB narrows to a superset; the rest is dropped in Python.
            range_text = not direct and rf.type.kind in ("string", "enum") and bool(range_tail)
            conditions = [
                (f"{rf.name}_{suffix}", annotation, keyword)
                for suffix, keyword in (("eq", "eq"), ("from", "ge"), ("to", "le"), ("after", "gt"), ("before", "lt"))
            ]
            if not direct:
                conditions.append((f"{rf.name}_prefix", "str", "begins_with"))
        else:
            # Without a range: everything up to the first placeholder not given as an argument.
            stop = next((i for i, part in enumerate(parts) if isinstance(part, Placeholder)), len(parts))
        leading = parts[:stop]
        for part in leading:
            if isinstance(part, Placeholder) and part.field not in params:
                params.append(part.field)
        if leading or range_param:
            sort_prefix = _template_text(leading, model, "", ctx) if leading else '""'
        if sk.type != "S" and not range_param:
            sort_prefix = None
    # The entity attribute filters out other models' items wherever the results carry it; an index that
    # does not project it holds this model only (the compiler checked).
    projected = index is None or index.projection == "ALL" or (table.entity_attribute or "") in index.include
    result = {"keys": key_class or model.name}.get(p.returns, model.name)
    return PatternView(
        name=p.name, doc=p.doc or f"Query {model.name} items" + (f" through index {p.index}." if p.index else "."),
        index=p.index, params=[(n, _annotation(fields[n].type, imp)) for n in params], partition_attr=pk.attribute,
        partition_value=_key_value(pk, model, "", ctx), sort_attr=sk.attribute if sk else None, sort_prefix=sort_prefix,
        range_param=range_param, range_encode=range_encode, range_tail=range_tail, range_more=range_more,
        range_conditions=conditions, range_text=range_text, descending=p.descending,
        consistent_allowed=index is None or index.kind == "LSI", returns=p.returns, result=result,
        entity_filter=not table.entity_attribute or projected,
    )  # fmt: skip


def _pretty(value: object, indent: int = 0) -> str:
    """repr, laid out one entry per line (stable: dict order is the builder's, which is sorted)."""
    pad = "    " * (indent + 1)
    if isinstance(value, dict) and value:
        inner = ",\n".join(f"{pad}{lit(k)}: {_pretty(v, indent + 1)}" for k, v in value.items())
        return "{\n" + inner + ",\n" + "    " * indent + "}"
    if isinstance(value, list) and value:
        inner = ",\n".join(f"{pad}{_pretty(v, indent + 1)}" for v in value)
        return "[\n" + inner + ",\n" + "    " * indent + "]"
    return lit(value)

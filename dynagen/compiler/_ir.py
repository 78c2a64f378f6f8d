"""The intermediate model both dialects load into and the one back end renders. All frozen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "AccessPattern",
    "EnumDef",
    "Field",
    "FieldType",
    "Index",
    "KeyAttr",
    "Loc",
    "Model",
    "Module",
    "Placeholder",
    "Table",
]

ScalarKind = Literal["string", "int", "decimal", "float", "bool", "bytes", "datetime", "date", "uuid", "json", "enum"]
Kind = Literal[
    "string", "int", "decimal", "float", "bool", "bytes", "datetime", "date", "uuid", "json", "enum",
    "model", "list", "map", "set", "any_map", "any_list", "null",
]  # fmt: skip
Role = Literal["created_at", "updated_at", "version", "ttl"]
KeyType = Literal["S", "N", "B"]


@dataclass(frozen=True)
class Loc:
    path: str
    line: int
    col: int


@dataclass(frozen=True)
class FieldType:
    """``item`` is the element type of list/map/set; ``ref`` names an enum or model; ``epoch`` stores datetimes as N."""

    kind: Kind
    item: FieldType | None = None
    ref: str | None = None
    epoch: bool = False

    @property
    def is_scalar(self) -> bool:
        return self.kind in ("string", "int", "decimal", "float", "bool", "bytes", "datetime", "date", "uuid", "enum")


@dataclass(frozen=True)
class Field:
    name: str  # Python identifier
    attribute: str  # DynamoDB attribute name
    type: FieldType
    optional: bool = False
    has_default: bool = False
    default: object = None  # a plain literal (rendered with repr) when has_default
    omit_empty: bool = False
    doc: str = ""
    role: Role | None = None
    loc: Loc = Loc("", 0, 0)


@dataclass(frozen=True)
class Placeholder:
    """One ``{field}`` or ``{field:spec}`` of a key template.

    ``width`` (total characters, point included) and ``scale`` (digits after the point) come from a
    numeric format spec such as ``{line_no:06}`` or ``{price:010.2f}``, read as Python's format
    mini-language reads them: the part is written zero-padded at that fixed width, so that key text
    order is number order. ``width`` 0: no spec.
    """

    field: str  # Python field name
    width: int = 0
    scale: int = 0
    spec: str = ""  # the spec as written, for messages and docstrings


@dataclass(frozen=True)
class KeyAttr:
    """A key attribute of one model: built from a template, or the value of one field."""

    attribute: str
    type: KeyType
    template: tuple[str | Placeholder, ...]
    loc: Loc = Loc("", 0, 0)  # the template's own position; unset for a key that is a field itself

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(p.field for p in self.template if isinstance(p, Placeholder))

    @property
    def direct_field(self) -> str | None:
        """The field this key attribute is, when its template is exactly ``{field}``."""
        if len(self.template) == 1 and isinstance(self.template[0], Placeholder):
            return self.template[0].field
        return None

    @property
    def prefix(self) -> str:
        """The literal text before the first placeholder (the whole value for a constant key)."""
        out = ""
        for part in self.template:
            if isinstance(part, Placeholder):
                break
            out += part
        return out


@dataclass(frozen=True)
class Index:
    name: str
    kind: Literal["GSI", "LSI"]
    partition_key: str
    partition_type: KeyType
    sort_key: str | None
    sort_type: KeyType | None
    projection: Literal["ALL", "KEYS_ONLY", "INCLUDE"] = "ALL"
    include: tuple[str, ...] = ()
    read_capacity: int | None = None
    write_capacity: int | None = None


@dataclass(frozen=True)
class Table:
    id: str  # name in the schema
    name: str  # physical table name
    partition_key: str
    partition_type: KeyType
    sort_key: str | None
    sort_type: KeyType | None
    indexes: tuple[Index, ...] = ()
    billing: Literal["PAY_PER_REQUEST", "PROVISIONED"] = "PAY_PER_REQUEST"
    read_capacity: int | None = None
    write_capacity: int | None = None
    ttl_attribute: str | None = None
    stream: Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"] | None = None
    entity_attribute: str | None = None
    loc: Loc = Loc("", 0, 0)

    def index(self, name: str) -> Index | None:
        return next((i for i in self.indexes if i.name == name), None)


@dataclass(frozen=True)
class AccessPattern:
    """A query on the table or one index, as one typed method.

    The partition value comes from the model's key template for that index's partition key; the
    method's keyword arguments are that template's fields. ``range_field`` (optional) is a field of
    the sort-key template whose values bound the query (``<field>_from`` / ``<field>_to``).
    """

    name: str
    index: str | None
    doc: str = ""
    range_field: str | None = None
    descending: bool = False
    loc: Loc = Loc("", 0, 0)
    # What each result is: the model (the index must project all its attributes), its primary key
    # fields only (any projection), or the full item read with BatchGetItem after the query.
    returns: Literal["model", "keys", "items"] = "model"


@dataclass(frozen=True)
class Model:
    name: str
    fields: tuple[Field, ...]
    table: Table | None = None  # None: an embedded record stored as M
    keys: tuple[KeyAttr, ...] = ()
    entity: str | None = None
    access_patterns: tuple[AccessPattern, ...] = ()
    doc: str = ""
    loc: Loc = Loc("", 0, 0)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def key(self, attribute: str | None) -> KeyAttr | None:
        return next((k for k in self.keys if k.attribute == attribute), None) if attribute else None

    def role(self, role: str) -> Field | None:
        return next((f for f in self.fields if f.role == role), None)


@dataclass(frozen=True)
class EnumDef:
    name: str
    values: tuple[tuple[str, str], ...]  # (member name, stored value)
    doc: str = ""


@dataclass(frozen=True)
class Module:
    source: str  # schema path relative to the project, with forward slashes
    name: str  # Python module name
    dialect: Literal["dynagen", "dms"]
    tables: tuple[Table, ...]
    models: tuple[Model, ...]
    enums: tuple[EnumDef, ...] = ()

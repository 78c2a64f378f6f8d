# Hand-written in the shape the code generator will emit (issue 14): models, then one Fields class per model.
"""Models of every field type, with the typed field references a generated module declares for them.

``OrderFields`` (and ``AddressFields``, ``GeoFields``, ``LineItemFields`` for the embedded records)
hold one reference per field: stored attribute name, the field's one-value encoder (the same
expression ``to_item`` uses) and the field's Python type. ``LineItem.size`` collides with the
references' ``size()`` operator, so its reference is ``LineItemFields.size_`` (``ref_name``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from dynagen.runtime import (
    AnyRef,
    BytesRef,
    DatetimeRef,
    JsonRef,
    ListRef,
    MapRef,
    ModelInfo,
    NumberRef,
    OrderedRef,
    RecordRef,
    Ref,
    Repository,
    SetRef,
    StringRef,
    TextRef,
    decode_error,
    dump_json,
    enc_date,
    enc_decimal,
    enc_float,
    enc_int,
    enc_uuid,
    format_datetime,
    format_epoch,
    from_wire,
    key_part,
    load_json,
    parse_datetime,
    parse_epoch,
    to_wire,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

    from dynagen.runtime import AttributeValue


class OrderStatus(StrEnum):
    PENDING = "pending"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class Currency(StrEnum):
    USD = "USD"
    EUR = "EUR"


@dataclass(slots=True, kw_only=True)
class Geo:
    lat: Decimal
    lng: Decimal

    def to_item(self) -> dict[str, AttributeValue]:
        return {"lat": {"N": enc_decimal(self.lat, "lat")}, "lng": {"N": enc_decimal(self.lng, "lng")}}

    @classmethod
    def from_item(cls, item: Mapping[str, AttributeValue]) -> Geo:
        return cls(lat=Decimal(item["lat"]["N"]), lng=Decimal(item["lng"]["N"]))


@dataclass(slots=True, kw_only=True)
class Address:
    line1: str
    city: str
    postal_code: str | None = None
    geo: Geo | None = None

    def to_item(self) -> dict[str, AttributeValue]:
        item: dict[str, AttributeValue] = {"line1": {"S": self.line1}, "city": {"S": self.city}}
        if self.postal_code is not None:
            item["postalCode"] = {"S": self.postal_code}
        if self.geo is not None:
            item["geo"] = {"M": self.geo.to_item()}
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, AttributeValue]) -> Address:
        av = item.get("postalCode")
        postal_code = None if av is None or "NULL" in av else av["S"]
        av = item.get("geo")
        geo = None if av is None or "NULL" in av else Geo.from_item(av["M"])
        return cls(line1=item["line1"]["S"], city=item["city"]["S"], postal_code=postal_code, geo=geo)


@dataclass(slots=True, kw_only=True)
class LineItem:
    sku: str
    quantity: int
    unit_price: Decimal
    size: str | None = None
    options: Any | None = None

    def to_item(self) -> dict[str, AttributeValue]:
        item: dict[str, AttributeValue] = {
            "sku": {"S": self.sku},
            "quantity": {"N": enc_int(self.quantity, "quantity")},
            "unitPrice": {"N": enc_decimal(self.unit_price, "unit_price")},
            "options": {"NULL": True} if self.options is None else {"S": dump_json(self.options, "options")},
        }
        if self.size is not None:
            item["size"] = {"S": self.size}
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, AttributeValue]) -> LineItem:
        av = item.get("size")
        size = None if av is None or "NULL" in av else av["S"]
        av = item.get("options")
        options = None if av is None or "NULL" in av else load_json(av)
        return cls(
            sku=item["sku"]["S"],
            quantity=int(item["quantity"]["N"]),
            unit_price=Decimal(item["unitPrice"]["N"]),
            size=size,
            options=options,
        )


@dataclass(slots=True, kw_only=True)
class Comment:
    """A record that holds records of its own type."""

    text: str
    replies: list[Comment] = field(default_factory=list)

    def to_item(self) -> dict[str, AttributeValue]:
        return {"text": {"S": self.text}, "replies": {"L": [{"M": e0.to_item()} for e0 in self.replies]}}

    @classmethod
    def from_item(cls, item: Mapping[str, AttributeValue]) -> Comment:
        return cls(text=item["text"]["S"], replies=[Comment.from_item(e0["M"]) for e0 in item["replies"]["L"]])


@dataclass(slots=True, kw_only=True)
class Order:
    customer_id: UUID
    order_id: str
    status: OrderStatus = OrderStatus.PENDING
    currency: Currency
    total: Decimal
    quantity: int
    weight: float
    placed_on: date
    placed_at: datetime
    expires_at: datetime | None = None
    gift: bool = False
    note: str | None = None
    fingerprint: bytes | None = None
    labels: set[str] = field(default_factory=set)
    counts: set[int] = field(default_factory=set)
    prices: set[Decimal] = field(default_factory=set)
    blobs: set[bytes] = field(default_factory=set)
    related: set[UUID] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    line_items: list[LineItem] = field(default_factory=list)
    matrix: list[list[int]] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    limits: dict[str, Decimal] = field(default_factory=dict)
    addresses: dict[str, Address] = field(default_factory=dict)
    billing: Address
    shipping: Address | None = None
    settings: Any | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    version: int = 0

    @staticmethod
    def make_key(*, customer_id: UUID, order_id: str) -> dict[str, AttributeValue]:
        return {
            "PK": {"S": "CUSTOMER#" + enc_uuid(customer_id, "customer_id")},
            "SK": {"S": "ORDER#" + key_part(order_id, "order_id")},
        }

    def key(self) -> dict[str, AttributeValue]:
        return Order.make_key(customer_id=self.customer_id, order_id=self.order_id)

    def to_item(self) -> dict[str, AttributeValue]:
        p_customer_id = enc_uuid(self.customer_id, "customer_id")
        p_order_id = key_part(self.order_id, "order_id")
        item: dict[str, AttributeValue] = {
            "PK": {"S": "CUSTOMER#" + p_customer_id},
            "SK": {"S": "ORDER#" + p_order_id},
            "entity": {"S": "ORDER"},
            "customerId": {"S": p_customer_id},
            "orderId": {"S": p_order_id},
            "status": {"S": self.status.value},
            "currency": {"S": self.currency.value},
            "total": {"N": enc_decimal(self.total, "total")},
            "quantity": {"N": enc_int(self.quantity, "quantity")},
            "weight": {"N": enc_float(self.weight, "weight")},
            "placedOn": {"S": enc_date(self.placed_on, "placed_on")},
            "placedAt": {"S": format_datetime(self.placed_at, "placed_at")},
            "gift": {"BOOL": self.gift},
            "notes": {"L": [{"S": e0} for e0 in self.notes]},
            "lineItems": {"L": [{"M": e0.to_item()} for e0 in self.line_items]},
            "matrix": {"L": [{"L": [{"N": enc_int(e1, "matrix")} for e1 in e0]} for e0 in self.matrix]},
            "events": {"L": [{"NULL": True} if e0 is None else {"S": dump_json(e0, "events")} for e0 in self.events]},
            "billing": {"M": self.billing.to_item()},
            "settings": {"NULL": True} if self.settings is None else {"S": dump_json(self.settings, "settings")},
            "version": {"N": enc_int(self.version, "version")},
        }
        if self.expires_at is not None:
            item["expiresAt"] = {"N": format_epoch(self.expires_at, "expires_at")}
        if self.note is not None:
            item["note"] = {"S": self.note}
        if self.fingerprint is not None:
            item["fingerprint"] = {"B": self.fingerprint}
        if self.labels:
            item["labels"] = {"SS": list(self.labels)}
        if self.counts:
            item["counts"] = {"NS": [enc_int(e0, "counts") for e0 in self.counts]}
        if self.prices:
            item["prices"] = {"NS": [enc_decimal(e0, "prices") for e0 in self.prices]}
        if self.blobs:
            item["blobs"] = {"BS": list(self.blobs)}
        if self.related:
            item["relatedIds"] = {"SS": [enc_uuid(e0, "related") for e0 in self.related]}
        if self.tags:
            item["tags"] = {"M": {k0: {"S": e0} for k0, e0 in self.tags.items()}}
        if self.limits:
            item["limits"] = {"M": {k0: {"N": enc_decimal(e0, "limits")} for k0, e0 in self.limits.items()}}
        if self.addresses:
            item["addresses"] = {"M": {k0: {"M": e0.to_item()} for k0, e0 in self.addresses.items()}}
        if self.shipping is not None:
            item["shipping"] = {"M": self.shipping.to_item()}
        if self.extra:
            item["extra"] = to_wire(self.extra, "extra")
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, AttributeValue]) -> Order:
        try:
            av = item.get("expiresAt")
            expires_at = None if av is None or "NULL" in av else parse_epoch(av["N"])
            av = item.get("note")
            note = None if av is None or "NULL" in av else av["S"]
            av = item.get("fingerprint")
            fingerprint = None if av is None or "NULL" in av else av["B"]
            av = item.get("labels")
            labels = set() if av is None or "NULL" in av else set(av["SS"])
            av = item.get("counts")
            counts = set() if av is None or "NULL" in av else {int(e0) for e0 in av["NS"]}
            av = item.get("prices")
            prices = set() if av is None or "NULL" in av else {Decimal(e0) for e0 in av["NS"]}
            av = item.get("blobs")
            blobs = set() if av is None or "NULL" in av else set(av["BS"])
            av = item.get("relatedIds")
            related = set() if av is None or "NULL" in av else {UUID(e0) for e0 in av["SS"]}
            av = item.get("tags")
            tags = {} if av is None or "NULL" in av else {k0: e0["S"] for k0, e0 in av["M"].items()}
            av = item.get("limits")
            limits = {} if av is None or "NULL" in av else {k0: Decimal(e0["N"]) for k0, e0 in av["M"].items()}
            av = item.get("addresses")
            addresses = {} if av is None or "NULL" in av else {k0: Address.from_item(e0["M"]) for k0, e0 in av["M"].items()}
            av = item.get("shipping")
            shipping = None if av is None or "NULL" in av else Address.from_item(av["M"])
            av = item.get("settings")
            settings = None if av is None or "NULL" in av else load_json(av)
            av = item.get("extra")
            extra = {} if av is None or "NULL" in av else from_wire(av)
            return cls(
                customer_id=UUID(item["customerId"]["S"]),
                order_id=item["orderId"]["S"],
                status=OrderStatus(item["status"]["S"]),
                currency=Currency(item["currency"]["S"]),
                total=Decimal(item["total"]["N"]),
                quantity=int(item["quantity"]["N"]),
                weight=float(item["weight"]["N"]),
                placed_on=date.fromisoformat(item["placedOn"]["S"]),
                placed_at=parse_datetime(item["placedAt"]["S"]),
                expires_at=expires_at,
                gift=item["gift"]["BOOL"],
                note=note,
                fingerprint=fingerprint,
                labels=labels,
                counts=counts,
                prices=prices,
                blobs=blobs,
                related=related,
                notes=[e0["S"] for e0 in item["notes"]["L"]],
                line_items=[LineItem.from_item(e0["M"]) for e0 in item["lineItems"]["L"]],
                matrix=[[int(e1["N"]) for e1 in e0["L"]] for e0 in item["matrix"]["L"]],
                events=[load_json(e0) for e0 in item["events"]["L"]],
                tags=tags,
                limits=limits,
                addresses=addresses,
                billing=Address.from_item(item["billing"]["M"]),
                shipping=shipping,
                settings=settings,
                extra=extra,
                version=int(item["version"]["N"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise decode_error("Order", item, exc) from exc


# --------------------------------------------------------------------------------------------------
# Typed field references (what the generator emits after the models)


class GeoFields(RecordRef[Geo]):
    """Typed references to the fields of a Geo (an embedded record)."""

    __slots__ = ()
    lat: NumberRef[Decimal] = NumberRef("lat", lambda v: {"N": enc_decimal(v, "lat")})
    lng: NumberRef[Decimal] = NumberRef("lng", lambda v: {"N": enc_decimal(v, "lng")})


class AddressFields(RecordRef[Address]):
    """Typed references to the fields of an Address (an embedded record)."""

    __slots__ = ()
    line1: StringRef = StringRef("line1", lambda v: {"S": v})
    city: StringRef = StringRef("city", lambda v: {"S": v})
    postal_code: StringRef = StringRef("postalCode", lambda v: {"S": v})
    geo: GeoFields = GeoFields("geo", lambda v: {"M": v.to_item()})


class LineItemFields(RecordRef[LineItem]):
    """Typed references to the fields of a LineItem (an embedded record)."""

    __slots__ = ()
    sku: StringRef = StringRef("sku", lambda v: {"S": v})
    quantity: NumberRef[int] = NumberRef("quantity", lambda v: {"N": enc_int(v, "quantity")})
    unit_price: NumberRef[Decimal] = NumberRef("unitPrice", lambda v: {"N": enc_decimal(v, "unit_price")})
    size_: StringRef = StringRef("size", lambda v: {"S": v})
    options: JsonRef = JsonRef("options", lambda v: {"S": dump_json(v, "options")})


class CommentFields(RecordRef[Comment]):
    """Typed references to the fields of a Comment; ``replies`` refers to this class, so it is set after it."""

    __slots__ = ()
    text: StringRef = StringRef("text", lambda v: {"S": v})
    replies: ClassVar[ListRef[Comment, CommentFields]]


CommentFields.replies = ListRef("replies", CommentFields(None, lambda v: {"M": v.to_item()}))


class OrderFields(RecordRef[Order]):
    """Typed references to Order's fields, for filter=, condition= and update actions."""

    __slots__ = ()
    customer_id: Ref[UUID] = Ref("customerId", lambda v: {"S": enc_uuid(v, "customer_id")})
    order_id: StringRef = StringRef("orderId", lambda v: {"S": v})
    status: Ref[OrderStatus] = Ref("status", lambda v: {"S": v.value})
    currency: Ref[Currency] = Ref("currency", lambda v: {"S": v.value})
    total: NumberRef[Decimal] = NumberRef("total", lambda v: {"N": enc_decimal(v, "total")})
    quantity: NumberRef[int] = NumberRef("quantity", lambda v: {"N": enc_int(v, "quantity")})
    weight: NumberRef[float] = NumberRef("weight", lambda v: {"N": enc_float(v, "weight")})
    placed_on: TextRef[date] = TextRef("placedOn", lambda v: {"S": enc_date(v, "placed_on")})
    placed_at: DatetimeRef = DatetimeRef("placedAt", lambda v: {"S": format_datetime(v, "placed_at")})
    expires_at: OrderedRef[datetime] = OrderedRef("expiresAt", lambda v: {"N": format_epoch(v, "expires_at")})
    gift: Ref[bool] = Ref("gift", lambda v: {"BOOL": v})
    note: StringRef = StringRef("note", lambda v: {"S": v})
    fingerprint: BytesRef = BytesRef("fingerprint", lambda v: {"B": v})
    labels: SetRef[str] = SetRef("labels", lambda v: {"S": v})
    counts: SetRef[int] = SetRef("counts", lambda v: {"N": enc_int(v, "counts")})
    prices: SetRef[Decimal] = SetRef("prices", lambda v: {"N": enc_decimal(v, "prices")})
    blobs: SetRef[bytes] = SetRef("blobs", lambda v: {"B": v})
    related: SetRef[UUID] = SetRef("relatedIds", lambda v: {"S": enc_uuid(v, "related")})
    notes: ListRef[str, StringRef] = ListRef("notes", StringRef(None, lambda v: {"S": v}))
    line_items: ListRef[LineItem, LineItemFields] = ListRef(
        "lineItems", LineItemFields(None, lambda v: {"M": v.to_item()})
    )
    matrix: ListRef[list[int], ListRef[int, NumberRef[int]]] = ListRef(
        "matrix", ListRef(None, NumberRef(None, lambda v: {"N": enc_int(v, "matrix")}))
    )
    events: ListRef[Any, JsonRef] = ListRef("events", JsonRef(None, lambda v: {"S": dump_json(v, "events")}))
    tags: MapRef[str, StringRef] = MapRef("tags", StringRef(None, lambda v: {"S": v}))
    limits: MapRef[Decimal, NumberRef[Decimal]] = MapRef(
        "limits", NumberRef(None, lambda v: {"N": enc_decimal(v, "limits")})
    )
    addresses: MapRef[Address, AddressFields] = MapRef("addresses", AddressFields(None, lambda v: {"M": v.to_item()}))
    billing: AddressFields = AddressFields("billing", lambda v: {"M": v.to_item()})
    shipping: AddressFields = AddressFields("shipping", lambda v: {"M": v.to_item()})
    settings: JsonRef = JsonRef("settings", lambda v: {"S": dump_json(v, "settings")})
    extra: MapRef[Any, AnyRef] = MapRef("extra", AnyRef(None, lambda v: to_wire(v, "extra")))
    version: NumberRef[int] = NumberRef("version", lambda v: {"N": enc_int(v, "version")})


class OrderRepository(Repository[Order]):
    """Typed access to Order items (the generated repository, abridged to what the tests use)."""

    __slots__ = ()
    model = ModelInfo(
        name="Order",
        table="orders",
        partition_key="PK",
        sort_key="SK",
        indexes={"gsi1": ("GSI1PK", "GSI1SK")},
        attributes={
            "customer_id": "customerId",
            "order_id": "orderId",
            "status": "status",
            "currency": "currency",
            "total": "total",
            "quantity": "quantity",
            "weight": "weight",
            "placed_on": "placedOn",
            "placed_at": "placedAt",
            "expires_at": "expiresAt",
            "gift": "gift",
            "note": "note",
            "fingerprint": "fingerprint",
            "labels": "labels",
            "counts": "counts",
            "prices": "prices",
            "blobs": "blobs",
            "related": "relatedIds",
            "notes": "notes",
            "line_items": "lineItems",
            "matrix": "matrix",
            "events": "events",
            "tags": "tags",
            "limits": "limits",
            "addresses": "addresses",
            "billing": "billing",
            "shipping": "shipping",
            "settings": "settings",
            "extra": "extra",
            "version": "version",
        },
        key_fields=("customer_id", "order_id"),
        derived={},
        entity_attribute="entity",
        entity="ORDER",
        created_at=None,
        updated_at=None,
        version="version",
        ttl="expires_at",
        from_item=Order.from_item,
        encoders={},
    )

"""The example ``Payment`` and its equivalents for every peer.

- dynagen: ``generated_example.payments.Payment`` (every field filled).
- hand-written: the same wire dict built inline, and decoded by one hand-written constructor call,
  without validation (the practical floor).
- boto3: the equivalent plain dict for ``TypeSerializer`` (numbers as Decimal, datetimes, dates and
  UUIDs already strings: the conversion a boto3 user writes is *not* timed, which favours boto3).
- PynamoDB: a ``Model`` with the same attributes (small custom attributes for Decimal, UUID, date and
  enums so that it returns the same Python types; key attributes are plain fields that are set on the
  instance, so key building is not timed for PynamoDB).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from generated_example.payments import Currency, LineItem, Payment, PaymentStatus

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def make_payment(i: int, *, partner_id: str = "p-0001", rng: random.Random | None = None) -> Payment:
    """A Payment with every field filled (maps, sets, nested list, datetimes with microseconds, Decimals)."""
    rng = rng or random.Random(i)
    created = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC) + timedelta(seconds=i * 37, microseconds=1 + i % 999_998)
    return Payment(
        partner_id=partner_id,
        payment_id=f"pay-{i:08d}",
        customer_id=uuid.UUID(int=rng.getrandbits(128), version=4),
        amount=Decimal(f"{rng.randint(100, 999_999)}.{rng.randint(0, 99):02d}"),
        currency=Currency.EUR,
        status=PaymentStatus.CAPTURED,
        created_on=created.date(),
        captured_amount=Decimal("125.50"),
        refunded_amount=Decimal("10.25"),
        line_items=[
            LineItem(
                sku=f"SKU-{i % 97}-{n}",
                description=f"item {n} of order {i}",
                quantity=n + 1,
                unit_price=Decimal(f"{n + 1}9.99"),
            )
            for n in range(3)
        ],
        metadata={"order": f"ord-{i}", "channel": "web", "ip": "203.0.113.7", "campaign": "spring", "ref": "x" * 12},
        risk_score=rng.random(),
        card_fingerprint=rng.randbytes(16),
        attempts=2,
        labels={"vip", "eu", f"cohort-{i % 7}"},
        created_at=created,
        updated_at=created + timedelta(seconds=5, microseconds=250),
        version=3,
        expires_at=(created + timedelta(days=30)).replace(microsecond=0),
    )


def make_payments(n: int, *, partner_id: str = "p-0001") -> list[Payment]:
    rng = random.Random(1234)
    return [make_payment(i, partner_id=partner_id, rng=rng) for i in range(n)]


# --------------------------------------------------------------------------------------------------
# Hand-written floor: the same wire dict, built inline with no validation.


def hand_to_item(p: Payment) -> dict[str, Any]:
    pid, pay, on = p.partner_id, p.payment_id, p.created_on.isoformat()
    status = p.status.value
    item: dict[str, Any] = {
        "PK": {"S": "PARTNER#" + pid},
        "SK": {"S": "PAYMENT#" + pay},
        "GSI1PK": {"S": "PARTNER#" + pid + "#CUSTOMER#" + str(p.customer_id)},
        "GSI1SK": {"S": "PAYMENT#" + on + "#" + pay},
        "GSI2PK": {"S": "STATUS#" + status},
        "GSI2SK": {"S": on + "#" + pid + "#" + pay},
        "entity": {"S": "PAYMENT"},
        "partnerId": {"S": pid},
        "paymentId": {"S": pay},
        "customerId": {"S": str(p.customer_id)},
        "amount": {"N": str(p.amount)},
        "currency": {"S": p.currency.value},
        "status": {"S": status},
        "createdOn": {"S": on},
        "refundedAmount": {"N": str(p.refunded_amount)},
        "lineItems": {
            "L": [
                {
                    "M": {
                        "sku": {"S": li.sku},
                        "quantity": {"N": str(li.quantity)},
                        "unitPrice": {"N": str(li.unit_price)},
                        "description": {"S": li.description},
                    }
                }
                for li in p.line_items
            ]
        },
        "attempts": {"N": str(p.attempts)},
        "version": {"N": str(p.version)},
        "capturedAmount": {"N": str(p.captured_amount)},
        "metadata": {"M": {k: {"S": v} for k, v in p.metadata.items()}},
        "riskScore": {"N": repr(p.risk_score)},
        "cardFingerprint": {"B": p.card_fingerprint},
        "labels": {"SS": list(p.labels)},
        "createdAt": {"S": p.created_at.replace(tzinfo=None).isoformat().rstrip("0") + "Z"},  # type: ignore[union-attr]
        "updatedAt": {"S": p.updated_at.replace(tzinfo=None).isoformat().rstrip("0") + "Z"},  # type: ignore[union-attr]
        "expiresAt": {"N": str((p.expires_at - _EPOCH) // timedelta(seconds=1))},  # type: ignore[operator]
    }
    return item


def hand_from_item(item: dict[str, Any]) -> Payment:
    fromiso = datetime.fromisoformat
    return Payment(
        partner_id=item["partnerId"]["S"],
        payment_id=item["paymentId"]["S"],
        customer_id=uuid.UUID(item["customerId"]["S"]),
        amount=Decimal(item["amount"]["N"]),
        currency=Currency(item["currency"]["S"]),
        status=PaymentStatus(item["status"]["S"]),
        created_on=date.fromisoformat(item["createdOn"]["S"]),
        captured_amount=Decimal(item["capturedAmount"]["N"]),
        refunded_amount=Decimal(item["refundedAmount"]["N"]),
        line_items=[
            LineItem(
                sku=m["sku"]["S"],
                description=m["description"]["S"],
                quantity=int(m["quantity"]["N"]),
                unit_price=Decimal(m["unitPrice"]["N"]),
            )
            for m in (e["M"] for e in item["lineItems"]["L"])
        ],
        metadata={k: v["S"] for k, v in item["metadata"]["M"].items()},
        risk_score=float(item["riskScore"]["N"]),
        card_fingerprint=item["cardFingerprint"]["B"],
        attempts=int(item["attempts"]["N"]),
        labels=set(item["labels"]["SS"]),
        created_at=fromiso(item["createdAt"]["S"]),
        updated_at=fromiso(item["updatedAt"]["S"]),
        version=int(item["version"]["N"]),
        expires_at=_EPOCH + timedelta(seconds=int(item["expiresAt"]["N"])),
    )


# --------------------------------------------------------------------------------------------------
# boto3: the equivalent plain dict


def plain_dict(p: Payment) -> dict[str, Any]:
    """What a boto3 user hands ``TypeSerializer`` (already converted to types it accepts)."""
    wire = p.to_item()
    from boto3.dynamodb.types import TypeDeserializer

    des = TypeDeserializer()
    return {k: des.deserialize(v) for k, v in wire.items()}


# --------------------------------------------------------------------------------------------------
# PynamoDB


def pynamodb_models(table: str = "payments", host: str | None = None) -> tuple[type[Any], type[Any]]:
    """(PynPayment, PynLineItem): a PynamoDB Model equivalent to Payment, bound to ``table`` / ``host``."""
    from pynamodb.attributes import (
        Attribute,
        BinaryAttribute,
        ListAttribute,
        MapAttribute,
        NumberAttribute,
        TTLAttribute,
        UnicodeAttribute,
        UnicodeSetAttribute,
        UTCDateTimeAttribute,
    )
    from pynamodb.constants import NUMBER, STRING
    from pynamodb.models import Model

    class DecimalAttribute(Attribute[Decimal]):
        attr_type = NUMBER

        def serialize(self, value: Decimal) -> str:
            return str(value)

        def deserialize(self, value: str) -> Decimal:
            return Decimal(value)

    class UUIDAttribute(Attribute[uuid.UUID]):
        attr_type = STRING

        def serialize(self, value: uuid.UUID) -> str:
            return str(value)

        def deserialize(self, value: str) -> uuid.UUID:
            return uuid.UUID(value)

    class DateAttribute(Attribute[date]):
        attr_type = STRING

        def serialize(self, value: date) -> str:
            return value.isoformat()

        def deserialize(self, value: str) -> date:
            return date.fromisoformat(value)

    class CurrencyAttribute(Attribute[Currency]):
        attr_type = STRING

        def serialize(self, value: Currency) -> str:
            return value.value

        def deserialize(self, value: str) -> Currency:
            return Currency(value)

    class StatusAttribute(Attribute[PaymentStatus]):
        attr_type = STRING

        def serialize(self, value: PaymentStatus) -> str:
            return value.value

        def deserialize(self, value: str) -> PaymentStatus:
            return PaymentStatus(value)

    class PynLineItem(MapAttribute[str, Any]):
        sku = UnicodeAttribute()
        description = UnicodeAttribute(default="")
        quantity = NumberAttribute()
        unit_price = DecimalAttribute(attr_name="unitPrice")

    meta_attrs: dict[str, Any] = {
        "table_name": table,
        "region": "us-east-1",
        "aws_access_key_id": "AKIDBENCH",
        "aws_secret_access_key": "bench-secret",
        "max_retry_attempts": 0,
    }
    if host is not None:
        meta_attrs["host"] = host

    class PynPayment(Model):
        Meta = type("Meta", (), meta_attrs)

        pk = UnicodeAttribute(hash_key=True, attr_name="PK")
        sk = UnicodeAttribute(range_key=True, attr_name="SK")
        gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
        gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
        gsi2pk = UnicodeAttribute(attr_name="GSI2PK")
        gsi2sk = UnicodeAttribute(attr_name="GSI2SK")
        entity = UnicodeAttribute(default="PAYMENT")
        partner_id = UnicodeAttribute(attr_name="partnerId")
        payment_id = UnicodeAttribute(attr_name="paymentId")
        customer_id = UUIDAttribute(attr_name="customerId")
        amount = DecimalAttribute()
        currency = CurrencyAttribute()
        status = StatusAttribute(default=PaymentStatus.PENDING)
        created_on = DateAttribute(attr_name="createdOn")
        captured_amount = DecimalAttribute(attr_name="capturedAmount", null=True)
        refunded_amount = DecimalAttribute(attr_name="refundedAmount", default=lambda: Decimal("0"))
        line_items = ListAttribute(of=PynLineItem, attr_name="lineItems", default=list)
        metadata = MapAttribute(null=True)  # type: ignore[var-annotated]
        risk_score = NumberAttribute(attr_name="riskScore", null=True)
        card_fingerprint = BinaryAttribute(attr_name="cardFingerprint", null=True, legacy_encoding=False)
        attempts = NumberAttribute(default=0)
        labels = UnicodeSetAttribute(null=True)
        created_at = UTCDateTimeAttribute(attr_name="createdAt", null=True)
        updated_at = UTCDateTimeAttribute(attr_name="updatedAt", null=True)
        version = NumberAttribute(default=0)
        expires_at = TTLAttribute(attr_name="expiresAt", null=True)

    return PynPayment, PynLineItem


def to_pynamodb(p: Payment, PynPayment: type[Any], PynLineItem: type[Any]) -> Any:
    """The PynamoDB instance holding the same data (keys precomputed from the dynagen item)."""
    item = p.to_item()
    return PynPayment(
        pk=item["PK"]["S"],
        sk=item["SK"]["S"],
        gsi1pk=item["GSI1PK"]["S"],
        gsi1sk=item["GSI1SK"]["S"],
        gsi2pk=item["GSI2PK"]["S"],
        gsi2sk=item["GSI2SK"]["S"],
        partner_id=p.partner_id,
        payment_id=p.payment_id,
        customer_id=p.customer_id,
        amount=p.amount,
        currency=p.currency,
        status=p.status,
        created_on=p.created_on,
        captured_amount=p.captured_amount,
        refunded_amount=p.refunded_amount,
        line_items=[
            PynLineItem(sku=li.sku, description=li.description, quantity=li.quantity, unit_price=li.unit_price)
            for li in p.line_items
        ],
        metadata=dict(p.metadata),
        risk_score=p.risk_score,
        card_fingerprint=p.card_fingerprint,
        attempts=p.attempts,
        labels=set(p.labels),
        created_at=p.created_at,
        updated_at=p.updated_at,
        version=p.version,
        expires_at=p.expires_at,
    )


def json_safe(item: dict[str, Any]) -> Any:
    """A wire item as it travels in DynamoDB's JSON (bytes as base64 text)."""
    import base64

    def conv(value: Any) -> Any:
        if isinstance(value, bytes):
            return base64.b64encode(value).decode()
        if isinstance(value, dict):
            return {k: conv(v) for k, v in value.items()}
        if isinstance(value, list):
            return [conv(v) for v in value]
        return value

    return conv(item)

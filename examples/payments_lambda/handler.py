"""The payments API as an AWS Lambda function, over the generated ``generated_example.payments`` module.

Handler: ``examples.payments_lambda.handler.handler``. One invocation is one action::

    {"action": "create_payment", "partner_id": "acme", "customer_id": "...", "amount": "12.50", "currency": "EUR"}

=================  ==========================================================================  ======
action             parameters (besides ``partner_id``)                                         status
=================  ==========================================================================  ======
create_partner     name, fee_rate; settlement_currency, contact_emails, webhook_url              201
create_customer    email, name; customer_id (UUID, generated if absent), tags                   201
create_payment     customer_id, amount, currency; payment_id, created_on, line_items,           201
                   metadata, card_fingerprint (base64), labels
capture            payment_id; amount (default: all of it), expected_version                     200
refund             payment_id, amount; refund_id, reason                                          201
get_payment        payment_id; fields (some of status, amount, currency, captured_amount,        200
                   refunded_amount, version: only those are read)
list_payments      customer_id; limit (1-100, default 25), cursor, created_on_from/_to, status   200
=================  ==========================================================================  ======

The answer is ``{"statusCode": ..., "body": {...}}`` (JSON-serializable). An API Gateway proxy event
(one with ``requestContext``) is understood too: the action and parameters come from its JSON body
and path parameters, and the body is returned as a JSON string. Errors: 400 invalid input, 403
unknown partner, 404 no such item, 409 condition / version conflict or a payment in the wrong state,
429 throttled, 503 deadline (with what was completed), 500 anything else (logged, not leaked).

Init phase (module import, once per execution environment): settings from the environment, one
transport (``DYNAGEN_TRANSPORT``: ``lean``, the default, or ``botocore`` from the runtime's client
cache), the repositories built once over it, an optional warm-up request that opens the connection,
the structured logger. Every invocation binds a ``Deadline.from_context(context)`` to cheap copies
of those repositories and the log context (request id, trace id, partner).

Environment:

    PAYMENTS_TABLE              table name (default: the schema's, "payments")
    DYNAGEN_TRANSPORT           lean (default) | botocore
    DYNAGEN_ENDPOINT_URL        DynamoDB endpoint (DynamoDB Local); DYNAGEN_REGION / AWS_REGION region
    DYNAGEN_PARTNERS            JSON partner config: partners live in their own accounts, reached with
                                the multi-account resolver (STS AssumeRole per partner; each partner's
                                transport is of the DYNAGEN_TRANSPORT kind, signing with its refreshable
                                credentials). Unset: every partner's items are in the base account's table.
    DYNAGEN_WARM_UP             1/0: open the connection in the init phase (default 1 in Lambda)
    DYNAGEN_DEADLINE_MARGIN     seconds kept free at the end of an invocation (default 0.5)
    DYNAGEN_METRICS             1: CloudWatch EMF metrics per DynamoDB call
    LOG_LEVEL                   default INFO; logs are JSON lines on stderr
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from dynagen.errors import (
    ConditionFailedError,
    DeadlineExceededError,
    DynagenError,
    InvalidValueError,
    ItemNotFoundError,
    ThrottlingError,
    TransactionCanceledError,
    TransportError,
    UnknownPartnerError,
    VersionConflictError,
)
from dynagen.runtime import (
    DEFAULT_MARGIN,
    ClientSettings,
    Deadline,
    LogContextFilter,
    ObservedTransport,
    PartnerLogFilter,
    Transport,
    bind_log_context,
    client_settings,
    detect_lambda,
    format_datetime,
    install_log_context,
    install_partner_log_filter,
    invocation,
    metrics_enabled,
    redact_secrets,
)
from generated_example.payments import (
    Currency,
    Customer,
    CustomerRepository,
    LineItem,
    Partner,
    PartnerRepository,
    Payment,
    PaymentFields,
    PaymentRepository,
    PaymentStatus,
    Refund,
    RefundRepository,
)

if TYPE_CHECKING:
    from dynagen.runtime import PartnerResolver, Ref
    from dynagen.runtime.aws_lambda._clients import TransportKind

__all__ = ["STATE", "Repos", "State", "handler", "init", "to_json"]

TRANSPORTS = ("lean", "botocore")

# The clock deadlines are measured with (tests replace it to make time pass deterministically).
CLOCK: Callable[[], float] = time.monotonic

log = logging.getLogger("payments")


# --------------------------------------------------------------------------------------------------
# Init phase


@dataclass(frozen=True)
class Repos:
    """The four repositories of one account, over one transport."""

    transport: Transport
    partners: PartnerRepository
    customers: CustomerRepository
    payments: PaymentRepository
    refunds: RefundRepository

    @classmethod
    def build(cls, transport: Transport, table_name: str | None) -> Repos:
        return cls(
            transport,
            PartnerRepository(transport, table_name=table_name),
            CustomerRepository(transport, table_name=table_name),
            PaymentRepository(transport, table_name=table_name),
            RefundRepository(transport, table_name=table_name),
        )

    def bind(self, deadline: Deadline | None) -> Repos:
        """Copies bound to ``deadline`` (four small objects; transport and settings are shared)."""
        return Repos(
            self.transport,
            self.partners.with_deadline(deadline),
            self.customers.with_deadline(deadline),
            self.payments.with_deadline(deadline),
            self.refunds.with_deadline(deadline),
        )


@dataclass
class State:
    """Everything the init phase builds; warm invocations reuse it."""

    settings: ClientSettings
    transport_kind: TransportKind
    table_name: str | None
    margin: float
    base: Repos | None  # the base account (None when partners are configured: every call names one)
    resolver: PartnerResolver | None
    by_partner: dict[str, Repos] = field(default_factory=dict)
    repos_built: int = 0
    init_ms: float = 0.0
    warmed_up: bool | None = None

    def repos_for(self, partner_id: str, deadline: Deadline | None) -> Repos:
        """The (unbound) repositories for a partner: its own account's with a resolver, else the base's."""
        if self.resolver is None:
            assert self.base is not None
            return self.base
        # AssumeRole on first use; the partner's transport is of the same kind as the base account's.
        transport = self.resolver.transport(partner_id, deadline=deadline, kind=self.transport_kind)
        repos = self.by_partner.get(partner_id)
        if repos is None or repos.transport is not transport:  # new partner, or its client was rebuilt
            repos = Repos.build(transport, self.table_name)
            self.by_partner[partner_id] = repos
            self.repos_built += 1
        return repos


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value in ("1", "true", "yes", "on")


def make_transport(kind: str, settings: ClientSettings) -> Transport:
    """The process's transport: a ``LeanTransport`` (stdlib HTTP) or the client cache's botocore one."""
    if kind == "lean":
        from dynagen.runtime import LeanTransport

        return LeanTransport(
            settings.region,
            endpoint_url=settings.endpoint_url,
            max_pool_connections=settings.max_pool_connections,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            max_attempts=settings.max_attempts,
        )
    if kind == "botocore":
        from dynagen.runtime import get_transport

        return get_transport(settings=settings)
    raise InvalidValueError("DYNAGEN_TRANSPORT", f"expected one of {', '.join(TRANSPORTS)}, got {kind!r}")


def warm_up(transport: Transport) -> bool:
    """Open the connection with one cheap signed request (DescribeEndpoints); never raises.

    An error answer counts as warm: the TCP (+TLS) connection is open either way.
    """
    try:
        transport.call("DescribeEndpoints", {})
    except TransportError:
        return False
    except DynagenError:
        return True
    except Exception as exc:  # noqa: BLE001 - botocore's ClientError: the service answered
        return hasattr(exc, "response")
    return True


class _JsonFormatter(logging.Formatter):
    """One JSON object per line: level, message, the log context fields and any ``extra={"data": {...}}``.

    The finished line goes through ``redact_secrets`` too (account ids in ARNs, access keys, secret
    values), so ``extra`` data is covered as well as the message and traceback the filter redacts.
    """

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("partner", "trace_id", "aws_request_id", "function_name"):
            out[name] = getattr(record, name, None)
        data = getattr(record, "data", None)
        if isinstance(data, Mapping):
            out.update(data)
        if record.exc_info or record.exc_text:
            # exc_text when a filter has set it: PartnerLogFilter leaves the redacted traceback there.
            out["exception"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return redact_secrets(json.dumps(out, default=str))


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at emit time (Lambda sends it to CloudWatch Logs)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _setup_logging() -> None:
    log.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        out = _StderrHandler()
        out.addFilter(LogContextFilter())
        # After the context filter: the partner field, and account ids / credentials masked in the
        # message and traceback (an AssumeRoleError's cause carries STS's message with full ARNs).
        out.addFilter(PartnerLogFilter())
        out.setFormatter(_JsonFormatter())
        log.addHandler(out)
    log.propagate = False
    install_log_context()  # the runtime's own log records (root handlers) get the context too
    install_partner_log_filter()  # ...and are masked the same way (botocore's DEBUG output included)


def init() -> State:
    """The init phase: read the environment, build the transport and repositories once, warm up."""
    global STATE
    started = time.perf_counter()
    _setup_logging()
    in_lambda = detect_lambda() is not None
    settings = client_settings()
    kind_text = os.environ.get("DYNAGEN_TRANSPORT", "").strip().lower() or "lean"
    if kind_text not in TRANSPORTS:
        raise InvalidValueError("DYNAGEN_TRANSPORT", f"expected one of {', '.join(TRANSPORTS)}, got {kind_text!r}")
    kind: TransportKind = "lean" if kind_text == "lean" else "botocore"
    table_name = os.environ.get("PAYMENTS_TABLE") or None
    margin_text = os.environ.get("DYNAGEN_DEADLINE_MARGIN", "").strip()
    try:
        margin = float(margin_text) if margin_text else DEFAULT_MARGIN
    except ValueError:
        raise InvalidValueError("DYNAGEN_DEADLINE_MARGIN", f"expected seconds, got {margin_text!r}") from None
    resolver: PartnerResolver | None = None
    if os.environ.get("DYNAGEN_PARTNERS", "").strip():
        # Partners in their own accounts: one transport per partner (of the same kind as the base
        # account's would be: lean or botocore) signing with credentials from STS AssumeRole,
        # created (and cached, and refreshed) by the resolver on a partner's first request. On the
        # lean kind, STS is called over the lean HTTP client too: botocore is never imported.
        from dynagen.runtime import PartnerResolver

        config = None
        if kind == "botocore":
            from dynagen.runtime import to_botocore_config

            config = to_botocore_config(settings)
        resolver = PartnerResolver.from_env(
            region=settings.region,
            endpoint_url=settings.endpoint_url,
            config=config,
            settings=settings,  # the lean transports' (and lean STS client's) pool size, timeouts and attempts
        )
    state = State(settings, kind, table_name, margin, None, resolver)
    if resolver is None:
        transport = make_transport(kind, settings)
        if metrics_enabled():
            transport = ObservedTransport(transport)
        state.base = Repos.build(transport, table_name)
        state.repos_built += 1
        if _env_flag("DYNAGEN_WARM_UP", in_lambda):
            state.warmed_up = warm_up(transport)
    state.init_ms = (time.perf_counter() - started) * 1000.0
    STATE = state
    log.info(
        "init",
        extra={"data": {"transport": kind, "partners": resolver.partner_ids() if resolver else None,
                        "warmed_up": state.warmed_up, "init_ms": round(state.init_ms, 2)}},
    )  # fmt: skip
    return state


# --------------------------------------------------------------------------------------------------
# Input, output


class Conflict(DynagenError):
    """The request is valid but the item is in a state that does not allow it (409)."""


def _require(params: Mapping[str, Any], name: str) -> Any:
    value = params.get(name)
    if value is None or value == "":
        raise InvalidValueError(name, "is required")
    return value


def _str(params: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = params.get(name, default) if default is not None else _require(params, name)
    if not isinstance(value, str) or not value:
        raise InvalidValueError(name, f"expected a non-empty string, got {value!r}")
    return value


def _opt_str(params: Mapping[str, Any], name: str) -> str | None:
    return None if params.get(name) in (None, "") else _str(params, name)


def _decimal(params: Mapping[str, Any], name: str, *, positive: bool = True) -> Decimal:
    value = _require(params, name)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidValueError(name, f"expected a decimal string such as \"12.50\" (not a float), got {value!r}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise InvalidValueError(name, f"not a decimal number: {value!r}") from None
    if not number.is_finite() or (positive and number <= 0):
        raise InvalidValueError(name, f"expected a positive amount, got {value!r}")
    return number


def _uuid(params: Mapping[str, Any], name: str) -> UUID:
    value = _require(params, name)
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidValueError(name, f"not a UUID: {value!r}") from None


def _date(params: Mapping[str, Any], name: str) -> date | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidValueError(name, f"expected YYYY-MM-DD, got {value!r}") from None


def _int(params: Mapping[str, Any], name: str, default: int | None, low: int, high: int) -> int | None:
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidValueError(name, f"expected an integer from {low} to {high}, got {value!r}")
    return value


def _currency(params: Mapping[str, Any], name: str, default: Currency | None = None) -> Currency:
    value = params.get(name)
    if value is None and default is not None:
        return default
    try:
        return Currency(str(value))
    except ValueError:
        raise InvalidValueError(name, f"expected one of {[c.value for c in Currency]}, got {value!r}") from None


def _str_set(params: Mapping[str, Any], name: str) -> set[str]:
    value = params.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InvalidValueError(name, "expected a list of non-empty strings")
    return set(value)


def to_json(value: Any) -> Any:
    """A model (or anything inside one) as JSON-serializable data: decimals, dates, UUIDs as strings, bytes base64."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        # As DynamoDB stores numbers: normalized ("100.00" is read back as "100"), never in E notation.
        return f"{value.normalize():f}"
    if isinstance(value, datetime):
        return format_datetime(value, "datetime")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, set | frozenset):
        return sorted(to_json(v) for v in value)
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


class Steps:
    """What a multi-step action planned and completed, for the 503 answer when the deadline stops it."""

    def __init__(self, *plan: str) -> None:
        self.plan = list(plan)
        self.completed: list[str] = []

    def done(self, step: str) -> None:
        self.completed.append(step)

    def not_completed(self) -> list[str]:
        return [step for step in self.plan if step not in self.completed]


# --------------------------------------------------------------------------------------------------
# Actions: (repos bound to this invocation's deadline, parameters, steps) -> (status, body)

Result = tuple[int, dict[str, Any]]


def create_partner(repos: Repos, p: Mapping[str, Any], steps: Steps) -> Result:
    partner = Partner(
        partner_id=_str(p, "partner_id"),
        name=_str(p, "name"),
        fee_rate=_decimal(p, "fee_rate"),
        settlement_currency=_currency(p, "settlement_currency", Currency.USD),
        contact_emails=_str_set(p, "contact_emails"),
        webhook_url=_opt_str(p, "webhook_url"),
    )
    created = repos.partners.create(partner, if_not_exists=True)
    steps.done("write partner")
    return 201, {"partner": to_json(created)}


def create_customer(repos: Repos, p: Mapping[str, Any], steps: Steps) -> Result:
    partner_id = _str(p, "partner_id")
    customer = Customer(
        partner_id=partner_id,
        customer_id=_uuid(p, "customer_id") if p.get("customer_id") else uuid.uuid4(),
        email=_str(p, "email"),
        name=_str(p, "name"),
        tags=_str_set(p, "tags"),
    )
    repos.partners.get(partner_id=partner_id)  # 404 for an unknown partner
    steps.done("read partner")
    created = repos.customers.create(customer, if_not_exists=True)
    steps.done("write customer")
    return 201, {"customer": to_json(created)}


def _line_items(p: Mapping[str, Any]) -> list[LineItem]:
    raw = p.get("line_items") or []
    if not isinstance(raw, list):
        raise InvalidValueError("line_items", "expected a list")
    items = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            raise InvalidValueError(f"line_items[{i}]", "expected an object")
        quantity = _int(entry, "quantity", None, 1, 1_000_000)
        if quantity is None:
            raise InvalidValueError(f"line_items[{i}].quantity", "is required")
        items.append(
            LineItem(
                sku=_str(entry, "sku"),
                description=entry.get("description") or "",
                quantity=quantity,
                unit_price=_decimal(entry, "unit_price"),
            )
        )
    return items


def create_payment(repos: Repos, p: Mapping[str, Any], steps: Steps) -> Result:
    partner_id = _str(p, "partner_id")
    customer_id = _uuid(p, "customer_id")
    fingerprint = p.get("card_fingerprint")
    try:
        card = base64.b64decode(fingerprint, validate=True) if fingerprint else None
    except (binascii.Error, TypeError):
        raise InvalidValueError("card_fingerprint", "expected base64") from None
    metadata = p.get("metadata") or {}
    if not isinstance(metadata, Mapping) or not all(isinstance(v, str) for v in metadata.values()):
        raise InvalidValueError("metadata", "expected an object of strings")
    payment = Payment(
        partner_id=partner_id,
        payment_id=_opt_str(p, "payment_id") or "pay_" + uuid.uuid4().hex[:20],
        customer_id=customer_id,
        amount=_decimal(p, "amount"),
        currency=_currency(p, "currency"),
        status=PaymentStatus.AUTHORIZED,
        created_on=_date(p, "created_on") or datetime.now(UTC).date(),
        line_items=_line_items(p),
        metadata=dict(metadata),
        card_fingerprint=card,
        labels=_str_set(p, "labels"),
    )
    repos.customers.get(partner_id=partner_id, customer_id=customer_id)  # 404 for an unknown customer
    steps.done("read customer")
    created = repos.payments.create(payment, if_not_exists=True)
    steps.done("write payment")
    return 201, {"payment": to_json(created)}


# Conditions and updates name the generated typed references (PaymentFields): Python values, encoded
# exactly as to_item stores them, checked by mypy.
F = PaymentFields
CAPTURABLE = (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED)
REFUNDABLE = (PaymentStatus.CAPTURED, PaymentStatus.REFUNDED)


def capture(repos: Repos, p: Mapping[str, Any], steps: Steps) -> Result:
    partner_id, payment_id = _str(p, "partner_id"), _str(p, "payment_id")
    expected = _int(p, "expected_version", None, 0, 2**53)
    amount = _decimal(p, "amount") if p.get("amount") is not None else None
    if amount is None:  # all of it: read that one field (a projection), not the whole payment
        got = repos.payments.get_fields(F.amount, partner_id=partner_id, payment_id=payment_id, consistent=True)
        amount = got[F.amount]
        steps.done("read amount")
    # No read of the payment: the update says what must hold (state, amount, version) and DynamoDB checks
    # it atomically; GSI2 (payments by status) follows the new status, updated_at and version are stamped.
    try:
        updated = repos.payments.update_by_key(
            F.status.set(PaymentStatus.CAPTURED),
            F.captured_amount.set(amount),
            partner_id=partner_id,
            payment_id=payment_id,
            expected_version=expected,
            condition=F.status.is_in(CAPTURABLE) & (F.amount >= amount),
        )
    except VersionConflictError:
        raise
    except ConditionFailedError as exc:
        raise _refused_capture(exc, repos, Payment.make_key(partner_id=partner_id, payment_id=payment_id), amount) from exc
    steps.done("update payment")
    return 200, {"payment": to_json(updated)}


def _refused_capture(exc: ConditionFailedError, repos: Repos, key: Mapping[str, Any], amount: Decimal) -> Exception:
    """Why DynamoDB refused a capture, from the stored item it returned with the failure."""
    if exc.item is None:
        return ItemNotFoundError(repos.payments.table_name, key)
    stored = Payment.from_item(exc.item)
    if stored.status not in CAPTURABLE:
        return Conflict(f"payment {stored.payment_id} is {stored.status.value}; only pending or authorized ones can be captured")
    if amount > stored.amount:
        return InvalidValueError("amount", f"at most {stored.amount} can be captured")
    return exc


def refund(repos: Repos, p: Mapping[str, Any], steps: Steps) -> Result:
    partner_id, payment_id = _str(p, "partner_id"), _str(p, "payment_id")
    amount = _decimal(p, "amount")
    refund_id = _opt_str(p, "refund_id") or "ref_" + uuid.uuid4().hex[:20]
    payment = repos.payments.get(partner_id=partner_id, payment_id=payment_id, consistent=True)
    steps.done("read payment")
    if payment.status not in REFUNDABLE:
        raise Conflict(f"payment {payment_id} is {payment.status.value}; only captured payments can be refunded")
    captured = payment.captured_amount or Decimal(0)
    refundable = captured - payment.refunded_amount
    if amount > refundable:
        raise InvalidValueError("amount", f"at most {refundable} of payment {payment_id} can still be refunded")
    refunded = payment.refunded_amount + amount
    status = PaymentStatus.REFUNDED if refunded == captured else PaymentStatus.CAPTURED
    # One transaction: the payment's update by key (version-checked against what was read, GSI2 key
    # following the status, updated_at) and the new Refund item (which must not exist yet). Either both
    # are written or neither.
    new_refund = Refund(
        partner_id=partner_id, payment_id=payment_id, refund_id=refund_id, amount=amount, reason=p.get("reason") or ""
    )
    put_refund = repos.refunds.transact_create(new_refund)
    update_payment = repos.payments.transact_update_by_key(
        F.refunded_amount.set(refunded),
        F.status.set(status),
        partner_id=partner_id,
        payment_id=payment_id,
        expected_version=payment.version,
    )
    repos.payments.transact_write([update_payment, put_refund])
    steps.done("write refund and payment (transaction)")
    body = {
        "refund": to_json(Refund.from_item(put_refund.item)),
        "payment": {
            "payment_id": payment_id,
            "status": status.value,
            "captured_amount": to_json(captured),
            "refunded_amount": to_json(refunded),
            "version": payment.version + 1,
        },
    }
    return 201, body


# The fields get_payment can return alone (``fields``): read with a projection, for large payments.
SUMMARY_FIELDS: dict[str, Ref[Any]] = {
    "status": F.status,
    "amount": F.amount,
    "currency": F.currency,
    "captured_amount": F.captured_amount,
    "refunded_amount": F.refunded_amount,
    "version": F.version,
}


def get_payment(repos: Repos, p: Mapping[str, Any], steps: Steps) -> Result:
    partner_id, payment_id = _str(p, "partner_id"), _str(p, "payment_id")
    names = p.get("fields")
    if names is None:
        payment = repos.payments.get(partner_id=partner_id, payment_id=payment_id)
        steps.done("read payment")
        return 200, {"payment": to_json(payment)}
    if not isinstance(names, list) or not names or not all(n in SUMMARY_FIELDS for n in names):
        raise InvalidValueError("fields", f"expected a list of some of {', '.join(SUMMARY_FIELDS)}")
    projection = repos.payments.get_fields(
        *(SUMMARY_FIELDS[n] for n in names), partner_id=partner_id, payment_id=payment_id
    )
    steps.done("read payment")
    values = {n: to_json(projection.get(SUMMARY_FIELDS[n])) for n in names}
    return 200, {"payment": {"payment_id": payment_id, **values}}


def list_payments(repos: Repos, p: Mapping[str, Any], steps: Steps) -> Result:
    status = p.get("status")
    try:
        wanted = None if status is None else PaymentStatus(status)
    except ValueError:
        raise InvalidValueError("status", f"expected one of {[s.value for s in PaymentStatus]}, got {status!r}") from None
    page = repos.payments.payments_of_customer(
        partner_id=_str(p, "partner_id"),
        customer_id=_uuid(p, "customer_id"),
        created_on_from=_date(p, "created_on_from"),
        created_on_to=_date(p, "created_on_to"),
        filter=None if wanted is None else F.status.eq(wanted),
        limit=_int(p, "limit", 25, 1, 100),
        cursor=_opt_str(p, "cursor"),
    )
    steps.done("query payments")
    return 200, {"items": [to_json(m) for m in page.items], "count": len(page.items), "cursor": page.cursor}


ACTIONS: dict[str, tuple[Callable[[Repos, Mapping[str, Any], Steps], Result], tuple[str, ...]]] = {
    "create_partner": (create_partner, ("write partner",)),
    "create_customer": (create_customer, ("read partner", "write customer")),
    "create_payment": (create_payment, ("read customer", "write payment")),
    "capture": (capture, ("update payment",)),
    "refund": (refund, ("read payment", "write refund and payment (transaction)")),
    "get_payment": (get_payment, ("read payment",)),
    "list_payments": (list_payments, ("query payments",)),
}


# --------------------------------------------------------------------------------------------------
# The handler


def _request(event: Any) -> tuple[dict[str, Any], bool]:
    """The parameters of the event, and whether it came through API Gateway (answer with a string body)."""
    if not isinstance(event, Mapping):
        raise InvalidValueError("event", "expected a JSON object")
    if "requestContext" not in event:
        return dict(event), False
    body = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    try:
        params = json.loads(body)
    except ValueError:
        raise InvalidValueError("body", "not JSON") from None
    if not isinstance(params, dict):
        raise InvalidValueError("body", "expected a JSON object")
    params.update(event.get("pathParameters") or {})
    return params, True


def _error(status: int, code: str, message: str, **extra: Any) -> Result:
    return status, {"error": code, "message": message, **extra}


def _run(state: State, params: Mapping[str, Any], deadline: Deadline | None, steps_box: list[Steps]) -> Result:
    action = params.get("action")
    entry = ACTIONS.get(action) if isinstance(action, str) else None
    if entry is None:
        raise InvalidValueError("action", f"expected one of {', '.join(ACTIONS)}, got {action!r}")
    function, plan = entry
    steps = Steps(*plan)
    steps_box.append(steps)
    partner_id = _str(params, "partner_id")
    if deadline is not None:
        deadline.check(str(action))  # too little time left: refuse before doing anything
    repos = state.repos_for(partner_id, deadline).bind(deadline)
    return function(repos, params, steps)


def handle(state: State, event: Any, context: Any) -> Result:
    """Run one event and map every outcome to (status, body); never raises. Logs one line per request."""
    started = time.perf_counter()
    deadline = Deadline.from_context(context, margin=state.margin, clock=CLOCK) if context is not None else None
    steps_box: list[Steps] = []
    error: BaseException | None = None
    try:
        params, _ = _request(event)
    except Exception as exc:  # noqa: BLE001 - a malformed event: 400 (or 500), before any partner is known
        params, error = {}, exc
        status, body = _map_error(exc, steps_box)
    partner_id = params.get("partner_id") if isinstance(params.get("partner_id"), str) else None
    with bind_log_context(partner=partner_id):  # the partner of log lines, metrics and AssumeRole sessions
        if params:
            try:
                status, body = _run(state, params, deadline, steps_box)
            except Exception as exc:  # noqa: BLE001 - every failure becomes an answer
                error = exc
                status, body = _map_error(exc, steps_box)
        data = {"action": params.get("action"), "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000.0, 2)}  # fmt: skip
        if status >= 400:
            data.update(body)
            log.log(logging.ERROR if status == 500 else logging.WARNING, "request failed", exc_info=error if status == 500 else None,
                    extra={"data": data})  # fmt: skip
        else:
            log.info("request", extra={"data": data})
    return status, body


def _map_error(exc: BaseException, steps_box: list[Steps]) -> Result:
    steps = steps_box[-1] if steps_box else Steps()
    if isinstance(exc, DeadlineExceededError):
        return _error(
            503,
            "deadline_exceeded",
            str(exc),
            completed=steps.completed,
            not_completed=steps.not_completed(),
            operation=exc.operation,
            retryable=True,
        )
    if isinstance(exc, InvalidValueError):
        return _error(400, "invalid_value", exc.reason, field=exc.field)
    if isinstance(exc, UnknownPartnerError):
        return _error(403, "unknown_partner", f"partner {exc.partner!r} is not configured")
    if isinstance(exc, ItemNotFoundError):
        return _error(404, "not_found", str(exc), completed=steps.completed)
    if isinstance(exc, VersionConflictError):
        return _error(409, "version_conflict", str(exc), completed=steps.completed)
    if isinstance(exc, ConditionFailedError):
        return _error(409, "condition_failed", str(exc), completed=steps.completed)
    if isinstance(exc, TransactionCanceledError):
        reasons = [r.code for r in exc.reasons]
        code = "version_conflict" if reasons and reasons[0] == "ConditionalCheckFailed" else "transaction_canceled"
        return _error(409, code, str(exc), reasons=reasons, completed=steps.completed)
    if isinstance(exc, Conflict):
        return _error(409, "invalid_state", str(exc), completed=steps.completed)
    if isinstance(exc, ThrottlingError):
        return _error(429, "throttled", "DynamoDB throttled the request; retry later", retryable=True)
    return _error(500, "internal", f"internal error ({type(exc).__name__})", completed=steps.completed)


def handler(event: Any, context: Any) -> dict[str, Any]:
    """The Lambda entry point."""
    with invocation(context):
        status, body = handle(STATE, event, context)
    if isinstance(event, Mapping) and "requestContext" in event:  # API Gateway proxy integration
        return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
    return {"statusCode": status, "body": body}


STATE: State
init()

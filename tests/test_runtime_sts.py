"""The multi-account resolver against a local STS stub (loopback only), with a real clock.

The deadline must bound the AssumeRole call itself: an STS that never answers, answers slowly or
throttles may not keep a caller past its usable time. Also: the resolver's default botocore config
is the runtime's tuned one, and a generated repository works on a partner's transport.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from _stub_sts import HANG, StsRequest, StubSTS, sts_server

from dynagen.errors import AssumeRoleError, DeadlineExceededError
from dynagen.runtime.accounts._partners import Partner
from dynagen.runtime.accounts._resolver import PartnerResolver
from dynagen.runtime.aws_lambda._clients import clear, default_settings
from dynagen.runtime.transport._bounds import Deadline

ACCOUNT = "111122223333"
CALLER_ACCOUNT = "999988887777"
EXTERNAL_ID = "ext-acme-s3cr3t"


def acme(**kwargs: Any) -> Partner:
    fields: dict[str, Any] = {
        "role_arn": f"arn:aws:iam::{ACCOUNT}:role/payments",
        "external_id": EXTERNAL_ID,
        "region": "us-east-1",
    }
    fields.update(kwargs)
    return Partner(partner_id="acme", **fields)


# -- the STS stub ----------------------------------------------------------------------------------

StsReply = tuple[int, str]


def credentials_xml(secret: str = "stub-secret-value", token: str = "stub-session-token") -> StsReply:
    expiry = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = f"""<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>ASIASTUBSTUBSTUBSTUB</AccessKeyId>
      <SecretAccessKey>{secret}</SecretAccessKey>
      <SessionToken>{token}</SessionToken>
      <Expiration>{expiry}</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>AROASTUBSTUBSTUB:session</AssumedRoleId>
      <Arn>arn:aws:sts::{ACCOUNT}:assumed-role/payments/session</Arn>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>stub-request</RequestId></ResponseMetadata>
</AssumeRoleResponse>"""
    return 200, body


def error_xml(code: str, message: str, status: int = 403) -> StsReply:
    body = f"""<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>
  <RequestId>stub-request</RequestId>
</ErrorResponse>"""
    return status, body


ACCESS_DENIED = error_xml(
    "AccessDenied",
    f"User: arn:aws:sts::{CALLER_ACCOUNT}:assumed-role/payments-lambda/payments-api is not authorized "
    f"to perform: sts:AssumeRole on resource: arn:aws:iam::{ACCOUNT}:role/payments",
)
THROTTLED = error_xml("Throttling", "Rate exceeded", 400)


@contextmanager
def sts_stub(respond: Callable[[int], StsReply | None], *, delay: float = 0.0) -> Iterator[StubSTS]:
    """A loopback STS (tests/_stub_sts.py: signatures checked) answering the n-th request with ``respond(n)``."""

    def answer(request: StsRequest, n: int) -> StsReply | None:
        reply = respond(n)
        if reply is not HANG and delay:
            time.sleep(delay)
        return reply

    with sts_server(answer) as stub:
        yield stub


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    clear()
    yield
    clear()


def short_config(read: float = 1.0, attempts: int = 3, mode: str = "standard") -> Any:
    from botocore.config import Config  # type: ignore[import-untyped]

    return Config(connect_timeout=1.0, read_timeout=read, retries={"mode": mode, "total_max_attempts": attempts})


# -- the deadline bounds AssumeRole ------------------------------------------------------------------


@pytest.mark.timeout(90)
@pytest.mark.parametrize("config", ["1 s read timeout, 3 attempts", "default config (30 s read, 5 attempts)"])
def test_unresponsive_sts_ends_at_the_deadline_not_after_the_retries(config: str) -> None:
    """1.0 s usable: the one attempt's read timeout is cut to it and no retry starts after it.

    Before the fix: 3 attempts x 1 s (3.06 s) then AssumeRoleError, or 5 x 30 s with the default config.
    """
    with sts_stub(lambda n: HANG) as stub:
        resolver = PartnerResolver(
            [acme()],
            sts_endpoint_url=stub.endpoint,
            config=short_config() if config.startswith("1 s") else None,
        )
        deadline = Deadline.from_seconds(1.5, margin=0.5)
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError) as caught:
            resolver.client("acme", deadline=deadline)
        elapsed = time.monotonic() - started
        requests = len(stub.requests)
    assert caught.value.operation.startswith("AssumeRole(acme)"), caught.value.operation
    assert 0.9 <= elapsed < 1.4, elapsed  # about the usable second, well inside the hard deadline
    assert requests == 1  # the retry was refused, not sent
    assert "acme" not in repr(resolver).split("cached=")[1]  # nothing cached: the next call tries again
    print(f"\nunresponsive STS ({config}): {caught.value.operation!r} after {elapsed:.3f} s, 1.0 s usable")


@pytest.mark.timeout(60)
def test_throttled_sts_retries_stop_at_the_deadline() -> None:
    """Throttling answers in 0.3 s with up to 10 attempts: the SDK retries are cut by the deadline."""
    with sts_stub(lambda n: THROTTLED, delay=0.3) as stub:
        resolver = PartnerResolver([acme()], sts_endpoint_url=stub.endpoint, config=short_config(read=5.0, attempts=10))
        deadline = Deadline.from_seconds(1.2, margin=0.2)
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError) as caught:
            resolver.client("acme", deadline=deadline)
        elapsed = time.monotonic() - started
        requests = len(stub.requests)
    assert caught.value.operation in ("AssumeRole(acme): SDK retry", "AssumeRole(acme): SDK attempt")
    assert 1 <= requests < 10
    assert elapsed < 1.2 + 0.1, elapsed  # refused before a backoff or an attempt past the usable time
    print(f"\nthrottled STS: {requests} attempts, {caught.value.operation!r} after {elapsed:.3f} s (1.0 s usable)")


def test_slow_sts_within_the_deadline_succeeds_and_credentials_are_used() -> None:
    with sts_stub(lambda n: credentials_xml(), delay=0.3) as stub:
        resolver = PartnerResolver([acme()], sts_endpoint_url=stub.endpoint, config=short_config())
        client = resolver.client("acme", deadline=Deadline.from_seconds(1.5, margin=0.5))  # 0.3 s of 1.0 usable
        assert resolver.client("acme") is client
        assert len(stub.requests) == 1
    frozen = client._request_signer._credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key) == ("ASIASTUBSTUBSTUBSTUB", "stub-secret-value")
    assert f"ExternalId={EXTERNAL_ID}" in stub.bodies[0]


def test_sts_errors_mask_account_ids() -> None:
    with sts_stub(lambda n: ACCESS_DENIED) as stub:
        resolver = PartnerResolver([acme()], sts_endpoint_url=stub.endpoint, config=short_config())
        with pytest.raises(AssumeRoleError) as caught:
            resolver.client("acme", deadline=Deadline.from_seconds(5.0))
    text = str(caught.value)
    assert "AccessDenied" in text and "payments-lambda" in text
    assert ACCOUNT not in text and CALLER_ACCOUNT not in text and EXTERNAL_ID not in text
    assert "arn:aws:iam::********3333:role/payments" in text
    assert caught.value.role_arn == acme().role_arn  # the attribute keeps the full ARN for callers


# -- default config ----------------------------------------------------------------------------------


def test_default_config_is_the_lambda_tuned_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "payments-api")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")
    clear()
    tuned = default_settings()
    assert (tuned.read_timeout, tuned.max_pool_connections, tuned.retry_mode) == (3.0, 20, "adaptive")
    with sts_stub(lambda n: credentials_xml()) as stub:
        resolver = PartnerResolver([acme()], sts_endpoint_url=stub.endpoint)
        partner_client = resolver.client("acme")
    base_client = resolver.client("")
    sts_client = resolver._clients._sts_clients["us-east-1"]
    for client in (partner_client, base_client, sts_client):
        config = client.meta.config
        assert (config.connect_timeout, config.read_timeout) == (tuned.connect_timeout, tuned.read_timeout)
        assert config.max_pool_connections == 20
        assert config.retries == {"mode": "adaptive", "total_max_attempts": tuned.max_attempts}


# -- a generated repository on a partner's transport (moto) ------------------------------------------


def test_generated_repository_on_a_partner_transport() -> None:
    from moto import mock_aws

    from dynagen.runtime import create_table
    from generated_example.payments import TABLES, Currency, Payment, PaymentRepository

    with mock_aws():
        resolver = PartnerResolver([acme()], region="us-east-1")
        transport = resolver.transport("acme")
        create_table(transport, TABLES["payments"], poll_interval=0.01)
        repo = PaymentRepository(transport).with_deadline(Deadline.from_seconds(30))
        payment = Payment(
            partner_id="acme",
            payment_id="pay-1",
            customer_id=uuid.uuid4(),
            amount=Decimal("12.50"),
            currency=Currency.EUR,
            created_on=date(2024, 5, 1),
        )
        created = repo.create(payment)
        assert repo.get(partner_id="acme", payment_id="pay-1", consistent=True) == created
        # The table lives in the partner's account (moto separates accounts by credentials).
        arn = transport.client.describe_table(TableName=TABLES["payments"]["TableName"])["Table"]["TableArn"]
        assert f":{ACCOUNT}:table/" in arn
        assert resolver.client("").list_tables()["TableNames"] == []

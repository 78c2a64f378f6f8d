"""Issue 18, items 1 and 6, on both STS paths: secrets in free text, credentials expired on arrival.

1. ``PartnerLogFilter`` redacts configured partners' external IDs and the secret keys / session
   tokens of credentials it knows wherever they appear: botocore's DEBUG dumps, exception messages,
   the tracebacks it formats (chained causes included).
6. Credentials already expired by the local clock are an ``AssumeRoleError`` that says so, not
   botocore's bare ``RuntimeError`` ("refreshed credentials are still expired").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from _stub_sts import StsRequest, credentials_xml, error_xml, sts_server
from moto import mock_aws

from dynagen.errors import AssumeRoleError
from dynagen.runtime.accounts._partners import Partner
from dynagen.runtime.accounts._redaction import PartnerLogFilter, redact_secrets
from dynagen.runtime.accounts._resolver import PartnerResolver
from dynagen.runtime.aws_lambda._environment import ClientSettings

EXTERNAL_ID = "initech-ext-0042"
SECRET = "issued-secret-key-8c1d2e3f4a5b6c7d8e9f"
TOKEN = "issued-session-token-FQoGZXIvYXdzEJr//////////wEaDOZ"


def initech(**kwargs: Any) -> Partner:
    fields: dict[str, Any] = {
        "partner_id": "initech",
        "role_arn": "arn:aws:iam::444455556666:role/payments",
        "external_id": EXTERNAL_ID,
        "region": "us-east-1",
    }
    fields.update(kwargs)
    return Partner(**fields)


@pytest.fixture(params=["botocore", "lean"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def filtered(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record at DEBUG (botocore's included) through a PartnerLogFilter on the capturing handler."""
    log_filter = PartnerLogFilter()
    caplog.handler.addFilter(log_filter)
    caplog.set_level(logging.DEBUG)
    yield caplog
    caplog.handler.removeFilter(log_filter)


def everything(caplog: pytest.LogCaptureFixture) -> str:
    return caplog.text + "\n".join(r.getMessage() for r in caplog.records)


# -- item 1: external IDs and credentials in free text --------------------------------------------------


def test_an_sts_message_naming_the_external_id_never_reaches_the_logs(
    kind: str, filtered: pytest.LogCaptureFixture
) -> None:
    """The fault run's reproduction: STS's message ends "...with external id initech-ext-0042"."""
    denied = error_xml("AccessDenied", f"not authorized to assume role/payments with external id {EXTERNAL_ID}")
    with sts_server(lambda r, n: denied) as stub:
        resolver = PartnerResolver([initech()], sts_endpoint_url=stub.endpoint, sts_kind=cast(Any, kind),
                                   settings=ClientSettings(max_attempts=1))  # fmt: skip
        with pytest.raises(AssumeRoleError) as caught:
            resolver.transport("initech", kind="lean")
    logging.getLogger("payments").error("charge failed", exc_info=caught.value)
    logging.getLogger("payments").warning("STS said: %s", caught.value.__cause__)
    text = everything(filtered)
    assert "with external id ****" in text and "Traceback" in text  # the traceback was formatted, redacted
    if kind == "botocore":
        assert "Response body" in text  # botocore's DEBUG dump of the answer went through the filter too
    assert EXTERNAL_ID not in text
    assert EXTERNAL_ID not in str(caught.value)


def test_issued_credentials_are_redacted_in_free_text_and_tracebacks(
    kind: str, filtered: pytest.LogCaptureFixture
) -> None:
    with sts_server(lambda r, n: credentials_xml(secret=SECRET, token=TOKEN)) as stub:
        resolver = PartnerResolver([initech()], sts_endpoint_url=stub.endpoint, sts_kind=cast(Any, kind))
        resolver.transport("initech", kind="lean")
    log = logging.getLogger("payments")
    log.info("debugging a signature with %s and %s", SECRET, TOKEN)  # bare: no field name marks them
    log.info("partner %s said external id %s is wrong.", "initech", EXTERNAL_ID)
    try:
        raise RuntimeError(f"signing failed: key={SECRET[:8]}... full={SECRET} token {TOKEN}")
    except RuntimeError:
        log.exception("unexpected")
    text = everything(filtered)
    assert "debugging a signature with **** and ****" in text and "external id **** is wrong." in text
    assert "RuntimeError: signing failed" in text
    for secret in (SECRET, TOKEN, EXTERNAL_ID):
        assert secret not in text


def test_values_the_field_patterns_saw_are_redacted_later_in_free_text() -> None:
    seen = "SeenTokenValue0123456789abcdefXYZ"
    assert redact_secrets(f"'X-Amz-Security-Token': '{seen}'") == "'X-Amz-Security-Token': '****'"
    assert redact_secrets(f"later, bare: {seen}.") == "later, bare: ****."


def test_the_environments_credentials_are_known_to_the_filter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "EnvSecretKey0123456789abcdefghijklmnopqr")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "EnvSessionToken0123456789abcdefghijkl")
    log_filter = PartnerLogFilter()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s / %s", (
        "EnvSecretKey0123456789abcdefghijklmnopqr", "EnvSessionToken0123456789abcdefghijkl"), None)  # fmt: skip
    assert log_filter.filter(record) and record.getMessage() == "**** / ****"


def test_short_external_ids_are_redacted_as_words_only() -> None:
    PartnerResolver([initech(partner_id="tiny", external_id="ab")])
    assert redact_secrets("ab: the table of abc, ab.") == "****: the table of abc, ****."
    assert redact_secrets("tablab xab abx") == "tablab xab abx"


def test_an_external_id_percent_encoded_is_redacted_too() -> None:
    PartnerResolver([initech(partner_id="plus", external_id="plus+ext=0042/x")])
    assert redact_secrets("Action=AssumeRole&Foo=plus%2Bext%3D0042%2Fx&") == "Action=AssumeRole&Foo=****&"
    assert redact_secrets("id plus+ext=0042/x!") == "id ****!"


# -- item 6: credentials expired by the local clock -----------------------------------------------------


class ClockAheadSTS:
    """STS answers as if this machine's clock ran ahead: the n-th answer expires ``lifetimes[n]`` from now."""

    def __init__(self, *lifetimes: timedelta) -> None:
        self.lifetimes = list(lifetimes)
        self.calls = 0

    def assume_role(self, **_: Any) -> dict[str, Any]:
        lifetime = self.lifetimes[min(self.calls, len(self.lifetimes) - 1)]
        self.calls += 1
        return {"Credentials": {"AccessKeyId": f"ASIAEXPIRED{self.calls:09d}", "SecretAccessKey": SECRET,
                                "SessionToken": TOKEN, "Expiration": datetime.now(UTC) + lifetime}}  # fmt: skip


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def test_credentials_expired_on_arrival_are_a_clear_error(aws: None, kind: str) -> None:
    sts = ClockAheadSTS(timedelta(minutes=-3))
    resolver = PartnerResolver([initech()], sts_client_factory=lambda p: cast(Any, sts), sts_kind=cast(Any, kind))
    with pytest.raises(AssumeRoleError, match=r"already past by the local clock .* is this machine's clock right"):
        resolver.client("initech").list_tables()  # was botocore's RuntimeError at the first request


def test_a_refresh_that_returns_expired_credentials_is_a_clear_error(aws: None, kind: str) -> None:
    now = [datetime.now(UTC)]
    sts = ClockAheadSTS(timedelta(hours=1), timedelta(minutes=-3))
    resolver = PartnerResolver([initech()], sts_client_factory=lambda p: cast(Any, sts), sts_kind=cast(Any, kind),
                               clock=lambda: now[0])  # fmt: skip
    client = resolver.client("initech")
    now[0] += timedelta(minutes=58)  # mandatory window: the request must refresh, and STS answers "expired"
    with pytest.raises(AssumeRoleError, match="already past by the local clock"):
        client.list_tables()
    assert sts.calls == 2


def test_the_lean_sts_answer_of_a_clock_ahead_is_refused_the_same_way(kind: str) -> None:
    past = datetime.now(UTC) - timedelta(minutes=3)

    def respond(request: StsRequest, n: int) -> tuple[int, str]:
        return credentials_xml(expiration=past)

    with sts_server(respond) as stub:
        resolver = PartnerResolver([initech()], sts_endpoint_url=stub.endpoint, sts_kind=cast(Any, kind))
        with pytest.raises(AssumeRoleError, match="already past by the local clock"):
            resolver.transport("initech", kind="lean")

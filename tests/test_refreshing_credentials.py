"""``RefreshingCredentials``: dynagen's refresh windows with a fake clock, single-flight, never expired.

The unit tests drive the object directly; the last ones drive a partner's lean transport through a
loopback STS (tests/_stub_sts.py) with 32 threads in each window.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from _stub_sts import StsRequest, credentials_xml, sts_server

from dynagen.errors import AssumeRoleError, DeadlineExceededError, TransportError
from dynagen.runtime.accounts._partners import Partner
from dynagen.runtime.accounts._resolver import PartnerResolver
from dynagen.runtime.aws_lambda._environment import ClientSettings
from dynagen.runtime.transport._bounds import Deadline, current_deadline
from dynagen.runtime.transport.lean._credentials import Credentials, RefreshingCredentials

START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class Source:
    """The refresh callback: numbered credentials valid for an hour from the clock, or a failure."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.calls = 0
        self.fail: Exception | None = None
        self.lifetime = timedelta(hours=1)
        self.gate: threading.Event | None = None  # when set: each refresh waits for it
        self._lock = threading.Lock()

    def __call__(self) -> tuple[Credentials, datetime]:
        with self._lock:
            self.calls += 1
            number = self.calls
        if self.gate is not None:
            assert self.gate.wait(10), "the test never released the refresh"
        if self.fail is not None:
            raise self.fail
        return Credentials(f"AK{number}", f"secret-{number}", f"token-{number}"), self.clock() + self.lifetime


def make(clock: Clock, source: Source, advisory: float = 300.0, mandatory: float = 150.0) -> RefreshingCredentials:
    return RefreshingCredentials(
        Credentials("AK0", "secret-0", "token-0"),
        START + timedelta(hours=1),
        source,
        advisory=advisory,
        mandatory=mandatory,
        clock=clock,
        method="test",
    )


def at_remaining(clock: Clock, creds: RefreshingCredentials, seconds: float) -> None:
    clock.now = creds.expiry - timedelta(seconds=seconds)


def test_no_refresh_before_the_advisory_window_then_one_inside_it() -> None:
    clock = Clock()
    source = Source(clock)
    creds = make(clock, source)
    at_remaining(clock, creds, 301)
    assert creds.get_frozen_credentials().access_key == "AK0" and source.calls == 0
    at_remaining(clock, creds, 299)
    assert creds.get_frozen_credentials().access_key == "AK1" and source.calls == 1
    assert creds.get_frozen_credentials().access_key == "AK1" and source.calls == 1  # an hour again
    assert creds.expiry == clock.now + timedelta(hours=1)


def test_a_failure_in_the_advisory_window_keeps_the_valid_credentials_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    source = Source(clock)
    creds = make(clock, source)
    source.fail = AssumeRoleError("acme", "arn:aws:iam::111122223333:role/r", "Throttling: Rate exceeded")
    at_remaining(clock, creds, 200)
    with caplog.at_level(logging.WARNING, logger="dynagen.runtime.credentials"):
        assert creds.get_frozen_credentials().access_key == "AK0"
        assert creds.get_frozen_credentials().access_key == "AK0"  # and the next request tries again
    assert source.calls == 2
    assert "failed in the advisory window; still using the current ones, valid for 200 s more" in caplog.text
    assert "111122223333" not in caplog.text  # the error's own message masks the account


def test_a_failure_in_the_mandatory_window_raises_and_nothing_is_signed() -> None:
    clock = Clock()
    source = Source(clock)
    creds = make(clock, source)
    source.fail = AssumeRoleError("acme", "arn:aws:iam::111122223333:role/r", "AccessDenied")
    for remaining in (149, 1, 0, -3600):  # inside the mandatory window, at expiry, long expired
        at_remaining(clock, creds, remaining)
        with pytest.raises(AssumeRoleError):
            creds.get_frozen_credentials()
    source.fail = None
    assert creds.get_frozen_credentials().access_key == "AK5"


def test_new_credentials_already_expired_by_the_local_clock_are_refused() -> None:
    clock = Clock()
    source = Source(clock)
    creds = make(clock, source)
    source.lifetime = timedelta(seconds=-30)  # STS's clock behind ours: expired on arrival
    at_remaining(clock, creds, 100)
    with pytest.raises(TransportError, match=r"expired at 2030-01-01T12:57:50\+00:00, already past by the local clock \(2030-01-01T12:58:20"):
        creds.get_frozen_credentials()
    with pytest.raises(TransportError, match="already past by the local clock"):
        RefreshingCredentials(Credentials("a", "b"), START - timedelta(seconds=1), source, clock=clock)
    with pytest.raises(TransportError, match="no time zone"):
        RefreshingCredentials(Credentials("a", "b"), datetime(2031, 1, 1), source, clock=clock)
    with pytest.raises(ValueError, match="mandatory <= advisory"):
        make(clock, source, advisory=100, mandatory=200)


def test_repr_shows_no_secret() -> None:
    clock = Clock()
    creds = make(clock, Source(clock))
    assert repr(creds) == "RefreshingCredentials(method='test', expires=2030-01-01T13:00:00+00:00)"
    assert creds.get_deferred_property("account_id")() is None  # what botocore asks of it


def run_threads(count: int, target: Callable[[int], Any]) -> tuple[dict[int, Any], list[BaseException], list[threading.Thread]]:
    results: dict[int, Any] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def work(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    return results, errors, threads


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Poll ``condition`` until it holds (True) or ``seconds`` pass (False): never a timing assertion."""
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def race(remaining: float) -> tuple[Source, RefreshingCredentials, dict[int, Any], list[BaseException], list[threading.Thread]]:
    """32 threads ask for credentials ``remaining`` seconds before the expiry; the refresh is held."""
    clock = Clock()
    source = Source(clock)
    creds = make(clock, source)
    at_remaining(clock, creds, remaining)
    source.gate = threading.Event()
    results, errors, threads = run_threads(32, lambda i: creds.get_frozen_credentials().access_key)
    return source, creds, results, errors, threads


def release(source: Source, threads: list[threading.Thread]) -> None:
    assert source.gate is not None
    source.gate.set()
    for t in threads:
        t.join(10)


def test_mandatory_window_32_threads_one_refresh_all_get_it() -> None:
    source, _, results, errors, threads = race(remaining=60)
    assert wait_for(lambda: source.calls == 1)
    assert not wait_for(lambda: bool(results), seconds=0.3), "every thread must wait for the one refresh"
    release(source, threads)
    assert errors == [] and source.calls == 1
    assert set(results.values()) == {"AK1"} and len(results) == 32


def test_advisory_window_32_threads_one_refresh_nobody_waits() -> None:
    source, creds, results, errors, threads = race(remaining=250)
    # 31 threads finish while the refresh is held: they signed with the still-valid credentials.
    assert wait_for(lambda: len(results) == 31), results
    assert sorted(results.values()) == ["AK0"] * 31 and source.calls == 1
    release(source, threads)
    assert errors == [] and sorted(results.values()) == ["AK0"] * 31 + ["AK1"]
    assert creds.get_frozen_credentials().access_key == "AK1" and source.calls == 1


def test_waiting_for_another_threads_refresh_is_bounded_by_the_deadline() -> None:
    clock = Clock()
    source = Source(clock)
    creds = make(clock, source)
    at_remaining(clock, creds, 60)
    source.gate = threading.Event()
    refresher = threading.Thread(target=creds.get_frozen_credentials, daemon=True)
    refresher.start()
    assert wait_for(lambda: source.calls == 1)
    token = current_deadline.set(Deadline.from_seconds(0.3, margin=0.1))
    try:
        with pytest.raises(DeadlineExceededError, match="waiting for a credentials refresh"):
            creds.get_frozen_credentials()
    finally:
        current_deadline.reset(token)
        source.gate.set()
        refresher.join(10)
    assert creds.get_frozen_credentials().access_key == "AK1"


# -- a partner's lean transport, 32 threads, a loopback STS -------------------------------------------


def test_32_threads_refreshing_one_partner_make_one_assume_role_per_window() -> None:
    clock = Clock()
    clock.now = datetime.now(UTC)
    hold = threading.Event()
    hold.set()
    issued = iter(range(1, 100))

    def respond(request: StsRequest, n: int) -> tuple[int, str]:
        assert hold.wait(10)
        number = next(issued)
        return credentials_xml(access_key=f"ASIAISSUED{number:010d}", expiration=clock.now + timedelta(hours=1))

    partner = Partner(partner_id="acme", role_arn="arn:aws:iam::111122223333:role/r", external_id="ext-1",
                      region="us-east-1")  # fmt: skip
    with sts_server(respond) as stub:
        resolver = PartnerResolver([partner], sts_endpoint_url=stub.endpoint, clock=clock, settings=ClientSettings())
        transport = resolver.transport("acme", kind="lean")
        credentials = transport._credentials._source  # type: ignore[attr-defined]
        first = credentials.expiry

        # Mandatory window: every thread waits for the one AssumeRole and signs with what it issued.
        clock.now = first - timedelta(seconds=100)
        results, errors, threads = run_threads(32, lambda i: transport._credentials().access_key)
        for t in threads:
            t.join(10)
        assert errors == [] and len(stub.requests) == 2
        assert set(results.values()) == {"ASIAISSUED0000000002"} and len(results) == 32

        # Advisory window, STS slow: one AssumeRole, and the other 31 threads do not wait for it.
        clock.now = credentials.expiry - timedelta(seconds=250)
        hold.clear()
        results, errors, threads = run_threads(32, lambda i: transport._credentials().access_key)
        assert wait_for(lambda: len(results) == 31), results
        assert sorted(results.values()) == ["ASIAISSUED0000000002"] * 31
        hold.set()
        for t in threads:
            t.join(10)
    assert errors == [] and len(stub.requests) == 3 and all(r.signature_ok for r in stub.requests)
    assert transport._credentials().access_key == "ASIAISSUED0000000003"

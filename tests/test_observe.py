"""Log context, EMF metric lines and the ObservedTransport wrapper."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator, Mapping
from types import SimpleNamespace
from typing import Any

import pytest
from _stub_dynamodb import THROTTLED, stub_dynamodb

from dynagen.errors import ConditionFailedError, DeadlineExceededError, ThrottlingError
from dynagen.runtime.aws_lambda._clients import clear, create_client, get_transport
from dynagen.runtime.aws_lambda._environment import ClientSettings
from dynagen.runtime.aws_lambda._observe import (
    EmfEmitter,
    LogContextFilter,
    ObservedTransport,
    bind_log_context,
    install_log_context,
    invocation,
    log_context,
    metrics_enabled,
    record_attempt,
)
from dynagen.runtime.transport._botocore import BotocoreTransport
from dynagen.runtime.transport._bounds import Deadline
from dynagen.runtime.transport._interface import Transport

SECRET_VALUE = "4111-1111-1111-1111"  # an item value that must never reach a log or metric line
REQUEST = {"TableName": "orders", "Key": {"pk": {"S": SECRET_VALUE}}}


@pytest.fixture(autouse=True)
def no_lambda_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("_X_AMZN_TRACE_ID", "AWS_LAMBDA_FUNCTION_NAME", "DYNAGEN_METRICS"):
        monkeypatch.delenv(name, raising=False)
    clear()
    yield
    clear()


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> Iterator[ListHandler]:
    handler = ListHandler()
    install_log_context(handler)
    log = logging.getLogger("app")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        log.removeHandler(handler)


class FakeTransport:
    """Answers from a script; reports attempts like a retrying transport would."""

    def __init__(self, *, attempts: int = 1, throttled: int = 0, error: Exception | None = None) -> None:
        self.attempts = attempts
        self.throttled = throttled
        self.error = error
        self.seen: list[tuple[str, Mapping[str, Any], Deadline | None]] = []

    def call(self, operation: str, request: Mapping[str, Any], *, deadline: Deadline | None = None) -> dict[str, Any]:
        self.seen.append((operation, request, deadline))
        for i in range(self.attempts):
            record_attempt(throttled=i < self.throttled)
        if self.error is not None:
            raise self.error
        return {"Item": {"pk": {"S": SECRET_VALUE}}}


def parse_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# --- log context ------------------------------------------------------------------------------------


def test_log_context_fields_reach_records(captured: ListHandler) -> None:
    with bind_log_context(partner="acme", aws_request_id="req-1", function_name="orders-api", trace_id="1-abc"):
        logging.getLogger("app.repo").info("hello")  # a child logger: the handler's filter still applies
    logging.getLogger("app").info("outside")
    inside, outside = captured.records
    assert (inside.partner, inside.aws_request_id, inside.function_name, inside.trace_id) == (  # type: ignore[attr-defined]
        "acme",
        "req-1",
        "orders-api",
        "1-abc",
    )
    assert outside.partner is None and outside.aws_request_id is None  # type: ignore[attr-defined]


def test_nested_bindings_restore_the_outer_values() -> None:
    with bind_log_context(partner="a", aws_request_id="r"):
        with bind_log_context(partner="b"):
            assert log_context()["partner"] == "b"
            assert log_context()["aws_request_id"] == "r"
        assert log_context()["partner"] == "a"
    assert log_context()["partner"] is None


def test_threads_do_not_see_each_others_context() -> None:
    seen: list[str | None] = []
    with bind_log_context(partner="main"):
        t = threading.Thread(target=lambda: seen.append(log_context()["partner"]))
        t.start()
        t.join()
    assert seen == [None]


def test_trace_id_and_function_name_fall_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-111;Parent=abc;Sampled=1")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    assert log_context()["trace_id"] == "1-111"
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-222;Sampled=0")  # next invocation
    assert log_context()["trace_id"] == "1-222"
    assert log_context()["function_name"] == "fn"


def test_invocation_binds_the_lambda_context(monkeypatch: pytest.MonkeyPatch, captured: ListHandler) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-333;Sampled=1")
    context = SimpleNamespace(aws_request_id="req-9", function_name="orders-api")
    with invocation(context):
        monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-444")  # bound at entry: the invocation keeps its id
        logging.getLogger("app").warning("x")
    record = captured.records[0]
    assert (record.aws_request_id, record.function_name, record.trace_id) == ("req-9", "orders-api", "1-333")  # type: ignore[attr-defined]
    assert log_context()["aws_request_id"] is None


def test_filter_keeps_fields_the_record_already_has() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    record.aws_request_id = "from-lambda-runtime"
    with bind_log_context(aws_request_id="ours", partner="p"):
        assert LogContextFilter().filter(record) is True
    assert getattr(record, "aws_request_id") == "from-lambda-runtime"  # noqa: B009
    assert record.partner == "p"  # type: ignore[attr-defined]


def test_install_log_context_on_root_is_idempotent() -> None:
    root = logging.getLogger()
    handler = ListHandler()
    root.addHandler(handler)
    try:
        install_log_context()
        install_log_context()
        assert sum(isinstance(f, LogContextFilter) for f in handler.filters) == 1
        assert sum(isinstance(f, LogContextFilter) for f in root.filters) == 1
    finally:
        root.removeHandler(handler)
        for f in [f for f in root.filters if isinstance(f, LogContextFilter)]:
            root.removeFilter(f)


def test_log_context_works_in_a_format_string() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(partner)s %(trace_id)s %(message)s"))
    install_log_context(handler)
    log = logging.getLogger("fmt")
    log.addHandler(handler)
    log.propagate = False
    try:
        with bind_log_context(partner="acme", trace_id="1-abc"):
            log.warning("done")
    finally:
        log.removeHandler(handler)
        log.propagate = True
    assert stream.getvalue() == "acme 1-abc done\n"


# --- EMF ------------------------------------------------------------------------------------------------


def test_emf_line_shape() -> None:
    emitter = EmfEmitter(namespace="shop", clock=lambda: 1700000000.1234)
    line = emitter.line(
        "Query",
        latency_ms=12.34567,
        throttles=1,
        retries=2,
        errors=0,
        properties={"TableName": "orders", "Latency": 999, "Operation": "spoof", "Skip": None},
    )
    assert "\n" not in line
    doc = json.loads(line)
    meta = doc["_aws"]
    assert meta["Timestamp"] == 1700000000123
    (directive,) = meta["CloudWatchMetrics"]
    assert directive["Namespace"] == "shop"
    assert directive["Dimensions"] == [["Operation"]]
    names = [m["Name"] for m in directive["Metrics"]]
    assert names == ["Operations", "Latency", "Throttles", "Retries", "Errors"]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]}["Latency"] == "Milliseconds"
    # Every metric and dimension has a top-level value; a property cannot overwrite them.
    for name in names:
        assert isinstance(doc[name], (int, float))
    assert doc["Operation"] == "Query"
    assert doc["Latency"] == 12.346
    assert (doc["Operations"], doc["Throttles"], doc["Retries"], doc["Errors"]) == (1, 1, 2, 0)
    assert doc["TableName"] == "orders"
    assert "Skip" not in doc


def test_emit_writes_one_line_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    EmfEmitter().emit("GetItem", latency_ms=1.0)
    out = capsys.readouterr().out
    assert out.endswith("\n") and out.count("\n") == 1
    assert parse_lines(out)[0]["Operation"] == "GetItem"


@pytest.mark.parametrize(("value", "enabled"), [("1", True), ("true", True), ("ON", True), ("0", False), ("", False)])
def test_metrics_enabled_by_env(value: str, enabled: bool) -> None:
    assert metrics_enabled({"DYNAGEN_METRICS": value}) is enabled
    assert metrics_enabled({}) is False


# --- ObservedTransport ---------------------------------------------------------------------------------


def test_observed_transport_is_a_transport_and_forwards(capsys: pytest.CaptureFixture[str]) -> None:
    inner = FakeTransport()
    observed = ObservedTransport(inner)
    assert isinstance(observed, Transport)
    deadline = Deadline.from_seconds(10)
    assert observed.call("GetItem", REQUEST, deadline=deadline) == {"Item": {"pk": {"S": SECRET_VALUE}}}
    assert inner.seen == [("GetItem", REQUEST, deadline)]
    assert capsys.readouterr().out == ""  # metrics are off by default


def test_metrics_on_by_env(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DYNAGEN_METRICS", "1")
    ObservedTransport(FakeTransport()).call("GetItem", REQUEST)
    assert len(parse_lines(capsys.readouterr().out)) == 1


def test_metrics_count_retries_and_throttles(capsys: pytest.CaptureFixture[str]) -> None:
    observed = ObservedTransport(FakeTransport(attempts=3, throttled=2), metrics=True)
    with bind_log_context(partner="acme", aws_request_id="req-1", trace_id="1-abc"):
        observed.call("GetItem", REQUEST)
    out = capsys.readouterr().out
    (doc,) = parse_lines(out)
    assert (doc["Operation"], doc["Retries"], doc["Throttles"], doc["Errors"], doc["Attempts"]) == (
        "GetItem",
        2,
        2,
        0,
        3,
    )
    assert (doc["TableName"], doc["Partner"], doc["RequestId"], doc["TraceId"]) == ("orders", "acme", "req-1", "1-abc")
    assert doc["Outcome"] == "ok" and doc["Latency"] >= 0
    assert SECRET_VALUE not in out


def test_errors_are_reraised_unchanged_and_counted(capsys: pytest.CaptureFixture[str]) -> None:
    error = ConditionFailedError()
    observed = ObservedTransport(FakeTransport(error=error), metrics=True)
    with pytest.raises(ConditionFailedError) as info:
        observed.call("PutItem", {"TableName": "orders", "Item": {"pk": {"S": SECRET_VALUE}}})
    assert info.value is error
    (doc,) = parse_lines(capsys.readouterr().out)
    assert (doc["Errors"], doc["Outcome"], doc["Throttles"]) == (1, "ConditionFailedError", 0)


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "TransactionInProgressException", "SlowDown"])
def test_a_throttled_end_counts_as_a_throttle(code: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Every code the transports retry as throttling (not only DynamoDB's usual five) counts here.
    inner = FakeTransport(attempts=0, error=ThrottlingError(code, "slow down"))
    with pytest.raises(ThrottlingError):
        ObservedTransport(inner, metrics=True).call("Query", {"TableName": "orders"})
    (doc,) = parse_lines(capsys.readouterr().out)
    assert (doc["Throttles"], doc["Outcome"]) == (1, code)


def test_debug_log_names_operation_and_table_only(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="dynagen.runtime"):
        ObservedTransport(FakeTransport(attempts=2)).call("GetItem", REQUEST)
    (message,) = [r.getMessage() for r in caplog.records if r.name == "dynagen.runtime"]
    assert message.startswith("dynagen GetItem table=orders ")
    assert "attempts=2" in message and "outcome=ok" in message
    assert SECRET_VALUE not in message


def test_a_broken_stdout_does_not_fail_the_call() -> None:
    closed = io.StringIO()
    closed.close()
    observed = ObservedTransport(FakeTransport(), metrics=True, emitter=EmfEmitter(stream=closed))
    assert observed.call("GetItem", REQUEST)["Item"]


def test_botocore_attempts_are_counted_through_the_sdk(capsys: pytest.CaptureFixture[str]) -> None:
    """Two throttles retried away by botocore, then success: the metric line shows them."""
    with stub_dynamodb(respond=lambda n: THROTTLED if n <= 2 else (200, {})) as stub:
        settings = ClientSettings(region="us-east-1", endpoint_url=stub.endpoint, retry_mode="standard", max_attempts=5)
        observed = ObservedTransport(get_transport(settings=settings), metrics=True)
        observed.call("GetItem", REQUEST)
        (doc,) = parse_lines(capsys.readouterr().out)
        assert (doc["Attempts"], doc["Retries"], doc["Throttles"], doc["Errors"]) == (3, 2, 2, 0)
        assert len(stub.attempts) == 3

        # Refused by the deadline before sending: no attempt is counted.
        with pytest.raises(DeadlineExceededError):
            observed.call("GetItem", REQUEST, deadline=Deadline(0.0, margin=0))
        (doc,) = parse_lines(capsys.readouterr().out)
        assert (doc["Attempts"], doc["Outcome"]) == (0, "DeadlineExceededError")
        assert len(stub.attempts) == 3


def test_an_attempt_refused_by_the_before_send_hook_is_not_counted(capsys: pytest.CaptureFixture[str]) -> None:
    """Without the backoff guard, the retry is refused in before-send; botocore still emits needs-retry."""
    with stub_dynamodb(delay=0.35, respond=lambda n: THROTTLED) as stub:
        settings = ClientSettings(region="us-east-1", endpoint_url=stub.endpoint, retry_mode="standard", max_attempts=5)
        observed = ObservedTransport(BotocoreTransport(create_client("dynamodb", settings)), metrics=True)
        with pytest.raises(DeadlineExceededError):
            observed.call("GetItem", REQUEST, deadline=Deadline.from_seconds(0.5, margin=0.2))
    (doc,) = parse_lines(capsys.readouterr().out)
    assert (doc["Attempts"], doc["Throttles"], doc["Outcome"]) == (1, 1, "DeadlineExceededError")
    assert len(stub.attempts) == 1

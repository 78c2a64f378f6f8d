"""The process-wide client cache: hits, isolation, races, failures, lazy botocore, warm-up."""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import threading
import time
import timeit
from collections.abc import Iterator
from typing import Any

import pytest
from _stub_dynamodb import stub_dynamodb

from dynagen.local import DynamoDBLocal
from dynagen.runtime.aws_lambda._clients import (
    clear,
    create_client,
    default_settings,
    get_client,
    get_transport,
    warm_up,
)
from dynagen.runtime.aws_lambda._environment import ClientSettings
from dynagen.runtime.transport._botocore import BotocoreTransport
from dynagen.runtime.transport._botocore_retry import guard_retry_sleep


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    clear()
    yield
    clear()


class CountingFactory:
    """A client factory that counts its calls; optionally slow (to widen races) or failing."""

    def __init__(self, *, sleep: float = 0.0, fail_times: int = 0) -> None:
        self.calls: list[tuple[str, ClientSettings]] = []
        self.sleep = sleep
        self.fail_times = fail_times
        self._lock = threading.Lock()

    def __call__(self, service: str, settings: ClientSettings) -> Any:
        with self._lock:
            self.calls.append((service, settings))
            fail = len(self.calls) <= self.fail_times
        time.sleep(self.sleep)
        if fail:
            raise ConnectionError("no credentials today")
        return object()


def test_importing_the_runtime_does_not_import_botocore() -> None:
    code = (
        "import sys\n"
        "import dynagen.runtime, dynagen.runtime.aws_lambda._clients, dynagen.runtime.aws_lambda._environment, dynagen.runtime.aws_lambda._observe\n"
        "from dynagen.runtime.aws_lambda._clients import get_client, default_settings\n"
        "default_settings()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('botocore', 'boto3')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_botocore_is_imported_with_the_first_client() -> None:
    code = (
        "import sys\n"
        "from dynagen.runtime.aws_lambda._clients import get_client\n"
        "get_client(region='us-east-1', endpoint_url='http://127.0.0.1:9')\n"
        "print('botocore' in sys.modules)\n"
    )
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "True"


def test_warm_invocations_hit_the_cache() -> None:
    factory = CountingFactory()
    first = get_client(region="eu-west-1", factory=factory)
    for _ in range(100):  # one call per "warm invocation"
        assert get_client(region="eu-west-1", factory=factory) is first
    assert len(factory.calls) == 1
    service, settings = factory.calls[0]
    assert service == "dynamodb" and settings.region == "eu-west-1"

    n = 200_000
    per_call = timeit.timeit(lambda: get_client(region="eu-west-1", factory=factory), number=n) / n
    print(f"\nwarm get_client hit: {per_call * 1e9:.0f} ns per call (incl. the lambda wrapper)")


def test_equivalent_calls_share_one_client() -> None:
    factory = CountingFactory()
    region = default_settings().region
    assert region is not None
    a = get_client(factory=factory)
    b = get_client(region=region, factory=factory)
    c = get_client(settings=default_settings(), factory=factory)
    assert a is b is c
    assert len(factory.calls) == 1


def test_configurations_are_isolated() -> None:
    factory = CountingFactory()
    base = ClientSettings(region="eu-west-1")
    clients = [
        get_client(settings=base, factory=factory),
        get_client(settings=base, region="us-east-1", factory=factory),
        get_client(settings=base, endpoint_url="http://127.0.0.1:8000", factory=factory),
        get_client(settings=ClientSettings(region="eu-west-1", read_timeout=1.0), factory=factory),
        get_client(settings=base, credentials_key="partner-a", factory=factory),
        get_client(settings=base, credentials_key="partner-b", factory=factory),
        get_client("sts", settings=base, factory=factory),
    ]
    assert len({id(c) for c in clients}) == len(clients)
    assert len(factory.calls) == len(clients)
    # ...and each is a hit afterwards: a partner can only ever get its own client back.
    assert get_client(settings=base, credentials_key="partner-a", factory=factory) is clients[4]
    assert get_client(settings=base, credentials_key="partner-b", factory=factory) is clients[5]
    assert len(factory.calls) == len(clients)
    assert factory.calls[1][1].region == "us-east-1"
    assert factory.calls[2][1].endpoint_url == "http://127.0.0.1:8000"
    assert factory.calls[6][0] == "sts"


def test_sixteen_threads_on_a_cold_key_create_one_client() -> None:
    factory = CountingFactory(sleep=0.05)
    barrier = threading.Barrier(16)
    results: list[Any] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        client = get_client(region="eu-central-1", factory=factory)
        with lock:
            results.append(client)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(factory.calls) == 1
    assert len(results) == 16 and all(r is results[0] for r in results)


def test_a_slow_creation_does_not_hold_up_other_keys() -> None:
    b_done = threading.Event()
    a_saw_b: list[bool] = []

    def slow_a(service: str, settings: ClientSettings) -> Any:
        a_saw_b.append(b_done.wait(timeout=10))  # only set if B could be created meanwhile
        return object()

    t = threading.Thread(target=lambda: get_client(region="eu-west-1", factory=slow_a))
    t.start()
    time.sleep(0.05)  # let A take its lock first
    get_client(region="eu-west-2", factory=CountingFactory())
    b_done.set()
    t.join()
    assert a_saw_b == [True]


def test_failed_creation_is_not_cached() -> None:
    factory = CountingFactory(fail_times=1)
    with pytest.raises(ConnectionError):
        get_client(region="eu-west-1", factory=factory)
    client = get_client(region="eu-west-1", factory=factory)  # retried, not a cached failure
    assert client is get_client(region="eu-west-1", factory=factory)
    assert len(factory.calls) == 2


def test_failure_under_a_race_lets_a_waiter_retry() -> None:
    factory = CountingFactory(sleep=0.05, fail_times=1)
    barrier = threading.Barrier(8)
    outcomes: list[object] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        try:
            outcome: object = get_client(region="eu-west-1", factory=factory)
        except ConnectionError as exc:
            outcome = exc
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [o for o in outcomes if isinstance(o, ConnectionError)]
    clients = {id(o) for o in outcomes if not isinstance(o, ConnectionError)}
    assert len(errors) == 1 and len(clients) == 1
    assert len(factory.calls) == 2


def test_clear_forgets_everything() -> None:
    factory = CountingFactory()
    a = get_client(region="eu-west-1", factory=factory)
    clear()
    assert get_client(region="eu-west-1", factory=factory) is not a
    assert len(factory.calls) == 2


def test_default_settings_follow_the_environment_until_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")
    clear()
    factory = CountingFactory()
    get_client(factory=factory)
    settings = factory.calls[0][1]
    assert (settings.retry_mode, settings.max_pool_connections, settings.region) == ("adaptive", 20, "us-east-1")


def test_transport_is_cached_per_client() -> None:
    region = default_settings().region
    t1 = get_transport(endpoint_url="http://127.0.0.1:9")
    t2 = get_transport(endpoint_url="http://127.0.0.1:9")
    t3 = get_transport(endpoint_url="http://127.0.0.1:9", region=region)  # same client, another call key
    assert isinstance(t1, BotocoreTransport)
    assert t1 is t2 is t3
    assert t1.client is get_client(endpoint_url="http://127.0.0.1:9")
    assert get_transport(endpoint_url="http://127.0.0.1:10") is not t1


def test_real_client_carries_the_settings() -> None:
    settings = ClientSettings(
        region="eu-west-1",
        endpoint_url="http://127.0.0.1:9",
        max_pool_connections=7,
        connect_timeout=0.5,
        read_timeout=2.0,
        retry_mode="adaptive",
        max_attempts=4,
        tcp_keepalive=True,
    )
    client = get_client(settings=settings)
    config = client.meta.config
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    assert (config.max_pool_connections, config.connect_timeout, config.read_timeout) == (7, 0.5, 2.0)
    assert config.retries["mode"] == "adaptive" and config.retries["total_max_attempts"] == 4


def test_guard_retry_sleep_is_idempotent_and_skips_legacy() -> None:
    standard = create_client("dynamodb", ClientSettings(region="eu-west-1", endpoint_url="http://127.0.0.1:9"))
    assert guard_retry_sleep(standard) is True
    assert guard_retry_sleep(standard) is True
    legacy = create_client(
        "dynamodb", ClientSettings(region="eu-west-1", endpoint_url="http://127.0.0.1:9", retry_mode="legacy")
    )
    assert guard_retry_sleep(legacy) is False
    assert guard_retry_sleep(object()) is False


@pytest.mark.ddb
def test_cached_client_talks_to_dynamodb_local(dynamodb_local: DynamoDBLocal) -> None:
    transport = get_transport(endpoint_url=dynamodb_local.endpoint)
    assert "TableNames" in transport.call("ListTables", {"Limit": 1})
    assert get_transport(endpoint_url=dynamodb_local.endpoint) is transport


@pytest.mark.ddb
def test_warm_up_succeeds_when_the_service_answers(
    dynamodb_local: DynamoDBLocal, caplog: pytest.LogCaptureFixture
) -> None:
    # DynamoDB Local does not implement DescribeEndpoints: it answers UnknownOperationException, which
    # still proves the connection is open.
    with caplog.at_level(logging.DEBUG, logger="dynagen.runtime"):
        assert warm_up(endpoint_url=dynamodb_local.endpoint) is True
    assert get_transport(endpoint_url=dynamodb_local.endpoint).client is get_client(
        endpoint_url=dynamodb_local.endpoint
    )
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_warm_up_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    unreachable = ClientSettings(
        region="us-east-1", endpoint_url="http://127.0.0.1:9", connect_timeout=0.2, max_attempts=1
    )
    with caplog.at_level(logging.WARNING, logger="dynagen.runtime"):
        assert warm_up(settings=unreachable) is False
        assert warm_up(region="eu-west-1", factory=CountingFactory(fail_times=1)) is False
    assert len([r for r in caplog.records if "warm-up failed" in r.getMessage()]) == 2


_FIRST_REQUEST = """
import json, sys, time
from dynagen.runtime.aws_lambda._clients import get_transport, warm_up
endpoint, table, mode = sys.argv[1], sys.argv[2], sys.argv[3]
key = {"TableName": table, "Key": {"pk": {"S": "missing"}}}
t0 = time.perf_counter()
transport = get_transport(endpoint_url=endpoint)
t1 = time.perf_counter()
if mode == "DescribeEndpoints":
    assert warm_up(endpoint_url=endpoint)
elif mode == "GetItem":
    assert warm_up(endpoint_url=endpoint, operation="GetItem", request=key)
t2 = time.perf_counter()
transport.call("GetItem", key)
t3 = time.perf_counter()
transport.call("GetItem", key)
t4 = time.perf_counter()
print(json.dumps({"client": t1 - t0, "warm_up": t2 - t1, "first": t3 - t2, "second": t4 - t3}))
"""


def _measure_first_request(name: str, endpoint: str, table: str, runs: int = 5) -> None:
    samples: dict[str, list[dict[str, float]]] = {"none": [], "DescribeEndpoints": [], "GetItem": []}
    for _ in range(runs):
        for mode, found in samples.items():
            out = subprocess.run(
                [sys.executable, "-c", _FIRST_REQUEST, endpoint, table, mode],
                capture_output=True,
                text=True,
                check=True,
            )
            found.append(json.loads(out.stdout))
    print(f"\n{name} (median of {runs} fresh processes, ms):")
    for mode, found in samples.items():
        med = {k: statistics.median(s[k] for s in found) * 1e3 for k in ("client", "warm_up", "first", "second")}
        print(
            f"  warm-up {mode:17}: create client {med['client']:6.1f}, warm-up {med['warm_up']:5.1f}, "
            f"first GetItem {med['first']:5.1f}, second GetItem {med['second']:5.1f}"
        )


@pytest.mark.ddb
def test_measure_warm_up_effect_on_the_first_request(dynamodb_local: DynamoDBLocal, ddb_client: Any) -> None:
    """Prints (does not assert timings) the first GetItem's latency in a fresh process, with and without warm_up.

    Also against the stdlib stub, whose near-zero server time shows the client-side part alone.
    """
    table = f"warm-{os.getpid()}"
    ddb_client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    _measure_first_request("DynamoDB Local", dynamodb_local.endpoint, table)
    with stub_dynamodb() as stub:
        _measure_first_request("stub server", stub.endpoint, table)
        assert stub.attempts  # the subprocesses really talked to it

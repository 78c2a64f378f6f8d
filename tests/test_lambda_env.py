"""Lambda environment detection, client tuning, overrides and the X-Ray trace header."""

from __future__ import annotations

import dataclasses

import pytest

from dynagen.errors import InvalidValueError
from dynagen.runtime.aws_lambda._environment import (
    ClientSettings,
    LambdaEnvironment,
    TraceHeader,
    client_settings,
    current_trace_header,
    current_trace_id,
    detect_lambda,
    parse_trace_header,
    pool_size_for_memory,
    to_botocore_config,
)

TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def lambda_env(memory: int | str = 1024, **extra: str) -> dict[str, str]:
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": "orders-api",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/orders-api",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]abc",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    }
    env.update(extra)
    return env


def test_detect_lambda_reads_every_variable() -> None:
    assert detect_lambda(lambda_env(512)) == LambdaEnvironment(
        function_name="orders-api",
        function_version="$LATEST",
        memory_mb=512,
        region="eu-west-1",
        log_group_name="/aws/lambda/orders-api",
        log_stream_name="2024/01/01/[$LATEST]abc",
        execution_env="AWS_Lambda_python3.11",
        initialization_type="on-demand",
    )


def test_not_lambda_without_function_name() -> None:
    assert detect_lambda({"AWS_REGION": "eu-west-1"}) is None
    assert detect_lambda({"AWS_LAMBDA_FUNCTION_NAME": ""}) is None


def test_garbage_memory_size_is_unknown() -> None:
    env = detect_lambda(lambda_env("lots"))
    assert env is not None and env.memory_mb is None


@pytest.mark.parametrize(
    ("memory", "pool"),
    [(128, 5), (512, 5), (513, 10), (1024, 10), (1025, 20), (10240, 20)],
)
def test_lambda_tuning_by_memory(memory: int, pool: int) -> None:
    assert pool_size_for_memory(memory) == pool
    settings = client_settings(environ=lambda_env(memory))
    assert settings == ClientSettings(
        region="eu-west-1",
        endpoint_url=None,
        max_pool_connections=pool,
        connect_timeout=1.0,
        read_timeout=3.0,
        retry_mode="adaptive",
        max_attempts=3,
        tcp_keepalive=True,
        max_response_bytes=32 << 20,
        call_timeout=15.0,
    )


def test_defaults_outside_lambda() -> None:
    settings = client_settings(environ={"AWS_DEFAULT_REGION": "us-west-2"})
    assert settings.region == "us-west-2"
    assert settings.retry_mode == "standard"
    assert settings.max_pool_connections == 10
    assert settings.connect_timeout > 1.0 and settings.read_timeout > 3.0
    # AWS_REGION wins over AWS_DEFAULT_REGION, and no region at all is allowed (botocore decides).
    assert client_settings(environ={"AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "us-west-2"}).region == (
        "ap-south-1"
    )
    assert client_settings(environ={}).region is None


def test_env_overrides_beat_lambda_tuning() -> None:
    env = lambda_env(
        128,
        DYNAGEN_REGION="us-east-2",
        DYNAGEN_ENDPOINT_URL="http://localhost:8000",
        DYNAGEN_MAX_POOL_CONNECTIONS="50",
        DYNAGEN_CONNECT_TIMEOUT="0.25",
        DYNAGEN_READ_TIMEOUT="10",
        DYNAGEN_RETRY_MODE="standard",
        DYNAGEN_MAX_ATTEMPTS="7",
        DYNAGEN_TCP_KEEPALIVE="off",
        DYNAGEN_MAX_RESPONSE_BYTES="1048576",
        DYNAGEN_CALL_TIMEOUT="4.5",
    )
    assert client_settings(environ=env) == ClientSettings(
        region="us-east-2",
        endpoint_url="http://localhost:8000",
        max_pool_connections=50,
        connect_timeout=0.25,
        read_timeout=10.0,
        retry_mode="standard",
        max_attempts=7,
        tcp_keepalive=False,
        max_response_bytes=1 << 20,
        call_timeout=4.5,
    )


def test_zero_turns_the_response_cap_and_the_call_bound_off() -> None:
    env = lambda_env(128, DYNAGEN_MAX_RESPONSE_BYTES="0", DYNAGEN_CALL_TIMEOUT="0")
    settings = client_settings(environ=env)
    assert settings.max_response_bytes is None and settings.call_timeout is None
    assert client_settings(environ=env, max_response_bytes=1000, call_timeout=2.0).max_response_bytes == 1000
    outside = client_settings(environ={})
    assert (outside.max_response_bytes, outside.call_timeout) == (32 << 20, 60.0)


def test_keyword_overrides_beat_env() -> None:
    env = lambda_env(128, DYNAGEN_MAX_ATTEMPTS="7", DYNAGEN_REGION="us-east-2")
    settings = client_settings(
        environ=env,
        region="sa-east-1",
        endpoint_url="http://127.0.0.1:9",
        max_pool_connections=2,
        connect_timeout=0.5,
        read_timeout=0.75,
        retry_mode="legacy",
        max_attempts=1,
        tcp_keepalive=False,
        max_response_bytes=4096,
        call_timeout=9.0,
    )
    assert settings == ClientSettings("sa-east-1", "http://127.0.0.1:9", 2, 0.5, 0.75, "legacy", 1, False, 4096, 9.0)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DYNAGEN_MAX_ATTEMPTS", "three"),
        ("DYNAGEN_READ_TIMEOUT", "soon"),
        ("DYNAGEN_TCP_KEEPALIVE", "maybe"),
        ("DYNAGEN_RETRY_MODE", "aggressive"),
        ("DYNAGEN_MAX_ATTEMPTS", "0"),
        ("DYNAGEN_CONNECT_TIMEOUT", "-1"),
        ("DYNAGEN_READ_TIMEOUT", "0"),
        ("DYNAGEN_READ_TIMEOUT", "nan"),
        ("DYNAGEN_MAX_POOL_CONNECTIONS", "0"),
        ("DYNAGEN_MAX_RESPONSE_BYTES", "-1"),
        ("DYNAGEN_MAX_RESPONSE_BYTES", "32MB"),
        ("DYNAGEN_CALL_TIMEOUT", "-2"),
        ("DYNAGEN_CALL_TIMEOUT", "later"),
    ],
)
@pytest.mark.parametrize("in_lambda", [False, True])
def test_bad_env_values_are_named(name: str, value: str, in_lambda: bool) -> None:
    """Unparsable or out-of-range: the error names the environment variable to fix, not the setting."""
    env = {name: value, **({"AWS_LAMBDA_FUNCTION_NAME": "f"} if in_lambda else {})}
    with pytest.raises(InvalidValueError) as info:
        client_settings(environ=env)
    assert info.value.field == name
    assert str(info.value).startswith(f"{name}: ")


def test_bad_keyword_values_name_the_setting() -> None:
    # The keyword wins over the (valid) variable, so the keyword is what is wrong.
    with pytest.raises(InvalidValueError) as info:
        client_settings(max_attempts=0, environ={"DYNAGEN_MAX_ATTEMPTS": "3"})
    assert info.value.field == "max_attempts"


def test_settings_are_frozen_and_hashable() -> None:
    a = client_settings(environ=lambda_env(256))
    b = client_settings(environ=lambda_env(256))
    assert a == b and hash(a) == hash(b)
    assert hash(dataclasses.replace(a, read_timeout=9.0)) != hash(a)  # the cached hash follows the fields
    assert dataclasses.replace(a, read_timeout=3.0) == a
    assert a != client_settings(environ=lambda_env(2048))
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.region = "x"  # type: ignore[misc]


def test_targeting_replaces_only_what_is_given() -> None:
    base = ClientSettings(region="eu-west-1")
    assert base.targeting(None, None) is base
    assert base.targeting("us-east-1", None) == ClientSettings(region="us-east-1")
    assert base.targeting(None, "http://x") == ClientSettings(region="eu-west-1", endpoint_url="http://x")


def test_botocore_config() -> None:
    settings = client_settings(environ=lambda_env(1536))
    config = to_botocore_config(settings)
    assert config.region_name == "eu-west-1"
    assert config.max_pool_connections == 20
    assert (config.connect_timeout, config.read_timeout) == (1.0, 3.0)
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 3}
    assert config.tcp_keepalive is True


def test_parse_trace_header() -> None:
    assert parse_trace_header(TRACE) == TraceHeader(
        root="1-5759e988-bd862e3fe1be46a994272793", parent="53995c3f42cd8ad8", sampled=True
    )
    assert parse_trace_header("Root=1-abc;Sampled=0") == TraceHeader(root="1-abc", sampled=False)
    assert parse_trace_header(" Root = 1-abc ; Lineage=a:1 ") == TraceHeader(root="1-abc")
    assert parse_trace_header("Parent=53995c3f42cd8ad8;Sampled=1") is None
    assert parse_trace_header("") is None
    assert parse_trace_header(None) is None


@pytest.mark.parametrize(
    "value",
    ["Root=1-abc\r\nX-Injected: 1", "Root=1-abc;Sampled=1\n", "Root=1-\x1b[31mred", "Root=1-ä", "Root=1-abc\x00"],
)
def test_a_malformed_trace_header_is_ignored(value: str) -> None:
    """It reaches log records and metrics: a damaged one is dropped whole, never an error."""
    assert parse_trace_header(value) is None
    assert current_trace_id({"_X_AMZN_TRACE_ID": value}) is None


def test_trace_id_is_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    assert current_trace_id() is None
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-aaa;Sampled=1")
    assert current_trace_id() == "1-aaa"
    monkeypatch.setenv("_X_AMZN_TRACE_ID", TRACE)  # the next invocation
    header = current_trace_header()
    assert header is not None and header.root == "1-5759e988-bd862e3fe1be46a994272793"
    assert current_trace_id({"_X_AMZN_TRACE_ID": "Root=1-bbb"}) == "1-bbb"

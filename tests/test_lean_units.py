"""Lean transport pieces without a server: imports, endpoints, proxies, credentials, wire codec, errors."""

from __future__ import annotations

import base64
import datetime
import json
import os
import subprocess
import sys
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dynagen.errors import ConditionFailedError, ServiceError, ThrottlingError, TransactionCanceledError
from dynagen.runtime.transport._urls import split_url
from dynagen.runtime.transport.lean import Credentials, LeanTransport, RetryPolicy, map_dynamodb_error, safe_to_resend
from dynagen.runtime.transport.lean._client import trace_header_value
from dynagen.runtime.transport.lean._credentials import credentials_provider
from dynagen.runtime.transport.lean._endpoints import resolve_endpoint
from dynagen.runtime.transport.lean._errors import error_code_and_message, service_error
from dynagen.runtime.transport.lean._http import _bypassed
from dynagen.runtime.transport.lean._retry import is_throttling, is_transient
from dynagen.runtime.transport.lean._wire import decode_response, encode_request


def test_importing_and_using_the_lean_transport_does_not_import_botocore() -> None:
    code = (
        "import sys\n"
        "from dynagen.runtime.transport.lean import LeanTransport\n"
        "t = LeanTransport('eu-west-1', credentials=None)\n"
        "t._headers('DynamoDB_20120810.GetItem', b'{}')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('botocore', 'boto3', 'urllib3', 'requests'))\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize(
    ("region", "url", "host_header"),
    [
        ("us-east-1", None, "dynamodb.us-east-1.amazonaws.com"),
        ("eu-central-2", None, "dynamodb.eu-central-2.amazonaws.com"),
        ("cn-north-1", None, "dynamodb.cn-north-1.amazonaws.com.cn"),
        ("cn-northwest-1", None, "dynamodb.cn-northwest-1.amazonaws.com.cn"),
        ("us-gov-west-1", None, "dynamodb.us-gov-west-1.amazonaws.com"),
        ("us-iso-east-1", None, "dynamodb.us-iso-east-1.c2s.ic.gov"),
        ("us-east-1", "http://127.0.0.1:8000", "127.0.0.1:8000"),
        ("us-east-1", "https://LocalHost:443/", "localhost"),
        ("us-east-1", "http://[::1]:8000", "[::1]:8000"),
    ],
)
def test_endpoints(region: str, url: str | None, host_header: str) -> None:
    with mock.patch.dict(os.environ, {}, clear=False):
        os.environ.pop("AWS_ENDPOINT_URL", None)
        os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        endpoint = resolve_endpoint(region, url)
    assert endpoint.host_header == host_header
    assert endpoint.secure == (url is None or url.startswith("https"))


def test_endpoint_matches_botocore_resolution() -> None:
    import botocore.session

    session = botocore.session.get_session()
    for region in ("us-east-1", "eu-west-3", "cn-north-1", "us-gov-east-1", "ap-south-2"):
        client = session.create_client("dynamodb", region_name=region, aws_access_key_id="a", aws_secret_access_key="b")
        with mock.patch.dict(os.environ, {}, clear=False):
            os.environ.pop("AWS_ENDPOINT_URL", None)
            os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
            assert resolve_endpoint(region).url == client.meta.endpoint_url


def test_endpoint_url_from_environment_and_bad_urls() -> None:
    with mock.patch.dict(os.environ, {"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9999"}):
        assert resolve_endpoint("us-east-1").host_header == "127.0.0.1:9999"
    for bad in ("ftp://x", "http://x/path", "localhost:8000"):
        with pytest.raises(ValueError):
            resolve_endpoint("us-east-1", bad)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "https://LocalHost:443/",
        "http://[::1]:8000",
        "http://[FE80::1]",
        "https://dynamodb.us-east-1.amazonaws.com",
        "http://user:p%40ss@proxy.internal:3128",
        "http://user@proxy:8080/",
        "http://host:/",
        "HTTP://Host.Example/path?q=1#frag",
        "http://a:b:c@host:1",
    ],
)
def test_split_url_agrees_with_urlsplit(url: str) -> None:
    from urllib.parse import urlsplit

    ours, theirs = split_url(url), urlsplit(url)
    assert (ours.scheme, ours.host, ours.port) == (theirs.scheme, theirs.hostname, theirs.port)
    assert ours.userinfo == (theirs.netloc.rpartition("@")[0] if "@" in theirs.netloc else None)
    assert ours.rest == url[url.index("://") + 3 :][len(theirs.netloc) :]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("localhost:8000", "not an absolute URL"),
        ("://host", "not an absolute URL"),
        ("1http://host", "not an absolute URL"),
        ("http://host:99999", "bad port"),
        ("http://host:8o00", "bad port"),
        ("http://host:-1", "bad port"),
        ("http://[::1", "unclosed IPv6"),
        ("http://[::1]x", "after the IPv6"),
        ("http://::1:8000", "IPv6 addresses go in brackets"),
        ("http://host\n:80", "whitespace or control"),
        (" http://host", "whitespace or control"),
    ],
)
def test_split_url_refuses_what_is_not_a_url(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split_url(url)


def test_endpoint_url_errors_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"http\(s\)://host\[:port\]: bad port '70000'"):
        resolve_endpoint("us-east-1", "http://localhost:70000")
    with pytest.raises(ValueError, match="path, query or fragment"):
        resolve_endpoint("us-east-1", "http://localhost:8000#x")


def test_no_proxy_rules() -> None:
    assert _bypassed("dynamodb.us-east-1.amazonaws.com", 443, "amazonaws.com")
    assert _bypassed("dynamodb.us-east-1.amazonaws.com", 443, " .amazonaws.com ")
    assert _bypassed("anything", 443, "*")
    assert _bypassed("10.1.2.3", 80, "localhost,10.0.0.0/8")
    assert _bypassed("localhost", 8000, "localhost:8000")
    assert not _bypassed("localhost", 8001, "localhost:8000")
    assert not _bypassed("notamazonaws.com", 443, "amazonaws.com")
    assert not _bypassed("example.com", 443, "")


def test_credentials_from_env_tuple_object_and_callable() -> None:
    env = {"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_SESSION_TOKEN": "TK"}
    with mock.patch.dict(os.environ, env):
        assert credentials_provider(None)() == Credentials("AK", "SK", "TK")
    assert credentials_provider(("a", "b"))() == Credentials("a", "b", None)
    creds = Credentials("AKIDEXAMPLE", "SECRETVALUE", "TOKENVALUE")
    assert credentials_provider(creds)() is creds
    assert credentials_provider(lambda: creds)() is creds
    assert "SECRETVALUE" not in repr(creds) and "TOKENVALUE" not in repr(creds)
    with pytest.raises(TypeError):
        credentials_provider(42)


def test_refreshable_botocore_credentials_are_refreshed_per_request() -> None:
    from botocore.credentials import RefreshableCredentials

    calls = []

    def refresh() -> dict[str, str]:
        calls.append(1)
        expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1 if len(calls) == 1 else 3600)
        return {
            "access_key": f"AK{len(calls)}",
            "secret_key": "SK",
            "token": f"TK{len(calls)}",
            "expiry_time": expiry.isoformat(),
        }

    refreshable = RefreshableCredentials.create_from_metadata(refresh(), refresh, "test")
    transport = LeanTransport("us-east-1", endpoint_url="http://127.0.0.1:1", credentials=refreshable)
    # The first credentials expire within the refresh window, so the next request must use new ones.
    headers = transport._headers("DynamoDB_20120810.GetItem", b"{}")
    assert "Credential=AK2/" in headers["Authorization"]
    assert headers["X-Amz-Security-Token"] == "TK2"


def test_provider_chain_is_used_lazily_when_env_is_empty(tmp_path: Any) -> None:
    config = tmp_path / "credentials"
    config.write_text("[default]\naws_access_key_id = FROMFILE\naws_secret_access_key = secret\n")
    code = (
        "import sys\n"
        "from dynagen.runtime.transport.lean import LeanTransport\n"
        "t = LeanTransport('us-east-1', endpoint_url='http://127.0.0.1:1')\n"
        "assert 'botocore' not in sys.modules\n"
        "h = t._headers('DynamoDB_20120810.GetItem', b'{}')\n"
        "assert 'botocore' in sys.modules\n"
        "print(h['Authorization'].split('/')[0])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_SHARED_CREDENTIALS_FILE": str(config),
            "AWS_CONFIG_FILE": str(tmp_path / "none"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "AWS4-HMAC-SHA256 Credential=FROMFILE"


# -- wire codec: differential against botocore's own serializer and parser ------------------------

_scalar = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=20)),
    st.builds(lambda n: {"N": str(n)}, st.integers()),
    st.builds(lambda b: {"B": b}, st.binary(max_size=20)),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda s: {"SS": sorted(s)}, st.sets(st.text(max_size=5), min_size=1, max_size=4)),
    st.builds(lambda s: {"BS": sorted(s)}, st.sets(st.binary(max_size=5), min_size=1, max_size=4)),
)
_names = st.sampled_from(["B", "BS", "S", "M", "L", "data", "name", "CreationDateTime", "x"])
_value = st.recursive(
    _scalar,
    lambda inner: st.one_of(
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=4)),
        st.builds(lambda items: {"M": items}, st.dictionaries(_names, inner, max_size=4)),
    ),
    max_leaves=12,
)
_item = st.dictionaries(_names, _value, min_size=1, max_size=5)


def _botocore_pieces() -> tuple[Any, Any, Any]:
    import botocore.session
    from botocore.parsers import create_parser
    from botocore.serialize import create_serializer

    model = botocore.session.get_session().get_service_model("dynamodb")
    return model, create_serializer("json"), create_parser("json")


_BOTO = _botocore_pieces()


@settings(max_examples=150, deadline=None)
@given(_item)
def test_wire_codec_matches_botocore(item: dict[str, Any]) -> None:
    model, serializer, parser = _BOTO
    put = {"TableName": "t", "Item": item, "ExpressionAttributeValues": {":v": item[next(iter(item))]}}
    theirs = serializer.serialize_to_request(put, model.operation_model("PutItem"))["body"]
    assert json.loads(encode_request(put)) == json.loads(theirs)

    for operation, body in (
        ("GetItem", {"Item": item}),
        ("Query", {"Items": [item, item], "Count": 2, "LastEvaluatedKey": item}),
        ("BatchGetItem", {"Responses": {"t": [item]}, "UnprocessedKeys": {"t": {"Keys": [item]}}}),
        ("BatchWriteItem", {"UnprocessedItems": {"t": [{"PutRequest": {"Item": item}}]}}),
        ("TransactGetItems", {"Responses": [{"Item": item}, {}]}),
    ):
        wire = json.dumps(json.loads(encode_request(body))).encode()
        expected = parser.parse(
            {"status_code": 200, "headers": {}, "body": wire}, model.operation_model(operation).output_shape
        )
        expected.pop("ResponseMetadata", None)
        assert decode_response(operation, wire) == expected, operation


def test_control_plane_timestamps_become_datetimes() -> None:
    body = json.dumps({"Table": {"CreationDateTime": 1700000000.5, "ItemCount": 3, "TableName": "B"}}).encode()
    table = decode_response("DescribeTable", body)["Table"]
    assert table["CreationDateTime"] == datetime.datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=datetime.UTC)
    assert table["ItemCount"] == 3


def test_bytes_anywhere_are_base64_and_other_objects_are_rejected() -> None:
    body = encode_request({"Key": {"k": {"B": bytearray(b"\x00\x01")}}, "L": [memoryview(b"z")]})
    assert json.loads(body) == {"Key": {"k": {"B": base64.b64encode(b"\x00\x01").decode()}}, "L": ["eg=="]}
    with pytest.raises(TypeError):
        encode_request({"Item": {"n": {"N": 1.5j}}})


# -- errors and retry classification -------------------------------------------------------------


def test_error_code_parsing_like_botocore() -> None:
    assert error_code_and_message(
        400, {"__type": "com.amazonaws.dynamodb.v20120810#ValidationException", "message": "m"}, None
    ) == (
        "ValidationException",
        "m",
    )
    assert error_code_and_message(400, {"__type": "Throttling:http://x", "Message": "M"}, None) == ("Throttling", "M")
    assert error_code_and_message(503, {}, None) == ("503", "")
    assert error_code_and_message(400, {}, "SomeError:extra") == ("SomeError", "")


def test_shared_mapping_and_service_errors() -> None:
    failed = map_dynamodb_error("ConditionalCheckFailedException", "", {"Item": {"a": {"B": b"x"}}})
    assert isinstance(failed, ConditionFailedError) and failed.item == {"a": {"B": b"x"}}
    cancelled = map_dynamodb_error(
        "TransactionCanceledException",
        "Transaction cancelled",
        {"CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Message": "no"}]},
    )
    assert isinstance(cancelled, TransactionCanceledError)
    assert [r.code for r in cancelled.reasons] == ["None", "ConditionalCheckFailed"]
    assert map_dynamodb_error("ValidationException", "m", {}) is None
    err = service_error("ThrottlingException", "m", {}, status=400, request_id="r", retryable=True, throttled=True)
    assert isinstance(err, ThrottlingError) and err.request_id == "r"
    err = service_error("X", "m", {}, status=400, request_id="", retryable=False, throttled=False)
    assert type(err) is ServiceError


def test_retry_classification() -> None:
    assert is_throttling("ProvisionedThroughputExceededException", 400)
    assert is_throttling("RequestLimitExceeded", 400)
    assert is_throttling("Unknown", 429)
    assert not is_throttling("ResourceNotFoundException", 429)
    assert not is_throttling("ConditionalCheckFailedException", 400)
    assert is_transient("InternalServerError", 500)
    assert is_transient("ReplicatedWriteConflictException", 409)
    assert not is_transient("ValidationException", 400)
    policy = RetryPolicy()
    for attempt in range(1, 12):
        assert 0 <= policy.delay(attempt, throttled=False) <= min(0.025 * 2 ** (attempt - 1), 20)
        assert 0 <= policy.delay(attempt, throttled=True) <= min(1.0 * 2 ** (attempt - 1), 20)


def test_retry_policy_and_credentials_are_immutable_values() -> None:
    import copy
    import pickle

    policy = RetryPolicy(max_attempts=5, base_delay=0.5)
    changed = policy.__replace__(base_delay=0.01)
    assert (changed.max_attempts, changed.base_delay, changed.throttling_base_delay) == (5, 0.01, 1.0)
    assert policy.base_delay == 0.5 and policy == RetryPolicy(max_attempts=5, base_delay=0.5) != changed
    assert pickle.loads(pickle.dumps(policy)) == policy == copy.deepcopy(policy)
    assert hash(policy) == hash(RetryPolicy(max_attempts=5, base_delay=0.5))
    with pytest.raises(ValueError, match="max_attempts must be >= 1"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="max_attempts must be >= 1"):
        policy.__replace__(max_attempts=0)
    with pytest.raises(TypeError):
        policy.__replace__(attempts=2)
    with pytest.raises(AttributeError, match="immutable"):
        policy.max_attempts = 9  # type: ignore[misc]
    creds = Credentials("AKIDEXAMPLE", "SECRET", None)
    assert creds == Credentials(access_key="AKIDEXAMPLE", secret_key="SECRET") and "SECRET" not in repr(creds)
    with pytest.raises(AttributeError, match="immutable"):
        creds.token = "x"  # type: ignore[misc]


def test_safe_to_resend_rules() -> None:
    assert safe_to_resend("GetItem", {})
    assert safe_to_resend("TransactWriteItems", {})
    assert safe_to_resend("BatchWriteItem", {})
    assert safe_to_resend("PutItem", {"Item": {}})
    assert not safe_to_resend("PutItem", {"ConditionExpression": "attribute_not_exists(PK)"})
    assert not safe_to_resend("DeleteItem", {"ReturnValues": "ALL_OLD"})
    assert not safe_to_resend("UpdateItem", {})
    assert not safe_to_resend("ExecuteStatement", {})
    assert not safe_to_resend("CreateTable", {})


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1))
def test_the_trace_header_is_escaped_as_botocore_escapes_it(value: str) -> None:
    """Both transports send one value for any ``_X_AMZN_TRACE_ID``; none can carry CR, LF or NUL."""
    from urllib.parse import quote

    sent = trace_header_value(value)
    assert sent == quote(value, safe="-=;:+&[]{}\"',")
    assert sent is not None and sent.isascii() and sent.isprintable() and " " not in sent


def test_a_trace_header_with_undecodable_bytes_sends_those_bytes_escaped() -> None:
    # os.environ holds an undecodable byte as a lone surrogate (surrogateescape): sent as that byte.
    assert trace_header_value("Root=1-\udcff") == "Root=1-%FF"
    assert trace_header_value("Root=1-\ud800") is None  # cannot be encoded at all: dropped

"""The lean SigV4 signer against AWS's published test vectors and, differentially, botocore's SigV4Auth."""

from __future__ import annotations

import datetime
import hashlib
import random
import string
from unittest import mock

import pytest

from dynagen.runtime.transport.lean._endpoints import resolve_endpoint
from dynagen.runtime.transport.lean._sigv4 import Signer, canonical_query_string, signing_key

# From AWS's SigV4 test suite ("aws-sig-v4-test-suite", docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html).
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
AMZ_DATE = "20150830T123600Z"
HOST = "example.amazonaws.com"


def _vector(method: str, headers: dict[str, str], body: bytes = b"", query: str = "") -> str:
    signed = Signer("service").sign(
        method=method,
        path="/",
        query=query,
        headers={"Host": HOST, "X-Amz-Date": AMZ_DATE, **headers},
        payload=body,
        access_key=AKID,
        secret_key=SECRET,
        region="us-east-1",
        amz_date=AMZ_DATE,
    )
    return signed.authorization


def test_post_x_www_form_urlencoded_vector_intermediate_strings() -> None:
    signed = Signer("service").sign(
        method="POST",
        path="/",
        query="",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Host": HOST, "X-Amz-Date": AMZ_DATE},
        payload=b"Param1=value1",
        access_key=AKID,
        secret_key=SECRET,
        region="us-east-1",
        amz_date=AMZ_DATE,
    )
    assert signed.canonical_request == (
        "POST\n/\n\n"
        "content-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
        "content-type;host;x-amz-date\n"
        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
    )
    assert signed.string_to_sign == (
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        + hashlib.sha256(signed.canonical_request.encode()).hexdigest()
    )
    assert signed.signature == "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
    assert signed.authorization == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
    )


@pytest.mark.parametrize(
    ("method", "headers", "query", "signature"),
    [
        ("GET", {}, "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),  # get-vanilla
        ("POST", {}, "", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),  # post-vanilla
        ("POST", {"My-Header1": "value1"}, "", "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"),
        ("POST", {"My-Header1": "VALUE1"}, "", "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"),
        (
            "GET",
            {"My-Header1": "value1", "My-Header2": '"a   b   c"'},
            "",
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
        ),  # get-header-value-trim
        (
            "GET",
            {},
            canonical_query_string([("Param2", "value2"), ("Param1", "value1")]),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ),  # get-vanilla-query-order-key-case
        (
            "GET",
            {},
            canonical_query_string([("\u1234", "bar")]),
            "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
        ),  # get-vanilla-utf8-query
    ],
)
def test_published_vectors(method: str, headers: dict[str, str], query: str, signature: str) -> None:
    assert _vector(method, headers, query=query).endswith(f"Signature={signature}")


def test_signing_key_is_cached_and_equal_to_the_uncached_derivation() -> None:
    signer = Signer("dynamodb")
    key = signer._key(SECRET, "20150830", "us-east-1")
    assert key == signing_key(SECRET, "20150830", "us-east-1", "dynamodb")
    assert signer._key(SECRET, "20150830", "us-east-1") is key
    assert signer._key(SECRET, "20150831", "us-east-1") != key


def _random_text(rng: random.Random, alphabet: str, low: int, high: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def test_differential_against_botocore_sigv4auth() -> None:
    """400 random DynamoDB-style requests: same Authorization header as botocore's SigV4Auth."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    rng = random.Random(20240501)
    fixed = datetime.datetime(2024, 5, 1, 12, 34, 56)
    amz_date = fixed.strftime("%Y%m%dT%H%M%SZ")
    header_alphabet = string.ascii_letters + string.digits + " -_.,;:/=+\t"
    regions = ["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1", "ap-southeast-2"]
    signer = Signer("dynamodb")
    for _ in range(400):
        region = rng.choice(regions)
        access_key = "AKIA" + _random_text(rng, string.ascii_uppercase + string.digits, 12, 16)
        secret = _random_text(rng, string.ascii_letters + string.digits + "/+", 30, 40)
        token = _random_text(rng, string.ascii_letters + string.digits + "/+=", 20, 200) if rng.random() < 0.5 else None
        url = rng.choice(
            [
                f"https://dynamodb.{region}.amazonaws.com",
                "http://127.0.0.1:8000",
                "https://Example.COM:443",
                "http://[::1]:80",
            ]
        )
        host = resolve_endpoint(region, url).host_header
        body = _random_text(rng, string.printable + "éß漢", 0, 600).encode("utf-8")
        headers = {
            "Host": host,
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810." + rng.choice(["GetItem", "PutItem", "Query", "TransactWriteItems"]),
            "X-Amz-Date": amz_date,
        }
        for i in range(rng.randint(0, 3)):
            headers[f"X-Custom-{i}"] = "  " + _random_text(rng, header_alphabet, 1, 30) + "  "
        if rng.random() < 0.3:
            headers["User-Agent"] = "whatever/1.0"  # never signed
        if token:
            headers["X-Amz-Security-Token"] = token

        ours = signer.sign(
            method="POST",
            path="/",
            query="",
            headers=headers,
            payload=body,
            access_key=access_key,
            secret_key=secret,
            region=region,
            amz_date=amz_date,
        )

        # botocore derives Host from the URL itself: this also checks our Host header derivation.
        dropped = ("Host", "X-Amz-Date", "X-Amz-Security-Token")
        boto_headers = {k: v for k, v in headers.items() if k not in dropped}
        request = AWSRequest(method="POST", url=url + "/", data=body, headers=boto_headers)
        with mock.patch("botocore.auth.get_current_datetime", return_value=fixed):
            SigV4Auth(BotoCredentials(access_key, secret, token), "dynamodb", region).add_auth(request)
        assert request.headers["X-Amz-Date"] == amz_date
        assert ours.authorization == request.headers["Authorization"]

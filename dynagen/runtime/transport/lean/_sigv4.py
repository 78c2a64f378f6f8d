"""AWS Signature Version 4 for the lean transport, standard library only.

The derived signing key (four chained HMACs) is cached per (secret, date, region, service): a warm
process signs a request with one SHA-256 of the body and two HMACs. Header canonicalisation follows
botocore's ``SigV4Auth`` exactly (same excluded headers, same whitespace folding, same sort), which the
differential tests check over random requests.
"""

from __future__ import annotations

import hashlib
import hmac
import threading

from dynagen._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["UNSIGNED_HEADERS", "SigningResult", "Signer", "canonical_query_string", "signing_key"]

# Headers botocore never signs (hop-by-hop, tracing, user agent): a proxy or the runtime may change them.
UNSIGNED_HEADERS = frozenset(
    {
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)

_ALGORITHM = "AWS4-HMAC-SHA256"
# A handful of keys is enough: one per (credentials, day) in use; rotation just adds entries.
_KEY_CACHE_SIZE = 64


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 signing key for a day (``YYYYMMDD``), uncached."""
    k_date = _hmac(("AWS4" + secret_key).encode("utf-8"), date)
    k_region = _hmac(k_date, region)
    k_service = _hmac(k_region, service)
    return _hmac(k_service, "aws4_request")


def canonical_query_string(params: Iterable[tuple[str, str]]) -> str:
    """Query parameters URI-encoded (RFC 3986 unreserved kept), sorted by key then value."""
    from urllib.parse import quote  # DynamoDB requests carry no query: keep urllib out of the cold start

    pairs = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in params)
    return "&".join(f"{k}={v}" for k, v in pairs)


class SigningResult:
    """The pieces of one signature, kept for tests and debugging (never logged: no secrets inside)."""

    __slots__ = ("authorization", "canonical_request", "signature", "string_to_sign")

    def __init__(self, canonical_request: str, string_to_sign: str, signature: str, authorization: str) -> None:
        self.canonical_request = canonical_request
        self.string_to_sign = string_to_sign
        self.signature = signature
        self.authorization = authorization


class Signer:
    """Signs requests for one service; thread-safe; caches derived signing keys."""

    __slots__ = ("_keys", "_lock", "service")

    def __init__(self, service: str = "dynamodb") -> None:
        self.service = service
        self._keys: dict[tuple[str, str, str], bytes] = {}
        self._lock = threading.Lock()

    def _key(self, secret_key: str, date: str, region: str) -> bytes:
        cache_key = (secret_key, date, region)
        key = self._keys.get(cache_key)
        if key is None:
            key = signing_key(secret_key, date, region, self.service)
            with self._lock:
                if len(self._keys) >= _KEY_CACHE_SIZE:
                    self._keys.clear()
                self._keys[cache_key] = key
        return key

    def sign(
        self,
        *,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        payload: bytes,
        access_key: str,
        secret_key: str,
        region: str,
        amz_date: str,
    ) -> SigningResult:
        """Sign one request.

        ``headers`` must already hold ``Host``, ``X-Amz-Date`` (equal to ``amz_date``,
        ``YYYYMMDDTHHMMSSZ``) and, with temporary credentials, ``X-Amz-Security-Token``. ``path`` is
        the already-encoded request path and ``query`` the canonical query string (see
        ``canonical_query_string``). Returns the ``Authorization`` value and the intermediate strings.
        """
        canonical: dict[str, list[str]] = {}
        for name, value in headers.items():
            lname = name.lower()
            if lname in UNSIGNED_HEADERS:
                continue
            # Trimall: collapse runs of whitespace, as SigV4 (and botocore) require.
            canonical.setdefault(lname, []).append(" ".join(value.split()))
        names = sorted(canonical)
        signed_headers = ";".join(names)
        header_block = "".join(f"{n}:{','.join(canonical[n])}\n" for n in names)
        payload_hash = hashlib.sha256(payload).hexdigest()
        canonical_request = f"{method}\n{path}\n{query}\n{header_block}\n{signed_headers}\n{payload_hash}"
        date = amz_date[:8]
        scope = f"{date}/{region}/{self.service}/aws4_request"
        string_to_sign = (
            f"{_ALGORITHM}\n{amz_date}\n{scope}\n{hashlib.sha256(canonical_request.encode('utf-8')).hexdigest()}"
        )
        signature = hmac.new(
            self._key(secret_key, date, region), string_to_sign.encode("utf-8"), hashlib.sha256
        ).hexdigest()
        authorization = (
            f"{_ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
        )
        return SigningResult(canonical_request, string_to_sign, signature, authorization)

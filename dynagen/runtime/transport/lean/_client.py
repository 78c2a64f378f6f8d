"""``LeanTransport``: DynamoDB over signed HTTP/1.1 with the standard library, no botocore per request."""

from __future__ import annotations

import binascii
import os
import time

from dynagen._typing import TYPE_CHECKING, Any
from dynagen.errors import (
    DeadlineExceededError,
    DynagenError,
    InvalidValueError,
    ResponseTooLargeError,
    TransportError,
)
from dynagen.runtime.transport._bounds import DEFAULT_MAX_RESPONSE_BYTES, current_deadline
from dynagen.runtime.transport.lean._credentials import credentials_provider
from dynagen.runtime.transport.lean._endpoints import Endpoint, resolve_endpoint, resolve_region
from dynagen.runtime.transport.lean._errors import error_code_and_message, service_error
from dynagen.runtime.transport.lean._http import (
    ConnectionPool,
    NoResponseError,
    NotSentError,
    Response,
    TooLargeError,
    proxy_for,
)
from dynagen.runtime.transport.lean._retry import RetryPolicy, RetryQuota, is_throttling, is_transient
from dynagen.runtime.transport.lean._sigv4 import Signer
from dynagen.runtime.transport.lean._wire import decode_response, encode_request

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from dynagen.runtime.transport._bounds import Deadline
    from dynagen.runtime.transport.lean._credentials import CredentialsProvider

__all__ = [
    "DEFAULT_CALL_TIMEOUT",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_READ_TIMEOUT",
    "LeanTransport",
    "safe_to_resend",
    "trace_header_value",
]

DEFAULT_CONNECT_TIMEOUT = 2.0
DEFAULT_READ_TIMEOUT = 10.0
DEFAULT_MAX_ATTEMPTS = 3
# The most one call may take without a deadline, every attempt and backoff included: a server that
# trickles its answer (or keeps failing slowly) cannot hold a caller longer than this.
DEFAULT_CALL_TIMEOUT = 60.0

_TARGET_PREFIX = "DynamoDB_20120810."
_CONTENT_TYPE = "application/x-amz-json-1.0"
_USER_AGENT = "dynagen-lean/1 (python)"
# Operations with an idempotency token that botocore fills with a UUID when the caller did not.
_TOKEN_OPERATIONS = frozenset({"TransactWriteItems", "ExecuteTransaction"})
# A timeout with less usable time than this left was the deadline's budget running out, not the
# read timeout (a Lambda context's remaining time has millisecond steps).
_SPENT = 0.01


def _spent(deadline: Deadline | None) -> bool:
    return deadline is not None and deadline.usable() < _SPENT


# What botocore leaves unescaped in the trace header (``quote(value, safe='-=;:+&[]{}"\',')``): both
# transports then send the same value, and a CR or LF in the variable can never reach the wire.
_TRACE_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~" + "=;:+&[]{}\"',")


def trace_header_value(trace_id: str) -> str | None:
    """``_X_AMZN_TRACE_ID`` as botocore forwards it: percent-encoded outside its safe set; None if unencodable.

    The variable is whatever the environment holds: a malformed value is escaped (or, when it cannot
    even be encoded, dropped), never allowed to fail the request.
    """
    if _TRACE_SAFE.issuperset(trace_id):
        return trace_id  # the usual Root=1-...;Parent=...;Sampled=1
    try:
        # surrogateescape: os.environ's stand-ins for undecodable bytes become those bytes again.
        data = trace_id.encode("utf-8", "surrogateescape")
    except UnicodeError:
        return None
    return "".join(chr(b) if chr(b) in _TRACE_SAFE else f"%{b:02X}" for b in data)

# Reads, and writes made idempotent by their ClientRequestToken: resending cannot change the outcome.
_ALWAYS_SAFE = frozenset(
    {
        "BatchGetItem",
        "DescribeContinuousBackups",
        "DescribeEndpoints",
        "DescribeLimits",
        "DescribeTable",
        "DescribeTimeToLive",
        "ExecuteTransaction",
        "GetItem",
        "ListTables",
        "ListTagsOfResource",
        "Query",
        "Scan",
        "TransactGetItems",
        "TransactWriteItems",
    }
)


def safe_to_resend(operation: str, request: Mapping[str, Any]) -> bool:
    """Whether a request that may already have been executed can be sent again without changing its result.

    True for reads, for token-carrying transactions, for unconditional PutItem/DeleteItem that return
    no old values, and for BatchWriteItem (unconditional puts and deletes). False for UpdateItem (an
    ``ADD`` or ``SET n = n + 1`` would apply twice), conditional writes (the resend could report a
    condition failure for a write that succeeded), PartiQL statements and control-plane writes.
    """
    if operation in _ALWAYS_SAFE:
        return True
    if operation in ("PutItem", "DeleteItem"):
        conditional = bool(request.get("ConditionExpression") or request.get("Expected"))
        return not conditional and request.get("ReturnValues", "NONE") == "NONE"
    return operation == "BatchWriteItem"


class LeanTransport:
    """A ``Transport`` that signs and sends DynamoDB requests itself (stdlib ``socket``, ``ssl`` for HTTPS).

    Results and errors are the same as ``BotocoreTransport``'s: wire-format dicts with ``bytes`` for
    binary values, ``ConditionFailedError`` / ``TransactionCanceledError`` for those failures,
    ``ServiceError`` (``ThrottlingError`` once throttling outlasts the retries) for the rest and
    ``TransportError`` when no usable response came back. Thread-safe: share one per process.
    """

    def __init__(
        self,
        region: str | None = None,
        *,
        endpoint_url: str | None = None,
        credentials: Any = None,
        max_pool_connections: int = 10,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_attempts: int | None = None,
        verify: bool | str = True,
        retry_policy: RetryPolicy | None = None,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        call_timeout: float | None = DEFAULT_CALL_TIMEOUT,
    ) -> None:
        """Args:
        region: AWS region; defaults to ``AWS_REGION`` / ``AWS_DEFAULT_REGION``.
        endpoint_url: e.g. ``http://127.0.0.1:8000`` for DynamoDB Local; defaults to
            ``AWS_ENDPOINT_URL_DYNAMODB`` / ``AWS_ENDPOINT_URL``, else the regional endpoint.
        credentials: a ``Credentials``, a botocore credentials object (refreshable ones are
            refreshed), an ``(access_key, secret_key[, token])`` tuple or a provider callable;
            default: environment variables, else botocore's provider chain (lazily).
        max_pool_connections: keep-alive connections kept open.
        connect_timeout / read_timeout: seconds for connecting (TCP and TLS) and for each socket read or
            write; one attempt as a whole (connect, send, the entire response) takes at most their
            sum. All further capped by the call's deadline.
        max_attempts: attempts per call, first included (default 3; overrides ``retry_policy.max_attempts``).
        max_response_bytes: the largest response body accepted (default 32 MiB; None: no cap). A larger
            one raises ``ResponseTooLargeError`` before it is read whole.
        call_timeout: seconds one ``call`` may take in all, attempts and backoff included (default
            60; None: no bound but the attempts'). With a deadline, whichever ends first applies.
        verify: TLS verification: True (``AWS_CA_BUNDLE`` when set, as botocore reads it, else the
            system store), False, a CA bundle file, or a hashed CA directory (``<subject hash>.0``
            entries, as ``openssl rehash`` writes them).
        retry_policy: backoff and quota costs (see ``RetryPolicy``).
        """
        if connect_timeout <= 0 or read_timeout <= 0:
            raise ValueError("timeouts must be > 0")
        if call_timeout is not None and not call_timeout > 0:
            raise InvalidValueError("call_timeout", f"must be > 0 seconds (or None), got {call_timeout}")
        self.call_timeout = call_timeout
        self.region = resolve_region(region)
        self.endpoint: Endpoint = resolve_endpoint(self.region, endpoint_url)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        policy = retry_policy or RetryPolicy(max_attempts=DEFAULT_MAX_ATTEMPTS)
        if max_attempts is not None:
            policy = policy.__replace__(max_attempts=max_attempts)
        self.retry_policy = policy
        self.retry_quota = RetryQuota()
        self._credentials: CredentialsProvider = credentials_provider(credentials)
        self._signer = Signer("dynamodb")
        if verify is True and self.endpoint.secure and os.environ.get("AWS_CA_BUNDLE"):
            # As botocore does: the same environment trusts the same CAs on either transport (and,
            # as there, a plain-http endpoint such as DynamoDB Local never reads it).
            verify = os.environ["AWS_CA_BUNDLE"]
            if not os.path.exists(verify):
                raise InvalidValueError("verify", f"AWS_CA_BUNDLE {verify!r} does not exist")
        self._pool = ConnectionPool(
            self.endpoint,
            max_size=max_pool_connections,
            verify=verify,
            proxy=proxy_for(self.endpoint),
            max_response_bytes=max_response_bytes,
        )
        self._sleep = time.sleep
        self._clock = time.monotonic

    @property
    def max_response_bytes(self) -> int | None:
        """The largest response body accepted (None: no cap)."""
        return self._pool.max_response_bytes

    # -- the Transport protocol ---------------------------------------------------------------

    def call(self, operation: str, request: Mapping[str, Any], *, deadline: Deadline | None = None) -> dict[str, Any]:
        """Send one request, retrying per the policy; no attempt starts once the deadline has passed.

        The deadline is bound to ``current_deadline`` while the call runs, as ``BotocoreTransport``
        does: a credentials refresh it triggers (the multi-account resolver's STS AssumeRole) is
        bounded by it too.
        """
        token = current_deadline.set(deadline)
        try:
            return self._call(operation, request, deadline)
        finally:
            current_deadline.reset(token)

    def _call(self, operation: str, request: Mapping[str, Any], deadline: Deadline | None) -> dict[str, Any]:
        if operation in _TOKEN_OPERATIONS and "ClientRequestToken" not in request:
            # One token for every attempt: DynamoDB then executes the transaction at most once.
            import uuid  # transactions only: uuid (and platform) stay out of the cold start

            request = {**request, "ClientRequestToken": str(uuid.uuid4())}
        try:
            body = encode_request(request)
        except (TypeError, ValueError) as exc:
            raise InvalidValueError(operation, f"request cannot be encoded: {exc}") from exc
        target = _TARGET_PREFIX + operation
        policy = self.retry_policy
        quota = self.retry_quota
        clock = self._clock
        # Without a deadline, ``call_timeout`` is what bounds the call: each attempt is bounded anyway
        # (connect + read timeout, in all), and this bounds the attempts and backoff together.
        call_end = None if self.call_timeout is None else clock() + self.call_timeout
        per_attempt = self.connect_timeout + self.read_timeout
        held = 0  # quota taken by the latest retry, given back on success
        last: BaseException | None = None
        cause: BaseException | None
        attempt = 0
        while True:
            attempt += 1
            if deadline is not None and deadline.usable() <= 0:
                raise DeadlineExceededError(operation=operation) from last
            # May refresh the credentials first (an STS call for a partner's): the budget is taken after it.
            headers = self._headers(target, body)
            total = per_attempt
            if deadline is not None:
                usable = deadline.usable()
                if usable <= 0:
                    raise DeadlineExceededError(operation=operation) from last
                total = min(total, usable)
            if call_end is not None:
                left = call_end - clock()
                if left <= 0:
                    raise TransportError(
                        f"{operation}: call_timeout of {self.call_timeout:g} s reached before the request was sent"
                    ) from last
                total = min(total, left)
            throttled = False
            retry_after: float | None = None
            try:
                # ``total`` bounds the whole exchange (connect, send, the entire response) in the pool.
                response = self._pool.request(
                    body, headers, connect_timeout=self.connect_timeout, read_timeout=self.read_timeout, total=total
                )
            except TooLargeError as exc:
                # Not retried: the same request would get the same answer.
                raise ResponseTooLargeError(exc.limit, exc.size, operation=operation) from exc
            except NotSentError as exc:
                if exc.timeout and _spent(deadline):
                    raise DeadlineExceededError("deadline reached while connecting", operation=operation) from exc
                error: DynagenError = TransportError(str(exc) + self._when_out_of_time(exc.timeout, call_end))
                retryable, cause = exc.retryable, exc
            except NoResponseError as exc:
                if exc.timeout and _spent(deadline):
                    raise DeadlineExceededError(
                        "deadline reached while waiting for the response; the request may have been executed",
                        operation=operation,
                    ) from exc
                error = TransportError(
                    f"{exc}{self._when_out_of_time(exc.timeout, call_end)} (the request may have been executed)"
                )
                retryable, cause = safe_to_resend(operation, request), exc
            else:
                outcome = self._outcome(operation, request, response)
                if isinstance(outcome, dict):
                    quota.release(held or policy.no_retry_increment)
                    return outcome
                error, retryable, throttled, retry_after = outcome
                cause = None
            last = error
            if not retryable or attempt >= policy.max_attempts:
                raise error from cause
            cost = policy.cost(throttled=throttled)
            if not quota.acquire(cost):
                raise error from cause
            held = cost
            delay = policy.delay(attempt, throttled=throttled, retry_after=retry_after)
            if deadline is not None and deadline.usable() - delay <= 0:
                raise DeadlineExceededError(
                    f"deadline exceeded: no time left to retry after {error}", operation=operation
                ) from error
            if call_end is not None and call_end - clock() - delay <= 0:
                raise error from cause  # the retries end with the call's time, as with max_attempts
            self._sleep(delay)

    def _when_out_of_time(self, timed_out: bool, call_end: float | None) -> str:
        """What to add to a timeout's message when it was ``call_timeout`` that cut the attempt short."""
        if timed_out and call_end is not None and call_end - self._clock() < _SPENT:
            return f" (call_timeout of {self.call_timeout:g} s reached)"
        return ""

    # -- internals ----------------------------------------------------------------------------

    def _headers(self, target: str, body: bytes) -> dict[str, str]:
        credentials = self._credentials()
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        headers = {
            "Host": self.endpoint.host_header,
            "Content-Type": _CONTENT_TYPE,
            "X-Amz-Target": target,
            "X-Amz-Date": amz_date,
        }
        if credentials.token:
            headers["X-Amz-Security-Token"] = credentials.token
        signed = self._signer.sign(
            method="POST",
            path="/",
            query="",
            headers=headers,
            payload=body,
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            region=self.region,
            amz_date=amz_date,
        )
        headers["Authorization"] = signed.authorization
        headers["User-Agent"] = _USER_AGENT
        # Lambda's X-Ray trace id, as botocore forwards it (not signed: the runtime may rewrite it).
        trace_id = os.environ.get("_X_AMZN_TRACE_ID")
        if trace_id and os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
            value = trace_header_value(trace_id)
            if value:
                headers["X-Amzn-Trace-Id"] = value
        return headers

    def _outcome(
        self, operation: str, request: Mapping[str, Any], response: Response
    ) -> dict[str, Any] | tuple[DynagenError, bool, bool, float | None]:
        """The parsed success, or (error, retryable, throttled, retry_after) for a failed attempt."""
        status = response.status
        body = response.body
        expected_crc = response.headers.get("x-amz-crc32")
        request_id = response.headers.get("x-amzn-RequestId", "")
        # A 4xx was not executed, so a damaged 4xx body can always be fetched again.
        resend_ok = 400 <= status < 500 or safe_to_resend(operation, request)
        if expected_crc is not None and str(binascii.crc32(body)) != expected_crc.strip():
            return (
                TransportError(
                    f"{operation}: response CRC32 mismatch (status {status}, request id {request_id or '?'})"
                ),
                resend_ok,
                False,
                None,
            )
        try:
            parsed = decode_response(operation, body)
        except ValueError as exc:  # json.JSONDecodeError and bad base64 are ValueErrors
            if status >= 500:
                parsed = {}  # a proxy's or load balancer's HTML error page: judged by its status below
            else:
                return (
                    TransportError(f"{operation}: unreadable response (status {status}): {exc}"),
                    resend_ok,
                    False,
                    None,
                )
        if 200 <= status < 300:
            return parsed
        code, message = error_code_and_message(status, parsed, response.headers.get("x-amzn-ErrorType"))
        throttled = is_throttling(code, status)
        retryable = throttled or is_transient(code, status)
        retry_after: float | None = None
        header = response.headers.get("x-amz-retry-after")
        if header is not None:
            try:
                retry_after = int(header) / 1000.0
            except ValueError:
                retry_after = None
        error = service_error(
            code, message, parsed, status=status, request_id=request_id, retryable=retryable, throttled=throttled
        )
        return error, retryable, throttled, retry_after

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the pooled connections (the transport stays usable: new ones are opened on demand)."""
        self._pool.close()

    def __enter__(self) -> LeanTransport:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LeanTransport({self.region!r}, {self.endpoint.url!r})"

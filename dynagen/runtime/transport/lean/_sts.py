"""STS ``AssumeRole`` over the lean HTTP client: the query API, SigV4 with service ``sts``, safe XML.

What the multi-account resolver needs of STS, without botocore: a form-encoded ``POST /`` to the
regional endpoint (``https://sts.<region>.amazonaws.com``; ``endpoint_url``, else
``AWS_ENDPOINT_URL_STS`` / ``AWS_ENDPOINT_URL`` as botocore reads them), signed with the base
account's credentials, retried like the lean transport (standard mode: throttling and transient
answers, network failures; AssumeRole is safe to resend: it only issues new credentials) and bounded
by the deadline bound to ``current_deadline`` (no attempt or backoff past its usable time). The whole
exchange of an attempt (connect, send, the entire answer) takes at most the connect plus the read
timeout, and at most the deadline's usable time: a server trickling bytes cannot hold it longer.

The XML answer is read with ``expat`` directly and refused outright if it declares a DOCTYPE or an
entity (no entity expansion of any kind: STS never sends either), nests deeper than 32 elements or
is larger than 1 MB (refused before it is read whole). ``assume_role`` returns what botocore's client returns (``Credentials`` with a
timezone-aware ``Expiration``), so the resolver reads either the same way. Errors are dynagen's:
``ServiceError`` / ``ThrottlingError`` for STS's error answers (code, message, status, request id),
``TransportError`` when no usable answer came, ``DeadlineExceededError`` for the deadline.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from xml.parsers import expat

from dynagen._typing import TYPE_CHECKING, Any
from dynagen.errors import (
    DeadlineExceededError,
    DynagenError,
    ResponseTooLargeError,
    ServiceError,
    ThrottlingError,
    TransportError,
)
from dynagen.runtime.transport._bounds import current_deadline
from dynagen.runtime.transport._urls import quote
from dynagen.runtime.transport.lean._credentials import credentials_provider
from dynagen.runtime.transport.lean._endpoints import regional_url, resolve_region
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

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import NoReturn

    from dynagen.runtime.transport._bounds import Deadline
    from dynagen.runtime.transport.lean._credentials import CredentialsProvider
    from dynagen.runtime.transport.lean._endpoints import Endpoint

__all__ = ["MAX_RESPONSE_BYTES", "HostileXMLError", "StsClient", "form_encode", "parse_xml", "sts_endpoint"]

API_VERSION = "2011-06-15"
MAX_RESPONSE_BYTES = 1 << 20  # an AssumeRole answer is a few KB, session tags included
_MAX_DEPTH = 32
_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
_USER_AGENT = "dynagen-lean/1 (python)"
_SPENT = 0.01  # as in the lean transport: a timeout with less left than this was the deadline's
def form_encode(params: Mapping[str, str]) -> str:
    """``application/x-www-form-urlencoded`` body of a query API request, in the given order.

    Percent-encoded as botocore's query serializer does, without ``urllib`` (~4 ms of a cold start).
    """
    return "&".join(f"{quote(key)}={quote(value)}" for key, value in params.items())


def sts_endpoint(region: str, endpoint_url: str | None = None) -> Endpoint:
    """The STS endpoint: ``endpoint_url``, else ``AWS_ENDPOINT_URL_STS`` / ``AWS_ENDPOINT_URL``, else regional."""
    from dynagen.runtime.transport.lean._endpoints import parse_endpoint

    url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_STS") or os.environ.get("AWS_ENDPOINT_URL")
    endpoint, rest = parse_endpoint(url or regional_url("sts", region))
    if rest not in ("", "/"):
        raise ValueError(f"STS endpoint URL must not carry a path, query or fragment, got {endpoint.url + rest!r}")
    return endpoint


# -- XML ---------------------------------------------------------------------------------------------


class HostileXMLError(ValueError):
    """The XML declares a DOCTYPE or an entity, or nests too deep: refused before anything is expanded."""


def parse_xml(body: bytes) -> dict[str, str]:
    """The text of every leaf element of an XML document, by path: ``{"A/B/C": "text", ...}``.

    Namespace prefixes are dropped from the path (``sts:Code`` is ``Code``); the first occurrence of
    a path wins. ``HostileXMLError`` for a DOCTYPE, an entity or notation declaration, an external
    entity reference or more than 32 levels; ``ValueError`` for anything that is not well-formed XML.
    """
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    path: list[str] = []
    texts: list[list[str]] = []
    parents: list[bool] = []  # per open element: has it had a child element?
    leaves: dict[str, str] = {}

    def refuse(*_: Any) -> NoReturn:
        raise HostileXMLError("DOCTYPE and entity declarations are refused")

    def start(name: str, _attributes: Any) -> None:
        if len(path) >= _MAX_DEPTH:
            raise HostileXMLError(f"XML nested deeper than {_MAX_DEPTH} elements")
        if parents:
            parents[-1] = True
        path.append(name.rpartition(":")[2])
        texts.append([])
        parents.append(False)

    def end(_name: str) -> None:
        text = texts.pop()
        if not parents.pop():
            leaves.setdefault("/".join(path), "".join(text))
        path.pop()

    def characters(data: str) -> None:
        if texts:
            texts[-1].append(data)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.NotationDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise ValueError(f"not well-formed XML: {expat.ErrorString(exc.code)} at line {exc.lineno}") from None
    return leaves


def _field(leaves: Mapping[str, str], suffix: str) -> str | None:
    """The leaf whose path ends with ``suffix`` (``Error/Code``), wherever the document puts it."""
    for path, text in leaves.items():
        if path == suffix or path.endswith("/" + suffix):
            return text.strip()
    return None


def _assume_role_result(leaves: Mapping[str, str]) -> dict[str, Any]:
    """botocore's shape of an AssumeRole answer; fields STS left out are left out here too."""
    credentials: dict[str, Any] = {}
    for name in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"):
        value = _field(leaves, f"AssumeRoleResult/Credentials/{name}")
        if value:
            credentials[name] = value
    if "Expiration" in credentials:
        try:
            credentials["Expiration"] = datetime.fromisoformat(credentials["Expiration"])
        except ValueError:
            del credentials["Expiration"]  # the resolver reports the answer as unusable
    result: dict[str, Any] = {"Credentials": credentials}
    user = {
        name: value
        for name in ("AssumedRoleId", "Arn")
        if (value := _field(leaves, f"AssumeRoleResult/AssumedRoleUser/{name}"))
    }
    if user:
        result["AssumedRoleUser"] = user
    return result


# -- the client --------------------------------------------------------------------------------------


def _spent(deadline: Deadline | None) -> bool:
    return deadline is not None and deadline.usable() < _SPENT


class StsClient:
    """STS for one region over the lean HTTP client: ``assume_role(RoleArn=..., ...)`` as botocore's.

    ``credentials``: the base account's (anything ``credentials_provider`` accepts; default: the
    environment, the container endpoint, else botocore's chain). One attempt takes at most
    ``connect_timeout + read_timeout`` in all, further cut to the usable time of the deadline bound
    to ``current_deadline``. Thread-safe.
    """

    def __init__(
        self,
        region: str | None = None,
        *,
        endpoint_url: str | None = None,
        credentials: Any = None,
        connect_timeout: float = 2.0,
        read_timeout: float = 10.0,
        max_attempts: int = 3,
        retry_policy: RetryPolicy | None = None,
        max_pool_connections: int = 2,
    ) -> None:
        if connect_timeout <= 0 or read_timeout <= 0:
            raise ValueError("timeouts must be > 0")
        self.region = resolve_region(region)
        self.endpoint = sts_endpoint(self.region, endpoint_url)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.retry_policy = (retry_policy or RetryPolicy()).__replace__(max_attempts=max_attempts)
        self.retry_quota = RetryQuota()
        self._credentials: CredentialsProvider = credentials_provider(credentials)
        self._signer = Signer("sts")
        verify: bool | str = True
        if self.endpoint.secure and os.environ.get("AWS_CA_BUNDLE"):
            verify = os.environ["AWS_CA_BUNDLE"]  # as botocore, and as the lean transport reads it
        self._pool = ConnectionPool(
            self.endpoint,
            max_size=max_pool_connections,
            verify=verify,
            proxy=proxy_for(self.endpoint),
            max_response_bytes=MAX_RESPONSE_BYTES,
        )
        self._sleep = time.sleep

    def assume_role(
        self,
        *,
        RoleArn: str,
        RoleSessionName: str,
        ExternalId: str | None = None,
        DurationSeconds: int | None = None,
    ) -> dict[str, Any]:
        """One AssumeRole: ``{"Credentials": {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}, ...}``.

        botocore's parameter names and answer shape: the resolver calls either client alike.
        """
        params = {"RoleArn": RoleArn, "RoleSessionName": RoleSessionName}
        if ExternalId is not None:
            params["ExternalId"] = ExternalId
        if DurationSeconds is not None:
            params["DurationSeconds"] = str(int(DurationSeconds))
        return _assume_role_result(self.call("AssumeRole", params))

    def call(self, action: str, params: Mapping[str, str]) -> dict[str, str]:
        """One query API action, retried per the policy; the answer's leaf elements (``parse_xml``)."""
        deadline = current_deadline.get()
        body = form_encode({"Action": action, "Version": API_VERSION, **params}).encode("ascii")
        policy, quota = self.retry_policy, self.retry_quota
        per_attempt = self.connect_timeout + self.read_timeout
        held = 0
        last: BaseException | None = None
        attempt = 0
        while True:
            attempt += 1
            if deadline is not None and deadline.usable() <= 0:
                raise DeadlineExceededError(operation="STS attempt") from last
            headers = self._headers(body)  # may fetch the base credentials first (container endpoint)
            total = per_attempt if deadline is None else min(per_attempt, deadline.usable())
            if total <= 0:
                raise DeadlineExceededError(operation="STS attempt") from last
            throttled = False
            cause: BaseException | None = None
            try:
                response = self._pool.request(
                    body, headers, connect_timeout=self.connect_timeout, read_timeout=self.read_timeout, total=total
                )
            except TooLargeError as exc:
                # Not retried: the same request would get the same answer.
                raise ResponseTooLargeError(exc.limit, exc.size, operation=action) from exc
            except NotSentError as exc:
                if exc.timeout and _spent(deadline):
                    raise DeadlineExceededError("deadline reached while connecting to STS", operation="STS response") from exc
                error: DynagenError = TransportError(f"{action}: {exc}")
                retryable, cause = exc.retryable, exc
            except NoResponseError as exc:
                if exc.timeout and _spent(deadline):
                    raise DeadlineExceededError("deadline reached while waiting for STS", operation="STS response") from exc
                error, retryable, cause = TransportError(f"{action}: {exc}"), True, exc
            else:
                outcome = self._outcome(action, response)
                if isinstance(outcome, dict):
                    quota.release(held or policy.no_retry_increment)
                    return outcome
                error, retryable, throttled = outcome
            last = error
            if not retryable or attempt >= policy.max_attempts:
                raise error from cause
            cost = policy.cost(throttled=throttled)
            if not quota.acquire(cost):
                raise error from cause
            held = cost
            delay = policy.delay(attempt, throttled=throttled)
            if deadline is not None and deadline.usable() - delay <= 0:
                raise DeadlineExceededError(
                    f"deadline exceeded: no time left to retry after {error}", operation="STS retry"
                ) from error
            self._sleep(delay)

    def _headers(self, body: bytes) -> dict[str, str]:
        credentials = self._credentials()
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        headers = {"Host": self.endpoint.host_header, "Content-Type": _CONTENT_TYPE, "X-Amz-Date": amz_date}
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
        return headers

    def _outcome(self, action: str, response: Response) -> dict[str, str] | tuple[DynagenError, bool, bool]:
        """The answer's leaves, or (error, retryable, throttled) for a failed attempt."""
        status, body = response.status, response.body
        request_id = response.headers.get("x-amzn-RequestId", "")
        try:
            leaves = parse_xml(body) if body.strip() else {}
        except HostileXMLError as exc:
            # Nothing STS sends: a man in the middle or a broken proxy. Asking again will not help.
            return TransportError(f"{action}: STS answer refused (status {status}): {exc}"), False, False
        except ValueError as exc:
            if status < 500:
                return TransportError(f"{action}: unreadable STS answer (status {status}): {exc}"), False, False
            leaves = {}  # a proxy's or load balancer's HTML error page: judged by its status below
        if 200 <= status < 300:
            return leaves
        code = _field(leaves, "Error/Code") or str(status)
        message = _field(leaves, "Error/Message") or ""
        request_id = request_id or _field(leaves, "RequestId") or ""
        throttled = is_throttling(code, status)
        retryable = throttled or is_transient(code, status)
        cls = ThrottlingError if throttled else ServiceError
        return cls(code, message, status=status, retryable=retryable, request_id=request_id), retryable, throttled

    def close(self) -> None:
        """Close the pooled connection(s)."""
        self._pool.close()

    def __repr__(self) -> str:
        return f"StsClient({self.region!r}, {self.endpoint.url!r})"

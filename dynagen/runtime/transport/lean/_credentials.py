"""Credentials for the lean transport and the lean STS client, without botocore where the environment allows.

Order: an explicit credentials object; else the ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` /
``AWS_SESSION_TOKEN`` environment variables (what Lambda provides); else the container credentials
endpoint (``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` / ``..._FULL_URI``: Lambda SnapStart, ECS,
Fargate), fetched with the lean HTTP client; else botocore's full provider chain (profiles, SSO,
instance metadata...), imported lazily on first use. Credentials objects (botocore's
``RefreshableCredentials``, or ``RefreshingCredentials`` here: the multi-account resolver's and the
container endpoint's) are asked for ``get_frozen_credentials()`` on every request so refreshes are
picked up.

``RefreshingCredentials`` is dynagen's own refreshable credentials object, with botocore's two
refresh windows (see its docstring); botocore clients accept it too.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime

from dynagen._record import Record, init
from dynagen._typing import TYPE_CHECKING, Any
from dynagen.errors import DeadlineExceededError, TransportError
from dynagen.runtime.transport._bounds import current_deadline

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["Credentials", "RefreshingCredentials", "credentials_provider"]


class Credentials(Record):
    """A static access key, secret key and optional session token (immutable)."""

    __slots__ = ("access_key", "secret_key", "token")
    access_key: str
    secret_key: str
    token: str | None

    def __init__(self, access_key: str, secret_key: str, token: str | None = None) -> None:
        init(self, "access_key", access_key)
        init(self, "secret_key", secret_key)
        init(self, "token", token)

    def __repr__(self) -> str:
        # Never print secrets, even by accident in a log line or a test failure.
        return f"Credentials(access_key={self.access_key[:4]}..., token={'set' if self.token else 'none'})"

    def get_frozen_credentials(self) -> Credentials:
        """Itself: lets a ``Credentials`` stand wherever a botocore credentials object is accepted."""
        return self


if TYPE_CHECKING:
    from typing import Protocol

    class CredentialsProvider(Protocol):
        """Anything returning the credentials to sign the next request with."""

        def __call__(self) -> Credentials: ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RefreshingCredentials:
    """Temporary credentials that renew themselves before they expire, with botocore's two windows.

    ``refresh()`` returns the next ``(Credentials, expiry)``. ``get_frozen_credentials()`` returns
    the credentials to sign one request with:

    - more than ``advisory`` seconds before the expiry: the current ones;
    - **advisory** window (the last ``advisory`` seconds): one thread refreshes while the others keep
      signing with the still-valid current credentials; a failure is logged (logger
      ``dynagen.runtime.credentials``) and the next request tries again;
    - **mandatory** window (the last ``mandatory`` seconds, expired included): every thread waits for
      the refresh (at most the usable time of the deadline bound to ``current_deadline``) and a
      failure raises: credentials about to expire are never used to sign.

    Refreshes are single-flight: one lock per object. New credentials that are already expired by
    ``clock`` are refused (``TransportError`` naming the expiry and the local time): a wrong clock
    is reported as such instead of signing requests AWS will reject. botocore accepts this object
    as a client's credentials (``get_frozen_credentials``, ``method``, ``get_deferred_property``).
    """

    __slots__ = ("_advisory", "_clock", "_current", "_expiry", "_lock", "_mandatory", "_refresh", "method")

    def __init__(
        self,
        credentials: Credentials,
        expiry: datetime,
        refresh: Callable[[], tuple[Credentials, datetime]],
        *,
        advisory: float = 900.0,
        mandatory: float = 600.0,
        clock: Callable[[], datetime] | None = None,
        method: str = "dynagen-refreshing",
    ) -> None:
        if not 0 < mandatory <= advisory:
            raise ValueError("refresh windows: need 0 < mandatory <= advisory")
        self._refresh = refresh
        self._advisory = advisory
        self._mandatory = mandatory
        self._clock = clock if clock is not None else _utc_now
        self._lock = threading.Lock()
        self.method = method
        # One tuple, swapped whole: a reader never pairs new credentials with an old expiry.
        self._current = (credentials, self._checked(expiry))

    @property
    def expiry(self) -> datetime:
        """When the current credentials expire."""
        return self._current[1]

    def _remaining(self) -> float:
        return (self._current[1] - self._clock()).total_seconds()

    def get_frozen_credentials(self) -> Credentials:
        """The credentials to sign the next request with, refreshed first when due (see the class)."""
        remaining = self._remaining()
        if remaining > self._advisory:
            return self._current[0]
        if remaining > self._mandatory:
            # Advisory: never wait. A thread already refreshing holds the lock; the others go on
            # signing with credentials that stay valid for at least the mandatory window.
            if self._lock.acquire(blocking=False):
                try:
                    if self._remaining() <= self._advisory:
                        self._renew(mandatory=False)
                finally:
                    self._lock.release()
            return self._current[0]
        self._acquire_in_time()
        try:
            if self._remaining() <= self._mandatory:  # another thread may have refreshed meanwhile
                self._renew(mandatory=True)
        finally:
            self._lock.release()
        return self._current[0]

    def _acquire_in_time(self) -> None:
        # Waiting for another thread's refresh is bounded by this request's deadline; the refresh
        # itself (the AssumeRole) checks that deadline on its own.
        if self._lock.acquire(blocking=False):
            return
        deadline = current_deadline.get()
        if deadline is None:
            self._lock.acquire()
            return
        usable = deadline.usable()
        if usable <= 0 or not self._lock.acquire(timeout=usable):
            raise DeadlineExceededError(operation="waiting for a credentials refresh")

    def _renew(self, *, mandatory: bool) -> None:
        try:
            credentials, expiry = self._refresh()
            self._current = (credentials, self._checked(expiry))
        except Exception as exc:
            if mandatory:
                raise
            import logging  # the failure path only: keeps logging off a base-account cold start

            logging.getLogger("dynagen.runtime.credentials").warning(
                "refreshing credentials (%s) failed in the advisory window; still using the current ones, "
                "valid for %.0f s more: %s",
                self.method,
                self._remaining(),
                exc,
            )

    def _checked(self, expiry: datetime) -> datetime:
        if expiry.tzinfo is None:
            raise TransportError(f"credentials ({self.method}): expiry {expiry.isoformat()} has no time zone")
        now = self._clock()
        if expiry <= now:
            raise TransportError(
                f"credentials ({self.method}) expired at {expiry.isoformat()}, already past by the local clock "
                f"({now.isoformat()}): is this machine's clock right?"
            )
        return expiry

    def get_deferred_property(self, name: str) -> Callable[[], Any]:
        """What botocore asks a credentials object for (``account_id``): None, this object has none."""
        return lambda: getattr(self, name, None)

    def __repr__(self) -> str:
        # The expiry only: nothing secret, not even the access key id.
        return f"RefreshingCredentials(method={self.method!r}, expires={self._current[1].isoformat()})"


def _frozen(source: Any) -> Credentials:
    """The credentials a credentials object holds now (refreshed by it when due), as a ``Credentials``."""
    frozen = source.get_frozen_credentials()
    if type(frozen) is Credentials:  # RefreshingCredentials' own: already checked
        return frozen
    access_key = getattr(frozen, "access_key", None)
    secret_key = getattr(frozen, "secret_key", None)
    if not access_key or not secret_key:
        raise TransportError("the credentials provider returned no access key / secret key")
    return Credentials(access_key, secret_key, getattr(frozen, "token", None) or None)


class _Static:
    __slots__ = ("_credentials",)

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def __call__(self) -> Credentials:
        return self._credentials


class _Botocore:
    """Wraps a botocore ``Credentials`` / ``RefreshableCredentials`` (or anything alike)."""

    __slots__ = ("_source",)

    def __init__(self, source: Any) -> None:
        self._source = source

    def __call__(self) -> Credentials:
        # get_frozen_credentials() refreshes when due and returns a consistent triple.
        return _frozen(self._source)


class _Lazy:
    """A credentials source found on the first request (under a lock), then asked on every request."""

    __slots__ = ("_find", "_lock", "_source")

    def __init__(self, find: Callable[[], Any]) -> None:
        self._find = find
        self._source: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> Credentials:
        source = self._source
        if source is None:
            with self._lock:
                if self._source is None:
                    self._source = self._find()
                source = self._source
        return _frozen(source)


def _botocore_chain() -> Any:
    try:
        import botocore.session  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:  # pragma: no cover - botocore is in every Lambda runtime
        raise TransportError(
            "no AWS credentials in the environment and botocore is not installed to look further"
        ) from exc
    found = botocore.session.get_session().get_credentials()
    if found is None:
        raise TransportError("no AWS credentials found (environment, profiles, container or instance metadata)")
    return found


# -- the container credentials endpoint (Lambda SnapStart, ECS, Fargate) -------------------------------

_CONTAINER_HOST = "http://169.254.170.2"
# Plain-http hosts botocore accepts in AWS_CONTAINER_CREDENTIALS_FULL_URI (besides loopback addresses):
# the ECS / EKS Pod Identity agents. Anything else must be https.
_CONTAINER_HOSTS = frozenset({"169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost"})
# botocore's ContainerMetadataFetcher: 2 s per attempt, 3 attempts; its refresh windows: 15 / 10 minutes.
_CONTAINER_TIMEOUT = 2.0
_CONTAINER_ATTEMPTS = 3
_CONTAINER_MAX_BODY = 1 << 16


def _loopback(host: str) -> bool:
    if host == "::1":
        return True
    octets = host.split(".")
    return len(octets) == 4 and octets[0] == "127" and all(o.isdigit() and int(o) < 256 for o in octets)


class ContainerCredentials:
    """Fetches credentials from the container credentials endpoint, as botocore's ``ContainerProvider``.

    ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` (on ``169.254.170.2``) or ``..._FULL_URI`` (https, or
    http to a loopback address or the ECS / EKS agents), with the ``Authorization`` header from
    ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`` (read on every fetch: it is rotated) or
    ``AWS_CONTAINER_AUTHORIZATION_TOKEN``.
    """

    __slots__ = ("_environ", "_pool", "_target")

    def __init__(self, environ: Mapping[str, str]) -> None:
        from dynagen.runtime.transport.lean._endpoints import parse_endpoint
        from dynagen.runtime.transport.lean._http import ConnectionPool

        relative = environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        url = _CONTAINER_HOST + relative if relative else environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
        try:
            endpoint, rest = parse_endpoint(url)
        except ValueError as exc:
            raise TransportError(f"AWS_CONTAINER_CREDENTIALS_*_URI: {exc}") from None
        if not relative and not endpoint.secure and endpoint.host not in _CONTAINER_HOSTS and not _loopback(endpoint.host):
            raise TransportError(
                f"AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http only to a loopback address or the container agent, "
                f"got host {endpoint.host!r}"
            )
        self._environ = environ
        self._target = rest or "/"
        self._pool = ConnectionPool(endpoint, max_size=1, max_response_bytes=_CONTAINER_MAX_BODY)

    def _authorization(self) -> str | None:
        path = self._environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
        if path:
            try:
                with open(path, encoding="utf-8") as handle:
                    token = handle.read().strip()
            except OSError as exc:
                raise TransportError(f"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE cannot be read: {exc.strerror}") from None
        else:
            token = self._environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN", "")
        if "\r" in token or "\n" in token:
            raise TransportError("the container authorization token contains a line break")
        return token or None

    def fetch(self) -> tuple[Credentials, datetime]:
        """One set of credentials and its expiry (up to 3 attempts, each bounded by the deadline in force)."""
        from dynagen.runtime.transport.lean._http import NoResponseError, NotSentError, TooLargeError

        headers = {"Accept": "application/json"}
        authorization = self._authorization()
        if authorization:
            headers["Authorization"] = authorization
        problem = ""
        for _ in range(_CONTAINER_ATTEMPTS):
            deadline = current_deadline.get()
            # One attempt in all (connect, send, the whole answer) within the connect + read timeouts.
            total = 2 * _CONTAINER_TIMEOUT if deadline is None else min(2 * _CONTAINER_TIMEOUT, deadline.usable())
            if total <= 0:
                raise DeadlineExceededError(operation="container credentials")
            try:
                response = self._pool.request(
                    b"",
                    dict(headers),
                    connect_timeout=_CONTAINER_TIMEOUT,
                    read_timeout=_CONTAINER_TIMEOUT,
                    total=total,
                    method="GET",
                    target=self._target,
                )
            except TooLargeError:
                raise TransportError(f"the container credentials endpoint's answer is larger than {_CONTAINER_MAX_BODY} bytes") from None
            except (NotSentError, NoResponseError) as exc:
                problem = str(exc)
                continue
            if response.status != 200:
                problem = f"status {response.status}"
                if response.status < 500:
                    break  # a refused token or a wrong URI: retrying changes nothing
                continue
            return self._parse(response.body)
        raise TransportError(f"the container credentials endpoint gave no credentials: {problem}")

    @staticmethod
    def _parse(body: bytes) -> tuple[Credentials, datetime]:
        import json

        try:
            data = json.loads(body)
            expiry = datetime.fromisoformat(data["Expiration"])
            credentials = Credentials(str(data["AccessKeyId"]), str(data["SecretAccessKey"]), str(data["Token"]))
        except (ValueError, KeyError, TypeError) as exc:
            # Never echo the body: it holds the secret key.
            raise TransportError(f"the container credentials endpoint's answer is unusable ({type(exc).__name__})") from None
        return credentials, expiry

    def credentials(self) -> RefreshingCredentials:
        """Fetch now, and refresh in botocore's windows for container credentials (15 / 10 minutes)."""
        first, expiry = self.fetch()
        return RefreshingCredentials(first, expiry, self.fetch, method="container-role")


def _container_or_chain(environ: Mapping[str, str]) -> Callable[[], Any]:
    if environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        return lambda: ContainerCredentials(environ).credentials()
    return _botocore_chain


def credentials_provider(credentials: Any = None) -> CredentialsProvider:
    """A provider for the given credentials, or for the environment when None.

    Accepts a ``Credentials``, a credentials object (anything with ``get_frozen_credentials()``:
    botocore's, ``RefreshingCredentials``), an ``(access_key, secret_key[, token])`` tuple, or a
    callable returning a ``Credentials``. None: the environment variables, else the container
    credentials endpoint, else botocore's chain (both found on the first request).
    """
    if credentials is None:
        environ = os.environ
        access_key = environ.get("AWS_ACCESS_KEY_ID")
        secret_key = environ.get("AWS_SECRET_ACCESS_KEY")
        if access_key and secret_key:
            return _Static(Credentials(access_key, secret_key, environ.get("AWS_SESSION_TOKEN") or None))
        return _Lazy(_container_or_chain(environ))
    if isinstance(credentials, Credentials):
        return _Static(credentials)
    if isinstance(credentials, tuple) and len(credentials) in (2, 3):
        return _Static(Credentials(*credentials))
    if hasattr(credentials, "get_frozen_credentials"):
        return _Botocore(credentials)
    if callable(credentials):
        provider: CredentialsProvider = credentials
        return provider
    raise TypeError(f"unsupported credentials object: {type(credentials).__name__}")

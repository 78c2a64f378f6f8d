"""A process-wide, thread-safe cache of low-level clients and their transports.

Creating a botocore client costs milliseconds (service model, endpoint rules, credentials) and its
connection pool is where the warm HTTPS connections live, so a Lambda creates each client once per
execution environment and reuses it across warm invocations::

    transport = get_transport()           # module level: runs once, in the init phase
    warm_up()                             # optional: open the connection before the first request

    def handler(event, context):
        transport.call("GetItem", {...}, deadline=Deadline.from_context(context))

The key is everything that makes clients differ: service, region, endpoint, ``ClientSettings`` and
``credentials_key`` (the credentials source: "" is the default chain of the base account). The
``factory`` is not part of the key: it is only used to create a missing client, so a caller that
brings its own credentials (a ``factory`` building the client from another session) must also
bring a ``credentials_key`` naming them. The multi-account resolver (``PartnerResolver``) does not
use this cache: it keeps its own per-partner clients, tied to each partner's refreshable
credentials, built with the same tuned ``to_botocore_config(default_settings())`` by default.

A warm call is one dict lookup with no lock. A miss takes a per-key lock and checks again, so any
number of threads racing on a cold key create exactly one client, while other keys are not held up.
A failed creation stores nothing; the next call tries again. botocore is imported on the first miss.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Hashable, Mapping

from dynagen._typing import TYPE_CHECKING, Any, overload
from dynagen.errors import InvalidValueError, ServiceError
from dynagen.runtime.aws_lambda._environment import ClientSettings, client_settings, to_botocore_config
from dynagen.runtime.transport._botocore import BotocoreTransport
from dynagen.runtime.transport._botocore_retry import guard_retry_sleep

if TYPE_CHECKING:
    from typing import Literal

    from mypy_boto3_dynamodb import DynamoDBClient

    from dynagen.runtime.transport._interface import Transport

__all__ = ["ClientFactory", "WARM_UP_OPERATION", "clear", "create_client", "default_settings", "get_client", "get_default_transport", "get_lean_transport", "get_transport", "transport_kind", "warm_up"]

logger = logging.getLogger("dynagen.runtime")

ClientFactory = Callable[[str, ClientSettings], Any]
"""Builds a client for ``(service, settings)``; ``settings.region`` / ``endpoint_url`` are resolved."""

# Call arguments as given -> client: the lock-free fast path. Several call keys may map to one
# canonical key (get_client() and get_client(region=<the default region>) share a client).
_by_call: dict[Hashable, Any] = {}
# (service, resolved settings, credentials_key) -> client.
_clients: dict[Hashable, Any] = {}
_key_locks: dict[Hashable, threading.Lock] = {}
_key_locks_guard = threading.Lock()

_transports_by_call: dict[Hashable, BotocoreTransport] = {}
_transports_by_client: dict[int, BotocoreTransport] = {}  # id(client): cached clients live until clear()
_transports_lock = threading.Lock()

_defaults: list[ClientSettings] = []  # settings from the environment, computed once
_session: list[Any] = []  # the shared botocore session
_session_lock = threading.Lock()  # botocore sessions are not thread-safe; clients are


def default_settings() -> ClientSettings:
    """``client_settings()`` for this environment, computed on first use and kept until ``clear()``."""
    if _defaults:
        return _defaults[0]
    settings = client_settings()
    with _key_locks_guard:
        if not _defaults:
            _defaults.append(settings)
        return _defaults[0]


def create_client(service: str, settings: ClientSettings, *, session: Any = None) -> Any:
    """The default factory: a client from a shared botocore session (default credential chain).

    Pass ``session`` (a ``botocore.session.Session``, e.g. one holding refreshable partner
    credentials) to create the client from it instead.
    """
    with _session_lock:
        if session is None:
            if not _session:
                import botocore.session  # type: ignore[import-untyped, unused-ignore]  # lazy

                _session.append(botocore.session.get_session())
            session = _session[0]
        return session.create_client(
            service,
            region_name=settings.region,
            endpoint_url=settings.endpoint_url,
            config=to_botocore_config(settings),
        )


@overload
def get_client(
    service: Literal["dynamodb"] = ...,
    *,
    region: str | None = ...,
    endpoint_url: str | None = ...,
    settings: ClientSettings | None = ...,
    credentials_key: Hashable = ...,
    factory: ClientFactory | None = ...,
) -> DynamoDBClient: ...


@overload
def get_client(
    service: str,
    *,
    region: str | None = ...,
    endpoint_url: str | None = ...,
    settings: ClientSettings | None = ...,
    credentials_key: Hashable = ...,
    factory: ClientFactory | None = ...,
) -> Any: ...


def get_client(
    service: str = "dynamodb",
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    settings: ClientSettings | None = None,
    credentials_key: Hashable = "",
    factory: ClientFactory | None = None,
) -> Any:
    """The cached client for this service, target, settings and credentials source; created on first use.

    ``region`` / ``endpoint_url`` override those of ``settings`` (default: ``default_settings()``).
    """
    call_key = (service, region, endpoint_url, settings, credentials_key)
    client = _by_call.get(call_key)
    if client is not None:
        return client
    return _get_slow(call_key, service, region, endpoint_url, settings, credentials_key, factory)


def _get_slow(
    call_key: Hashable,
    service: str,
    region: str | None,
    endpoint_url: str | None,
    settings: ClientSettings | None,
    credentials_key: Hashable,
    factory: ClientFactory | None,
) -> Any:
    resolved = (settings or default_settings()).targeting(region, endpoint_url)
    key = (service, resolved, credentials_key)
    client = _clients.get(key)
    if client is None:
        with _key_locks_guard:
            lock = _key_locks.setdefault(key, threading.Lock())
        with lock:
            client = _clients.get(key)  # another thread may have created it while we waited
            if client is None:
                started = time.perf_counter()
                client = (factory or create_client)(service, resolved)  # raises: nothing is cached
                _clients[key] = client
                logger.debug(
                    "dynagen: created %s client region=%s endpoint=%s in %.1f ms",
                    service,
                    resolved.region,
                    resolved.endpoint_url,
                    (time.perf_counter() - started) * 1000.0,
                )
    _by_call[call_key] = client
    return client


def get_transport(
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    settings: ClientSettings | None = None,
    credentials_key: Hashable = "",
    factory: ClientFactory | None = None,
) -> BotocoreTransport:
    """The cached ``BotocoreTransport`` over ``get_client("dynamodb", ...)`` (same arguments).

    Its client also gets ``guard_retry_sleep``, so a bound deadline bounds SDK backoff sleeps too, and
    the settings' ``max_response_bytes`` cap.
    """
    call_key = (region, endpoint_url, settings, credentials_key)
    transport = _transports_by_call.get(call_key)
    if transport is not None:
        return transport
    client = get_client(
        "dynamodb",
        region=region,
        endpoint_url=endpoint_url,
        settings=settings,
        credentials_key=credentials_key,
        factory=factory,
    )
    with _transports_lock:
        transport = _transports_by_client.get(id(client))
        if transport is None:
            guard_retry_sleep(client)
            limit = (settings or default_settings()).max_response_bytes
            transport = BotocoreTransport(client, max_response_bytes=limit)
            _transports_by_client[id(client)] = transport
        _transports_by_call[call_key] = transport
    return transport


if TYPE_CHECKING:
    TransportKind = Literal["botocore", "lean"]
_lean_by_settings: dict[ClientSettings, Any] = {}


def transport_kind(environ: Mapping[str, str] | None = None) -> TransportKind:
    """``DYNAGEN_TRANSPORT`` (``lean`` or ``botocore``); unset: lean inside Lambda, botocore elsewhere."""
    env = os.environ if environ is None else environ
    value = env.get("DYNAGEN_TRANSPORT", "").strip().lower()
    if value == "lean" or value == "botocore":
        return value  # type: ignore[return-value]
    if value:
        raise InvalidValueError("DYNAGEN_TRANSPORT", f"expected 'lean' or 'botocore', got {value!r}")
    return "lean" if env.get("AWS_LAMBDA_FUNCTION_NAME") else "botocore"


def get_lean_transport(
    *, region: str | None = None, endpoint_url: str | None = None, settings: ClientSettings | None = None
) -> Any:
    """The cached ``LeanTransport`` for these settings (pool size, timeouts, attempts, response cap and call
    bound from the Lambda tuning)."""
    resolved = (settings or default_settings()).targeting(region, endpoint_url)
    transport = _lean_by_settings.get(resolved)
    if transport is not None:
        return transport
    from dynagen.runtime.transport.lean import LeanTransport  # lazy: botocore-only users never load it

    with _transports_lock:
        transport = _lean_by_settings.get(resolved)
        if transport is None:
            transport = LeanTransport(
                resolved.region,
                endpoint_url=resolved.endpoint_url,
                max_pool_connections=resolved.max_pool_connections,
                connect_timeout=resolved.connect_timeout,
                read_timeout=resolved.read_timeout,
                max_attempts=resolved.max_attempts,
                max_response_bytes=resolved.max_response_bytes,
                call_timeout=resolved.call_timeout,
            )
            _lean_by_settings[resolved] = transport
    return transport


def get_default_transport(
    *,
    kind: TransportKind | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    settings: ClientSettings | None = None,
) -> Transport:
    """The cached transport of the configured kind (``kind``, else ``transport_kind()``) for the base account."""
    if (kind or transport_kind()) == "lean":
        lean: Transport = get_lean_transport(region=region, endpoint_url=endpoint_url, settings=settings)
        return lean
    return get_transport(region=region, endpoint_url=endpoint_url, settings=settings)


def clear() -> None:
    """Forget every cached client, transport and the default settings (for tests; not thread-safe
    against concurrent ``get_client`` calls that are creating a client right now)."""
    with _key_locks_guard, _transports_lock:
        _by_call.clear()
        _clients.clear()
        _key_locks.clear()
        _transports_by_call.clear()
        _transports_by_client.clear()
        _defaults.clear()
        _lean_by_settings.clear()


# --- deadline-aware retry backoff -------------------------------------------------------------


# --- warm-up --------------------------------------------------------------------------------------

# DescribeEndpoints: needs no table, reads no item, consumes no capacity and is not billed; it is an
# ordinary signed DynamoDB request, so it exercises everything a real first call needs (credentials,
# endpoint rules, signing, DNS, TCP + TLS handshake into the pool's keep-alive connection). Even an
# AccessDenied answer leaves the connection open, which is the point. A GetItem on a missing key would
# need a table name and read capacity; ListTables needs a permission functions rarely have.
WARM_UP_OPERATION = "DescribeEndpoints"


def warm_up(
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    settings: ClientSettings | None = None,
    credentials_key: Hashable = "",
    factory: ClientFactory | None = None,
    operation: str = WARM_UP_OPERATION,
    request: Mapping[str, Any] | None = None,
    transport: Transport | None = None,
) -> bool:
    """Create (and cache) the client and open its connection with one cheap call. Never raises.

    Call it in the Lambda init phase. Returns True when the service answered (an error answer
    counts: the connection is open), False when the client could not be created or reached; the
    reason is logged as a warning. Give ``transport`` to warm one you already have (e.g. a lean one).
    """
    started = time.perf_counter()
    try:
        if transport is None:
            transport = get_transport(
                region=region,
                endpoint_url=endpoint_url,
                settings=settings,
                credentials_key=credentials_key,
                factory=factory,
            )
        transport.call(operation, request or {})
    except Exception as exc:
        answered = isinstance(exc, ServiceError) or isinstance(getattr(exc, "response", None), dict) or isinstance(
            getattr(exc.__cause__, "response", None), dict
        )
        if not answered:
            logger.warning("dynagen warm-up failed: %s", type(exc).__name__, exc_info=True)
            return False
        logger.debug("dynagen warm-up: the service answered %s", type(exc).__name__)
    logger.debug("dynagen warm-up took %.1f ms", (time.perf_counter() - started) * 1000.0)
    return True

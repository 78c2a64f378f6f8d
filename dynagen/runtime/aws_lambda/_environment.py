"""Where are we running, and how should a DynamoDB client be tuned for it.

``detect_lambda()`` reads the variables the Lambda runtime sets; ``client_settings()`` turns that into
a frozen ``ClientSettings`` and ``to_botocore_config()`` into a ``botocore.config.Config`` (botocore is
imported only there).

Every setting can be overridden by a keyword argument of ``client_settings()`` (highest precedence),
then by an environment variable, then falls back to the Lambda tuning or the defaults outside Lambda:

    ===============================  ============================  ===================  ==================
    environment variable             setting                       in Lambda            outside Lambda
    ===============================  ============================  ===================  ==================
    DYNAGEN_REGION                   region                        AWS_REGION           AWS_REGION, then
                                                                                        AWS_DEFAULT_REGION
    DYNAGEN_ENDPOINT_URL             endpoint_url                  (AWS default)        (AWS default)
    DYNAGEN_MAX_POOL_CONNECTIONS     max_pool_connections          5 / 10 / 20 by size  10
    DYNAGEN_CONNECT_TIMEOUT          connect_timeout (seconds)     1.0                  5.0
    DYNAGEN_READ_TIMEOUT             read_timeout (seconds)        3.0                  30.0
    DYNAGEN_RETRY_MODE               retry_mode                    adaptive             standard
    DYNAGEN_MAX_ATTEMPTS             max_attempts (incl. first)    3                    5
    DYNAGEN_TCP_KEEPALIVE            tcp_keepalive (1/0)           1                    1
    DYNAGEN_MAX_RESPONSE_BYTES       max_response_bytes            33554432 (32 MiB)    33554432 (32 MiB)
    DYNAGEN_CALL_TIMEOUT             call_timeout (seconds, lean)  15.0                 60.0
    ===============================  ============================  ===================  ==================

``max_response_bytes`` caps every response body on both transports (``ResponseTooLargeError``, refused
before the body is read whole); ``call_timeout`` bounds one lean call in all (attempts and backoff),
with or without a deadline. ``0`` for either means no cap.

The X-Ray trace header (``_X_AMZN_TRACE_ID``) changes with every invocation, so it is never cached:
``current_trace_header()`` / ``current_trace_id()`` read it at call time. A malformed one (control
characters, anything but printable ASCII) is ignored, never an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from dynagen._typing import TYPE_CHECKING, Any
from dynagen.errors import InvalidValueError
from dynagen.runtime.transport._bounds import DEFAULT_MAX_RESPONSE_BYTES

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "ClientSettings",
    "LambdaEnvironment",
    "RETRY_MODES",
    "TraceHeader",
    "client_settings",
    "current_trace_header",
    "current_trace_id",
    "detect_lambda",
    "parse_trace_header",
    "pool_size_for_memory",
    "to_botocore_config",
]

RETRY_MODES = frozenset({"legacy", "standard", "adaptive"})

# Lambda: a handler's whole budget is seconds, and DynamoDB in the same region answers in ~5-20 ms
# (TLS setup included, well under 100 ms). A 1 s connect timeout catches a lost SYN or a dead
# endpoint while a retry still fits in the budget; 3 s for reading leaves room for a 1 MB Query/Scan
# page or a slow transaction, yet a stuck socket costs 3 s, not botocore's default 60 s (longer than
# most Lambda timeouts). Three attempts: enough to ride out a throttle or a 500, few enough that the
# retries cannot eat the invocation (the deadline guard stops them earlier anyway). Adaptive retries
# add client-side rate limiting once throttling is seen, which keeps a hot function from hammering
# a throttled table. TCP keepalive costs nothing and lets long-lived connections notice a dead peer.
_LAMBDA_CONNECT_TIMEOUT = 1.0
_LAMBDA_READ_TIMEOUT = 3.0
_LAMBDA_RETRY_MODE = "adaptive"
_LAMBDA_MAX_ATTEMPTS = 3
# One lean call, every attempt and backoff included, when no deadline says otherwise: three attempts
# of at most 1 + 3 s each fit, with their backoff; a handler should still pass its deadline.
_LAMBDA_CALL_TIMEOUT = 15.0

# Outside Lambda (scripts, containers, tests): no hard time budget, so be patient; standard retries
# are botocore's well-understood mode; 5 attempts suit batch jobs that hit throttling.
_DEFAULT_CONNECT_TIMEOUT = 5.0
_DEFAULT_READ_TIMEOUT = 30.0
_DEFAULT_RETRY_MODE = "standard"
_DEFAULT_MAX_ATTEMPTS = 5
_DEFAULT_POOL = 10  # botocore's own default
_DEFAULT_CALL_TIMEOUT = 60.0

_TRACE_ENV = "_X_AMZN_TRACE_ID"


@dataclass(frozen=True)
class LambdaEnvironment:
    """What the Lambda runtime tells a function about itself (read once, at init)."""

    function_name: str
    function_version: str | None = None
    memory_mb: int | None = None
    region: str | None = None
    log_group_name: str | None = None
    log_stream_name: str | None = None
    execution_env: str | None = None  # e.g. "AWS_Lambda_python3.11"
    initialization_type: str | None = None  # "on-demand", "provisioned-concurrency", "snap-start"


def detect_lambda(environ: Mapping[str, str] | None = None) -> LambdaEnvironment | None:
    """The Lambda environment, or None when ``AWS_LAMBDA_FUNCTION_NAME`` is not set."""
    env = os.environ if environ is None else environ
    name = env.get("AWS_LAMBDA_FUNCTION_NAME")
    if not name:
        return None
    memory = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
    return LambdaEnvironment(
        function_name=name,
        function_version=env.get("AWS_LAMBDA_FUNCTION_VERSION") or None,
        memory_mb=int(memory) if memory.strip().isdigit() else None,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
        log_group_name=env.get("AWS_LAMBDA_LOG_GROUP_NAME") or None,
        log_stream_name=env.get("AWS_LAMBDA_LOG_STREAM_NAME") or None,
        execution_env=env.get("AWS_EXECUTION_ENV") or None,
        initialization_type=env.get("AWS_LAMBDA_INITIALIZATION_TYPE") or None,
    )


def pool_size_for_memory(memory_mb: int | None) -> int:
    """Connection pool size for a Lambda's memory: up to 512 MB 5, up to 1024 MB 10, above 20.

    Lambda's CPU share grows with memory, so bigger functions can drive more parallel requests
    (threads, batch fan-out); small ones would only hold idle sockets.
    """
    if memory_mb is None:
        return _DEFAULT_POOL
    if memory_mb <= 512:
        return 5
    if memory_mb <= 1024:
        return 10
    return 20


@dataclass(frozen=True)
class ClientSettings:
    """Everything that shapes a low-level client; hashable, so it can key the client cache."""

    region: str | None = None
    endpoint_url: str | None = None
    max_pool_connections: int = _DEFAULT_POOL
    connect_timeout: float = _DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = _DEFAULT_READ_TIMEOUT
    retry_mode: str = _DEFAULT_RETRY_MODE
    max_attempts: int = _DEFAULT_MAX_ATTEMPTS
    tcp_keepalive: bool = True
    max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES  # None: no cap
    call_timeout: float | None = _DEFAULT_CALL_TIMEOUT  # None: no bound but the attempts'
    # The hash, computed once: settings key the client cache, so they are hashed on every warm lookup.
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        if self.max_pool_connections < 1:
            raise InvalidValueError("max_pool_connections", f"must be >= 1, got {self.max_pool_connections}")
        if not self.connect_timeout > 0:
            raise InvalidValueError("connect_timeout", f"must be > 0 seconds, got {self.connect_timeout}")
        if not self.read_timeout > 0:
            raise InvalidValueError("read_timeout", f"must be > 0 seconds, got {self.read_timeout}")
        if self.retry_mode not in RETRY_MODES:
            raise InvalidValueError("retry_mode", f"must be one of {sorted(RETRY_MODES)}, got {self.retry_mode!r}")
        if self.max_attempts < 1:
            raise InvalidValueError("max_attempts", f"must be >= 1 (the first attempt counts), got {self.max_attempts}")
        if self.max_response_bytes is not None and self.max_response_bytes < 1:
            raise InvalidValueError(
                "max_response_bytes", f"must be >= 1 byte (or None: no cap), got {self.max_response_bytes}"
            )
        if self.call_timeout is not None and not self.call_timeout > 0:
            raise InvalidValueError("call_timeout", f"must be > 0 seconds (or None: no bound), got {self.call_timeout}")
        key = (self.region, self.endpoint_url, self.max_pool_connections, self.connect_timeout, self.read_timeout)
        rest = (self.retry_mode, self.max_attempts, self.tcp_keepalive, self.max_response_bytes, self.call_timeout)
        object.__setattr__(self, "_hash", hash((*key, *rest)))

    def __hash__(self) -> int:
        return self._hash

    def targeting(self, region: str | None, endpoint_url: str | None) -> ClientSettings:
        """These settings with the region / endpoint replaced where given (self when nothing changes)."""
        region = region or self.region
        endpoint_url = endpoint_url or self.endpoint_url
        if region == self.region and endpoint_url == self.endpoint_url:
            return self
        return replace(self, region=region, endpoint_url=endpoint_url)


def client_settings(
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_pool_connections: int | None = None,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    retry_mode: str | None = None,
    max_attempts: int | None = None,
    tcp_keepalive: bool | None = None,
    max_response_bytes: int | None = None,
    call_timeout: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> ClientSettings:
    """Tuned settings for this environment: keyword > ``DYNAGEN_*`` variable > Lambda tuning / defaults.

    ``max_response_bytes`` / ``call_timeout`` of ``0`` (keyword or variable) turn that bound off.
    """
    env = os.environ if environ is None else environ
    lam = detect_lambda(env)
    if lam is not None:
        base = ClientSettings(
            region=lam.region,
            max_pool_connections=pool_size_for_memory(lam.memory_mb),
            connect_timeout=_LAMBDA_CONNECT_TIMEOUT,
            read_timeout=_LAMBDA_READ_TIMEOUT,
            retry_mode=_LAMBDA_RETRY_MODE,
            max_attempts=_LAMBDA_MAX_ATTEMPTS,
            call_timeout=_LAMBDA_CALL_TIMEOUT,
        )
    else:
        base = ClientSettings(region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None)
    try:
        settings = _settings_from(env, base, region, endpoint_url, max_pool_connections, connect_timeout,
                                  read_timeout, retry_mode, max_attempts, tcp_keepalive)  # fmt: skip
        return _bounds_from(env, settings, max_response_bytes, call_timeout)
    except InvalidValueError as exc:
        # A bad value from the environment names the variable to fix, not the setting it feeds.
        given = {"max_pool_connections": max_pool_connections, "connect_timeout": connect_timeout,
                 "read_timeout": read_timeout, "retry_mode": retry_mode, "max_attempts": max_attempts,
                 "max_response_bytes": max_response_bytes, "call_timeout": call_timeout}  # fmt: skip
        name = f"DYNAGEN_{exc.field.upper()}"
        if exc.field in given and given[exc.field] is None and _env_str(env, name) is not None:
            raise InvalidValueError(name, exc.reason) from None
        raise


def _settings_from(
    env: Mapping[str, str],
    base: ClientSettings,
    region: str | None,
    endpoint_url: str | None,
    max_pool_connections: int | None,
    connect_timeout: float | None,
    read_timeout: float | None,
    retry_mode: str | None,
    max_attempts: int | None,
    tcp_keepalive: bool | None,
) -> ClientSettings:
    return ClientSettings(
        region=_pick(region, _env_str(env, "DYNAGEN_REGION"), base.region),
        endpoint_url=_pick(endpoint_url, _env_str(env, "DYNAGEN_ENDPOINT_URL"), base.endpoint_url),
        max_pool_connections=_pick(
            max_pool_connections, _env_int(env, "DYNAGEN_MAX_POOL_CONNECTIONS"), base.max_pool_connections
        ),
        connect_timeout=_pick(connect_timeout, _env_float(env, "DYNAGEN_CONNECT_TIMEOUT"), base.connect_timeout),
        read_timeout=_pick(read_timeout, _env_float(env, "DYNAGEN_READ_TIMEOUT"), base.read_timeout),
        retry_mode=_pick(retry_mode, _env_str(env, "DYNAGEN_RETRY_MODE"), base.retry_mode),
        max_attempts=_pick(max_attempts, _env_int(env, "DYNAGEN_MAX_ATTEMPTS"), base.max_attempts),
        tcp_keepalive=_pick(tcp_keepalive, _env_bool(env, "DYNAGEN_TCP_KEEPALIVE"), base.tcp_keepalive),
        max_response_bytes=base.max_response_bytes,
        call_timeout=base.call_timeout,
    )


def _bounds_from(
    env: Mapping[str, str], settings: ClientSettings, max_response_bytes: int | None, call_timeout: float | None
) -> ClientSettings:
    """The response cap and call bound: keyword > variable > default, where 0 turns the bound off."""
    size = _pick(max_response_bytes, _env_int(env, "DYNAGEN_MAX_RESPONSE_BYTES"))
    seconds = _pick(call_timeout, _env_float(env, "DYNAGEN_CALL_TIMEOUT"))
    if size is None and seconds is None:
        return settings
    return replace(
        settings,
        max_response_bytes=settings.max_response_bytes if size is None else (size or None),
        call_timeout=settings.call_timeout if seconds is None else (seconds or None),
    )


def to_botocore_config(settings: ClientSettings) -> Any:
    """A ``botocore.config.Config`` for these settings (the endpoint URL goes to ``create_client``)."""
    from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]  # lazy: keep imports light

    return Config(
        region_name=settings.region,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        max_pool_connections=settings.max_pool_connections,
        retries={"mode": settings.retry_mode, "total_max_attempts": settings.max_attempts},
        tcp_keepalive=settings.tcp_keepalive,
    )


@dataclass(frozen=True)
class TraceHeader:
    """The parsed X-Ray trace header ``Root=1-...;Parent=...;Sampled=1``."""

    root: str
    parent: str | None = None
    sampled: bool | None = None


def parse_trace_header(value: str | None) -> TraceHeader | None:
    """Parse an X-Ray trace header; None when it is empty, has no ``Root``, or is malformed.

    Malformed: anything but printable ASCII (a CR or LF, say). The value reaches log records and
    metrics, so a damaged one is dropped whole rather than carried there or allowed to raise.
    """
    if not value or not (value.isascii() and value.isprintable()):
        return None
    fields: dict[str, str] = {}
    for part in value.split(";"):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields[key.strip()] = val.strip()
    root = fields.get("Root")
    if not root:
        return None
    sampled = fields.get("Sampled")
    return TraceHeader(
        root=root,
        parent=fields.get("Parent") or None,
        sampled=None if sampled not in ("0", "1") else sampled == "1",
    )


def current_trace_header(environ: Mapping[str, str] | None = None) -> TraceHeader | None:
    """The trace header of the invocation in progress (read now: it changes per invocation)."""
    env = os.environ if environ is None else environ
    return parse_trace_header(env.get(_TRACE_ENV))


def current_trace_id(environ: Mapping[str, str] | None = None) -> str | None:
    """The X-Ray trace id (the ``Root``) of the invocation in progress, if tracing is on."""
    header = current_trace_header(environ)
    return header.root if header is not None else None


def _pick(*values: Any) -> Any:
    for value in values:
        if value is not None:
            return value
    return None


def _env_str(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _env_int(env: Mapping[str, str], name: str) -> int | None:
    value = _env_str(env, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidValueError(name, f"expected an integer, got {value!r}") from None


def _env_float(env: Mapping[str, str], name: str) -> float | None:
    value = _env_str(env, name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidValueError(name, f"expected a number of seconds, got {value!r}") from None


def _env_bool(env: Mapping[str, str], name: str) -> bool | None:
    value = _env_str(env, name)
    if value is None:
        return None
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise InvalidValueError(name, f"expected 1/0/true/false, got {value!r}")

"""The multi-account resolver: one DynamoDB client or transport per partner account, via STS AssumeRole.

``PartnerResolver.transport(partner, kind=...)`` returns the partner's cached transport of either
kind: a ``LeanTransport`` (stdlib HTTP + SigV4) or a ``BotocoreTransport`` around a low-level client
(``client(partner)``), in the partner's region and endpoint, signing with credentials from
``sts:AssumeRole`` on the partner's role with its external ID. ``""`` is the base account (its own
credentials, no AssumeRole). Without ``kind``, the kind is ``transport_kind()``'s
(``DYNAGEN_TRANSPORT``; lean inside Lambda), as for ``get_default_transport``.

Two STS paths, picked per partner by the kind of transport that first needs it (or ``sts_kind``):

- **lean**: AssumeRole over the lean HTTP client (``dynagen.runtime.transport.lean._sts``: the query API,
  SigV4 with service ``sts``, XML read with expat, no entity expansion), credentials in dynagen's
  ``RefreshingCredentials``, base credentials from the environment or the container credentials
  endpoint. botocore is not imported (unless the base credentials need its provider chain);
- **botocore**: botocore's STS client and ``RefreshableCredentials``.

Either way the credentials refresh in two windows before they expire (advisory ``refresh_before``
seconds, default 300; mandatory half of that), and both kinds of one partner share one set of
credentials (one AssumeRole), cached, dropped and isolated together.

Guarantees:

- at most one AssumeRole per partner is in flight at any time (a per-partner lock, also held by
  refreshes); a failed AssumeRole raises ``AssumeRoleError`` and leaves nothing cached; so do
  credentials that are unusable or already expired by the local clock;
- a client or transport is bound to one partner's credentials for its whole life: the refresh
  callback is tied to the exact ``Partner`` it was created for and stops working once that partner
  is removed or replaced, so no partner is ever handed another partner's client, transport or
  credentials;
- credentials are never logged, and nothing dynagen owns has a repr that shows them;
- a deadline bounds the AssumeRole call itself, not only its start. The lean STS client cuts each
  attempt's whole exchange to the usable time and starts no attempt or backoff past it; botocore's
  STS client gets the same per-attempt hooks as DynamoDB clients, and when less usable time is left
  than its connect / read timeouts, the call goes through a one-off client whose timeouts are cut
  to the usable time. Both transports bind their call's deadline to ``current_deadline``, so a
  refresh that a request triggers is bounded by that request's deadline.

The current partner travels in the ``current_partner`` context variable (``use_partner``), and
``PartnerLogFilter`` adds it to log records while masking account ids, credential values and every
known secret (partners' external IDs, issued secret keys and session tokens) wherever they appear.

Standard library only at import time; botocore is imported when the first botocore client is created.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime

from dynagen._typing import TYPE_CHECKING, Any, TypeVar, cast, overload
from dynagen.errors import (
    AssumeRoleError,
    DeadlineExceededError,
    DynagenError,
    InvalidValueError,
    ServiceError,
    TransportError,
    UnknownPartnerError,
)
from dynagen.runtime.accounts._partners import (
    DEFAULT_PARTNERS_ENV,
    Partner,
    check_endpoint_url,
    mask_account_ids,
    partners_from_env,
)
from dynagen.runtime.aws_lambda._context import current_partner
from dynagen.runtime.transport._botocore import BotocoreTransport, _refuse_late_attempt
from dynagen.runtime.transport._bounds import current_deadline
from dynagen.runtime.transport._urls import quote

if TYPE_CHECKING:
    from typing import Literal

    from botocore.config import Config  # type: ignore[import-untyped]
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sts import STSClient

    from dynagen.runtime.aws_lambda._clients import TransportKind
    from dynagen.runtime.aws_lambda._environment import ClientSettings
    from dynagen.runtime.transport._bounds import Deadline
    from dynagen.runtime.transport._interface import Transport
    from dynagen.runtime.transport.lean import LeanTransport
    from dynagen.runtime.transport.lean._credentials import CredentialsProvider
    from dynagen.runtime.transport.lean._sts import StsClient

__all__ = [
    "DEFAULT_REFRESH_BEFORE",
    "PartnerLogFilter",
    "PartnerResolver",
    "current_partner",
    "install_partner_log_filter",
    "redact_secrets",
    "use_partner",
]

# Five minutes: longer than any sane request (plus SDK retries) takes, so credentials signed just
# before the window still reach AWS valid, and short enough to use most of each session.
DEFAULT_REFRESH_BEFORE = 300.0

_log = logging.getLogger("dynagen.runtime.accounts")

"""The partner the current request/task works for ("" = the base account); read by logs and traces."""

_T = TypeVar("_T")


@contextmanager
def use_partner(partner: str) -> Iterator[str]:
    """Set ``current_partner`` for the duration of a ``with`` block (restored afterwards, also on error)."""
    token = current_partner.set(partner)
    try:
        yield partner
    finally:
        current_partner.reset(token)


# ---------------------------------------------------------------------------------------------
# Log hygiene

# Credential values shorter than this are not secrets worth a substring search (and would mangle
# ordinary words: the test suites' "testing" keys). Real secret keys have 40 characters, tokens hundreds.
_MIN_CREDENTIAL = 16
_MAX_ISSUED = 512  # about two per partner and refresh: hundreds of partner-hours
_MAX_SEEN = 128  # learned from log lines, kept apart: junk in a log line never evicts an issued secret


def _id_pattern(value: str) -> re.Pattern[str]:
    # Not inside a longer word: a short external id ("ab") must not eat every "ab" of a log line.
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])")


class _KnownSecrets:
    """Values replaced with ``****`` wherever they appear in a log line or traceback, in free text too.

    External IDs of every partner any resolver was given (and their percent-encoded form), and the
    secret keys and session tokens of credentials dynagen obtained (AssumeRole results, the
    environment's) or saw (values the field patterns below matched in earlier records). Reads take
    an immutable snapshot, so logging threads never wait for a resolver.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: dict[str, re.Pattern[str] | None] = {}  # compiled when first found in a text
        # Insertion-ordered: the oldest are dropped first.
        self._issued: dict[str, None] = {}
        self._seen: dict[str, None] = {}
        self._snapshot: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())

    def add_external_id(self, value: str) -> None:
        with self._lock:
            for form in {value, quote(value)}:  # quoted: as it travels in an STS request body
                if form and form not in self._ids:
                    self._ids[form] = None
            self._publish()

    def add_credentials(self, *values: str | None, seen: bool = False) -> None:
        """Remember secret keys / session tokens; ``seen``: found in a log line, not issued to dynagen."""
        fresh = [v for v in values if v and len(v) >= _MIN_CREDENTIAL and v not in self._issued and v not in self._seen]
        if not fresh:
            return
        store, limit = (self._seen, _MAX_SEEN) if seen else (self._issued, _MAX_ISSUED)
        with self._lock:
            for value in fresh:
                store[value] = None
            while len(store) > limit:
                del store[next(iter(store))]
            self._publish()

    def _publish(self) -> None:
        # Longest first: a value containing another is replaced whole.
        credentials = tuple(sorted({**self._issued, **self._seen}, key=len, reverse=True))
        self._snapshot = (credentials, tuple(sorted(self._ids, key=len, reverse=True)))

    def redact(self, text: str) -> str:
        credentials, ids = self._snapshot
        for value in credentials:
            if value in text:
                text = text.replace(value, "****")
        for value in ids:
            if value in text:
                text = self._pattern(value).sub("****", text)
        return text

    def _pattern(self, value: str) -> re.Pattern[str]:
        # Compiled on first need, not when the partner is added: a resolver's init stays cheap with
        # hundreds of partners (the cold start of every function that has them).
        pattern = self._ids.get(value)
        if pattern is None:
            pattern = _id_pattern(value)
            with self._lock:
                if value in self._ids:
                    self._ids[value] = pattern
        return pattern


_known_secrets = _KnownSecrets()


def _learned(match: re.Match[str]) -> str:
    # A value a field pattern recognised as a secret is remembered, so it is masked later even where
    # nothing marks it (a bare token in an exception message, a traceback's repr of a dict).
    _known_secrets.add_credentials(match.group(2), seen=True)
    return f"{match.group(1)}****{match.group(3)}"


_secret_fields: list[tuple[re.Pattern[str], Any]] = []


def _fields() -> list[tuple[re.Pattern[str], Any]]:
    """The field patterns, compiled on first use (~0.3 ms a partner function's cold start need not pay)."""
    if not _secret_fields:
        _secret_fields[:] = [
            # XML (STS responses as botocore logs them at DEBUG)
            (re.compile(r"(<(?:SecretAccessKey|SessionToken)>)([^<]*)(</)"), _learned),
            # dict reprs, JSON, headers and key=value pairs
            (
                re.compile(
                    r"""(?i)(\b(?:SecretAccessKey|SessionToken|SecurityToken|X-Amz-Security-Token|"""
                    r"""aws_secret_access_key|aws_session_token|secret_key|ExternalId)["']?\s*[:=]\s*b?["']?)"""
                    r"""([^"'\s,}&]+)()"""
                ),
                _learned,
            ),
            # Access key ids (long-term AKIA and temporary ASIA), e.g. in an Authorization header's Credential=
            (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{12,124}\b"), r"\1****"),
        ]
    return _secret_fields


def redact_secrets(text: str) -> str:
    """Mask account ids in ARNs, access key ids, secret-key / session-token values and known secrets in ``text``.

    Known secrets: every partner's external ID and the secret keys and session tokens dynagen has
    obtained or seen, wherever they appear (free text included).
    """
    text = mask_account_ids(_known_secrets.redact(text))
    for pattern, replacement in _fields():
        text = pattern.sub(replacement, text)
    return text


class PartnerLogFilter(logging.Filter):
    """Adds ``record.partner`` (the current partner, None for the base account) and redacts the message.

    The partner comes from the same context variable as ``LogContextFilter``'s, with the same
    meaning, so the two filters never disagree.

    Attach it to handlers (not loggers) so it also sees records propagated from botocore::

        handler.addFilter(PartnerLogFilter())
        logging.Formatter("%(levelname)s [%(partner)s] %(message)s")

    Besides the field patterns of ``redact_secrets`` it replaces known secrets wherever they appear,
    free text included: every configured partner's external ID (whichever resolver was given it),
    the secret keys and session tokens of the credentials AssumeRole issued to a resolver, the
    environment's (read when the filter is created), and those it has seen in earlier records. The
    message, the traceback it formats (``exc_text``, chained causes included) and ``stack_info`` are
    covered.
    """

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        _known_secrets.add_credentials(os.environ.get("AWS_SECRET_ACCESS_KEY"), os.environ.get("AWS_SESSION_TOKEN"))

    def filter(self, record: logging.LogRecord) -> bool:
        record.partner = current_partner.get() or None
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed record: let logging report it as usual
        redacted = redact_secrets(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_secrets(record.stack_info)
        return True


def install_partner_log_filter(logger: logging.Logger | None = None) -> PartnerLogFilter:
    """Add one ``PartnerLogFilter`` to every handler of ``logger`` (the root logger by default)."""
    target = logger if logger is not None else logging.getLogger()
    log_filter = PartnerLogFilter()
    for handler in target.handlers:
        if not any(isinstance(f, PartnerLogFilter) for f in handler.filters):
            handler.addFilter(log_filter)
    return log_filter


# ---------------------------------------------------------------------------------------------
# The resolver

_SESSION_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_+=,.@-]")
_SESSION_PREFIX = re.compile(r"[A-Za-z0-9_+=,.@-]{1,32}")
_MAX_SESSION_NAME = 64


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Entry:
    """The cached credentials of one partner (or the base account) and what is built on them.

    The botocore client (and its ``BotocoreTransport``) and the ``LeanTransport`` are each built on
    first use, at most once (``build_lock``), from this entry's own partner and credentials only.
    """

    __slots__ = ("botocore", "build_lock", "client", "credentials", "lean", "partner")

    def __init__(self, partner: Partner | None, credentials: Any) -> None:
        self.partner = partner
        self.credentials = credentials
        self.client: DynamoDBClient | None = None
        self.botocore: BotocoreTransport | None = None
        self.lean: LeanTransport | None = None
        self.build_lock = threading.Lock()

    def __repr__(self) -> str:
        # Deliberately no credential attribute here, not even masked.
        if self.partner is None:
            return "<dynagen client entry: base account>"
        role = mask_account_ids(self.partner.role_arn)
        return f"<dynagen client entry: partner {self.partner.partner_id!r}, role {role}>"


class PartnerResolver:
    """Hands out one cached DynamoDB client (and transport) per partner; ``""`` is the base account.

    ``region`` / ``endpoint_url`` apply to the base account's client (partners carry their own); a
    URL with a user name or password is refused, as ``sts_endpoint_url`` and partners' are.
    ``config`` (a ``botocore.config.Config``) is used for every botocore client, STS included;
    default: the runtime's tuned config (``to_botocore_config(default_settings())``: in Lambda short
    timeouts, adaptive retries and a pool sized by memory), built when the first client is.
    ``sts_endpoint_url``: the STS endpoint (e.g. a VPC endpoint without private DNS); default: the
    partner region's regional endpoint (``AWS_ENDPOINT_URL_STS`` / ``AWS_ENDPOINT_URL`` are honoured
    on both STS paths, as botocore reads them).
    ``refresh_before``: seconds before expiry at which credentials are refreshed (default 300).
    ``clock``: returns the current time as an aware ``datetime`` (tests inject a fake one).
    ``sts_client_factory(partner)``: the STS client to call AssumeRole with (anything with botocore's
    ``assume_role(**params)``; default: one client per partner region, lean or botocore, signing with
    the base account's credentials).
    ``session_prefix``: first part of every ``RoleSessionName`` (``<prefix>-<partner>-<random>``).
    ``settings`` (a ``ClientSettings``): pool size, timeouts and attempts of the lean transports
    and of the lean STS client; default: those of ``config`` when one is given, else
    ``default_settings()`` (the Lambda tuning). Their region and endpoint are the partner's (the base
    account's: ``region`` / ``endpoint_url``).
    ``sts_kind``: which stack assumes partners' roles and refreshes their credentials: ``"lean"``
    (STS over the lean HTTP client, ``RefreshingCredentials``; botocore is not imported) or
    ``"botocore"`` (botocore's STS client and ``RefreshableCredentials``); default None: the kind of
    the transport that first needs the partner (``transport(kind="lean")`` takes the lean path,
    ``client()`` and botocore transports botocore's). Both kinds of one partner then share those
    credentials. With ``sts_client_factory``, its client makes the call either way.
    """

    def __init__(
        self,
        partners: Iterable[Partner] = (),
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        config: Config | None = None,
        refresh_before: float = DEFAULT_REFRESH_BEFORE,
        clock: Callable[[], datetime] | None = None,
        sts_client_factory: Callable[[Partner], STSClient] | None = None,
        sts_endpoint_url: str | None = None,
        session_prefix: str = "dynagen",
        settings: ClientSettings | None = None,
        sts_kind: TransportKind | None = None,
    ) -> None:
        if isinstance(refresh_before, bool) or not isinstance(refresh_before, int | float) or not refresh_before > 0:
            raise InvalidValueError("refresh_before", f"must be a positive number of seconds, got {refresh_before!r}")
        if not _SESSION_PREFIX.fullmatch(session_prefix):
            raise InvalidValueError("session_prefix", "must be 1-32 characters of letters, digits and _+=,.@-")
        if sts_kind not in (None, "lean", "botocore"):
            raise InvalidValueError("sts_kind", f"expected 'lean', 'botocore' or None, got {sts_kind!r}")
        check_endpoint_url("endpoint_url", endpoint_url)
        check_endpoint_url("sts_endpoint_url", sts_endpoint_url)
        self._region = region
        self._endpoint_url = endpoint_url
        self._config = config
        self._config_given = config is not None
        self._settings = settings
        self._refresh_before = float(refresh_before)
        self._clock = clock if clock is not None else _utc_now
        self._sts_client_factory = sts_client_factory
        self._sts_endpoint_url = sts_endpoint_url
        self._session_prefix = session_prefix
        self._sts_kind = sts_kind
        # _lock guards the dicts below; it is never held during a network call.
        self._lock = threading.Lock()
        self._partners: dict[str, Partner] = {}
        self._entries: dict[str, _Entry] = {}
        # One lock per partner id, kept for the resolver's life (a few hundred bytes each): a thread
        # waiting on it must find the same lock as the thread holding it, even across remove/add.
        self._partner_locks: dict[str, threading.RLock] = {}
        # botocore sessions are not safe for concurrent client creation: serialize it.
        self._create_lock = threading.Lock()
        self._base_session: Any = None
        self._sts_clients: dict[str, STSClient] = {}
        self._lean_sts_clients: dict[str, StsClient] = {}
        self._base_provider: CredentialsProvider | None = None
        for partner in partners:
            self.add_partner(partner)

    @classmethod
    def from_env(
        cls, name: str = DEFAULT_PARTNERS_ENV, *, environ: Mapping[str, str] | None = None, **kwargs: Any
    ) -> PartnerResolver:
        """A resolver for the partners in the JSON environment variable ``name`` (none if unset)."""
        return cls(partners_from_env(name, environ), **kwargs)

    # -- partners ---------------------------------------------------------------------------

    def add_partner(self, partner: Partner, *, replace: bool = False) -> None:
        """Register a partner. Re-adding an identical one is a no-op; a different config for a known id
        needs ``replace=True`` and drops that partner's cached client, transports and credentials."""
        if not isinstance(partner, Partner):
            raise TypeError(f"expected a Partner, got {type(partner).__name__}")
        if partner.duration <= self._refresh_before:
            raise InvalidValueError(
                f"partners[{partner.partner_id}].session_duration",
                f"{partner.duration} s sessions would be refreshed on every call "
                f"(refresh_before={self._refresh_before:g} s)",
            )
        with self._lock:
            known = self._partners.get(partner.partner_id)
            if known == partner:
                return
            if known is not None and not replace:
                raise InvalidValueError(
                    f"partners[{partner.partner_id}]", "already configured differently; pass replace=True to replace it"
                )
            self._partners[partner.partner_id] = partner
            self._entries.pop(partner.partner_id, None)
        _known_secrets.add_external_id(partner.external_id)
        _log.info(
            "partner %s configured: role %s, region %s",
            partner.partner_id,
            mask_account_ids(partner.role_arn),
            partner.region,
        )

    def remove_partner(self, partner_id: str) -> bool:
        """Forget a partner and drop its cached client, transports and credentials; False if it was not known.

        Clients and transports already handed out keep their current credentials until those expire,
        but can never refresh them again.
        """
        with self._lock:
            removed = self._partners.pop(partner_id, None)
            self._entries.pop(partner_id, None)
        if removed is not None:
            _log.info("partner %s removed", partner_id)
        return removed is not None

    def get_partner(self, partner_id: str) -> Partner:
        """The configuration of a partner; ``UnknownPartnerError`` if there is none."""
        with self._lock:
            partner = self._partners.get(partner_id)
        if partner is None:
            raise UnknownPartnerError(partner_id)
        return partner

    def partner_ids(self) -> list[str]:
        """The configured partner ids, sorted."""
        with self._lock:
            return sorted(self._partners)

    def __contains__(self, partner_id: object) -> bool:
        with self._lock:
            return partner_id in self._partners

    def invalidate(self, partner_id: str = "") -> None:
        """Drop the cached client, transports and credentials of one partner or the base account; the next
        call builds new ones. Those already handed out keep working until their credentials expire."""
        with self._lock:
            self._entries.pop(partner_id, None)

    # -- clients ----------------------------------------------------------------------------

    def client(self, partner: str = "", *, deadline: Deadline | None = None) -> DynamoDBClient:
        """The cached low-level DynamoDB client for ``partner`` (``""``: the base account).

        A cache miss for a partner calls STS AssumeRole (one call per partner in flight, whatever the
        number of threads); with a ``deadline`` (or inside a deadline-bound transport call) that call
        is refused with ``DeadlineExceededError`` once too little time is left. Raises
        ``UnknownPartnerError`` for an unconfigured partner and ``AssumeRoleError`` when STS fails
        (nothing is cached then: the next call tries again).
        """
        return self._built(partner, deadline, self._botocore_parts, "botocore")[0]

    @overload
    def transport(
        self, partner: str = ..., *, deadline: Deadline | None = ..., kind: Literal["botocore"]
    ) -> BotocoreTransport: ...

    @overload
    def transport(
        self, partner: str = ..., *, deadline: Deadline | None = ..., kind: Literal["lean"]
    ) -> LeanTransport: ...

    @overload
    def transport(
        self, partner: str = ..., *, deadline: Deadline | None = ..., kind: TransportKind | None = ...
    ) -> Transport: ...

    def transport(
        self, partner: str = "", *, deadline: Deadline | None = None, kind: TransportKind | None = None
    ) -> Transport:
        """The cached transport for ``partner`` (``""``: the base account), of ``kind``.

        ``kind``: ``"botocore"`` (a ``BotocoreTransport`` around ``client(partner)``) or ``"lean"`` (a
        ``LeanTransport`` signing with the partner's refreshable credentials, no botocore client);
        default ``transport_kind()``: ``DYNAGEN_TRANSPORT``, else lean inside Lambda and botocore
        elsewhere, as ``get_default_transport`` chooses. Same errors and caching as ``client()``;
        both kinds of one partner share its credentials (one AssumeRole).
        """
        if kind is None:
            from dynagen.runtime.aws_lambda._clients import transport_kind

            kind = transport_kind()
        if kind == "lean":
            return self._built(partner, deadline, self._lean_part, kind)
        if kind == "botocore":
            return self._built(partner, deadline, self._botocore_parts, kind)[1]
        raise InvalidValueError("kind", f"expected 'lean' or 'botocore', got {kind!r}")

    def _built(
        self,
        partner_id: str,
        deadline: Deadline | None,
        part: Callable[[_Entry], tuple[_T, bool]],
        kind: TransportKind,
    ) -> _T:
        """``part(entry)`` of the partner's current entry; ``part`` builds it on first use.

        ``kind``: the transport kind asking, which picks the STS path when the entry is created.

        ``part`` returns ``(value, built_now)``. A value built while the partner was being replaced,
        removed or invalidated is not handed out: the loop takes the new entry (or raises
        ``UnknownPartnerError``). Values built earlier are returned as they are, like cached clients.
        """
        while True:
            entry = self._entry(partner_id, deadline, kind)
            value, built_now = part(entry)
            if not built_now:
                return value
            with self._lock:
                current = self._entries.get(partner_id) is entry
            if current:
                return value

    def _botocore_parts(self, entry: _Entry) -> tuple[tuple[DynamoDBClient, BotocoreTransport], bool]:
        client, transport = entry.client, entry.botocore
        if client is not None and transport is not None:
            return (client, transport), False
        with entry.build_lock:
            client, transport = entry.client, entry.botocore
            if client is not None and transport is not None:
                return (client, transport), False
            client = self._new_client(entry.partner, entry.credentials)  # raises: nothing is kept
            transport = BotocoreTransport(client)
            entry.client, entry.botocore = client, transport
            return (client, transport), True

    def _lean_part(self, entry: _Entry) -> tuple[LeanTransport, bool]:
        lean = entry.lean
        if lean is not None:
            return lean, False
        with entry.build_lock:
            if entry.lean is not None:
                return entry.lean, False
            lean = entry.lean = self._new_lean(entry.partner, entry.credentials)
            return lean, True

    def _entry(self, partner_id: str, deadline: Deadline | None, kind: TransportKind) -> _Entry:
        if not isinstance(partner_id, str):
            raise TypeError(f"partner must be a str, got {type(partner_id).__name__}")
        entry = self._cached(partner_id)
        if entry is not None:
            return entry
        with self._lock:
            lock = self._partner_locks.setdefault(partner_id, threading.RLock())
        with lock:
            while True:
                # Another thread may have built it while this one waited for the lock.
                entry = self._cached(partner_id)
                if entry is not None:
                    return entry
                if partner_id == "":
                    entry = _Entry(None, None)
                else:
                    partner = self.get_partner(partner_id)
                    credentials = self._new_credentials(
                        partner, deadline if deadline is not None else current_deadline.get(), self._sts_kind or kind
                    )
                    entry = _Entry(partner, credentials)
                with self._lock:
                    # Removed or replaced while AssumeRole ran: never cache or hand out the stale
                    # credentials; the next loop raises UnknownPartnerError or builds the new config's.
                    if not partner_id or self._partners.get(partner_id) is entry.partner:
                        self._entries[partner_id] = entry
                        return entry

    def _cached(self, partner_id: str) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(partner_id)
            if entry is None:
                if partner_id and partner_id not in self._partners:
                    raise UnknownPartnerError(partner_id)
                return None
            # Belt and braces: an entry is only ever returned for the partner it was built for.
            built_for = entry.partner.partner_id if entry.partner is not None else ""
            if built_for != partner_id or (
                entry.partner is not None and self._partners.get(partner_id) is not entry.partner
            ):
                self._entries.pop(partner_id, None)
                return None
            return entry

    # -- credentials ------------------------------------------------------------------------

    def _new_credentials(self, partner: Partner, deadline: Deadline | None, kind: TransportKind) -> Any:
        """The partner's refreshable credentials, from a first AssumeRole on the ``kind`` path."""
        first = self._assume_role(partner, deadline, kind)

        def assume_again() -> dict[str, Any]:
            # Called (under the credentials' own lock) when a request is signed inside the refresh
            # window. Bound to this exact Partner: a removed or replaced partner's old client or
            # transport can never fetch credentials again, let alone someone else's.
            with self._lock:
                lock = self._partner_locks.setdefault(partner.partner_id, threading.RLock())
            with lock:
                with self._lock:
                    still_configured = self._partners.get(partner.partner_id) is partner
                if not still_configured:
                    raise UnknownPartnerError(partner.partner_id)
                return self._assume_role(partner, current_deadline.get(), kind)

        # Two refresh windows: "advisory" (one thread refreshes, the others keep using the
        # still-valid credentials; a failure is logged and retried on the next request) and
        # "mandatory" (every thread waits; a failure raises): advisory = refresh_before, mandatory =
        # half of it (botocore's own defaults, 15 / 10 minutes, would ignore refresh_before).
        if kind == "lean":
            from dynagen.runtime.transport.lean._credentials import Credentials, RefreshingCredentials

            def refresh() -> tuple[Credentials, datetime]:
                data = assume_again()
                return Credentials(data["access_key"], data["secret_key"], data["token"]), data["expiry_time"]

            return RefreshingCredentials(
                Credentials(first["access_key"], first["secret_key"], first["token"]),
                first["expiry_time"],
                refresh,
                advisory=self._refresh_before,
                mandatory=self._refresh_before / 2,
                clock=self._clock,
                method="dynagen-assume-role",
            )
        from botocore.credentials import RefreshableCredentials  # type: ignore[import-untyped]

        def refresh_botocore() -> dict[str, Any]:
            data = assume_again()
            return {**data, "expiry_time": data["expiry_time"].isoformat()}

        return RefreshableCredentials(
            access_key=first["access_key"],
            secret_key=first["secret_key"],
            token=first["token"],
            expiry_time=first["expiry_time"],
            refresh_using=refresh_botocore,
            method="dynagen-assume-role",
            time_fetcher=self._clock,
            advisory_timeout=self._refresh_before,
            mandatory_timeout=self._refresh_before / 2,
        )

    def _assume_role(self, partner: Partner, deadline: Deadline | None, kind: TransportKind) -> dict[str, Any]:
        """One STS AssumeRole call on the ``kind`` path (the caller holds the partner's lock)."""
        operation = f"AssumeRole({partner.partner_id})"
        if deadline is not None:
            deadline.check(operation)
        session_name = self._session_name(partner.partner_id)
        masked_role = mask_account_ids(partner.role_arn)
        _log.debug("assuming role %s for partner %s (session %s)", masked_role, partner.partner_id, session_name)
        params: dict[str, Any] = {
            "RoleArn": partner.role_arn,
            "RoleSessionName": session_name,
            "ExternalId": partner.external_id,
        }
        if partner.session_duration is not None:
            params["DurationSeconds"] = partner.session_duration
        # Both STS clients read current_deadline per attempt (botocore's through the hooks): bind this
        # call's deadline (or none) so that retries and backoff sleeps of this AssumeRole respect it.
        token = current_deadline.set(deadline)
        try:
            sts = self._sts_client(partner, deadline, kind)
            response = sts.assume_role(**params)
        except DeadlineExceededError as exc:
            # Refused by an STS attempt / retry hook: say which call it interrupted.
            raise DeadlineExceededError(operation=f"{operation}: {exc.operation or 'SDK'}") from exc
        except (ServiceError, TransportError) as exc:  # the lean STS client's answers and failures
            if isinstance(exc, TransportError) and deadline is not None and deadline.expired():
                raise DeadlineExceededError(operation=f"{operation}: {type(exc).__name__}") from exc
            # "Code: message" for STS's answers, "TransportError: ..." otherwise: botocore's wording.
            reason = str(exc) if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
            raise AssumeRoleError(partner.partner_id, partner.role_arn, self._scrub(reason, partner)) from (
                _scrubbed(exc, partner)
            )
        except Exception as exc:
            mapped = self._botocore_failure(exc, partner, operation, deadline)
            if mapped is None:
                raise
            raise mapped from exc
        finally:
            current_deadline.reset(token)
        data = self._credentials_of(partner, response)
        _log.info(
            "assumed role %s for partner %s (session %s), credentials expire at %s",
            masked_role,
            partner.partner_id,
            session_name,
            data["expiry_time"].isoformat(),
        )
        return data

    def _credentials_of(self, partner: Partner, response: Any) -> dict[str, Any]:
        """The credentials of an AssumeRole answer; ``AssumeRoleError`` when they are unusable or expired."""
        credentials: Any = response.get("Credentials") if isinstance(response, Mapping) else None
        try:
            data: dict[str, Any] = {
                "access_key": _token(credentials["AccessKeyId"]),
                "secret_key": _token(credentials["SecretAccessKey"]),
                "token": _token(credentials["SessionToken"]),
                "expiry_time": _aware(credentials["Expiration"]),
            }
        except (KeyError, TypeError, ValueError):
            raise AssumeRoleError(
                partner.partner_id, partner.role_arn, "STS response has no usable Credentials"
            ) from None
        _known_secrets.add_credentials(data["secret_key"], data["token"])
        now = self._clock()
        if data["expiry_time"] <= now:
            # botocore would raise a bare RuntimeError ("refreshed credentials are still expired"):
            # almost always this machine's clock running ahead, which is what to tell the operator.
            raise AssumeRoleError(
                partner.partner_id,
                partner.role_arn,
                f"STS issued credentials expiring at {data['expiry_time'].isoformat()}, already past by the local "
                f"clock ({now.isoformat()}): is this machine's clock right?",
            )
        return data

    def _botocore_failure(
        self, exc: Exception, partner: Partner, operation: str, deadline: Deadline | None
    ) -> Exception | None:
        """The error to raise for a botocore STS client's exception (None: not botocore's, re-raise it)."""
        if not type(exc).__module__.startswith("botocore"):
            return None
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            reason = f"{error.get('Code', 'ClientError')}: {error.get('Message', '')}".rstrip(": ")
            return AssumeRoleError(partner.partner_id, partner.role_arn, self._scrub(reason, partner))
        if isinstance(exc, BotoCoreError):
            if deadline is not None and deadline.expired():
                # A timeout cut to the usable time (or the last attempt running into it): the deadline
                # is what ended this call, not STS.
                return DeadlineExceededError(operation=f"{operation}: {type(exc).__name__}")
            reason = f"{type(exc).__name__}: {exc}"
            return AssumeRoleError(partner.partner_id, partner.role_arn, self._scrub(reason, partner))
        return None

    @staticmethod
    def _scrub(reason: str, partner: Partner) -> str:
        # STS messages do not echo the external ID today; make sure it never will through us. Account
        # ids in ARNs (the role, the caller's assumed role) are masked as in our logs.
        return mask_account_ids(reason.replace(partner.external_id, "****"))

    def _session_name(self, partner_id: str) -> str:
        # RoleSessionName: 2-64 characters of [\w+=,.@-]; it shows up in CloudTrail in the partner's
        # account, so it names the partner; the random suffix tells sessions (and containers) apart.
        suffix = os.urandom(4).hex()  # what secrets.token_hex(4) is, without importing random
        room = _MAX_SESSION_NAME - len(self._session_prefix) - len(suffix) - 2
        safe = _SESSION_NAME_UNSAFE.sub("-", partner_id)[:room]
        return f"{self._session_prefix}-{safe}-{suffix}"

    def _sts_client(self, partner: Partner, deadline: Deadline | None, kind: TransportKind) -> Any:
        """The STS client for this AssumeRole: the factory's, else the lean or the botocore one."""
        if self._sts_client_factory is not None:
            given = self._sts_client_factory(partner)
            _guard_deadline(given)
            return given
        if kind == "lean":
            return self._lean_sts(partner.region)
        return self._botocore_sts(partner, deadline)

    def _lean_sts(self, region: str) -> StsClient:
        """The lean STS client of a region (cached), signing with the base account's credentials.

        Its timeouts and attempts are the lean transports' (``settings``); each attempt is also cut to
        the usable time of the deadline in force, so no one-off client is needed for a short deadline.
        """
        sts = self._lean_sts_clients.get(region)
        if sts is not None:
            return sts
        from dynagen.runtime.transport.lean._sts import StsClient

        settings = self._lean_settings()
        base = self._base_credentials()
        with self._lock:  # building one opens no connection: the rule that _lock never waits on I/O holds
            sts = self._lean_sts_clients.get(region)
            if sts is None:
                sts = StsClient(
                    region,
                    endpoint_url=self._sts_endpoint_url,
                    credentials=base,
                    connect_timeout=settings.connect_timeout,
                    read_timeout=settings.read_timeout,
                    max_attempts=settings.max_attempts,
                )
                self._lean_sts_clients[region] = sts
        return sts

    def _base_credentials(self) -> CredentialsProvider:
        """The base account's credentials for lean clients: environment, container endpoint, else botocore's chain."""
        provider = self._base_provider
        if provider is None:
            from dynagen.runtime.transport.lean._credentials import credentials_provider

            with self._lock:
                if self._base_provider is None:
                    self._base_provider = credentials_provider(None)
                provider = self._base_provider
        return provider

    def _botocore_sts(self, partner: Partner, deadline: Deadline | None) -> STSClient:
        """botocore's STS client for this AssumeRole, with the deadline hooks installed.

        With a deadline whose usable time is shorter than the cached client's connect or read timeout,
        a one-off client with both cut to the usable time (its own connection; AssumeRole is rare).
        """
        with self._create_lock:
            sts = self._sts_clients.get(partner.region)
            if sts is None:
                # Regional STS endpoint in the partner's region: lower latency, and no dependency
                # on us-east-1 for partners elsewhere.
                sts = self._session().create_client(
                    "sts", region_name=partner.region, endpoint_url=self._sts_endpoint_url, config=self._client_config()
                )
                _guard_deadline(sts)
                self._sts_clients[partner.region] = sts
        if deadline is None:
            return sts
        usable = deadline.usable()
        config = sts.meta.config
        read, connect = config.read_timeout, config.connect_timeout
        if usable >= read and usable >= connect:
            return sts
        from botocore.config import Config

        # Never zero (botocore would read it as "no timeout"); a spent deadline was refused already.
        bounded = Config(read_timeout=max(min(read, usable), 0.01), connect_timeout=max(min(connect, usable), 0.01))
        with self._create_lock:
            short = self._session().create_client(
                "sts",
                region_name=partner.region,
                endpoint_url=self._sts_endpoint_url,
                config=self._client_config().merge(bounded),
            )
        _guard_deadline(short)
        return cast("STSClient", short)

    def _lean_settings(self) -> ClientSettings:
        """Pool size, timeouts and attempts for lean transports: ``settings``, else ``config``'s, else tuned."""
        if self._settings is not None:
            return self._settings
        from dataclasses import replace

        from dynagen.runtime.aws_lambda._clients import default_settings

        tuned = default_settings()
        if not self._config_given:
            return tuned
        config = self._client_config()
        retries = getattr(config, "retries", None) or {}
        attempts = retries.get("total_max_attempts")
        if attempts is None and retries.get("max_attempts") is not None:
            attempts = int(retries["max_attempts"]) + 1  # botocore's max_attempts counts retries only
        return replace(
            tuned,
            max_pool_connections=getattr(config, "max_pool_connections", None) or tuned.max_pool_connections,
            connect_timeout=getattr(config, "connect_timeout", None) or tuned.connect_timeout,
            read_timeout=getattr(config, "read_timeout", None) or tuned.read_timeout,
            max_attempts=attempts or tuned.max_attempts,
        )

    def _new_lean(self, partner: Partner | None, credentials: Any) -> LeanTransport:
        """A lean transport for this partner: its region, its endpoint, exactly its credentials object.

        The base account's (``partner`` None) signs with the environment's credentials (botocore's
        chain if there are none) in ``region`` (else the settings' region) at ``endpoint_url``.
        """
        from dynagen.runtime.transport.lean import LeanTransport  # lazy: botocore-only users never load it

        settings = self._lean_settings()
        if partner is None:
            region, endpoint_url = self._region or settings.region, self._endpoint_url
            credentials = self._base_credentials()
        else:
            region, endpoint_url = partner.region, partner.endpoint_url
        return LeanTransport(
            region,
            endpoint_url=endpoint_url,
            credentials=credentials,  # the refreshable credentials themselves: asked on every request
            max_pool_connections=settings.max_pool_connections,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            max_attempts=settings.max_attempts,
            max_response_bytes=settings.max_response_bytes,
            call_timeout=settings.call_timeout,
        )

    def _client_config(self) -> Config:
        """The botocore config of every client: the caller's, else the runtime's tuned one."""
        if self._config is None:
            from dynagen.runtime.aws_lambda._clients import default_settings
            from dynagen.runtime.aws_lambda._environment import to_botocore_config

            self._config = to_botocore_config(default_settings())
        return self._config

    # -- botocore plumbing ------------------------------------------------------------------

    def _session(self) -> Any:
        """The base account's botocore session (the caller holds ``_create_lock``)."""
        if self._base_session is None:
            import botocore.session  # type: ignore[import-untyped]

            self._base_session = botocore.session.get_session()
        return self._base_session

    def _new_client(self, partner: Partner | None, credentials: Any) -> DynamoDBClient:
        import botocore.session

        with self._create_lock:
            base = self._session()
            if partner is None:
                return cast(
                    "DynamoDBClient",
                    base.create_client(
                        "dynamodb",
                        region_name=self._region,
                        endpoint_url=self._endpoint_url,
                        config=self._client_config(),
                    ),
                )
            # A session of its own per partner: its credentials are exactly this partner's
            # refreshable credentials (never the default chain), while the parsed service models
            # are shared with the base session so each partner client is cheap to build.
            session = botocore.session.Session()
            session.register_component("data_loader", base.get_component("data_loader"))
            session._credentials = credentials
            return cast(
                "DynamoDBClient",
                session.create_client(
                    "dynamodb",
                    region_name=partner.region,
                    endpoint_url=partner.endpoint_url,
                    config=self._client_config(),
                ),
            )

    def __repr__(self) -> str:
        with self._lock:
            partners = sorted(self._partners)
            cached = sorted(self._entries)
        return f"PartnerResolver(partners={partners!r}, cached={cached!r})"


def _guard_deadline(client: Any) -> None:
    """Give a botocore STS client the DynamoDB clients' deadline hooks (no-op for other objects).

    ``before-send``: refuse an attempt (first or retry) once ``current_deadline`` has no usable time
    left; ``guard_retry_sleep``: refuse a retry whose backoff would outlast it (standard / adaptive
    retry modes). Both registrations are idempotent.
    """
    events = getattr(getattr(client, "meta", None), "events", None)
    if events is None:
        return
    from dynagen.runtime.transport._botocore_retry import guard_retry_sleep

    events.register("before-send", _refuse_late_attempt, unique_id="dynagen-deadline")
    guard_retry_sleep(client)


def _token(value: Any) -> str:
    """A credential field as it may go into a header: printable ASCII without spaces (never a CR/LF)."""
    text = str(value)
    if not text or not text.isascii() or not text.isprintable() or " " in text:
        raise ValueError("not a credential value")
    return text


def _scrubbed(exc: ServiceError | TransportError, partner: Partner) -> DynagenError:
    """The lean STS error to chain as the cause: itself, or a copy with the external ID and account ids masked."""
    scrub = PartnerResolver._scrub
    if scrub(str(exc), partner) == str(exc):
        return exc
    copy: DynagenError
    if isinstance(exc, ServiceError):
        copy = type(exc)(
            exc.code, scrub(exc.message, partner), status=exc.status, retryable=exc.retryable, request_id=exc.request_id
        )
    else:
        copy = TransportError(scrub(str(exc), partner))
    copy.__cause__ = exc.__cause__
    return copy


def _aware(value: Any) -> datetime:
    """STS expirations are aware datetimes from botocore; accept ISO strings from stubs too."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(when, datetime) or when.tzinfo is None:
        raise ValueError("expiration must be a timezone-aware datetime")
    return when

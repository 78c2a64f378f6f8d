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
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from dynagen._typing import TYPE_CHECKING, Any, TypeVar, overload
from dynagen.errors import InvalidValueError, UnknownPartnerError
from dynagen.runtime.accounts._factory import PartnerClients
from dynagen.runtime.accounts._partners import (
    DEFAULT_PARTNERS_ENV,
    Partner,
    check_endpoint_url,
    mask_account_ids,
    partners_from_env,
)
from dynagen.runtime.accounts._redaction import known_secrets
from dynagen.runtime.accounts._sts import DEFAULT_REFRESH_BEFORE, SESSION_PREFIX, RoleAssumer
from dynagen.runtime.transport._botocore import BotocoreTransport
from dynagen.runtime.transport._bounds import current_deadline

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

__all__ = ["PartnerResolver"]

_log = logging.getLogger("dynagen.runtime.accounts")

_T = TypeVar("_T")


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
        if not SESSION_PREFIX.fullmatch(session_prefix):
            raise InvalidValueError("session_prefix", "must be 1-32 characters of letters, digits and _+=,.@-")
        if sts_kind not in (None, "lean", "botocore"):
            raise InvalidValueError("sts_kind", f"expected 'lean', 'botocore' or None, got {sts_kind!r}")
        check_endpoint_url("endpoint_url", endpoint_url)
        check_endpoint_url("sts_endpoint_url", sts_endpoint_url)
        self._refresh_before = float(refresh_before)
        self._sts_kind = sts_kind
        self._clients = PartnerClients(
            region=region, endpoint_url=endpoint_url, config=config, settings=settings,
            sts_endpoint_url=sts_endpoint_url, sts_client_factory=sts_client_factory,
        )  # fmt: skip
        self._sts = RoleAssumer(
            self._clients, refresh_before=self._refresh_before, clock=clock, session_prefix=session_prefix
        )
        # _lock guards the dicts below; it is never held during a network call.
        self._lock = threading.Lock()
        self._partners: dict[str, Partner] = {}
        self._entries: dict[str, _Entry] = {}
        # One lock per partner id, kept for the resolver's life (a few hundred bytes each): a thread
        # waiting on it must find the same lock as the thread holding it, even across remove/add.
        self._partner_locks: dict[str, threading.RLock] = {}
        for partner in partners:
            self.add_partner(partner)

    @classmethod
    def from_env(
        cls, name: str = DEFAULT_PARTNERS_ENV, *, environ: Mapping[str, str] | None = None, **kwargs: Any
    ) -> PartnerResolver:
        """A resolver for the partners in the JSON environment variable ``name`` (none if unset)."""
        return cls(partners_from_env(name, environ), **kwargs)

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
        known_secrets.add_external_id(partner.external_id)
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
            client = self._clients.new_client(entry.partner, entry.credentials)  # raises: nothing is kept
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
            lean = entry.lean = self._clients.new_lean(entry.partner, entry.credentials)
            return lean, True

    def _entry(self, partner_id: str, deadline: Deadline | None, kind: TransportKind) -> _Entry:
        if not isinstance(partner_id, str):
            raise TypeError(f"partner must be a str, got {type(partner_id).__name__}")
        entry = self._cached(partner_id)
        if entry is not None:
            return entry
        with self._partner_lock(partner_id):
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
        """The partner's refreshable credentials, their refresh bound to this exact ``Partner``."""

        def assume_again() -> dict[str, Any]:
            lock = self._partner_lock(partner.partner_id)
            with lock:
                with self._lock:
                    still_configured = self._partners.get(partner.partner_id) is partner
                if not still_configured:
                    raise UnknownPartnerError(partner.partner_id)
                return self._sts.assume_role(partner, current_deadline.get(), kind)

        return self._sts.credentials(partner, deadline, kind, assume_again)

    def _partner_lock(self, partner_id: str) -> threading.RLock:
        """The partner's lock: one AssumeRole (first or refresh) in flight per partner."""
        with self._lock:
            return self._partner_locks.setdefault(partner_id, threading.RLock())

    def __repr__(self) -> str:
        with self._lock:
            partners = sorted(self._partners)
            cached = sorted(self._entries)
        return f"PartnerResolver(partners={partners!r}, cached={cached!r})"

"""Assuming partners' roles: one STS AssumeRole call, and the refreshable credentials built on it.

``RoleAssumer.credentials`` makes the first AssumeRole of a partner and wraps the answer in
credentials that refresh themselves in two windows before they expire (advisory ``refresh_before``
seconds, mandatory half of it): dynagen's ``RefreshingCredentials`` on the lean path, botocore's
``RefreshableCredentials`` on the botocore path. ``assume_role`` is one call: the deadline bounds
it, its errors are ``AssumeRoleError`` with account ids masked and the external ID never shown,
and the credentials it returns are checked (usable, not already expired by the local clock).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from dynagen._typing import TYPE_CHECKING, Any
from dynagen.errors import AssumeRoleError, DeadlineExceededError, DynagenError, ServiceError, TransportError
from dynagen.runtime.accounts._factory import PartnerClients
from dynagen.runtime.accounts._partners import Partner, mask_account_ids
from dynagen.runtime.accounts._redaction import known_secrets
from dynagen.runtime.transport._bounds import current_deadline

if TYPE_CHECKING:
    from dynagen.runtime.aws_lambda._clients import TransportKind
    from dynagen.runtime.transport._bounds import Deadline

__all__ = ["DEFAULT_REFRESH_BEFORE", "SESSION_PREFIX", "RoleAssumer"]

# Five minutes: longer than any sane request (plus SDK retries) takes, so credentials signed just
# before the window still reach AWS valid, and short enough to use most of each session.
DEFAULT_REFRESH_BEFORE = 300.0

_log = logging.getLogger("dynagen.runtime.accounts")


class RoleAssumer:
    """Assumes partners' roles through ``clients``' STS clients, and keeps the credentials fresh."""

    def __init__(
        self,
        clients: PartnerClients,
        *,
        refresh_before: float,
        clock: Callable[[], datetime] | None,
        session_prefix: str,
    ) -> None:
        self._clients = clients
        self._refresh_before = refresh_before
        self._clock = clock if clock is not None else _utc_now
        self._session_prefix = session_prefix

    def credentials(
        self, partner: Partner, deadline: Deadline | None, kind: TransportKind, assume_again: Callable[[], dict[str, Any]]
    ) -> Any:
        """The partner's refreshable credentials, from a first AssumeRole on the ``kind`` path.

        ``assume_again`` is called (under the credentials' own lock) when a request is signed inside
        the refresh window; the resolver binds it to this exact partner, so a removed or replaced
        partner's old client or transport can never fetch credentials again, let alone someone else's.
        """
        first = self.assume_role(partner, deadline, kind)

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

    def assume_role(self, partner: Partner, deadline: Deadline | None, kind: TransportKind) -> dict[str, Any]:
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
            sts = self._clients.sts_client(partner, deadline, kind)
            response = sts.assume_role(**params)
        except DeadlineExceededError as exc:
            # Refused by an STS attempt / retry hook: say which call it interrupted.
            raise DeadlineExceededError(operation=f"{operation}: {exc.operation or 'SDK'}") from exc
        except (ServiceError, TransportError) as exc:  # the lean STS client's answers and failures
            if isinstance(exc, TransportError) and deadline is not None and deadline.expired():
                raise DeadlineExceededError(operation=f"{operation}: {type(exc).__name__}") from exc
            # "Code: message" for STS's answers, "TransportError: ..." otherwise: botocore's wording.
            reason = str(exc) if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
            raise AssumeRoleError(partner.partner_id, partner.role_arn, self.scrub(reason, partner)) from (
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
        known_secrets.add_credentials(data["secret_key"], data["token"])
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
            return AssumeRoleError(partner.partner_id, partner.role_arn, self.scrub(reason, partner))
        if isinstance(exc, BotoCoreError):
            if deadline is not None and deadline.expired():
                # A timeout cut to the usable time (or the last attempt running into it): the deadline
                # is what ended this call, not STS.
                return DeadlineExceededError(operation=f"{operation}: {type(exc).__name__}")
            reason = f"{type(exc).__name__}: {exc}"
            return AssumeRoleError(partner.partner_id, partner.role_arn, self.scrub(reason, partner))
        return None

    @staticmethod
    def scrub(reason: str, partner: Partner) -> str:
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


def _token(value: Any) -> str:
    """A credential field as it may go into a header: printable ASCII without spaces (never a CR/LF)."""
    text = str(value)
    if not text or not text.isascii() or not text.isprintable() or " " in text:
        raise ValueError("not a credential value")
    return text


def _scrubbed(exc: ServiceError | TransportError, partner: Partner) -> DynagenError:
    """The lean STS error to chain as the cause: itself, or a copy with the external ID and account ids masked."""
    scrub = RoleAssumer.scrub
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


_SESSION_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_+=,.@-]")


SESSION_PREFIX = re.compile(r"[A-Za-z0-9_+=,.@-]{1,32}")


_MAX_SESSION_NAME = 64


def _utc_now() -> datetime:
    return datetime.now(UTC)

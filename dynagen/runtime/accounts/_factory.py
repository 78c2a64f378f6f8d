"""Building partners' clients: botocore clients, lean transports and the STS clients that assume their roles.

``PartnerClients`` holds what every client of one resolver shares: the botocore config (the
caller's, else the runtime's tuned one) and session, the lean transports' settings, the base
account's credentials for the lean stack, and one STS client per region on each path. It builds; the
resolver (``_resolver``) decides which partner gets what and caches it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from dynagen._typing import TYPE_CHECKING, Any, cast
from dynagen.runtime.accounts._partners import Partner
from dynagen.runtime.transport._botocore import _refuse_late_attempt

if TYPE_CHECKING:
    from botocore.config import Config  # type: ignore[import-untyped]
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sts import STSClient

    from dynagen.runtime.aws_lambda._clients import TransportKind
    from dynagen.runtime.aws_lambda._environment import ClientSettings
    from dynagen.runtime.transport._bounds import Deadline
    from dynagen.runtime.transport.lean import LeanTransport
    from dynagen.runtime.transport.lean._credentials import CredentialsProvider
    from dynagen.runtime.transport.lean._sts import StsClient

__all__ = ["PartnerClients"]


class PartnerClients:
    """The clients, transports and STS clients of one resolver's partners, built on demand.

    ``region`` / ``endpoint_url``: the base account's; ``config``: the botocore config of every
    botocore client (None: the tuned default, built on first use); ``settings``: the lean transports'
    and the lean STS client's (None: ``config``'s where given, else the tuned default);
    ``sts_endpoint_url`` / ``sts_client_factory``: where AssumeRole goes (see ``PartnerResolver``).
    """

    def __init__(
        self,
        *,
        region: str | None,
        endpoint_url: str | None,
        config: Config | None,
        settings: ClientSettings | None,
        sts_endpoint_url: str | None,
        sts_client_factory: Callable[[Partner], STSClient] | None,
    ) -> None:
        self._region = region
        self._endpoint_url = endpoint_url
        self._config = config
        self._config_given = config is not None
        self._settings = settings
        self._sts_endpoint_url = sts_endpoint_url
        self._sts_client_factory = sts_client_factory
        # _lock guards the caches below; it is never held during a network call.
        self._lock = threading.Lock()
        # botocore sessions are not safe for concurrent client creation: serialize it.
        self._create_lock = threading.Lock()
        self._base_session: Any = None
        self._sts_clients: dict[str, STSClient] = {}
        self._lean_sts_clients: dict[str, StsClient] = {}
        self._base_provider: CredentialsProvider | None = None

    def client_config(self) -> Config:
        """The botocore config of every client: the caller's, else the runtime's tuned one."""
        if self._config is None:
            from dynagen.runtime.aws_lambda._clients import default_settings
            from dynagen.runtime.aws_lambda._environment import to_botocore_config

            self._config = to_botocore_config(default_settings())
        return self._config

    def _botocore_session(self) -> Any:
        """The base account's botocore session (the caller holds ``_create_lock``)."""
        if self._base_session is None:
            import botocore.session  # type: ignore[import-untyped]

            self._base_session = botocore.session.get_session()
        return self._base_session

    def new_client(self, partner: Partner | None, credentials: Any) -> DynamoDBClient:
        import botocore.session

        with self._create_lock:
            base = self._botocore_session()
            if partner is None:
                return cast(
                    "DynamoDBClient",
                    base.create_client(
                        "dynamodb",
                        region_name=self._region,
                        endpoint_url=self._endpoint_url,
                        config=self.client_config(),
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
                    config=self.client_config(),
                ),
            )

    def new_lean(self, partner: Partner | None, credentials: Any) -> LeanTransport:
        """A lean transport for this partner: its region, its endpoint, exactly its credentials object.

        The base account's (``partner`` None) signs with the environment's credentials (botocore's
        chain if there are none) in ``region`` (else the settings' region) at ``endpoint_url``.
        """
        from dynagen.runtime.transport.lean import LeanTransport  # lazy: botocore-only users never load it

        settings = self.lean_settings()
        if partner is None:
            region, endpoint_url = self._region or settings.region, self._endpoint_url
            credentials = self.base_credentials()
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

    def lean_settings(self) -> ClientSettings:
        """Pool size, timeouts and attempts for lean transports: ``settings``, else ``config``'s, else tuned."""
        if self._settings is not None:
            return self._settings
        from dataclasses import replace

        from dynagen.runtime.aws_lambda._clients import default_settings

        tuned = default_settings()
        if not self._config_given:
            return tuned
        config = self.client_config()
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

    def base_credentials(self) -> CredentialsProvider:
        """The base account's credentials for lean clients: environment, container endpoint, else botocore's chain."""
        provider = self._base_provider
        if provider is None:
            from dynagen.runtime.transport.lean._credentials import credentials_provider

            with self._lock:
                if self._base_provider is None:
                    self._base_provider = credentials_provider(None)
                provider = self._base_provider
        return provider

    def sts_client(self, partner: Partner, deadline: Deadline | None, kind: TransportKind) -> Any:
        """The STS client for this AssumeRole: the factory's, else the lean or the botocore one."""
        if self._sts_client_factory is not None:
            given = self._sts_client_factory(partner)
            _guard_deadline(given)
            return given
        if kind == "lean":
            return self.lean_sts(partner.region)
        return self.botocore_sts(partner, deadline)

    def lean_sts(self, region: str) -> StsClient:
        """The lean STS client of a region (cached), signing with the base account's credentials.

        Its timeouts and attempts are the lean transports' (``settings``); each attempt is also cut to
        the usable time of the deadline in force, so no one-off client is needed for a short deadline.
        """
        sts = self._lean_sts_clients.get(region)
        if sts is not None:
            return sts
        from dynagen.runtime.transport.lean._sts import StsClient

        settings = self.lean_settings()
        base = self.base_credentials()
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

    def botocore_sts(self, partner: Partner, deadline: Deadline | None) -> STSClient:
        """botocore's STS client for this AssumeRole, with the deadline hooks installed.

        With a deadline whose usable time is shorter than the cached client's connect or read timeout,
        a one-off client with both cut to the usable time (its own connection; AssumeRole is rare).
        """
        with self._create_lock:
            sts = self._sts_clients.get(partner.region)
            if sts is None:
                # Regional STS endpoint in the partner's region: lower latency, and no dependency
                # on us-east-1 for partners elsewhere.
                sts = self._botocore_session().create_client(
                    "sts", region_name=partner.region, endpoint_url=self._sts_endpoint_url, config=self.client_config()
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
            short = self._botocore_session().create_client(
                "sts",
                region_name=partner.region,
                endpoint_url=self._sts_endpoint_url,
                config=self.client_config().merge(bounded),
            )
        _guard_deadline(short)
        return cast("STSClient", short)


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

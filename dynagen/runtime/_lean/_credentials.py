"""Credentials for the lean transport.

Order: an explicit credentials object; else the ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` /
``AWS_SESSION_TOKEN`` environment variables (what Lambda provides), read without importing botocore;
else botocore's full provider chain (profiles, SSO, container and instance metadata...), imported
lazily on first use. botocore credentials objects, including ``RefreshableCredentials`` from the
multi-account resolver, are asked for ``get_frozen_credentials()`` on every request so refreshes
are picked up.
"""

from __future__ import annotations

import os
import threading

from dynagen._record import Record, init
from dynagen._typing import TYPE_CHECKING, Any
from dynagen.errors import TransportError

__all__ = ["Credentials", "credentials_provider"]


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


def _from_botocore(frozen: Any) -> Credentials:
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
        return _from_botocore(self._source.get_frozen_credentials())


class _Chain:
    """botocore's default provider chain, resolved once, on the first request, under a lock."""

    __slots__ = ("_lock", "_source")

    def __init__(self) -> None:
        self._source: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> Credentials:
        source = self._source
        if source is None:
            with self._lock:
                if self._source is None:
                    self._source = self._resolve()
                source = self._source
        return _from_botocore(source.get_frozen_credentials())

    @staticmethod
    def _resolve() -> Any:
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


def credentials_provider(credentials: Any = None) -> CredentialsProvider:
    """A provider for the given credentials, or for the environment / botocore chain when None.

    Accepts a ``Credentials``, a botocore credentials object (anything with
    ``get_frozen_credentials()``), an ``(access_key, secret_key[, token])`` tuple, or a callable
    returning a ``Credentials``.
    """
    if credentials is None:
        access_key = os.environ.get("AWS_ACCESS_KEY_ID")
        secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY")
        if access_key and secret_key:
            return _Static(Credentials(access_key, secret_key, os.environ.get("AWS_SESSION_TOKEN") or None))
        return _Chain()
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

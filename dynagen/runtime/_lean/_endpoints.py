"""Where to send DynamoDB requests: an explicit URL, or the regional endpoint of the region's partition."""

from __future__ import annotations

import os

from dynagen._record import Record, init

__all__ = ["Endpoint", "URLParts", "resolve_endpoint", "resolve_region", "split_url"]

# (region prefix, DNS suffix), first match wins; everything else is the commercial "aws" partition.
_PARTITIONS = (
    ("cn-", "amazonaws.com.cn"),
    ("us-isob-", "sc2s.sgov.gov"),
    ("us-iso-", "c2s.ic.gov"),
    ("eu-isoe-", "cloud.adc-e.uk"),
    ("us-isof-", "csp.hci.ic.gov"),
)


class Endpoint(Record):
    """A resolved endpoint: scheme, host, port, and the ``Host`` header value that is signed."""

    __slots__ = ("scheme", "host", "port", "host_header", "url")  # noqa: RUF023 - the fields' order
    scheme: str
    host: str
    port: int
    host_header: str
    url: str

    def __init__(self, scheme: str, host: str, port: int, host_header: str, url: str) -> None:
        init(self, "scheme", scheme)
        init(self, "host", host)
        init(self, "port", port)
        init(self, "host_header", host_header)
        init(self, "url", url)

    @property
    def secure(self) -> bool:
        return self.scheme == "https"


class URLParts(Record):
    """An absolute URL split as far as endpoints and proxies need: ``scheme://[userinfo@]host[:port]rest``."""

    __slots__ = ("scheme", "userinfo", "host", "port", "rest")  # noqa: RUF023 - the fields' order
    scheme: str  # lower case
    userinfo: str | None  # as written (still percent-encoded)
    host: str  # lower case, IPv6 without its brackets
    port: int | None
    rest: str  # path, query and fragment, as written

    def __init__(self, scheme: str, userinfo: str | None, host: str, port: int | None, rest: str) -> None:
        init(self, "scheme", scheme)
        init(self, "userinfo", userinfo)
        init(self, "host", host)
        init(self, "port", port)
        init(self, "rest", rest)


_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+-.")


def split_url(url: str) -> URLParts:
    """Split an absolute URL; ``ValueError`` for anything that is not one.

    Stricter than ``urllib.parse.urlsplit`` (which this replaces to keep its ~4 ms import out of the
    cold start): whitespace and control characters are refused rather than silently dropped, and a
    port must be 0-65535.
    """
    if not url.isprintable() or " " in url:
        raise ValueError(f"URL has whitespace or control characters: {url!r}")
    scheme, sep, after = url.partition("://")
    scheme = scheme.lower()
    if not sep or not scheme[:1].isalpha() or not set(scheme) <= _SCHEME_CHARS:
        raise ValueError(f"not an absolute URL (scheme://host...): {url!r}")
    cut = min((i for i in (after.find("/"), after.find("?"), after.find("#")) if i >= 0), default=len(after))
    authority, rest = after[:cut], after[cut:]
    userinfo, at, hostport = authority.rpartition("@")
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0:
            raise ValueError(f"unclosed IPv6 bracket in URL {url!r}")
        host, tail = hostport[1:close], hostport[close + 1 :]
        if tail and not tail.startswith(":"):
            raise ValueError(f"unexpected text after the IPv6 address in URL {url!r}")
        port_text = tail[1:] if tail else None
    else:
        host, colon, port_text_found = hostport.partition(":")
        port_text = port_text_found if colon else None
        if ":" in port_text_found:
            raise ValueError(f"bad host:port in URL {url!r} (IPv6 addresses go in brackets)")
    port: int | None = None
    if port_text:  # an empty port ("host:") means the default, as in urlsplit
        if not (port_text.isascii() and port_text.isdigit()) or int(port_text) > 65535:
            raise ValueError(f"bad port {port_text!r} in URL {url!r}")
        port = int(port_text)
    return URLParts(scheme, userinfo if at else None, host.lower(), port, rest)


def resolve_region(region: str | None) -> str:
    """The region given, else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``."""
    resolved = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not resolved:
        raise ValueError("no region: pass region=... or set AWS_REGION / AWS_DEFAULT_REGION")
    return resolved


def _partition_suffix(region: str) -> str:
    for prefix, suffix in _PARTITIONS:
        if region.startswith(prefix):
            return suffix
    # aws and aws-us-gov (us-gov-*) both use amazonaws.com.
    return "amazonaws.com"


def resolve_endpoint(region: str, endpoint_url: str | None = None) -> Endpoint:
    """An explicit ``endpoint_url`` (or ``AWS_ENDPOINT_URL_DYNAMODB`` / ``AWS_ENDPOINT_URL``, as
    botocore honours them), else ``https://dynamodb.<region>.<partition suffix>``."""
    url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
    if not url:
        url = f"https://dynamodb.{region}.{_partition_suffix(region)}"
    try:
        parts = split_url(url)
    except ValueError as exc:
        raise ValueError(f"endpoint URL must be http(s)://host[:port]: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.host:
        raise ValueError(f"endpoint URL must be http(s)://host[:port], got {url!r}")
    if parts.rest not in ("", "/"):
        raise ValueError(f"endpoint URL must not carry a path, query or fragment, got {url!r}")
    default_port = 443 if parts.scheme == "https" else 80
    port = parts.port or default_port
    host = parts.host
    # The Host header is lower case, without userinfo and without a default port (as botocore signs it).
    display = f"[{host}]" if ":" in host else host
    host_header = display if port == default_port else f"{display}:{port}"
    return Endpoint(parts.scheme, host, port, host_header, f"{parts.scheme}://{host_header}")

"""Where to send DynamoDB requests: an explicit URL, or the regional endpoint of the region's partition."""

from __future__ import annotations

import os

from dynagen._record import Record, init
from dynagen.runtime.transport._urls import split_url

__all__ = ["Endpoint", "parse_endpoint", "regional_url", "resolve_endpoint", "resolve_region"]

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


def regional_url(service: str, region: str) -> str:
    """``https://<service>.<region>.<partition suffix>``: a service's regional endpoint."""
    return f"https://{service}.{region}.{_partition_suffix(region)}"


def resolve_endpoint(region: str, endpoint_url: str | None = None) -> Endpoint:
    """An explicit ``endpoint_url`` (or ``AWS_ENDPOINT_URL_DYNAMODB`` / ``AWS_ENDPOINT_URL``, as
    botocore honours them), else ``https://dynamodb.<region>.<partition suffix>``."""
    url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
    endpoint, rest = parse_endpoint(url or regional_url("dynamodb", region))
    if rest not in ("", "/"):
        raise ValueError(f"endpoint URL must not carry a path, query or fragment, got {endpoint.url + rest!r}")
    return endpoint


def parse_endpoint(url: str) -> tuple[Endpoint, str]:
    """An ``http(s)://host[:port]`` endpoint and what follows it in ``url`` (path, query: the request target)."""
    try:
        parts = split_url(url)
    except ValueError as exc:
        raise ValueError(f"endpoint URL must be http(s)://host[:port]: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.host:
        raise ValueError(f"endpoint URL must be http(s)://host[:port], got {url!r}")
    default_port = 443 if parts.scheme == "https" else 80
    port = parts.port or default_port
    host = parts.host
    # The Host header is lower case, without userinfo and without a default port (as botocore signs it).
    display = f"[{host}]" if ":" in host else host
    host_header = display if port == default_port else f"{display}:{port}"
    return Endpoint(parts.scheme, host, port, host_header, f"{parts.scheme}://{host_header}"), parts.rest

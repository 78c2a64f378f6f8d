"""Splitting absolute URLs (endpoints, proxies, partners' endpoint URLs) without ``urllib.parse``.

``urllib.parse`` (with the ``ipaddress`` it imports) costs ~4 ms of a cold start; what the runtime
needs of a URL is scheme, host, port and whether anything follows.
"""

from __future__ import annotations

from dynagen._record import Record, init

__all__ = ["URLParts", "quote", "split_url"]


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


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def quote(text: str) -> str:
    """RFC 3986 percent-encoding of everything but the unreserved characters (UTF-8), as
    ``urllib.parse.quote(text, safe="-_.~")`` and botocore's query serializer do."""
    if text.isascii() and all(ord(c) in _UNRESERVED for c in text):
        return text
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8"))

"""What ``BotocoreTransport`` adds to a botocore client so its responses are read as the lean transport reads them.

Imported only when a ``BotocoreTransport`` is created (botocore is loaded by then). Three parts:

- **A cap on the response size, enforced before the body is read whole.** botocore reads every
  non-streaming body in full inside its HTTP session's ``send``, before any event hook runs, so no
  hook can refuse a large body in time. The client's session (``client._endpoint.http_session``,
  the one private attribute used here) is wrapped: the request is sent with botocore's own
  ``stream_output`` flag set, so the body is left unread; a declared ``Content-Length`` above the
  cap is refused at once, any other body as soon as what arrived passes the cap. The connection is
  then closed, not returned to the pool. Refused: ``ResponseTooLargeError``, never retried.
- **Damaged bodies are errors, not empty results.** botocore asks urllib3 not to enforce
  ``Content-Length``, and parses a body that is not JSON as ``{}``: a truncated, non-JSON or
  bad-CRC 200 then reads as "no item". The wrapped session refuses a body shorter than its
  ``Content-Length`` or whose ``x-amz-crc32`` does not match with ``DamagedResponseError``, a
  ``ConnectionClosedError``: botocore retries it as it retries a dropped connection, and
  ``map_botocore_error`` turns the last one into ``TransportError``. A 2xx that botocore parsed to
  nothing from a body that is not a JSON object is refused after the call (``after-call``).
- **Parser failures are typed.** botocore's parser raises ``AttributeError``, ``TypeError``,
  ``UnicodeDecodeError``, ``RecursionError``... on bodies of the wrong shape. ``parsing()`` tells
  whether the exception escaping a call was raised between ``before-parse`` and
  ``response-received``, i.e. by the parser; ``BotocoreTransport`` then raises ``TransportError``.
"""

from __future__ import annotations

import binascii
import contextvars
import json

from botocore.awsrequest import AWSResponse  # type: ignore[import-untyped, unused-ignore]
from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    ConnectionClosedError,
    HTTPClientError,
    ReadTimeoutError,
)
from urllib3.exceptions import ProtocolError as URLLib3ProtocolError  # type: ignore[import-untyped, unused-ignore]
from urllib3.exceptions import ReadTimeoutError as URLLib3ReadTimeoutError  # type: ignore[import-untyped, unused-ignore]

from dynagen._typing import Any
from dynagen.errors import ResponseTooLargeError, TransportError

__all__ = ["DamagedResponseError", "GuardedSession", "install", "parse_state"]

_READ_SIZE = 1 << 16  # urllib3's (and botocore's) stream chunk

# Per call: [True] while botocore parses a response. A list so the hooks can flip it without a
# ContextVar.set (whose token the hook could not reset).
parse_state: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar("dynagen_parsing", default=None)


class DamagedResponseError(ConnectionClosedError):  # type: ignore[misc]
    """A response body that is shorter than announced or fails its CRC32 (retried like a dropped connection)."""

    fmt = "{reason} (endpoint {endpoint_url})"


class _ReadResponse(AWSResponse):  # type: ignore[misc]
    """botocore's response with the body this module read (botocore would otherwise read ``raw`` again)."""

    def __init__(self, response: Any, body: bytes) -> None:
        # Not super().__init__: it would copy the headers into another HeadersDict, per request.
        self.url = response.url
        self.status_code = response.status_code
        self.headers = response.headers
        self.raw = response.raw
        self._body = body

    @property
    def content(self) -> bytes:
        return self._body


def _declared_length(headers: Any) -> int | None:
    value = headers.get("content-length")
    if value is None:
        return None
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _discard(raw: Any) -> None:
    # Closed, then handed back: urllib3 opens a new connection in its place; the rest of the body is never read.
    try:
        raw.close()
        raw.release_conn()
    except Exception:  # noqa: BLE001 - best effort on a connection being thrown away
        pass


class GuardedSession:
    """Wraps botocore's HTTP session (``URLLib3Session``): bounded body reads, damaged bodies refused."""

    def __init__(self, inner: Any, limit: int | None) -> None:
        self.inner = inner
        self.limit = limit

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # close() and anything else botocore may call

    def send(self, request: Any) -> Any:
        if request.stream_output:  # an operation streaming its output (none in DynamoDB): untouched
            return self.inner.send(request)
        request.stream_output = True  # botocore's session then leaves the body unread
        try:
            response = self.inner.send(request)
        finally:
            request.stream_output = False
        declared = _declared_length(response.headers)
        target = request.headers.get("X-Amz-Target") or ""
        if isinstance(target, bytes):
            target = target.decode("latin-1")
        body = self._read(response, declared, request.url, target.rpartition(".")[2])
        if declared is not None and len(body) != declared and response.status_code not in (204, 304):
            raise DamagedResponseError(
                endpoint_url=request.url, reason=f"truncated body: {len(body)} of {declared} bytes"
            )
        expected = response.headers.get("x-amz-crc32")
        if expected is not None and str(binascii.crc32(body)) != str(expected).strip():
            raise DamagedResponseError(endpoint_url=request.url, reason="response CRC32 mismatch")
        return _ReadResponse(response, body)

    def _read(self, response: Any, declared: int | None, url: str, operation: str) -> bytes:
        limit, raw = self.limit, response.raw
        if limit is not None and declared is not None and declared > limit:
            _discard(raw)
            raise ResponseTooLargeError(limit, declared, operation=operation)
        parts: list[bytes] = []
        have = 0
        try:
            for chunk in raw.stream(_READ_SIZE):
                have += len(chunk)
                if limit is not None and have > limit:
                    _discard(raw)
                    raise ResponseTooLargeError(limit, have, operation=operation)
                parts.append(chunk)
        # What botocore's own send maps these to, when it reads the body itself.
        except URLLib3ReadTimeoutError as exc:
            raise ReadTimeoutError(endpoint_url=url, error=exc) from exc
        except URLLib3ProtocolError as exc:
            raise ConnectionClosedError(error=exc, endpoint_url=url) from exc
        except (ResponseTooLargeError, HTTPClientError):
            raise
        except Exception as exc:
            raise HTTPClientError(error=exc) from exc
        return b"".join(parts)


def _parsing(**_: Any) -> None:
    state = parse_state.get()
    if state is not None:
        state[0] = True


def _parsed(**_: Any) -> None:
    state = parse_state.get()
    if state is not None:
        state[0] = False


def _check_parsed(http_response: Any = None, parsed: Any = None, model: Any = None, **_: Any) -> None:
    """Refuse a 2xx that botocore parsed to nothing from a body that is not a JSON object.

    botocore's JSON parser reads an unparseable body as ``{"message": <text>}``, which an output
    shape without a ``message`` member (every DynamoDB one) turns into ``{}``. Only then is the
    body parsed again, to tell a real empty answer from a damaged one.
    """
    if not isinstance(http_response, _ReadResponse) or not 200 <= http_response.status_code < 300:
        return
    if not isinstance(parsed, dict) or any(key != "ResponseMetadata" for key in parsed):
        return
    body = http_response.content.strip()
    if body in (b"", b"{}"):
        return
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        decoded = None
    if type(decoded) is not dict:
        name = getattr(model, "name", "response")
        raise TransportError(f"{name}: unreadable response (status {http_response.status_code}): not a JSON object")


def install(client: Any, limit: int | None) -> bool:
    """Guard a botocore client's responses (idempotent; the latest ``limit`` wins). False when it cannot be."""
    endpoint: Any = getattr(client, "_endpoint", None)
    session = getattr(endpoint, "http_session", None)
    events = getattr(getattr(client, "meta", None), "events", None)
    if session is None or events is None:
        return False
    if isinstance(session, GuardedSession):
        session.limit = limit
    else:
        endpoint.http_session = GuardedSession(session, limit)
    events.register("before-parse", _parsing, unique_id="dynagen-parse-start")
    events.register("response-received", _parsed, unique_id="dynagen-parse-end")
    events.register("after-call", _check_parsed, unique_id="dynagen-check-parsed")
    return True

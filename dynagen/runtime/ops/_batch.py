"""BatchGetItem and BatchWriteItem with chunking, bounded retries of unprocessed work, and no silent loss.

DynamoDB takes at most 100 keys per BatchGetItem and 25 writes per BatchWriteItem, and may answer
with part of the work unprocessed (throttling, 16 MB limit). Unprocessed keys/writes are retried
with exponential backoff and full jitter, a bounded number of times per chunk and for a bounded
time per call (``max_retry_time``: backoff sleeps and retried requests of every chunk together);
whatever is still unprocessed is returned to the caller (or raised with ``strict=True``), never
dropped.

Unprocessed writes are matched to the ones sent by their table key (the ``key_attributes`` given,
else the attributes of the batch's delete keys for that table), not by their full content: an entry
the service echoes back in another but equal form (numbers as ``1.5`` for ``1.50``, sets in another
order) still counts as not written, once. Without known key attributes, entries are compared by
value (numbers by value, sets in any order). The retry resends the caller's own request.

At this level ``completed`` (and ``unprocessed``) always hold wire-format requests or items per
table, in ``UnprocessedItemsError``, ``BatchInterruptedError`` and ``DeadlineExceededError`` alike;
a repository's batch methods present ``completed`` as models (or keys) instead.

A batch stopped part-way never loses the record of what it did: by the deadline,
``DeadlineExceededError`` carries ``completed`` / ``remaining``; by any other error once a request of
the batch has been answered (a read timeout, a reset connection, a service error on chunk 2),
``BatchInterruptedError`` carries ``completed`` / ``unprocessed`` with the error as ``__cause__``.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from dynagen._typing import TYPE_CHECKING, Any
from dynagen.errors import BatchInterruptedError, DeadlineExceededError, InvalidValueError, UnprocessedItemsError
from dynagen.runtime.ops._call import call
from dynagen.runtime.transport._bounds import Deadline
from dynagen.runtime.wire._cursor import wire_to_json
from dynagen.runtime.wire._expressions import AttributePath, Item, Placeholders
from dynagen.runtime.wire._expressions import projection as render_projection

if TYPE_CHECKING:
    from dynagen.runtime.transport._interface import Transport

__all__ = [
    "DEFAULT_MAX_RETRY_TIME",
    "MAX_BATCH_GET",
    "MAX_BATCH_WRITE",
    "BatchGetResult",
    "BatchWriteResult",
    "WriteRequest",
    "batch_get",
    "batch_write",
    "delete_request",
    "put_request",
]

MAX_BATCH_GET = 100
MAX_BATCH_WRITE = 25
# Seconds one batch call may spend on retries of unprocessed work, over all its chunks: each chunk's
# own backoff (8 attempts, 2 s cap) sums to ~5 s at most, so 1,000 items could otherwise wait ~200 s.
DEFAULT_MAX_RETRY_TIME = 10.0

WriteRequest = Mapping[str, Any]
"""``{"PutRequest": {"Item": item}}`` or ``{"DeleteRequest": {"Key": key}}`` (wire format)."""


@dataclass(frozen=True)
class BatchGetResult:
    """Items found per table (in no particular order; missing keys simply have no item), and the keys
    still unprocessed after the retries."""

    items: dict[str, list[Item]]
    unprocessed: dict[str, list[Item]] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchWriteResult:
    """The write requests still unprocessed after the retries, per table (empty when all were written)."""

    unprocessed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def put_request(item: Mapping[str, Any]) -> dict[str, Any]:
    """A BatchWriteItem put of a wire-format item."""
    return {"PutRequest": {"Item": dict(item)}}


def delete_request(key: Mapping[str, Any]) -> dict[str, Any]:
    """A BatchWriteItem delete of a wire-format key."""
    return {"DeleteRequest": {"Key": dict(key)}}


def _identity(value: Mapping[str, Any], where: str) -> str:
    """A canonical text for a wire-format key or write request, to find duplicates."""
    try:
        return json.dumps(wire_to_json(value), separators=(",", ":"))
    except InvalidValueError as exc:
        raise InvalidValueError(where, exc.reason) from None


def _check_write(request: Any, where: str) -> dict[str, Any]:
    body: Any = None
    if isinstance(request, Mapping) and len(request) == 1:
        if "PutRequest" in request:
            body = request["PutRequest"].get("Item") if isinstance(request["PutRequest"], Mapping) else None
        elif "DeleteRequest" in request:
            body = request["DeleteRequest"].get("Key") if isinstance(request["DeleteRequest"], Mapping) else None
    if not isinstance(body, Mapping) or not body:
        raise InvalidValueError(
            where, f"expected {{'PutRequest': {{'Item': ...}}}} or {{'DeleteRequest': {{'Key': ...}}}}, got {request!r}"
        )
    return {kind: {name: dict(value)} for kind, inner in request.items() for name, value in inner.items()}


def _write_identity(request: Mapping[str, Any], where: str) -> str:
    ((kind, inner),) = request.items()
    ((_name, value),) = inner.items()
    return f"{kind}:{_identity(value, where)}"


def _number(text: str) -> str:
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return text
    return str(value.normalize()) if value.is_finite() else text


def _by_value(value: Any) -> Any:
    """A JSON-ready attribute value (``wire_to_json``'s) with numbers normalised and sets sorted."""
    ((kind, inner),) = value.items()
    if kind == "N":
        return {kind: _number(inner)}
    if kind == "NS":
        return {kind: sorted({_number(v) for v in inner})}
    if kind in ("SS", "BS"):
        return {kind: sorted(set(inner))}
    if kind == "L":
        return {kind: [_by_value(v) for v in inner]}
    if kind == "M":
        return {kind: {name: _by_value(v) for name, v in inner.items()}}
    return value


def _match_key(request: Any, key_attributes: Sequence[str] | None) -> str | None:
    """What an unprocessed entry is matched on: its table key (or, key unknown, its value); None if malformed."""
    try:
        ((kind, inner),) = request.items()
        ((_name, body),) = inner.items()
        if key_attributes is not None:
            body = {name: body[name] for name in key_attributes}
        as_json = wire_to_json(body)
    except (AttributeError, KeyError, TypeError, ValueError):  # InvalidValueError is a ValueError
        return None
    if key_attributes is not None:
        return json.dumps({name: _by_value(v) for name, v in as_json.items()}, separators=(",", ":"))
    return f"{kind}:" + json.dumps({name: _by_value(v) for name, v in as_json.items()}, separators=(",", ":"))


def _key_attributes(
    writes: Mapping[str, Sequence[dict[str, Any]]], given: Mapping[str, Sequence[str]] | None
) -> dict[str, Sequence[str] | None]:
    """Each table's key attributes: as given, else those of its delete keys, else unknown (None)."""
    known: dict[str, Sequence[str] | None] = {}
    for table, requests in writes.items():
        names: Sequence[str] | None = None if given is None else given.get(table)
        if names is None:
            deletes = [r["DeleteRequest"]["Key"] for r in requests if "DeleteRequest" in r]
            if deletes:
                names = sorted(deletes[0])
        known[table] = tuple(names) if names is not None else None
    return known


def _split_unprocessed(
    sent: Sequence[dict[str, Any]], echoed: Sequence[Any], key_attributes: Sequence[str] | None
) -> tuple[list[dict[str, Any]], list[Any]]:
    """(written, to resend): sent requests matched by key to no unprocessed entry are written.

    A matched entry is resent as the caller sent it; an echoed entry matching nothing sent (a
    service that changed a key, or a malformed answer) is kept as returned: counted as not done.
    """
    index: dict[str, list[int]] = {}
    for i, request in enumerate(sent):
        key = _match_key(request, key_attributes)
        if key is not None:
            index.setdefault(key, []).append(i)
    left: set[int] = set()
    unmatched: list[Any] = []
    for entry in echoed:
        key = _match_key(entry, key_attributes)
        matches = index.get(key, []) if key is not None else []
        if matches:
            left.update(matches)
        else:
            unmatched.append(entry)
    written = [r for i, r in enumerate(sent) if i not in left]
    return written, [sent[i] for i in sorted(left)] + unmatched


def _backoff(attempt: int, base_delay: float, max_delay: float, rng: Callable[[], float]) -> float:
    # Full jitter (AWS architecture blog): uniform in [0, min(cap, base * 2**attempt)].
    return float(rng()) * min(max_delay, base_delay * 2.0 ** (attempt - 1))


def _check_budget(max_attempts: int, base_delay: float, max_delay: float, max_retry_time: float | None) -> None:
    if not isinstance(max_attempts, int) or max_attempts < 1:
        raise InvalidValueError("max_attempts", "max_attempts must be an int >= 1")
    if base_delay < 0 or max_delay < 0:
        raise InvalidValueError("base_delay", "delays must be >= 0")
    if max_retry_time is not None and not max_retry_time >= 0:
        raise InvalidValueError("max_retry_time", f"must be >= 0 seconds (or None: no bound), got {max_retry_time}")


class _RetryClock:
    """Time one batch call spends on retries (backoff sleeps and the retried requests), against its bound."""

    __slots__ = ("_clock", "_limit", "_started", "spent")

    def __init__(self, limit: float | None, clock: Callable[[], float]) -> None:
        self._limit = limit
        self._clock = clock
        self._started: float | None = None
        self.spent = 0.0

    def allows(self, delay: float) -> bool:
        """Whether a retry after ``delay`` seconds of backoff still fits the call's retry time."""
        return self._limit is None or self.spent + delay <= self._limit

    def retrying(self) -> None:
        self._started = self._clock()

    def answered(self) -> None:
        if self._started is not None:
            self.spent += self._clock() - self._started
            self._started = None


def _merge(into: dict[str, list[Any]], more: Mapping[str, Sequence[Any]]) -> None:
    for table, values in more.items():
        if values:
            into.setdefault(table, []).extend(values)


CompletedAs = Callable[[dict[str, list[Any]], dict[str, list[Any]]], Any]
"""``(completed, unprocessed) -> completed`` as the caller presents it (a repository: models or keys)."""


def _send(
    transport: Transport,
    operation: str,
    request_items: Mapping[str, Any],
    deadline: Deadline | None,
    progress: Callable[[], tuple[Any, Any]],
    answered: bool,
    completed_as: CompletedAs | None,
) -> dict[str, Any]:
    """One batch request; a failure after earlier answers becomes ``BatchInterruptedError`` with the progress."""
    try:
        return call(transport, operation, {"RequestItems": request_items}, deadline, progress)
    except DeadlineExceededError:
        raise  # carries completed / remaining already
    except Exception as exc:
        if not answered:
            raise  # nothing is known to be done: the error alone says everything
        completed, remaining = progress()
        if completed_as is not None:
            completed = completed_as(completed, remaining)
        raise BatchInterruptedError(remaining, completed=completed, operation=operation, error=exc) from exc


def batch_get(
    transport: Transport,
    keys: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    consistent: bool = False,
    projection: Sequence[AttributePath] | None = None,
    max_attempts: int = 8,
    base_delay: float = 0.05,
    max_delay: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
    strict: bool = False,
    deadline: Deadline | None = None,
    max_retry_time: float | None = DEFAULT_MAX_RETRY_TIME,
    clock: Callable[[], float] = time.monotonic,
    completed_as: CompletedAs | None = None,
) -> BatchGetResult:
    """Get many items from one or more tables: chunks of 100 keys, identical keys asked once.

    Each chunk is sent up to ``max_attempts`` times while DynamoDB leaves keys unprocessed, sleeping
    ``rng() * min(max_delay, base_delay * 2**(attempt-1))`` between attempts, and the whole call
    retries for at most ``max_retry_time`` seconds (backoff and retried requests of all chunks; None:
    no bound; later chunks are still sent once). Keys still unprocessed come back in
    ``unprocessed``; with ``strict`` they raise ``UnprocessedItemsError`` (``completed``: the items
    found, per table). ``projection`` applies to every table; remember to project the key attributes
    if you need to tell items apart.

    Stopped by the deadline: ``DeadlineExceededError.completed`` is the items found so far per table and
    ``remaining`` every key not fetched (unprocessed or never sent) per table. Stopped by another error
    after a request was answered: ``BatchInterruptedError`` with the same two as ``completed`` and
    ``unprocessed`` (the error is its ``__cause__``); an error on the very first request propagates as is.
    ``completed_as(completed, unprocessed)``, when given, is what ``completed`` holds in the
    ``UnprocessedItemsError`` and ``BatchInterruptedError`` raised here (a repository's models).
    """
    _check_budget(max_attempts, base_delay, max_delay, max_retry_time)
    retries = _RetryClock(max_retry_time, clock)
    pending: list[tuple[str, dict[str, Any]]] = []
    for table, table_keys in keys.items():
        seen: set[str] = set()
        for i, key in enumerate(table_keys):
            where = f"keys[{table}][{i}]"
            if not isinstance(key, Mapping) or not key:
                raise InvalidValueError(where, "a key is a non-empty mapping of wire-format values")
            identity = _identity(key, where)
            if identity not in seen:  # DynamoDB rejects a batch holding the same key twice
                seen.add(identity)
                pending.append((table, dict(key)))
    table_options: dict[str, dict[str, Any]] = {}
    for table in keys:
        options: dict[str, Any] = {}
        if consistent:
            options["ConsistentRead"] = True
        if projection is not None:
            placeholders = Placeholders()
            options["ProjectionExpression"] = render_projection(projection, placeholders)
            options.update(placeholders.expression_attributes())
        table_options[table] = options
    items: dict[str, list[Item]] = {table: [] for table in keys}
    unprocessed: dict[str, list[Item]] = {}
    answered = False  # has any request of this batch been answered?
    for start in range(0, len(pending), MAX_BATCH_GET):
        chunk = pending[start : start + MAX_BATCH_GET]
        request_items: dict[str, Any] = {}
        for table, key in chunk:
            request_items.setdefault(table, {"Keys": [], **table_options[table]})["Keys"].append(key)
        later = pending[start + MAX_BATCH_GET :]
        attempt = 0
        while request_items:
            attempt += 1

            def progress(current: Mapping[str, Any] = request_items, later: Any = later) -> tuple[Any, Any]:
                remaining: dict[str, list[Any]] = {t: list(v) for t, v in unprocessed.items()}
                _merge(remaining, {t: entry["Keys"] for t, entry in current.items()})
                for table, key in later:
                    remaining.setdefault(table, []).append(key)
                return {t: list(v) for t, v in items.items()}, remaining

            response = _send(transport, "BatchGetItem", request_items, deadline, progress, answered, completed_as)
            retries.answered()
            answered = True
            for table, found in (response.get("Responses") or {}).items():
                items.setdefault(table, []).extend(found)
            request_items = {t: e for t, e in (response.get("UnprocessedKeys") or {}).items() if e.get("Keys")}
            if not request_items:
                break
            delay = 0.0 if attempt >= max_attempts else _backoff(attempt, base_delay, max_delay, rng)
            if attempt >= max_attempts or not retries.allows(delay):  # out of attempts, or of retry time
                _merge(unprocessed, {t: e["Keys"] for t, e in request_items.items()})
                break
            if deadline is not None and deadline.usable() <= delay:
                # The retry could not start in time anyway: report now instead of sleeping into the deadline.
                completed, remaining = progress(request_items)
                raise DeadlineExceededError(operation="BatchGetItem", completed=completed, remaining=remaining)
            retries.retrying()
            sleep(delay)
    if strict and unprocessed:
        raise UnprocessedItemsError(unprocessed, completed=_present(completed_as, items, unprocessed))
    return BatchGetResult(items, unprocessed)


def batch_write(
    transport: Transport,
    writes: Mapping[str, Sequence[WriteRequest]],
    *,
    max_attempts: int = 8,
    base_delay: float = 0.05,
    max_delay: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
    strict: bool = False,
    deadline: Deadline | None = None,
    max_retry_time: float | None = DEFAULT_MAX_RETRY_TIME,
    clock: Callable[[], float] = time.monotonic,
    key_attributes: Mapping[str, Sequence[str]] | None = None,
    completed_as: CompletedAs | None = None,
) -> BatchWriteResult:
    """Put and delete many items in one or more tables: chunks of 25, identical requests sent once.

    Retries (``max_attempts`` per chunk, ``max_retry_time`` per call) and ``strict`` as in
    ``batch_get``; ``UnprocessedItemsError.completed`` holds the requests written, per table.
    ``key_attributes`` (``{table: ("PK", "SK")}``) names each table's key, by which unprocessed
    entries are matched to the requests sent; for a table not named there, the attributes of its
    delete keys serve, and without deletes entries are compared by value. Two *different* writes to
    the same key are the caller's to avoid (DynamoDB rejects them in one chunk, and their order is
    not kept across retries).

    Stopped by the deadline: ``DeadlineExceededError.completed`` is the write requests done per table
    and ``remaining`` those not (known to be) done, per table. A request whose outcome is unknown (its
    batch was refused mid-retry by the SDK) counts as remaining: puts and deletes are safe to resend.
    Stopped by another error after a request was answered: ``BatchInterruptedError`` with ``completed``
    and ``unprocessed`` counted the same way (the failed chunk is unprocessed), the error as ``__cause__``.
    ``completed_as`` as in ``batch_get``.
    """
    _check_budget(max_attempts, base_delay, max_delay, max_retry_time)
    retries = _RetryClock(max_retry_time, clock)
    pending: list[tuple[str, dict[str, Any], str]] = []
    for table, requests in writes.items():
        seen: set[str] = set()
        for i, request in enumerate(requests):
            where = f"writes[{table}][{i}]"
            checked = _check_write(request, where)
            identity = _write_identity(checked, where)
            if identity not in seen:
                seen.add(identity)
                pending.append((table, checked, identity))
    by_table: dict[str, list[dict[str, Any]]] = {}
    for table, request, _ in pending:
        by_table.setdefault(table, []).append(request)
    keys_of = _key_attributes(by_table, key_attributes)
    written: dict[str, list[dict[str, Any]]] = {}
    unprocessed: dict[str, list[dict[str, Any]]] = {}
    answered = False  # has any request of this batch been answered?
    for start in range(0, len(pending), MAX_BATCH_WRITE):
        chunk = pending[start : start + MAX_BATCH_WRITE]
        request_items: dict[str, list[dict[str, Any]]] = {}
        for table, request, _ in chunk:
            request_items.setdefault(table, []).append(request)
        later = pending[start + MAX_BATCH_WRITE :]
        attempt = 0
        while request_items:
            attempt += 1

            def progress(
                current: Mapping[str, list[dict[str, Any]]] = request_items, later: Any = later
            ) -> tuple[Any, Any]:
                remaining: dict[str, list[Any]] = {t: list(v) for t, v in unprocessed.items()}
                _merge(remaining, current)
                for table, request, _ in later:
                    remaining.setdefault(table, []).append(request)
                return {t: list(v) for t, v in written.items()}, remaining

            response = _send(transport, "BatchWriteItem", request_items, deadline, progress, answered, completed_as)
            retries.answered()
            answered = True
            echoed = {t: v for t, v in (response.get("UnprocessedItems") or {}).items() if v}
            left: dict[str, list[dict[str, Any]]] = {}
            for table, sent in request_items.items():
                done, again = _split_unprocessed(sent, echoed.pop(table, []), keys_of.get(table))
                written.setdefault(table, []).extend(done)
                if again:
                    left[table] = again
            _merge(left, echoed)  # tables this request did not hold: nothing to match, kept as returned
            request_items = left
            if not request_items:
                break
            delay = 0.0 if attempt >= max_attempts else _backoff(attempt, base_delay, max_delay, rng)
            if attempt >= max_attempts or not retries.allows(delay):  # out of attempts, or of retry time
                _merge(unprocessed, request_items)
                break
            if deadline is not None and deadline.usable() <= delay:
                completed, remaining = progress(request_items)
                raise DeadlineExceededError(operation="BatchWriteItem", completed=completed, remaining=remaining)
            retries.retrying()
            sleep(delay)
    if strict and unprocessed:
        raise UnprocessedItemsError(unprocessed, completed=_present(completed_as, written, unprocessed))
    return BatchWriteResult(unprocessed)


def _present(completed_as: CompletedAs | None, completed: dict[str, list[Any]], unprocessed: dict[str, list[Any]]) -> Any:
    return completed if completed_as is None else completed_as(completed, unprocessed)

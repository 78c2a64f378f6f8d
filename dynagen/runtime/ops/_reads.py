"""Queries and scans: one page (``Page``, with its cursor), every page, counts, parallel scans.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from dynagen._record import Record, init
from dynagen._typing import TYPE_CHECKING, Any, Generic, TypeVar
from dynagen.errors import DeadlineExceededError, InvalidValueError
from dynagen.runtime.ops._call import call, finish
from dynagen.runtime.transport._bounds import Deadline
from dynagen.runtime.wire._expressions import (
    AttributePath,
    AttributeValue,
    Condition,
    Item,
    Placeholders,
    SortCondition,
    key_condition,
    parse_path,
)
from dynagen.runtime.wire._expressions import projection as render_projection

if TYPE_CHECKING:
    from dynagen.runtime.transport._interface import Transport

__all__ = ["Page", "parallel_scan", "query", "query_count", "query_pages", "scan", "scan_count", "scan_pages"]

T = TypeVar("T")
U = TypeVar("U")

_SELECTS = ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT")


# --------------------------------------------------------------------------------------------------
# Shared plumbing


# --------------------------------------------------------------------------------------------------
# Single items


# --------------------------------------------------------------------------------------------------
# Queries and scans


class Page(Record, Generic[T]):
    """One page of a query or scan.

    ``cursor`` resumes after this page (None at the end); ``count`` is the number of items returned
    (for ``select="COUNT"``, the number counted) and ``scanned_count`` the number DynamoDB evaluated.
    """

    __slots__ = ("items", "cursor", "count", "scanned_count")  # noqa: RUF023 - the fields' order
    items: list[T]
    cursor: str | None
    count: int
    scanned_count: int

    def __init__(self, items: list[T], cursor: str | None, count: int, scanned_count: int = 0) -> None:
        init(self, "items", items)
        init(self, "cursor", cursor)
        init(self, "count", count)
        init(self, "scanned_count", scanned_count)

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        """The same page with every item converted (e.g. wire item to model)."""
        return Page([convert(item) for item in self.items], self.cursor, self.count, self.scanned_count)


class _Read:
    """Everything a query or scan needs to issue its requests (built once per call, never changed)."""

    __slots__ = (
        "counting", "has_filter", "index", "keep", "key_attributes", "limit", "operation", "partition", "request",
        "sort", "strip",
    )  # fmt: skip

    def __init__(
        self,
        operation: str,
        request: dict[str, Any],
        key_attributes: tuple[str, ...],
        index: str | None,
        sort: str | None,  # "ASC"/"DESC" for queries, None for scans
        strip: tuple[str, ...],  # key attributes added to a projection only to build cursors
        limit: int | None,
        has_filter: bool,
        counting: bool,
        keep: Callable[[Item], bool] | None = None,  # drops returned items DynamoDB's condition let through
        partition: tuple[str, AttributeValue] | None = None,  # a query's partition key (a cursor must be of it)
    ) -> None:
        self.keep = keep
        self.partition = partition
        self.operation = operation
        self.request = request
        self.key_attributes = key_attributes
        self.index = index
        self.sort = sort
        self.strip = strip
        self.limit = limit
        self.has_filter = has_filter
        self.counting = counting


def _prepare_read(
    operation: str,
    request: dict[str, Any],
    placeholders: Placeholders,
    *,
    key_attributes: Sequence[str],
    index: str | None,
    sort: str | None,
    filter: Condition | None,
    projection: Sequence[AttributePath] | None,
    limit: int | None,
    consistent: bool,
    select: str | None,
    keep: Callable[[Item], bool] | None = None,
    partition: tuple[str, AttributeValue] | None = None,
) -> _Read:
    if isinstance(key_attributes, str) or not key_attributes:
        raise InvalidValueError("key_attributes", "name the table's key attributes (plus the index's)")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise InvalidValueError("limit", f"limit must be an int >= 1, got {limit!r}")
    if select is not None and select not in _SELECTS:
        raise InvalidValueError("select", f"select must be one of {_SELECTS}")
    counting = select == "COUNT"
    if counting and (limit is not None or projection is not None):
        raise InvalidValueError("select", "COUNT takes neither limit nor projection (use query_count/scan_count)")
    if counting and keep is not None:
        raise InvalidValueError("select", "COUNT returns no items to test with keep")
    if index is not None:
        request["IndexName"] = index
    if consistent:
        request["ConsistentRead"] = True
    if filter is not None:
        request["FilterExpression"] = filter.render(placeholders)
    strip: tuple[str, ...] = ()
    if projection is not None:
        projected = list(projection)
        if limit is not None and (filter is not None or keep is not None):
            # This page may be cut short inside a DynamoDB page; its cursor is then built from the last
            # returned item, which therefore needs its key attributes.
            named = {parse_path(p)[0] for p in projected}
            strip = tuple(k for k in dict.fromkeys(key_attributes) if k not in named)
            projected.extend(strip)
        request["ProjectionExpression"] = render_projection(projected, placeholders)
    if select is not None:
        request["Select"] = select
    finish(request, placeholders)
    return _Read(
        operation, request, tuple(key_attributes), index, sort, strip, limit, filter is not None, counting, keep,
        partition,
    )  # fmt: skip


def _read_page(transport: Transport, read: _Read, cursor: str | None, deadline: Deadline | None) -> Page[Item]:
    # Here, not at import: a function whose first request is a GetItem never loads the cursor module.
    from dynagen.runtime.wire._cursor import decode_cursor, encode_cursor

    start_key: Item | None = None
    if cursor is not None:
        decoded = decode_cursor(cursor)
        decoded.check(index=read.index, sort=read.sort, key_attributes=read.key_attributes)
        start_key = decoded.last_key
        if read.partition is not None and start_key.get(read.partition[0], read.partition[1]) != read.partition[1]:
            # DynamoDB would answer a ValidationException; the value itself is not repeated (it may be an id).
            raise InvalidValueError("cursor", "the cursor was made by a query of another partition")
    items: list[Item] = []
    count = scanned = 0
    next_cursor: str | None = None

    def resume_point() -> str | None:
        return encode_cursor(start_key, read.index, read.sort) if start_key else cursor

    def progress() -> tuple[Any, Any]:
        # completed: the items read so far (counted items for COUNT); remaining: the cursor to resume from
        # (None: nothing was read yet and there was no cursor, so start from the beginning).
        done = [_strip(item, read.strip) for item in items]
        return (count if read.counting else done), resume_point()

    while True:
        request = dict(read.request)
        if start_key is not None:
            request["ExclusiveStartKey"] = start_key
        if read.limit is not None and not read.has_filter:
            # Without a filter every evaluated item is returned: ask for exactly what is missing.
            request["Limit"] = read.limit - len(items)
        response = call(transport, read.operation, request, deadline, progress)
        got: list[Item] = response.get("Items") or []
        if read.keep is not None:
            got = [item for item in got if read.keep(item)]
        scanned += int(response.get("ScannedCount", 0))
        last_key: Item | None = response.get("LastEvaluatedKey") or None
        if read.counting:
            count += int(response.get("Count", 0))
        room = read.limit - len(items) if read.limit is not None else len(got)
        if len(got) > room:
            items.extend(got[:room])
            next_cursor = encode_cursor(_key_of(items[-1], read.key_attributes), read.index, read.sort)
            break
        items.extend(got)
        if last_key is None:
            break
        start_key = last_key
        if read.limit is None or len(items) >= read.limit:
            next_cursor = encode_cursor(last_key, read.index, read.sort)
            break
    if read.strip:
        items = [_strip(item, read.strip) for item in items]
    return Page(items, next_cursor, count if read.counting else len(items), scanned)


def _key_of(item: Mapping[str, Any], key_attributes: Sequence[str]) -> Item:
    missing = [k for k in key_attributes if k not in item]
    if missing:
        raise InvalidValueError("key_attributes", f"returned item lacks key attributes {missing}")
    return {k: item[k] for k in key_attributes}


def _strip(item: Item, names: tuple[str, ...]) -> Item:
    return {k: v for k, v in item.items() if k not in names} if names else item


def _query_read(
    table: str,
    *,
    partition: tuple[str, AttributeValue],
    sort: tuple[str, SortCondition] | None,
    key_attributes: Sequence[str],
    index: str | None,
    filter: Condition | None,
    projection: Sequence[AttributePath] | None,
    limit: int | None,
    forward: bool,
    consistent: bool,
    select: str | None,
    keep: Callable[[Item], bool] | None = None,
) -> _Read:
    placeholders = Placeholders()
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": key_condition(partition, sort, placeholders),
    }
    if not forward:
        request["ScanIndexForward"] = False
    return _prepare_read(
        "Query",
        request,
        placeholders,
        key_attributes=key_attributes,
        index=index,
        sort="ASC" if forward else "DESC",
        filter=filter,
        projection=projection,
        limit=limit,
        consistent=consistent,
        select=select,
        keep=keep,
        partition=partition,
    )


def query(
    transport: Transport,
    table: str,
    *,
    partition: tuple[str, AttributeValue],
    key_attributes: Sequence[str],
    sort: tuple[str, SortCondition] | None = None,
    index: str | None = None,
    filter: Condition | None = None,
    projection: Sequence[AttributePath] | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    forward: bool = True,
    consistent: bool = False,
    select: str | None = None,
    keep: Callable[[Item], bool] | None = None,
    deadline: Deadline | None = None,
) -> Page[Item]:
    """One page of items whose partition key equals ``partition[1]``, optionally narrowed by ``sort``.

    ``keep``: a test each returned item must pass to count (what a sort condition on free text
    cannot say exactly; see ``key_range``). Items it drops were read, as a filter's are.

    ``key_attributes`` names the table's key attributes plus the index's (to build and check cursors).
    Without ``limit`` the page is one DynamoDB response. With ``limit`` the page holds up to ``limit``
    items: requests continue (each deadline-checked) until that many matched or the end; when the page
    ends inside a DynamoDB response, its cursor is the last returned item's key. A ``cursor`` from
    another index, sort order or partition is an ``InvalidValueError``.

    Stopped by the deadline: ``DeadlineExceededError.completed`` is the list of items read so far and
    ``remaining`` the cursor to resume from (None: start again from the beginning).
    """
    read = _query_read(
        table,
        partition=partition,
        sort=sort,
        key_attributes=key_attributes,
        index=index,
        filter=filter,
        projection=projection,
        limit=limit,
        forward=forward,
        consistent=consistent,
        select=select,
        keep=keep,
    )
    return _read_page(transport, read, cursor, deadline)


def query_pages(
    transport: Transport,
    table: str,
    *,
    partition: tuple[str, AttributeValue],
    key_attributes: Sequence[str],
    sort: tuple[str, SortCondition] | None = None,
    index: str | None = None,
    filter: Condition | None = None,
    projection: Sequence[AttributePath] | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    forward: bool = True,
    consistent: bool = False,
    deadline: Deadline | None = None,
) -> Iterator[Page[Item]]:
    """Every page of ``query`` in turn, from ``cursor`` (or the start) to the end; ``limit`` is the page size."""
    read = _query_read(
        table,
        partition=partition,
        sort=sort,
        key_attributes=key_attributes,
        index=index,
        filter=filter,
        projection=projection,
        limit=limit,
        forward=forward,
        consistent=consistent,
        select=None,
    )
    return _pages(transport, read, cursor, deadline)


def _pages(transport: Transport, read: _Read, cursor: str | None, deadline: Deadline | None) -> Iterator[Page[Item]]:
    while True:
        page = _read_page(transport, read, cursor, deadline)
        yield page
        if page.cursor is None:
            return
        cursor = page.cursor


def query_count(
    transport: Transport,
    table: str,
    *,
    partition: tuple[str, AttributeValue],
    key_attributes: Sequence[str],
    sort: tuple[str, SortCondition] | None = None,
    index: str | None = None,
    filter: Condition | None = None,
    cursor: str | None = None,
    consistent: bool = False,
    deadline: Deadline | None = None,
) -> int:
    """How many items match (``Select=COUNT`` over every page).

    Stopped by the deadline: ``completed`` is the count so far and ``remaining`` the cursor to resume from.
    """
    read = _query_read(
        table,
        partition=partition,
        sort=sort,
        key_attributes=key_attributes,
        index=index,
        filter=filter,
        projection=None,
        limit=None,
        forward=True,
        consistent=consistent,
        select="COUNT",
    )
    return _count(transport, read, cursor, deadline)


def _count(transport: Transport, read: _Read, cursor: str | None, deadline: Deadline | None) -> int:
    total = 0
    while True:
        try:
            page = _read_page(transport, read, cursor, deadline)
        except DeadlineExceededError as exc:
            raise DeadlineExceededError(
                operation=exc.operation, completed=total + (exc.completed or 0), remaining=exc.remaining
            ) from exc
        total += page.count
        if page.cursor is None:
            return total
        cursor = page.cursor


def _scan_read(
    table: str,
    *,
    key_attributes: Sequence[str],
    index: str | None,
    filter: Condition | None,
    projection: Sequence[AttributePath] | None,
    limit: int | None,
    consistent: bool,
    segment: int | None,
    total_segments: int | None,
    select: str | None,
) -> _Read:
    request: dict[str, Any] = {"TableName": table}
    if (segment is None) != (total_segments is None):
        raise InvalidValueError("segment", "segment and total_segments go together")
    if segment is not None and total_segments is not None:
        if not 1 <= total_segments <= 1_000_000 or not 0 <= segment < total_segments:
            raise InvalidValueError("segment", f"segment {segment} of {total_segments} is out of range")
        request["Segment"] = segment
        request["TotalSegments"] = total_segments
    return _prepare_read(
        "Scan",
        request,
        Placeholders(),
        key_attributes=key_attributes,
        index=index,
        sort=None,
        filter=filter,
        projection=projection,
        limit=limit,
        consistent=consistent,
        select=select,
    )


def scan(
    transport: Transport,
    table: str,
    *,
    key_attributes: Sequence[str],
    index: str | None = None,
    filter: Condition | None = None,
    projection: Sequence[AttributePath] | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    consistent: bool = False,
    segment: int | None = None,
    total_segments: int | None = None,
    select: str | None = None,
    deadline: Deadline | None = None,
) -> Page[Item]:
    """One page of a table or index scan (one segment of it with ``segment``/``total_segments``).

    ``limit``, ``cursor`` and deadline reports work as in ``query``; a cursor belongs to its segment.
    """
    read = _scan_read(
        table,
        key_attributes=key_attributes,
        index=index,
        filter=filter,
        projection=projection,
        limit=limit,
        consistent=consistent,
        segment=segment,
        total_segments=total_segments,
        select=select,
    )
    return _read_page(transport, read, cursor, deadline)


def scan_pages(
    transport: Transport,
    table: str,
    *,
    key_attributes: Sequence[str],
    index: str | None = None,
    filter: Condition | None = None,
    projection: Sequence[AttributePath] | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    consistent: bool = False,
    segment: int | None = None,
    total_segments: int | None = None,
    deadline: Deadline | None = None,
) -> Iterator[Page[Item]]:
    """Every page of ``scan`` in turn, to the end; ``limit`` is the page size."""
    read = _scan_read(
        table,
        key_attributes=key_attributes,
        index=index,
        filter=filter,
        projection=projection,
        limit=limit,
        consistent=consistent,
        segment=segment,
        total_segments=total_segments,
        select=None,
    )
    return _pages(transport, read, cursor, deadline)


def scan_count(
    transport: Transport,
    table: str,
    *,
    key_attributes: Sequence[str],
    index: str | None = None,
    filter: Condition | None = None,
    cursor: str | None = None,
    consistent: bool = False,
    deadline: Deadline | None = None,
) -> int:
    """How many items the scan matches (``Select=COUNT`` over every page); deadline reports as ``query_count``."""
    read = _scan_read(
        table,
        key_attributes=key_attributes,
        index=index,
        filter=filter,
        projection=None,
        limit=None,
        consistent=consistent,
        segment=None,
        total_segments=None,
        select="COUNT",
    )
    return _count(transport, read, cursor, deadline)


class _Segment:
    """What one parallel-scan segment has read so far."""

    __slots__ = ("done", "items", "resume")

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.done = False
        self.resume: str | None = None  # cursor to resume an unfinished segment from (None: its start)


def parallel_scan(
    transport: Transport,
    table: str,
    *,
    total_segments: int,
    key_attributes: Sequence[str],
    max_workers: int | None = None,
    index: str | None = None,
    filter: Condition | None = None,
    projection: Sequence[AttributePath] | None = None,
    consistent: bool = False,
    deadline: Deadline | None = None,
) -> list[Item]:
    """Every item of the table (or index), read as ``total_segments`` segments on worker threads.

    Items come back grouped by segment, in segment order. If one segment fails, the others stop at
    their next page and the first error is raised. Stopped by the deadline:
    ``DeadlineExceededError.completed`` holds every item read and ``remaining`` maps each unfinished
    segment to the cursor to resume it from (None: from its start).
    """
    if not isinstance(total_segments, int) or not 1 <= total_segments <= 1_000_000:
        raise InvalidValueError("total_segments", f"total_segments must be 1..1000000, got {total_segments!r}")
    reads = [
        _scan_read(
            table,
            key_attributes=key_attributes,
            index=index,
            filter=filter,
            projection=projection,
            limit=None,
            consistent=consistent,
            segment=segment,
            total_segments=total_segments,
            select=None,
        )
        for segment in range(total_segments)
    ]
    from threading import Event  # here, not at import: only parallel scans need it

    stop = Event()
    results = [_Segment() for _ in range(total_segments)]

    def run(segment: int) -> None:
        state = results[segment]
        try:
            while not stop.is_set():
                page = _read_page(transport, reads[segment], state.resume, deadline)
                state.items.extend(page.items)
                state.resume = page.cursor
                if page.cursor is None:
                    state.done = True
                    return
        except DeadlineExceededError:
            return  # state.resume says where this segment stopped; reported below
        except Exception:
            stop.set()  # no point scanning on: the caller gets this error
            raise

    # Imported here: concurrent.futures pulls in logging, ~5 ms of every cold start for a rarely used call.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max_workers or min(total_segments, 32)) as pool:
        futures = [pool.submit(run, segment) for segment in range(total_segments)]
    for future in futures:
        future.result()  # re-raises the first segment's error, if any
    items = [item for state in results for item in state.items]
    unfinished = {i: state.resume for i, state in enumerate(results) if not state.done}
    if unfinished:
        raise DeadlineExceededError(operation="Scan", completed=items, remaining=unfinished)
    return items


# --------------------------------------------------------------------------------------------------
# Tables



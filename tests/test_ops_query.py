"""Queries and scans against DynamoDB Local: limits across requests, cursors, deadlines, parallel scans."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from ops_support import (
    GSI_KEYS,
    KEYS,
    Recording,
    fake_deadline,
    key,
    table_definition,
    transport_fixture,  # noqa: F401  (the `transport` fixture: both transports)
)

from dynagen.errors import DeadlineExceededError, InvalidValueError
from dynagen.runtime.ops._items import put_item
from dynagen.runtime.ops._reads import parallel_scan, query, query_count, query_pages, scan, scan_count, scan_pages
from dynagen.runtime.ops._tables import create_table
from dynagen.runtime.transport._interface import Transport
from dynagen.runtime.wire._cursor import decode_cursor, encode_cursor
from dynagen.runtime.wire._expressions import Field, SortCondition

pytestmark = pytest.mark.ddb

Hook = Callable[[str, Mapping[str, Any], Callable[[Mapping[str, Any]], dict[str, Any]]], dict[str, Any]]
N = 30


def _sk(i: int) -> str:
    return f"S#{i:03d}"


@pytest.fixture
def table(transport: Transport, table_name: str) -> str:
    """N items in partition P#1 (every third one ``status=open``), mirrored in gsi1, plus noise in P#2."""
    create_table(transport, table_definition(table_name, ttl=False))
    for i in range(N):
        put_item(
            transport,
            table_name,
            {
                **key("P#1", _sk(i)),
                "GSI1PK": {"S": "G#1"},
                "GSI1SK": {"S": f"G#{N - i:03d}"},  # reversed order in the index
                "status": {"S": "open" if i % 3 == 0 else "closed"},
                "name": {"S": f"n{i}"},
                "data": {"N": str(i)},
            },
        )
    put_item(transport, table_name, {**key("P#2", _sk(0)), "status": {"S": "open"}})
    return table_name


def _sks(items: list[dict[str, Any]]) -> list[str]:
    return [item["SK"]["S"] for item in items]


def _small_pages(size: int) -> Hook:
    """Make DynamoDB answer at most ``size`` evaluated items per request, like its 1 MB page cut."""

    def hook(
        operation: str, request: Mapping[str, Any], call_next: Callable[[Mapping[str, Any]], dict[str, Any]]
    ) -> Any:
        if operation in ("Query", "Scan"):
            request = {**request, "Limit": min(size, request.get("Limit", size))}
        return call_next(request)

    return hook


def test_limit_without_filter_pages_and_cursors_chain(transport: Transport, table: str) -> None:
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = query(transport, table, partition=("PK", {"S": "P#1"}), key_attributes=KEYS, limit=7, cursor=cursor)
        pages += 1
        assert page.count == len(page.items) <= 7
        seen += _sks(page.items)
        if page.cursor is None:
            break
        decoded = decode_cursor(page.cursor)
        assert decoded.index is None
        assert decoded.sort == "ASC"
        assert decoded.last_key == key("P#1", seen[-1])
        cursor = page.cursor
    assert seen == [_sk(i) for i in range(N)]
    assert pages == 5  # 7+7+7+7+2


def test_limit_with_filter_spans_several_requests_and_cuts_inside_one(transport: Transport, table: str) -> None:
    recording = Recording(transport, _small_pages(5))
    open_sks = [_sk(i) for i in range(0, N, 3)]  # 10 matches
    page = query(
        recording,
        table,
        partition=("PK", {"S": "P#1"}),
        key_attributes=KEYS,
        filter=Field("status").eq({"S": "open"}),
        limit=3,
    )
    assert _sks(page.items) == open_sks[:3]
    # Requests of 5 evaluated items: S#000-004 match 2, S#005-009 match S#006 and S#009: cut after S#006.
    assert recording.count("Query") == 2
    assert all("Limit" not in req for _, req in recording.calls)  # a filtered page asks for full pages
    assert page.cursor is not None
    assert decode_cursor(page.cursor).last_key == key("P#1", _sk(6))  # the last RETURNED item, not S#007
    rest = query(
        recording,
        table,
        partition=("PK", {"S": "P#1"}),
        key_attributes=KEYS,
        filter=Field("status").eq({"S": "open"}),
        limit=100,
        cursor=page.cursor,
    )
    assert _sks(rest.items) == open_sks[3:]
    assert rest.cursor is None
    assert rest.scanned_count == N - 7
    # Ending exactly on a response boundary: the cursor is DynamoDB's LastEvaluatedKey.
    exact = query(
        recording,
        table,
        partition=("PK", {"S": "P#1"}),
        key_attributes=KEYS,
        filter=Field("status").eq({"S": "open"}),
        limit=2,
    )
    assert exact.cursor is not None
    assert decode_cursor(exact.cursor).last_key == key("P#1", _sk(4))


def test_filter_and_limit_with_projection_strips_added_keys(transport: Transport, table: str) -> None:
    recording = Recording(transport, _small_pages(7))
    page = query(
        recording,
        table,
        partition=("PK", {"S": "P#1"}),
        key_attributes=KEYS,
        filter=Field("status").eq({"S": "open"}),
        projection=["name", "data"],
        limit=2,
    )
    assert page.items == [{"name": {"S": "n0"}, "data": {"N": "0"}}, {"name": {"S": "n3"}, "data": {"N": "3"}}]
    assert page.cursor is not None
    assert decode_cursor(page.cursor).last_key == key("P#1", _sk(3))


def test_big_items_cross_the_1mb_page_boundary(transport: Transport, table_name: str) -> None:
    create_table(transport, table_definition(table_name, ttl=False))
    blob = "x" * 300_000
    for i in range(8):
        put_item(transport, table_name, {**key("BIG", _sk(i)), "blob": {"S": blob}, "status": {"S": "open"}})
    recording = Recording(transport)
    page = query(
        recording,
        table_name,
        partition=("PK", {"S": "BIG"}),
        key_attributes=KEYS,
        filter=Field("status").eq({"S": "open"}),
        projection=["status"],
        limit=6,
    )
    assert len(page.items) == 6
    assert recording.count("Query") >= 2  # DynamoDB cuts pages at 1 MB evaluated
    rest = query(
        recording,
        table_name,
        partition=("PK", {"S": "BIG"}),
        key_attributes=KEYS,
        filter=Field("status").eq({"S": "open"}),
        projection=["status"],
        limit=6,
        cursor=page.cursor,
    )
    assert len(rest.items) == 2
    assert rest.cursor is None


def test_descending_sort_conditions_and_order_check(transport: Transport, table: str) -> None:
    page = query(
        transport,
        table,
        partition=("PK", {"S": "P#1"}),
        sort=("SK", SortCondition.between({"S": _sk(10)}, {"S": _sk(19)})),
        key_attributes=KEYS,
        forward=False,
        limit=4,
    )
    assert _sks(page.items) == [_sk(i) for i in (19, 18, 17, 16)]
    assert page.cursor is not None and decode_cursor(page.cursor).sort == "DESC"
    more = query(
        transport,
        table,
        partition=("PK", {"S": "P#1"}),
        sort=("SK", SortCondition.between({"S": _sk(10)}, {"S": _sk(19)})),
        key_attributes=KEYS,
        forward=False,
        cursor=page.cursor,
    )
    assert _sks(more.items) == [_sk(i) for i in range(15, 9, -1)]
    with pytest.raises(InvalidValueError, match="DESC"):
        query(transport, table, partition=("PK", {"S": "P#1"}), key_attributes=KEYS, cursor=page.cursor)
    for condition, expected in [
        (SortCondition.eq({"S": _sk(5)}), [5]),
        (SortCondition.lt({"S": _sk(2)}), [0, 1]),
        (SortCondition.le({"S": _sk(1)}), [0, 1]),
        (SortCondition.gt({"S": _sk(27)}), [28, 29]),
        (SortCondition.ge({"S": _sk(28)}), [28, 29]),
        (SortCondition.begins_with({"S": "S#01"}), list(range(10, 20))),
    ]:
        got = query(transport, table, partition=("PK", {"S": "P#1"}), sort=("SK", condition), key_attributes=KEYS)
        assert _sks(got.items) == [_sk(i) for i in expected]


def test_index_query_and_cursor_from_another_index_rejected(transport: Transport, table: str) -> None:
    recording = Recording(transport)
    page = query(recording, table, partition=("GSI1PK", {"S": "G#1"}), key_attributes=GSI_KEYS, index="gsi1", limit=5)
    assert _sks(page.items) == [_sk(i) for i in range(N - 1, N - 6, -1)]
    assert page.cursor is not None
    decoded = decode_cursor(page.cursor)
    assert decoded.index == "gsi1"
    assert set(decoded.last_key) == set(GSI_KEYS)
    requests_before = len(recording.calls)
    table_cursor = encode_cursor(key("P#1", _sk(3)), None, "ASC")
    with pytest.raises(InvalidValueError, match="index"):
        query(
            recording,
            table,
            partition=("GSI1PK", {"S": "G#1"}),
            key_attributes=GSI_KEYS,
            index="gsi1",
            cursor=table_cursor,
        )
    with pytest.raises(InvalidValueError, match="index"):
        query(recording, table, partition=("PK", {"S": "P#1"}), key_attributes=KEYS, cursor=page.cursor)
    with pytest.raises(InvalidValueError, match="gsi2"):
        query(
            recording,
            table,
            partition=("GSI1PK", {"S": "G#1"}),
            key_attributes=GSI_KEYS,
            index="gsi2",
            cursor=page.cursor,
        )
    with pytest.raises(InvalidValueError):
        query(recording, table, partition=("PK", {"S": "P#1"}), key_attributes=KEYS, cursor="not-a-cursor")
    # A cursor of another partition: DynamoDB answered a ValidationException ("The provided starting key
    # does not match the range key predicate"); now refused by name before the request.
    with pytest.raises(InvalidValueError, match="another partition") as caught:
        query(recording, table, partition=("GSI1PK", {"S": "G#2"}), key_attributes=GSI_KEYS, index="gsi1", cursor=page.cursor)
    assert caught.value.field == "cursor"
    assert len(recording.calls) == requests_before  # all refused before any request
    rest = query(
        recording,
        table,
        partition=("GSI1PK", {"S": "G#1"}),
        key_attributes=GSI_KEYS,
        index="gsi1",
        cursor=page.cursor,
        limit=100,
    )
    assert _sks(rest.items) == [_sk(i) for i in range(N - 6, -1, -1)]


def test_reserved_words_in_key_condition_filter_and_projection(transport: Transport, table_name: str) -> None:
    transport.call(
        "CreateTable",
        {
            "TableName": table_name,
            "KeySchema": [{"AttributeName": "data", "KeyType": "HASH"}, {"AttributeName": "size", "KeyType": "RANGE"}],
            "AttributeDefinitions": [
                {"AttributeName": "data", "AttributeType": "S"},
                {"AttributeName": "size", "AttributeType": "N"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    for i in range(6):
        put_item(
            transport,
            table_name,
            {
                "data": {"S": "d"},
                "size": {"N": str(i)},
                "status": {"S": "on" if i % 2 else "off"},
                "count": {"N": str(i * 10)},
                "name": {"S": f"n{i}"},
                "ttl": {"N": "0"},
            },
        )
    keys = ("data", "size")
    page = query(
        transport,
        table_name,
        partition=("data", {"S": "d"}),
        sort=("size", SortCondition.ge({"N": "1"})),
        key_attributes=keys,
        filter=Field("status").eq({"S": "on"}) & Field("count").gt({"N": "5"}) & Field("ttl").exists(),
        projection=["name", "count"],
        limit=2,
    )
    assert page.items == [{"name": {"S": "n1"}, "count": {"N": "10"}}, {"name": {"S": "n3"}, "count": {"N": "30"}}]
    assert page.cursor is not None
    rest = query(
        transport,
        table_name,
        partition=("data", {"S": "d"}),
        sort=("size", SortCondition.ge({"N": "1"})),
        key_attributes=keys,
        filter=Field("status").eq({"S": "on"}) & Field("count").gt({"N": "5"}) & Field("ttl").exists(),
        projection=["name", "count"],
        cursor=page.cursor,
    )
    assert rest.items == [{"name": {"S": "n5"}, "count": {"N": "50"}}]
    assert query_count(transport, table_name, partition=("data", {"S": "d"}), key_attributes=keys) == 6
    assert scan_count(transport, table_name, key_attributes=keys, filter=Field("name").begins_with({"S": "n"})) == 6


def test_query_pages_and_counts(transport: Transport, table: str) -> None:
    pages = list(query_pages(transport, table, partition=("PK", {"S": "P#1"}), key_attributes=KEYS, limit=8))
    assert [len(p.items) for p in pages] == [8, 8, 8, 6]
    assert [sk for p in pages for sk in _sks(p.items)] == [_sk(i) for i in range(N)]
    recording = Recording(transport, _small_pages(4))
    total = query_count(
        recording, table, partition=("PK", {"S": "P#1"}), key_attributes=KEYS, filter=Field("status").eq({"S": "open"})
    )
    assert total == 10
    assert recording.count("Query") == 8  # ceil(30 / 4) pages, all counted
    assert all(req["Select"] == "COUNT" for _, req in recording.calls)


def test_deadline_mid_pagination_reports_items_and_resume_cursor(transport: Transport, table: str) -> None:
    deadline, clock = fake_deadline(2.5)

    def tick(
        operation: str, request: Mapping[str, Any], call_next: Callable[[Mapping[str, Any]], dict[str, Any]]
    ) -> Any:
        response = call_next({**request, "Limit": 4})
        clock.now += 1.0  # each request takes a second
        return response

    recording = Recording(transport, tick)
    with pytest.raises(DeadlineExceededError) as info:
        query(
            recording,
            table,
            partition=("PK", {"S": "P#1"}),
            key_attributes=KEYS,
            filter=Field("status").eq({"S": "open"}),
            limit=10,
            deadline=deadline,
        )
    assert recording.count("Query") == 3  # third request started at t=2 (< 2.5), fourth refused at t=3
    completed, remaining = info.value.completed, info.value.remaining
    assert _sks(completed) == [_sk(i) for i in (0, 3, 6, 9)]  # 12 evaluated, 4 matched
    assert decode_cursor(remaining).last_key == key("P#1", _sk(11))
    rest = query(
        transport,
        table,
        partition=("PK", {"S": "P#1"}),
        key_attributes=KEYS,
        filter=Field("status").eq({"S": "open"}),
        limit=10,
        cursor=remaining,
    )
    assert _sks(completed) + _sks(rest.items) == [_sk(i) for i in range(0, N, 3)]


def test_deadline_before_first_request(transport: Transport, table: str) -> None:
    deadline, _ = fake_deadline(0)
    recording = Recording(transport)
    with pytest.raises(DeadlineExceededError) as info:
        query(recording, table, partition=("PK", {"S": "P#1"}), key_attributes=KEYS, deadline=deadline)
    assert info.value.completed == []
    assert info.value.remaining is None  # nothing read: start from the beginning
    assert recording.calls == []
    deadline, clock = fake_deadline(1.5)

    def tick(
        operation: str, request: Mapping[str, Any], call_next: Callable[[Mapping[str, Any]], dict[str, Any]]
    ) -> Any:
        response = call_next({**request, "Limit": 4})
        clock.now += 1.0
        return response

    with pytest.raises(DeadlineExceededError) as info:
        query_count(
            Recording(transport, tick), table, partition=("PK", {"S": "P#1"}), key_attributes=KEYS, deadline=deadline
        )
    assert info.value.completed == 8
    assert decode_cursor(info.value.remaining).last_key == key("P#1", _sk(7))


def test_scan_limit_cursor_and_segments(transport: Transport, table: str) -> None:
    seen = [
        item["SK"]["S"] + item["PK"]["S"]
        for page in scan_pages(transport, table, key_attributes=KEYS, limit=7)
        for item in page.items
    ]
    assert len(seen) == len(set(seen)) == N + 1
    page = scan(transport, table, key_attributes=KEYS, limit=5)
    assert len(page.items) == 5
    assert page.cursor is not None and decode_cursor(page.cursor).sort is None
    with pytest.raises(InvalidValueError):
        scan(transport, table, key_attributes=GSI_KEYS, index="gsi1", cursor=page.cursor)
    by_segment = [
        _sks(
            [
                item
                for p in scan_pages(transport, table, key_attributes=KEYS, segment=s, total_segments=3)
                for item in p.items
            ]
        )
        for s in range(3)
    ]
    assert sum(len(s) for s in by_segment) == N + 1
    index_items = scan(transport, table, key_attributes=GSI_KEYS, index="gsi1").items
    assert len(index_items) == N  # P#2 has no GSI1PK
    with pytest.raises(InvalidValueError):
        scan(transport, table, key_attributes=KEYS, segment=3, total_segments=3)


def test_parallel_scan_finds_every_item_exactly_once(transport: Transport, table_name: str) -> None:
    create_table(transport, table_definition(table_name, ttl=False))
    for i in range(260):
        put_item(transport, table_name, {**key(f"P#{i % 13}", _sk(i)), "n": {"N": str(i)}})
    recording = Recording(transport, _small_pages(9))
    items = parallel_scan(recording, table_name, total_segments=4, key_attributes=KEYS, max_workers=4)
    numbers = sorted(int(item["n"]["N"]) for item in items)
    assert numbers == list(range(260))
    assert {req["Segment"] for _, req in recording.calls} == {0, 1, 2, 3}
    assert recording.count("Scan") > 4  # several pages per segment


def test_parallel_scan_deadline_reports_per_segment_resume(transport: Transport, table_name: str) -> None:
    create_table(transport, table_definition(table_name, ttl=False))
    for i in range(60):
        put_item(transport, table_name, {**key(f"P#{i % 7}", _sk(i)), "n": {"N": str(i)}})
    deadline, clock = fake_deadline(10)
    calls: list[int] = []

    def tick(
        operation: str, request: Mapping[str, Any], call_next: Callable[[Mapping[str, Any]], dict[str, Any]]
    ) -> Any:
        calls.append(1)
        if len(calls) >= 5:
            clock.now += 100  # time runs out after five requests, whichever segments made them
        return call_next({**request, "Limit": 3})

    with pytest.raises(DeadlineExceededError) as info:
        parallel_scan(
            Recording(transport, tick),
            table_name,
            total_segments=3,
            key_attributes=KEYS,
            max_workers=1,
            deadline=deadline,
        )
    completed, remaining = info.value.completed, info.value.remaining
    assert isinstance(remaining, dict) and remaining
    found = [int(item["n"]["N"]) for item in completed]
    for segment, cursor in remaining.items():
        rest = [
            item
            for page in scan_pages(
                transport, table_name, key_attributes=KEYS, segment=segment, total_segments=3, cursor=cursor
            )
            for item in page.items
        ]
        found += [int(item["n"]["N"]) for item in rest]
    assert sorted(found) == list(range(60))  # nothing lost, nothing twice

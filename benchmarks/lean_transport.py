"""Benchmark: the two transports alone (no repository), and the lean transport's JSON codec.

``python -m benchmarks --only lean_transport``

- Per call against the instant stub (``benchmarks._stub``), GetItem and PutItem of a small item,
  plain and with a 64-byte ``B`` attribute: ``LeanTransport.call`` vs ``BotocoreTransport.call``
  (dynagen's wrapper, error mapping included) vs the botocore client called directly, interleaved
  round by round. This is the client cost per request without any repository work (request
  building, ``to_item`` / ``from_item``), which ``operations`` includes.
- The lean codec: ``encode_request`` / ``decode_response`` next to bare ``json.dumps`` /
  ``json.loads`` of the same body (the floor).

Cold start and peak memory of the lean transport are measured by ``cold_start`` (fresh processes).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from benchmarks._stub import InstantStub
from benchmarks._util import Report, Target, fmt_time, interleaved, median, render_table, timing_table

REGION = "us-east-1"
CREDS = ("AKIDBENCH", "bench-secret")
TABLE = "bench"
ITEM: dict[str, Any] = {
    "PK": {"S": "USER#123"},
    "SK": {"S": "PROFILE"},
    "name": {"S": "Ada Lovelace"},
    "email": {"S": "ada@example.com"},
    "age": {"N": "36"},
    "tags": {"SS": ["a", "b", "c"]},
    "address": {"M": {"city": {"S": "London"}, "zip": {"S": "W1"}}},
    "version": {"N": "7"},
}
BIN_ITEM: dict[str, Any] = {**ITEM, "avatar": {"B": bytes(range(64))}}
KEY = {"PK": ITEM["PK"], "SK": ITEM["SK"]}
BASELINE = "botocore client (direct)"


def _wire_json(value: Any) -> Any:
    """An item as DynamoDB's JSON carries it (bytes as base64 text)."""
    return json.loads(json.dumps(value, default=lambda b: base64.b64encode(b).decode()))


def _repeat(fn: Callable[[], object], n: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(n):
            fn()

    return run


def _clients(session: Any, endpoint: str) -> tuple[Any, Any, Any]:
    from dynagen.runtime import BotocoreTransport
    from dynagen.runtime.transport.lean import LeanTransport

    def client() -> Any:
        return session.client(
            "dynamodb", endpoint_url=endpoint, aws_access_key_id=CREDS[0], aws_secret_access_key=CREDS[1]
        )

    lean = LeanTransport(REGION, endpoint_url=endpoint, credentials=CREDS)
    return client(), BotocoreTransport(client()), lean


def _per_call(report: Report, *, calls: int, rounds: int) -> None:
    import boto3  # type: ignore[import-untyped]

    session = boto3.session.Session(region_name=REGION)  # one session: the service model is loaded once
    for label, item in (("plain item", ITEM), ("item with a 64-byte B", BIN_ITEM)):
        with InstantStub({"GetItem": {"Item": _wire_json(item)}, "PutItem": {}}) as stub:
            _per_call_item(report, session, stub.endpoint, label, item, calls=calls, rounds=rounds)


def _per_call_item(
    report: Report, session: Any, endpoint: str, label: str, item: dict[str, Any], *, calls: int, rounds: int
) -> None:
    direct, boto, lean = _clients(session, endpoint)
    get_req = {"TableName": TABLE, "Key": KEY}
    put_req = {"TableName": TABLE, "Item": item}
    # Same answer from every contender before anything is timed.
    assert direct.get_item(**get_req)["Item"] == item
    assert boto.call("GetItem", get_req)["Item"] == item
    assert lean.call("GetItem", get_req)["Item"] == item
    ops: dict[str, dict[str, Callable[[], object]]] = {
        "GetItem": {
            BASELINE: lambda: direct.get_item(**get_req),
            "BotocoreTransport.call": lambda: boto.call("GetItem", get_req),
            "LeanTransport.call": lambda: lean.call("GetItem", get_req),
        },
        "PutItem": {
            BASELINE: lambda: direct.put_item(**put_req),
            "BotocoreTransport.call": lambda: boto.call("PutItem", put_req),
            "LeanTransport.call": lambda: lean.call("PutItem", put_req),
        },
    }
    for op, contenders in ops.items():
        samples = interleaved({name: _repeat(fn, calls) for name, fn in contenders.items()}, rounds=rounds, per=calls)
        text, med = timing_table(
            f"{op}, {label} — stub, transport only (per call, {calls} calls x {rounds} rounds)", samples, BASELINE
        )
        report.table(text)
        report.target(
            Target(
                f"{op} ({label}): LeanTransport.call vs a botocore client call (time ratio, stub)",
                med["LeanTransport.call"] / med[BASELINE],
                0.5,
            )
        )
    lean.close()


def _codec(report: Report, *, n: int, rounds: int) -> None:
    rows: list[list[str]] = []
    for label, item in (("plain item", ITEM), ("item with a 64-byte B", BIN_ITEM)):
        rows.extend(_codec_rows(label, item, n=n, rounds=rounds))
    report.table(
        render_table(
            ["lean codec step", "median", "best", "floor (median)", "time vs floor"],
            rows,
            f"The lean codec against bare json (per call, {n:,} calls x {rounds} rounds)",
        )
    )


def _codec_rows(label: str, item: dict[str, Any], *, n: int, rounds: int) -> list[list[str]]:
    from dynagen.runtime.transport.lean._wire import decode_response, encode_request

    compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    request = {"TableName": TABLE, "Item": item}
    body = encode_request({"Item": item})
    plain_request = _wire_json(request)
    assert decode_response("GetItem", body) == {"Item": item}
    assert json.loads(encode_request(request)) == plain_request
    samples = interleaved(
        {
            "encode": _repeat(lambda: encode_request(request), n),
            "encode floor": _repeat(lambda: compact(plain_request).encode(), n),
            "decode": _repeat(lambda: decode_response("GetItem", body), n),
            "decode floor": _repeat(lambda: json.loads(body), n),
        },
        rounds=rounds,
        per=n,
    )
    rows = []
    for step, ours, floor in (
        ("encode_request (PutItem body)", "encode", "bare compact json encode, bytes pre-encoded"),
        ("decode_response (GetItem body)", "decode", "bare json.loads"),
    ):
        ours_median, floor_median = median(samples[ours]), median(samples[ours + " floor"])
        rows.append(
            [
                f"{step}, {label}",
                fmt_time(ours_median),
                fmt_time(min(samples[ours])),
                f"{floor}: {fmt_time(floor_median)}",
                f"{ours_median / floor_median:.2f}x",
            ]
        )
    return rows


def run(
    *, quick: bool = False, calls: int | None = None, rounds: int | None = None, codec_calls: int | None = None
) -> Report:
    report = Report("lean_transport")
    calls = calls if calls is not None else (20 if quick else 200)
    rounds = rounds if rounds is not None else (2 if quick else 7)
    codec_calls = codec_calls if codec_calls is not None else (500 if quick else 20_000)
    report.note("\n## Transports alone: lean vs botocore per call, and the lean codec")
    _per_call(report, calls=calls, rounds=rounds)
    _codec(report, n=codec_calls, rounds=rounds)
    return report

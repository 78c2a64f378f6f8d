"""Encoding rules shared with DynamORM services (docs/encoding.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from dynagen.errors import InvalidValueError
from dynagen.runtime import (
    dump_json,
    enc_decimal,
    enc_float,
    enc_int,
    format_datetime,
    format_epoch,
    from_wire,
    key_part,
    load_json,
    parse_datetime,
    parse_epoch,
    to_wire,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02T03:04:05Z"),
        (datetime(2024, 1, 2, 3, 4, 5, 120000, tzinfo=UTC), "2024-01-02T03:04:05.12Z"),
        (datetime(2024, 1, 2, 3, 4, 5, 1, tzinfo=UTC), "2024-01-02T03:04:05.000001Z"),
        (datetime(2024, 1, 2, 5, 4, 5, 500000, tzinfo=timezone(timedelta(hours=2))), "2024-01-02T03:04:05.5Z"),
    ],
)
def test_datetimes_are_rfc3339nano_in_utc(value: datetime, text: str) -> None:
    assert format_datetime(value, "f") == text
    assert parse_datetime(text) == value


def test_reads_any_rfc3339_with_up_to_nine_fraction_digits() -> None:
    assert parse_datetime("2024-01-02T03:04:05.123456789Z") == datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert parse_datetime("2024-01-02T05:04:05+02:00") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_datetime("2024-01-02T03:04:05.1Z").tzinfo is UTC


def test_naive_datetimes_and_bad_timestamps_are_refused() -> None:
    with pytest.raises(InvalidValueError, match="created_at: naive datetime"):
        format_datetime(datetime(2024, 1, 1), "created_at")
    with pytest.raises(InvalidValueError):
        parse_datetime("yesterday")
    with pytest.raises(InvalidValueError):
        parse_datetime("2024-01-02T03:04:05")


def test_ttl_is_whole_epoch_seconds() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, 999999, tzinfo=UTC)
    assert format_epoch(moment, "ttl") == "1704164645"
    assert parse_epoch("1704164645") == moment.replace(microsecond=0)
    assert format_epoch(1704164645, "ttl") == "1704164645"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_nan_and_infinity_are_invalid(bad: float) -> None:
    with pytest.raises(InvalidValueError, match="score"):
        enc_float(bad, "score")
    with pytest.raises(InvalidValueError, match="amount"):
        enc_decimal(Decimal(bad), "amount")


def test_numbers_are_exact_and_bounded() -> None:
    assert enc_int(-(10**37), "n") == "-" + "1" + "0" * 37
    assert enc_decimal(Decimal("1.10"), "d") == "1.10"
    assert enc_float(0.1, "f") == "0.1"
    with pytest.raises(InvalidValueError, match="38 digits"):
        enc_int(10**38, "n")
    with pytest.raises(InvalidValueError, match="significant digits"):
        enc_decimal(Decimal("1." + "1" * 38), "d")
    with pytest.raises(InvalidValueError, match="range"):
        enc_decimal(Decimal("1E+126"), "d")
    with pytest.raises(InvalidValueError, match="expected int"):
        enc_int(True, "flag")
    with pytest.raises(InvalidValueError, match="expected Decimal"):
        enc_decimal(1.5, "d")


def test_json_is_compact_with_sorted_keys() -> None:
    assert dump_json({"b": [1, {"d": 1, "c": 2}], "a": None}, "j") == '{"a":null,"b":[1,{"c":2,"d":1}]}'
    assert load_json({"NULL": True}) is None
    assert load_json({"S": '{"a":1}'}) == {"a": 1}
    with pytest.raises(InvalidValueError, match="j: not JSON-serializable"):
        dump_json({"x": object()}, "j")
    with pytest.raises(InvalidValueError):
        dump_json(float("nan"), "j")


def test_key_parts_must_be_present() -> None:
    assert key_part("a", "k") == "a"
    with pytest.raises(InvalidValueError, match="partner_id: key part must not be empty"):
        key_part("", "partner_id")
    with pytest.raises(InvalidValueError, match="must be a str"):
        key_part(None, "partner_id")


def test_generic_wire_round_trip() -> None:
    value = {"a": [1, "x", None, True, Decimal("1.5"), b"\x00"], "s": {"p", "q"}, "n": {1, 2}}
    wire = to_wire(value, "m")
    assert wire["M"]["s"] == {"SS": ["p", "q"]}
    assert from_wire(wire) == value
    with pytest.raises(InvalidValueError, match="no empty set"):
        to_wire(set(), "tags")

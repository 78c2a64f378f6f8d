from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynagen.errors import InvalidValueError
from dynagen.runtime.wire._cursor import Cursor, decode_cursor, encode_cursor

VECTOR_JSON = '{"lastKey":{"PK":{"S":"USER#1"},"SK":{"S":"PROFILE"}},"index":"gsi-email","sort":"ASC"}'
VECTOR = "eyJsYXN0S2V5Ijp7IlBLIjp7IlMiOiJVU0VSIzEifSwiU0siOnsiUyI6IlBST0ZJTEUifX0sImluZGV4IjoiZ3NpLWVtYWlsIiwic29ydCI6IkFTQyJ9"


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def test_contract_vector_encodes_byte_for_byte() -> None:
    # Key order given unsorted on purpose: the encoder sorts.
    text = encode_cursor({"SK": {"S": "PROFILE"}, "PK": {"S": "USER#1"}}, "gsi-email", "ASC")
    assert text == VECTOR
    assert base64.urlsafe_b64decode(text).decode() == VECTOR_JSON


def test_contract_vector_decodes_and_reencodes() -> None:
    cursor = decode_cursor(VECTOR)
    assert cursor == Cursor({"PK": {"S": "USER#1"}, "SK": {"S": "PROFILE"}}, "gsi-email", "ASC")
    assert list(cursor.last_key) == ["PK", "SK"]
    assert cursor.encode() == VECTOR


def test_index_and_sort_are_omitted_when_absent() -> None:
    text = encode_cursor({"PK": {"S": "a"}})
    assert base64.urlsafe_b64decode(text) == b'{"lastKey":{"PK":{"S":"a"}}}'
    assert encode_cursor({"PK": {"S": "a"}}, "", None) == text  # Go's omitempty: "" is no index
    assert decode_cursor(text) == Cursor({"PK": {"S": "a"}})


def test_padding_is_kept_and_may_be_missing_on_input() -> None:
    text = encode_cursor({"PK": {"S": "ab"}})
    assert text.endswith("=")
    assert decode_cursor(text.rstrip("=")) == decode_cursor(text)


def test_binary_is_standard_base64_and_nested_maps_are_sorted() -> None:
    key = {
        "b": {"B": b"\xfb\xff\x00"},
        "a": {"M": {"z": {"N": "1"}, "y": {"BS": [b"\xff\xfe", b""]}, "x": {"L": [{"NULL": True}, {"BOOL": False}]}}},
        "s": {"SS": ["x"]},
        "n": {"NS": ["1", "2"]},
    }
    text = encode_cursor(key)
    raw = base64.urlsafe_b64decode(text).decode()
    assert raw == (
        '{"lastKey":{"a":{"M":{"x":{"L":[{"NULL":true},{"BOOL":false}]},"y":{"BS":["//4=",""]},"z":{"N":"1"}}},'
        '"b":{"B":"+/8A"},"n":{"NS":["1","2"]},"s":{"SS":["x"]}}}'
    )
    assert decode_cursor(text).last_key == key


def test_json_escaping_matches_go() -> None:
    # Go's encoding/json: raw UTF-8, HTML characters and U+2028/9 escaped, control characters escaped.
    raw = base64.urlsafe_b64decode(encode_cursor({"PK": {"S": "<a&b>é\u2028\n\x01"}})).decode()
    assert raw == '{"lastKey":{"PK":{"S":"\\u003ca\\u0026b\\u003eé\\u2028\\n\\u0001"}}}'
    assert decode_cursor(encode_cursor({"PK": {"S": "<a&b>é\u2028\n\x01"}})).last_key == {
        "PK": {"S": "<a&b>é\u2028\n\x01"}
    }


_names = st.text(min_size=1, max_size=8)
_values = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=20)),
    st.builds(lambda n: {"N": str(n)}, st.integers() | st.decimals(allow_nan=False, allow_infinity=False)),
    st.builds(lambda b: {"B": b}, st.binary(max_size=20)),
)


@given(
    st.dictionaries(_names, _values, min_size=1, max_size=3),
    st.none() | st.text(min_size=1, max_size=10),
    st.sampled_from([None, "ASC", "DESC"]),
)
def test_round_trip_random_wire_keys(key: dict[str, Any], index: str | None, sort: str | None) -> None:
    text = encode_cursor(key, index, sort)
    cursor = decode_cursor(text)
    assert cursor == Cursor(key, index, sort)
    assert cursor.encode() == text
    # The JSON is compact, lastKey first, and its keys are sorted.
    document = json.loads(base64.urlsafe_b64decode(text))
    assert next(iter(document)) == "lastKey"
    assert list(document["lastKey"]) == sorted(key)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "!!!!",
        "eyJ+",  # "+" is not in the URL alphabet
        "a",  # impossible base64 length
        _b64("not json"),
        _b64("[]"),
        _b64("null"),
        _b64('{"index":"x"}'),
        _b64('{"lastKey":{}}'),
        _b64('{"lastKey":[]}'),
        _b64('{"lastKey":"PK"}'),
        _b64('{"lastKey":{"PK":"a"}}'),
        _b64('{"lastKey":{"PK":{"X":"a"}}}'),
        _b64('{"lastKey":{"PK":{"S":1}}}'),
        _b64('{"lastKey":{"PK":{"N":1}}}'),
        _b64('{"lastKey":{"PK":{"S":"a","N":"1"}}}'),
        _b64('{"lastKey":{"PK":{"B":"***"}}}'),
        _b64('{"lastKey":{"PK":{"BS":[1]}}}'),
        _b64('{"lastKey":{"PK":{"NULL":false}}}'),
        _b64('{"lastKey":{"":{"S":"a"}}}'),
        _b64('{"lastKey":{"PK":{"S":"a"}},"index":3}'),
        _b64('{"lastKey":{"PK":{"S":"a"}},"sort":"UP"}'),
        _b64('{"lastKey":{"PK":{"S":"a"}},"extra":1}'),
        _b64('{"lastKey":{"PK":{"N":NaN}}}'),
        _b64('{"lastKey":{"PK":' + '{"L":[' * 40 + "]}" * 40 + "}}"),
        _b64("[" * 100000),
        "A" * (64 * 1024 + 4),
        base64.urlsafe_b64encode(b'{"lastKey":{"PK":{"S":"\xff"}}}').decode(),
    ],
)
def test_malformed_cursor_is_invalid_value(text: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        decode_cursor(text)
    assert info.value.field == "cursor"


@given(st.binary(max_size=200))
def test_random_bytes_never_crash(data: bytes) -> None:
    text = base64.urlsafe_b64encode(data).decode()
    try:
        decode_cursor(text)
    except InvalidValueError as exc:
        assert exc.field == "cursor"


def test_non_string_cursor_is_invalid_value() -> None:
    with pytest.raises(InvalidValueError):
        decode_cursor(123)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "index", "sort"),
    [
        ({}, None, None),
        ({"PK": "a"}, None, None),
        ({"PK": {"S": 1}}, None, None),
        ({"PK": {"B": "text"}}, None, None),
        ({"PK": {"S": "\ud800"}}, None, None),
        ({"PK": {"S": "a"}}, None, "asc"),
    ],
)
def test_encode_rejects_bad_input(key: dict[str, Any], index: str | None, sort: str | None) -> None:
    with pytest.raises(InvalidValueError):
        encode_cursor(key, index, sort)


def test_check_rejects_cursor_from_another_index() -> None:
    cursor = decode_cursor(encode_cursor({"PK": {"S": "a"}, "GSI1PK": {"S": "b"}}, "gsi1", "ASC"))
    cursor.check(index="gsi1", sort="ASC", key_attributes=["PK", "GSI1PK"])
    with pytest.raises(InvalidValueError, match="index"):
        cursor.check(index="gsi2")
    with pytest.raises(InvalidValueError, match="index"):
        cursor.check(index=None)
    with pytest.raises(InvalidValueError, match="DESC"):
        cursor.check(index="gsi1", sort="DESC")
    with pytest.raises(InvalidValueError, match="GSI1PK"):
        cursor.check(index="gsi1", key_attributes=["PK"])
    table_cursor = decode_cursor(encode_cursor({"PK": {"S": "a"}}))
    table_cursor.check(index=None, sort="DESC")  # no order recorded: nothing to compare
    with pytest.raises(InvalidValueError):
        table_cursor.check(index="gsi1")

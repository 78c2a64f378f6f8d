"""The runtime's records (``dynagen._record.Record``) behave as the frozen dataclasses they replaced."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from dynagen.errors import CancellationReason, Diagnostic
from dynagen.runtime import Cursor, Field, Page, SortCondition, StreamChange
from generated_example.payments import PaymentRepository

RECORDS: list[Any] = [
    CancellationReason("ConditionalCheckFailed", "failed", {"PK": {"S": "a"}}),
    Diagnostic("s.yaml", 3, 7, "unknown key"),
    Cursor({"PK": {"S": "a"}}, "GSI1", "DESC"),
    Page([1, 2], "cursor", 2, 5),
    SortCondition.between({"S": "a"}, {"S": "b"}),
    Field("status").eq({"S": "open"}) & ~Field("n").size().gt(3),
    StreamChange("INSERT", {"PK": {"S": "a"}}, None, None, "1", "e"),
    PaymentRepository.model,
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_copy_deepcopy_and_pickle_round_trip(record: Any) -> None:
    assert copy.copy(record) == record
    assert copy.deepcopy(record) == record
    if record is not PaymentRepository.model:  # holds the generated lambdas: not picklable, as before
        assert pickle.loads(pickle.dumps(record)) == record


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_immutable(record: Any) -> None:
    name = type(record).__slots__[0]
    with pytest.raises(AttributeError, match="is immutable"):
        setattr(record, name, None)
    with pytest.raises(AttributeError, match="is immutable"):
        delattr(record, name)


def test_value_semantics() -> None:
    a, b = CancellationReason("X", "m"), CancellationReason("X", "m")
    assert a == b and hash(a) == hash(b) and a != CancellationReason("X", "other")
    assert a != ("X", "m", None)  # a record is not a tuple
    assert repr(a) == "CancellationReason(code='X', message='m', item=None)"
    assert sorted([Diagnostic("b", 1, 1, "m"), Diagnostic("a", 2, 1, "m"), Diagnostic("a", 1, 9, "m")]) == [
        Diagnostic("a", 1, 9, "m"),
        Diagnostic("a", 2, 1, "m"),
        Diagnostic("b", 1, 1, "m"),
    ]


def test_positional_match_patterns() -> None:
    match CancellationReason("ConditionalCheckFailed", "failed"):
        case CancellationReason("ConditionalCheckFailed", message):
            assert message == "failed"
        case _:
            pytest.fail("no match")
    match Cursor({"PK": {"S": "a"}}, "GSI1"):
        case Cursor(key, "GSI1", None):
            assert key == {"PK": {"S": "a"}}
        case _:
            pytest.fail("no match")

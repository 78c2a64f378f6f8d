"""Every dynagen error survives pickle, copy and deepcopy with its message and fields.

Errors cross process boundaries (``concurrent.futures.ProcessPoolExecutor`` pickles what a worker
raises) and get copied by logging and tracing tools. Exceptions are rebuilt by calling the class with
``self.args`` by default, which breaks for any ``__init__`` taking other parameters: rebuilt here
without calling ``__init__``.
"""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from dynagen import errors

SAMPLES: list[errors.DynagenError] = [
    errors.SchemaError([errors.Diagnostic("s.yaml", 3, 5, "unknown key 'tabel'")]),
    errors.InvalidValueError("amount", "must be a Decimal, got str"),
    errors.ItemNotFoundError("payments", {"PK": {"S": "PARTNER#p"}, "SK": {"S": "PAYMENT#1"}}),
    errors.ConditionFailedError(item={"PK": {"S": "x"}}),
    errors.VersionConflictError(),
    errors.TransactionCanceledError([errors.CancellationReason("ConditionalCheckFailed", "no")], "cancelled"),
    errors.DeadlineExceededError(operation="Query", completed=[1], remaining=[2]),
    errors.UnprocessedItemsError({"t": [{"PutRequest": {}}]}, completed={"t": []}),
    errors.BatchInterruptedError(
        {"t": [{"PutRequest": {}}]}, operation="BatchWriteItem", error=errors.TransportError("reset")
    ),
    errors.ServiceError("ValidationException", "bad", status=400, request_id="r-1"),
    errors.ThrottlingError("ProvisionedThroughputExceededException", "slow", status=400, retryable=True),
    errors.TransportError("connection reset"),
    errors.ResponseTooLargeError(33554432, 209715200, operation="Query"),
    errors.UnknownPartnerError("acme"),
    errors.IncompatibleRuntimeError("app.models", 2, (1, 1), "0.1.0"),
    errors.AssumeRoleError("acme", "arn:aws:iam::111122223333:role/x", "AccessDenied"),
]


def _fields(error: BaseException) -> dict[str, Any]:
    fields = {k: v for k, v in vars(error).items() if not isinstance(v, BaseException)}
    if isinstance(error, ImportError):
        fields.update(name=error.name, path=error.path)
    return fields


def test_every_error_class_has_a_sample() -> None:
    classes = {getattr(errors, n) for n in errors.__all__}
    error_classes = {c for c in classes if isinstance(c, type) and issubclass(c, errors.DynagenError)}
    assert error_classes - {errors.DynagenError} == {type(e) for e in SAMPLES}


@pytest.mark.parametrize("error", SAMPLES, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("how", ["pickle", "copy", "deepcopy"])
def test_round_trip_keeps_type_message_and_fields(error: errors.DynagenError, how: str) -> None:
    if how == "pickle":
        again = pickle.loads(pickle.dumps(error))
    else:
        again = copy.copy(error) if how == "copy" else copy.deepcopy(error)
    assert type(again) is type(error)
    assert str(again) == str(error) and again.args == error.args
    assert _fields(again) == _fields(error)

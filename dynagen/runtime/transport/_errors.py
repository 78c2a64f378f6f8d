"""Which AWS error answers are throttling or transient (botocore's standard retry mode's rules), and
DynamoDB's error answers as dynagen errors: one mapping for both transports.
"""

from __future__ import annotations

from collections.abc import Mapping

from dynagen._typing import Any
from dynagen.errors import CancellationReason, ConditionFailedError, DynagenError, TransactionCanceledError

__all__ = ["THROTTLING_CODES", "TRANSIENT_CODES", "TRANSIENT_STATUS", "is_throttling", "is_transient"]

# botocore.retries.standard.ThrottledRetryableChecker (botocore 1.44). It includes
# TransactionInProgressException: DynamoDB raises it for a TransactWriteItems whose
# ClientRequestToken is still being processed, and retrying later returns the original result.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
# botocore's transient codes plus DynamoDB's modeled-retryable (non-throttling) error.
TRANSIENT_CODES = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "ReplicatedWriteConflictException"}
)
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
# DynamoDB's modeled errors (service-2.json): a 429 carrying one of these is judged by its code alone.
_MODELED_CODES = frozenset(
    {
        "BackupInUseException",
        "BackupNotFoundException",
        "ConditionalCheckFailedException",
        "ContinuousBackupsUnavailableException",
        "DuplicateItemException",
        "ExportConflictException",
        "ExportNotFoundException",
        "GlobalTableAlreadyExistsException",
        "GlobalTableNotFoundException",
        "IdempotentParameterMismatchException",
        "ImportConflictException",
        "ImportNotFoundException",
        "IndexNotFoundException",
        "InternalServerError",
        "InvalidExportTimeException",
        "InvalidRestoreTimeException",
        "ItemCollectionSizeLimitExceededException",
        "LimitExceededException",
        "PointInTimeRecoveryUnavailableException",
        "PolicyNotFoundException",
        "ProvisionedThroughputExceededException",
        "ReplicaAlreadyExistsException",
        "ReplicaNotFoundException",
        "ReplicatedWriteConflictException",
        "RequestLimitExceeded",
        "ResourceInUseException",
        "ResourceNotFoundException",
        "TableAlreadyExistsException",
        "TableInUseException",
        "TableNotFoundException",
        "ThrottlingException",
        "TransactionCanceledException",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)


def is_throttling(code: str, status: int) -> bool:
    """A throttling error: a throttling code, or HTTP 429 whose code DynamoDB does not model."""
    return code in THROTTLING_CODES or (status == 429 and code not in _MODELED_CODES)


def is_transient(code: str, status: int) -> bool:
    """A transient server-side error worth one more try."""
    return code in TRANSIENT_CODES or status in TRANSIENT_STATUS


def map_dynamodb_error(code: str, message: str, response: Mapping[str, Any]) -> DynagenError | None:
    """The dynagen error for a DynamoDB error code, or None when there is none (both transports use this).

    The response is the service's (or a hostile server's): a part of the wrong shape is left out
    (no ``item``, an empty reason) rather than allowed to fail the mapping.
    """
    if code == "ConditionalCheckFailedException":
        return ConditionFailedError(message or "the conditional request failed", item=_wire_item(response.get("Item")))
    if code == "TransactionCanceledException":
        raw = response.get("CancellationReasons")
        reasons = [_reason(r) for r in raw] if isinstance(raw, list) else []
        return TransactionCanceledError(reasons, message)
    return None


def _wire_item(value: Any) -> dict[str, Any] | None:
    """A wire-format item (attribute name -> ``{"S": ...}``-like mapping), or None for anything else."""
    if not isinstance(value, Mapping):
        return None
    if not all(isinstance(k, str) and isinstance(v, Mapping) for k, v in value.items()):
        return None
    return dict(value)


def _reason(value: Any) -> CancellationReason:
    if not isinstance(value, Mapping):
        return CancellationReason(code="")
    code, message = value.get("Code", ""), value.get("Message", "")
    return CancellationReason(
        code=code if isinstance(code, str) else "",
        message=message if isinstance(message, str) else "",
        item=_wire_item(value.get("Item")),
    )

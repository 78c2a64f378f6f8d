"""Tables: creating one from a CreateTable request (TTL applied once it is active), ensuring it exists,
deleting it, and waiting for each.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from dynagen._typing import TYPE_CHECKING, Any, TypeVar
from dynagen.errors import InvalidValueError
from dynagen.runtime.ops._call import call, error_code
from dynagen.runtime.transport._bounds import Deadline

if TYPE_CHECKING:
    from dynagen.runtime.transport._interface import Transport

__all__ = ["create_table", "delete_table", "ensure_table"]

T = TypeVar("T")
U = TypeVar("U")


# --------------------------------------------------------------------------------------------------
# Shared plumbing


# --------------------------------------------------------------------------------------------------
# Single items


# --------------------------------------------------------------------------------------------------
# Queries and scans


# --------------------------------------------------------------------------------------------------
# Tables


def create_table(
    transport: Transport,
    definition: Mapping[str, Any],
    *,
    wait: bool = True,
    timeout: float = 300.0,
    poll_interval: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
    deadline: Deadline | None = None,
) -> dict[str, Any]:
    """Create a table from a ``CreateTable`` request and return its description.

    ``definition`` may also hold ``"TimeToLiveSpecification": {"AttributeName": ..., "Enabled": True}``:
    it is stripped from the CreateTable request and applied with UpdateTimeToLive once the table is
    ACTIVE (so a TTL specification implies waiting). Waiting polls DescribeTable until the table and
    its indexes are ACTIVE, for at most ``timeout`` seconds (then ``TimeoutError``).
    """
    request = dict(definition)
    ttl = request.pop("TimeToLiveSpecification", None)
    if not request.get("TableName"):
        raise InvalidValueError("TableName", "a table definition needs a TableName")
    response = call(transport, "CreateTable", request, deadline)
    description: dict[str, Any] = response.get("TableDescription") or {}
    if wait or ttl is not None:
        description = _wait_active(transport, request["TableName"], timeout, poll_interval, sleep, deadline)
    if ttl is not None:
        call(
            transport,
            "UpdateTimeToLive",
            {"TableName": request["TableName"], "TimeToLiveSpecification": ttl},
            deadline,
        )
    return description


def ensure_table(
    transport: Transport,
    definition: Mapping[str, Any],
    *,
    wait: bool = True,
    timeout: float = 300.0,
    poll_interval: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
    deadline: Deadline | None = None,
) -> bool:
    """Create the table unless it exists; True when it was created.

    An existing table is left as it is (its schema is not compared), except that a requested TTL is
    enabled when the table has none.
    """
    try:
        create_table(
            transport,
            definition,
            wait=wait,
            timeout=timeout,
            poll_interval=poll_interval,
            sleep=sleep,
            deadline=deadline,
        )
    except Exception as exc:
        if error_code(exc) != "ResourceInUseException":
            raise
    else:
        return True
    name = definition["TableName"]
    if wait:
        _wait_active(transport, name, timeout, poll_interval, sleep, deadline)
    ttl = definition.get("TimeToLiveSpecification")
    if ttl is not None:
        current = call(transport, "DescribeTimeToLive", {"TableName": name}, deadline)
        status = (current.get("TimeToLiveDescription") or {}).get("TimeToLiveStatus", "DISABLED")
        if status == "DISABLED":
            call(transport, "UpdateTimeToLive", {"TableName": name, "TimeToLiveSpecification": ttl}, deadline)
    return False


def delete_table(
    transport: Transport,
    table: str,
    *,
    wait: bool = True,
    missing_ok: bool = True,
    timeout: float = 300.0,
    poll_interval: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
    deadline: Deadline | None = None,
) -> bool:
    """Delete a table; True when it existed. With ``wait``, return once DescribeTable no longer finds it."""
    try:
        call(transport, "DeleteTable", {"TableName": table}, deadline)
    except Exception as exc:
        if not missing_ok or error_code(exc) != "ResourceNotFoundException":
            raise
        return False
    if wait:
        give_up = time.monotonic() + timeout
        while True:
            try:
                call(transport, "DescribeTable", {"TableName": table}, deadline)
            except Exception as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise
                return True
            if time.monotonic() >= give_up:
                raise TimeoutError(f"table {table!r} still exists after {timeout}s")
            sleep(poll_interval)
    return True


def _wait_active(
    transport: Transport,
    table: str,
    timeout: float,
    poll_interval: float,
    sleep: Callable[[float], None],
    deadline: Deadline | None,
) -> dict[str, Any]:
    give_up = time.monotonic() + timeout
    while True:
        description: dict[str, Any] = call(transport, "DescribeTable", {"TableName": table}, deadline)["Table"]
        indexes = description.get("GlobalSecondaryIndexes") or []
        if description.get("TableStatus") == "ACTIVE" and all(i.get("IndexStatus") == "ACTIVE" for i in indexes):
            return description
        if time.monotonic() >= give_up:
            raise TimeoutError(f"table {table!r} not ACTIVE after {timeout}s")
        sleep(poll_interval)

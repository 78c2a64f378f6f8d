"""Transactions across models and tables, built from the actions repositories hand out.

Every repository builds its own actions (``repo.transact_put(m)``, ``repo.transact_create(m)``,
``repo.transact_update(m, fields)``, ``repo.transact_delete(key)``, ``repo.transact_check(key, cond)``,
``repo.transact_get(key)``) with its table name, lifecycle stamps and version conditions; these two
functions send any mix of them in one request:

    transact_write(client, [
        payments.transact_update(payment, ["status"]),
        refunds.transact_create(refund),
    ])
    payment, refund = transact_get(client, [payments.transact_get(pkey), refunds.transact_get(rkey)])

A cancelled transaction raises ``TransactionCanceledError`` whose ``reasons[i]`` belongs to action
``i`` (``code`` ``"None"`` for the actions that were fine, ``"ConditionalCheckFailed"`` with the stored
item for a failed condition); nothing was written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from dynagen.runtime.ops import _transact
from dynagen.runtime.ops._transact import TransactAction, TransactGet
from dynagen.runtime.transport._botocore import as_transport
from dynagen.runtime.transport._bounds import Deadline

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from dynagen.runtime.transport._interface import Transport

__all__ = ["ModelGet", "transact_get", "transact_write"]

T = TypeVar("T")


@dataclass(frozen=True)
class ModelGet(Generic[T]):
    """A ``TransactGet`` plus the decoder of the model it reads (from ``Repository.transact_get``)."""

    get: TransactGet
    decode: Callable[[Mapping[str, Any]], T]

    def to_wire(self) -> dict[str, Any]:
        """The ``TransactItems`` entry."""
        return self.get.to_wire()


def transact_write(
    client: DynamoDBClient | Transport,
    actions: Sequence[TransactAction],
    *,
    client_token: str | None = None,
    deadline: Deadline | None = None,
) -> None:
    """Apply 1 to 100 actions (of any models and tables) atomically.

    ``client`` is a low-level botocore client or a dynagen transport. ``client_token`` makes a retry
    of the same transaction idempotent for 10 minutes. A cancellation raises
    ``TransactionCanceledError`` with one reason per action, in order.
    """
    _transact.transact_write(as_transport(client), actions, client_token=client_token, deadline=deadline)


def transact_get(
    client: DynamoDBClient | Transport,
    gets: Sequence[ModelGet[Any] | TransactGet],
    *,
    deadline: Deadline | None = None,
) -> list[Any]:
    """Read 1 to 100 items as one consistent snapshot, in request order.

    A ``ModelGet`` (from ``repo.transact_get(key)``) gives its model, or None when no item exists; a
    plain ``TransactGet`` gives the wire-format item, or None.
    """
    gets = list(gets)
    plain = [g.get if isinstance(g, ModelGet) else g for g in gets]
    items = _transact.transact_get(as_transport(client), plain, deadline=deadline)
    return [
        None if item is None else (g.decode(item) if isinstance(g, ModelGet) else item)
        for g, item in zip(gets, items, strict=True)
    ]

"""Every error dynagen raises, importable without boto3, Jinja2 or PyYAML.

    DynagenError
    ├── SchemaError               compile time; ``.diagnostics`` lists every ``path:line:col: message``
    ├── InvalidValueError         bad input caught before any request; ``.field`` names it (also a ValueError)
    ├── ItemNotFoundError         ``get`` found nothing; ``.key`` is the wire key
    ├── ConditionFailedError      a write's condition did not hold
    │   └── VersionConflictError  ...because the stored version differs from the model's
    ├── TransactionCanceledError  ``.reasons``: one ``CancellationReason`` per action, in order
    ├── DeadlineExceededError     refused to start a request; ``.completed`` / ``.remaining`` say what
    │                             a multi-step call did and did not do
    ├── UnprocessedItemsError     a batch still had unprocessed keys/items after its bounded retries
    │   └── BatchInterruptedError another error (timeout, connection, service) stopped a batch part-way;
    │                             ``.completed`` / ``.unprocessed`` as above, the error is ``__cause__``
    ├── ServiceError              an AWS error without a better mapping (either transport);
    │   │                         ``.code``, ``.message``, ``.status``, ``.retryable``
    │   └── ThrottlingError       throttled after the retries ran out
    ├── TransportError            the request could not be sent or its response not read
    │   └── ResponseTooLargeError a response larger than the configured cap was refused unread
    ├── UnknownPartnerError       the multi-account resolver has no such partner (also a LookupError)
    ├── AssumeRoleError           STS AssumeRole failed for a partner (names partner and role, never secrets)
    └── IncompatibleRuntimeError  a generated module was made for another runtime API (also an ImportError)

Both transports raise these for the same events; on the botocore transport, botocore's exception is
the ``__cause__``. Other SDK errors (parameter validation, missing credentials) are re-raised unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from dynagen._record import Record, init
from dynagen._typing import Any

__all__ = [
    "AssumeRoleError",
    "BatchInterruptedError",
    "CancellationReason",
    "ConditionFailedError",
    "DeadlineExceededError",
    "Diagnostic",
    "DynagenError",
    "IncompatibleRuntimeError",
    "InvalidValueError",
    "ItemNotFoundError",
    "ResponseTooLargeError",
    "SchemaError",
    "ServiceError",
    "ThrottlingError",
    "TransactionCanceledError",
    "TransportError",
    "UnknownPartnerError",
    "UnprocessedItemsError",
    "VersionConflictError",
]


class DynagenError(Exception):
    """Base class of every error dynagen raises on purpose."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions are rebuilt by calling the class with ``self.args``, which fails for every
        # ``__init__`` here that takes other parameters: rebuild without calling it, so pickle
        # (``ProcessPoolExecutor`` results), copy and deepcopy keep the message and every field.
        state = dict(vars(self))
        if isinstance(self, ImportError):  # its name and path are not in __dict__
            state.update(name=self.name, path=self.path)
        return (_rebuild_error, (type(self), self.args, state))


def _rebuild_error(cls: type[DynagenError], args: tuple[Any, ...], state: dict[str, Any]) -> DynagenError:
    error = cls.__new__(cls, *args)
    error.args = args
    for name, value in state.items():
        setattr(error, name, value)
    return error


class Diagnostic(Record):
    """One schema problem at a place in a file (lines and columns count from 1); sorts by place."""

    __slots__ = ("path", "line", "col", "message")  # noqa: RUF023 - the fields' order is the sort order
    path: str
    line: int
    col: int
    message: str

    def __init__(self, path: str, line: int, col: int, message: str) -> None:
        init(self, "path", path)
        init(self, "line", line)
        init(self, "col", col)
        init(self, "message", message)

    def __lt__(self, other: Diagnostic) -> bool:
        return self._fields() < other._fields()

    def __le__(self, other: Diagnostic) -> bool:
        return self._fields() <= other._fields()

    def __gt__(self, other: Diagnostic) -> bool:
        return self._fields() > other._fields()

    def __ge__(self, other: Diagnostic) -> bool:
        return self._fields() >= other._fields()

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


class SchemaError(DynagenError):
    """One or more schema files are invalid; nothing was generated."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class InvalidValueError(DynagenError, ValueError):
    """A value cannot be sent to DynamoDB (or a cursor cannot be read); ``field`` names where."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.reason = message
        super().__init__(f"{field}: {message}" if field else message)


class ItemDecodeError(InvalidValueError):
    """Items a read returned could not be read as the model (another tool's writes, an older schema...).

    Nothing is dropped unseen: ``page`` holds every item that did decode (a ``Page``: ``items``, and
    the ``cursor`` past the whole page, to go on from) and ``failures`` each ``(stored item, error)``.
    """

    def __init__(self, page: Any, failures: Sequence[tuple[Mapping[str, Any], InvalidValueError]]) -> None:
        self.page = page
        self.failures = list(failures)
        first = self.failures[0][1] if self.failures else None
        reason = f"{len(self.failures)} item(s) could not be read" + (f"; the first: {first}" if first else "")
        super().__init__(first.field if first else "", reason)


class ItemNotFoundError(DynagenError, LookupError):
    """No item exists under the requested key."""

    def __init__(self, table: str, key: Mapping[str, Any]) -> None:
        self.table = table
        self.key = dict(key)
        super().__init__(f"no item in {table!r} with key {self.key!r}")


class ConditionFailedError(DynagenError):
    """A conditional write was rejected because its condition did not hold."""

    def __init__(self, message: str = "the conditional request failed", *, item: Mapping[str, Any] | None = None) -> None:
        self.item = dict(item) if item is not None else None
        super().__init__(message)


class VersionConflictError(ConditionFailedError):
    """Optimistic locking failed: the stored item's version is not the one the caller had."""


class CancellationReason(Record):
    """Why one action of a cancelled transaction failed (``code`` is ``"None"`` for actions that were fine)."""

    __slots__ = ("code", "message", "item")  # noqa: RUF023 - the fields' order
    code: str
    message: str
    item: Mapping[str, Any] | None

    def __init__(self, code: str, message: str = "", item: Mapping[str, Any] | None = None) -> None:
        init(self, "code", code)
        init(self, "message", message)
        init(self, "item", item)


class TransactionCanceledError(DynagenError):
    """A transaction was cancelled; ``reasons[i]`` belongs to action ``i``."""

    def __init__(self, reasons: Sequence[CancellationReason], message: str = "") -> None:
        self.reasons = list(reasons)
        codes = ", ".join(f"[{i}] {r.code}" for i, r in enumerate(self.reasons) if r.code not in ("None", ""))
        super().__init__(message or f"transaction cancelled: {codes or 'no reason given'}")


class DeadlineExceededError(DynagenError):
    """Too little time was left to start another request.

    ``completed`` holds what a multi-step call finished (items, pages, written keys) and
    ``remaining`` what it did not start or what is still unprocessed, so nothing is silently lost.
    """

    def __init__(
        self,
        message: str = "deadline exceeded: not enough time left to start another request",
        *,
        operation: str = "",
        completed: Any = None,
        remaining: Any = None,
    ) -> None:
        self.operation = operation
        self.completed = completed
        self.remaining = remaining
        super().__init__(f"{message} ({operation})" if operation else message)


class UnprocessedItemsError(DynagenError):
    """A batch call still had unprocessed work after its bounded retries; nothing was dropped.

    ``unprocessed`` holds the wire-format keys or write requests per table (writes as the caller sent
    them, matched by key to what DynamoDB returned); ``completed`` holds what did succeed: wire-format
    items / requests per table from the batch functions, models (``get_many``, ``batch_put``) or keys
    (``batch_delete``) from a repository's batch methods.
    """

    def __init__(self, unprocessed: Mapping[str, Any], *, completed: Any = None) -> None:
        self.unprocessed = dict(unprocessed)
        self.completed = completed
        count = sum(len(v) if isinstance(v, Sequence) else len(v.get("Keys", [])) for v in self.unprocessed.values())
        super().__init__(f"{count} batch entries still unprocessed after retries")


class BatchInterruptedError(UnprocessedItemsError):
    """A batch call failed part-way: a request raised another error after earlier ones were answered.

    ``completed`` holds what was done, in the same terms as ``UnprocessedItemsError.completed`` (write
    requests written or items found per table; a repository's models or keys), and
    ``unprocessed`` every key / write request not known to be done, per table: the failed request's
    (its outcome is unknown; puts, deletes and gets are safe to resend) and every later chunk's.
    ``operation`` is ``"BatchWriteItem"`` or ``"BatchGetItem"``; the original error is ``error`` and
    ``__cause__``. When the very first request fails, nothing is known to be done and that error
    propagates unchanged instead.
    """

    def __init__(
        self,
        unprocessed: Mapping[str, Any],
        *,
        completed: Any = None,
        operation: str = "",
        error: BaseException | None = None,
    ) -> None:
        super().__init__(unprocessed, completed=completed)
        self.operation = operation
        self.error = error
        count = sum(len(v) for v in self.unprocessed.values())
        cause = type(error).__name__ if error is not None else "an error"
        self.args = (f"{operation or 'batch'} interrupted by {cause}: {count} entries not done",)


class ServiceError(DynagenError):
    """DynamoDB (or STS) answered with an error that has no more specific mapping."""

    def __init__(self, code: str, message: str, *, status: int = 0, retryable: bool = False, request_id: str = "") -> None:
        self.code = code
        self.message = message
        self.status = status
        self.retryable = retryable
        self.request_id = request_id
        super().__init__(f"{code}: {message}" if message else code)


class ThrottlingError(ServiceError):
    """The request was throttled and the retry budget ran out."""


class TransportError(DynagenError):
    """The request could not be sent or the response could not be read (network, timeout, bad checksum)."""


class ResponseTooLargeError(TransportError):
    """A response was larger than ``limit`` bytes (the ``max_response_bytes`` setting); it was not read whole.

    ``size`` is the length the server announced, or how much had arrived when the cap was passed
    (``None`` when unknown). The request may have been executed: the answer was refused, not the request.
    Never retried: the same request would get the same answer.
    """

    def __init__(self, limit: int, size: int | None = None, *, operation: str = "") -> None:
        self.limit = limit
        self.size = size
        self.operation = operation
        got = f"{size} bytes" if size is not None else "more"
        where = f"{operation}: " if operation else ""
        super().__init__(
            f"{where}response of {got} refused: larger than max_response_bytes={limit} "
            "(the request may have been executed)"
        )


class UnknownPartnerError(DynagenError, LookupError):
    """The multi-account resolver has no partner by that id."""

    def __init__(self, partner: str) -> None:
        self.partner = partner
        super().__init__(f"unknown partner {partner!r}")


class IncompatibleRuntimeError(DynagenError, ImportError):
    """A generated module needs a runtime API this ``dynagen.runtime`` does not implement.

    Raised when the module is imported, so a deployment that pairs generated code with another
    dynagen's runtime (a Lambda layer, say) fails at init with what to do, not on some later query.
    """

    def __init__(self, module: str, needed: int, provided: tuple[int, int], version: str) -> None:
        self.module, self.needed, self.provided = module, needed, provided
        low, high = provided
        supported = f"API {low}" if low == high else f"APIs {low}-{high}"
        super().__init__(
            f"{module} was generated for dynagen runtime API {needed}, but the installed dynagen.runtime "
            f"(dynagen {version}) implements {supported}: regenerate it with this dynagen "
            "(`dynagen compile`), or install the dynagen version that generated it",
            name=module,
        )


# The account field of any ARN (arn:<partition>:<service>:<region>:<account>:...): the message of an
# AssumeRoleError shows only its last four digits, as the runtime's logs do.
# As text: re compiles (and caches) it on first use, not at import (cold start).
_ARN_ACCOUNT = r"(arn:[A-Za-z0-9-]+:[A-Za-z0-9-]*:[A-Za-z0-9-]*:)\d{8}(\d{4})(?=[:/])"


class AssumeRoleError(DynagenError):
    """STS AssumeRole failed for a partner. Carries the partner and role ARN, never credentials.

    ``role_arn`` is the full ARN; the message (``str()``) masks account ids in every ARN it shows
    (``arn:aws:iam::********3333:role/x``), so logging the error never leaks them.
    """

    def __init__(self, partner: str, role_arn: str, reason: str) -> None:
        self.partner = partner
        self.role_arn = role_arn
        self.reason = reason
        message = f"AssumeRole failed for partner {partner!r} (role {role_arn}): {reason}"
        super().__init__(re.sub(_ARN_ACCOUNT, r"\1********\2", message))

"""Immutable value records for the runtime, without ``@dataclass``'s cost at import.

Creating a frozen dataclass costs about 1 ms (it compiles its methods with ``exec`` and, with
slots, builds the class twice); the runtime defines a dozen small records on the cold-start path of
every Lambda function. They are plain ``__slots__`` classes on this base instead, with the same
behaviour: equal when of the same type with equal fields, hashed and shown from their fields, and
immutable once built (``__init__`` assigns through ``object.__setattr__``, as a frozen dataclass does).
"""

from __future__ import annotations

from dynagen._typing import Any, cast

__all__ = ["Record", "init"]

# For __init__ methods: assigning a field of an immutable record.
init = object.__setattr__


class Record:
    """Value semantics from ``__slots__`` (the fields, in order)."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Positional patterns (``case CancellationReason("ConditionalCheckFailed", _):``), as dataclasses allow.
        setattr(cls, "__match_args__", tuple(cls.__dict__.get("__slots__", ())))  # noqa: B010 - mypy forbids assigning it

    # copy, deepcopy and pickle rebuild an object through these (not __init__, not __setattr__).
    def __getstate__(self) -> tuple[Any, ...]:
        return self._fields()

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(self._names(), state, strict=True):
            init(self, name, value)

    def _names(self) -> tuple[str, ...]:
        return cast("tuple[str, ...]", type(self).__slots__)

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._names())

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._fields()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._names())
        return f"{type(self).__name__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is immutable")

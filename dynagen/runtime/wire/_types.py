"""The wire-format attribute value, typed precisely for generated code (no boto3 stubs needed)."""

from typing import TypedDict

# No ``from __future__ import annotations`` here: TypedDict would compile every string annotation
# into a ForwardRef at import (0.1 ms of 0.15); only the two recursive ones stay strings (inside generics,
# which keep them as they are).

__all__ = ["AttributeValue"]


class AttributeValue(TypedDict, total=False):
    """One DynamoDB attribute value as the low-level API carries it: exactly one of these keys."""

    S: str
    N: str
    B: bytes
    BOOL: bool
    NULL: bool
    SS: list[str]
    NS: list[str]
    BS: list[bytes]
    M: dict[str, "AttributeValue"]
    L: list["AttributeValue"]

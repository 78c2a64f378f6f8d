"""The wire-format attribute value, typed precisely for generated code (no boto3 stubs needed)."""

from __future__ import annotations

from typing import TypedDict

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
    M: dict[str, AttributeValue]
    L: list[AttributeValue]

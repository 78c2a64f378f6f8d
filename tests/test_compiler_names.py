"""Attribute names to Python names: snake_case, as the contract fixes it for DMS (and DynamORM)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynagen.compiler._names import snake_case


@pytest.mark.parametrize(
    ("attribute", "python"),
    [
        ("emailHash", "email_hash"),  # the contract's examples
        ("PK", "pk"),
        ("GSI1PK", "gsi1pk"),
        ("createdAt", "created_at"),
        ("HTTPServer", "http_server"),  # an acronym ends where the next word starts
        ("getHTTPResponseCode", "get_http_response_code"),
        ("userID", "user_id"),
        ("ID", "id"),
        ("already_snake", "already_snake"),
        ("Already_Snake", "already_snake"),
        ("user-id", "user_id"),  # separators that are not identifier characters
        ("lsi1sk", "lsi1sk"),
        ("x", "x"),
    ],
)
def test_snake_case(attribute: str, python: str) -> None:
    assert snake_case(attribute) == python


identifiers = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,15}", fullmatch=True)


@given(identifiers)
def test_snake_case_is_lower_snake_and_stable(name: str) -> None:
    once = snake_case(name)
    assert re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", once), once
    assert snake_case(once) == once, "a snake_case name is its own Python name"

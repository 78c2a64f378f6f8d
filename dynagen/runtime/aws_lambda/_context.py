"""Context variables shared by the resolver, logging and metrics (one of each, so they never disagree)."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["current_partner", "use_partner"]

# The partner the current request acts for; "" is the base account.
current_partner: contextvars.ContextVar[str] = contextvars.ContextVar("dynagen_partner", default="")


@contextmanager
def use_partner(partner: str) -> Iterator[str]:
    """Set ``current_partner`` for the duration of a ``with`` block (restored afterwards, also on error)."""
    token = current_partner.set(partner)
    try:
        yield partner
    finally:
        current_partner.reset(token)

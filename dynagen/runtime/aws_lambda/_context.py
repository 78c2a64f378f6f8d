"""Context variables shared by the resolver, logging and metrics (one of each, so they never disagree)."""

from __future__ import annotations

import contextvars

__all__ = ["current_partner"]

# The partner the current request acts for; "" is the base account.
current_partner: contextvars.ContextVar[str] = contextvars.ContextVar("dynagen_partner", default="")

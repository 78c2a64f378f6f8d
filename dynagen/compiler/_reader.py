"""Typed access to positioned YAML nodes that records a diagnostic instead of raising."""

from __future__ import annotations

from collections.abc import Collection

from dynagen.compiler._diagnostics import Diagnostics
from dynagen.compiler._ir import Loc
from dynagen.compiler._names import did_you_mean
from dynagen.compiler._yaml import Node

__all__ = ["Reader"]


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


class Reader:
    """Reads one file's nodes; every problem becomes a ``path:line:col`` diagnostic."""

    def __init__(self, path: str, diags: Diagnostics) -> None:
        self.path = path
        self.diags = diags

    def error(self, node: Node | tuple[int, int], message: str) -> None:
        line, col = (node.line, node.col) if isinstance(node, Node) else node
        self.diags.error(self.path, line, col, message)

    def loc(self, node: Node) -> Loc:
        return Loc(self.path, node.line, node.col)

    def mapping(self, node: Node, what: str, allowed: Collection[str] | None = None) -> dict[str, Node] | None:
        if not isinstance(node.value, dict):
            self.error(node, f"{what} must be a mapping, got {_kind(node.value)}")
            return None
        if allowed is not None:
            for key in node.value:
                if key not in allowed:
                    self.error(node.key_pos[key], f"unknown key {key!r} in {what}{did_you_mean(key, tuple(allowed))}")
        return dict(node.value)

    def sequence(self, node: Node, what: str) -> list[Node] | None:
        if not isinstance(node.value, list):
            self.error(node, f"{what} must be a list, got {_kind(node.value)}")
            return None
        return list(node.value)

    def string(self, node: Node, what: str, *, non_empty: bool = True) -> str | None:
        if not isinstance(node.value, str):
            self.error(node, f"{what} must be a string, got {_kind(node.value)}")
            return None
        if non_empty and not node.value.strip():
            self.error(node, f"{what} must not be empty")
            return None
        return node.value

    def boolean(self, node: Node, what: str) -> bool | None:
        if not isinstance(node.value, bool):
            self.error(node, f"{what} must be true or false, got {_kind(node.value)}")
            return None
        return node.value

    def integer(self, node: Node, what: str, *, low: int | None = None, high: int | None = None) -> int | None:
        value = node.value
        if not isinstance(value, int) or isinstance(value, bool):
            self.error(node, f"{what} must be an integer, got {_kind(value)}")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.error(node, f"{what} must be between {low} and {high}, got {value}")
            return None
        return value

    def choice(self, node: Node, what: str, choices: Collection[str], *, fold: bool = False) -> str | None:
        text = self.string(node, what)
        if text is None:
            return None
        probe = text.lower() if fold else text
        if probe not in choices:
            options = ", ".join(sorted(choices))
            self.error(node, f"{what} must be one of {options}; got {text!r}{did_you_mean(probe, tuple(choices))}")
            return None
        return probe

    def strings(self, node: Node, what: str) -> list[str] | None:
        items = self.sequence(node, what)
        if items is None:
            return None
        out = [self.string(item, f"each entry of {what}") for item in items]
        return [s for s in out if s is not None] if all(s is not None for s in out) else None

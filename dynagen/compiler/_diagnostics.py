"""Collecting schema problems, so that every one is reported at once."""

from __future__ import annotations

from dynagen.errors import Diagnostic

__all__ = ["Diagnostics"]


class Diagnostics:
    """An append-only list of ``path:line:col: message`` problems (errors), and of warnings beside them."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []  # reported, but the schema compiles

    def error(self, path: str, line: int, col: int, message: str) -> None:
        self.items.append(Diagnostic(path, line, col, message))

    def warning(self, path: str, line: int, col: int, message: str) -> None:
        self.warnings.append(Diagnostic(path, line, col, "warning: " + message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

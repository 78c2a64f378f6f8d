"""Defaults from ``[tool.dynagen]`` in the nearest ``pyproject.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Config", "find_config"]


@dataclass(frozen=True)
class Config:
    root: Path  # the folder holding pyproject.toml (schema paths in headers are relative to it)
    schemas: tuple[Path, ...]
    out: Path | None


def find_config(start: Path | None = None) -> Config | None:
    """The ``[tool.dynagen]`` table of the nearest pyproject.toml at or above ``start``, if any."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            with candidate.open("rb") as handle:
                data = tomllib.load(handle)
            section = data.get("tool", {}).get("dynagen")
            if not isinstance(section, dict):
                return None
            schemas = section.get("schemas", [])
            if isinstance(schemas, str):
                schemas = [schemas]
            out = section.get("out")
            return Config(
                root=folder,
                schemas=tuple(folder / str(s) for s in schemas),
                out=folder / str(out) if out else None,
            )
    return None

"""YAML loading that keeps the line and column of every node, so every error can point at its place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from dynagen.compiler._diagnostics import Diagnostics

__all__ = ["MAX_FILE_BYTES", "MAX_NODES", "Node", "load_yaml"]

MAX_FILE_BYTES = 1024 * 1024
# Aliases can make a small file expand exponentially ("billion laughs"); a schema never needs this many.
MAX_NODES = 50_000


@dataclass
class Node:
    """A YAML value with its position (1-based). Mappings hold ``dict[str, Node]``, sequences ``list[Node]``."""

    value: Any
    line: int
    col: int
    key_pos: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    def plain(self) -> Any:
        """The value without positions (for defaults and literals)."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


class _Budget(Exception):
    pass


def load_yaml(text: str, path: str, diags: Diagnostics, *, allow_aliases: bool = True) -> Node | None:
    """Parse one YAML document; on any problem record diagnostics and return None."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        diags.error(path, 1, 1, f"file is larger than {MAX_FILE_BYTES // 1024} KiB; split it into several schema files")
        return None
    if not text.strip():
        diags.error(path, 1, 1, "file is empty: expected a schema document")
        return None
    loader = yaml.SafeLoader(text)
    try:
        if not allow_aliases:
            for event in yaml.parse(text, Loader=yaml.SafeLoader):
                anchor = getattr(event, "anchor", None)
                if isinstance(event, yaml.AliasEvent) or anchor:
                    line, col = (event.start_mark.line + 1, event.start_mark.column + 1) if event.start_mark else (1, 1)
                    diags.error(path, line, col, "anchors and aliases are not allowed in DMS documents")
                    return None
        root = loader.get_single_node()
        if root is None:
            diags.error(path, 1, 1, "file is empty: expected a schema document")
            return None
        counter = [0]
        return _convert(root, loader, path, diags, counter)
    except _Budget:
        diags.error(path, 1, 1, f"document expands to more than {MAX_NODES} nodes (alias bomb?)")
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        diags.error(path, line, col, f"YAML syntax error: {problem}")
        return None
    except yaml.YAMLError as exc:
        diags.error(path, 1, 1, f"YAML error: {exc}")
        return None
    finally:
        loader.dispose()


def _convert(node: yaml.Node, loader: yaml.SafeLoader, path: str, diags: Diagnostics, counter: list[int]) -> Node:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise _Budget
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    if isinstance(node, yaml.MappingNode):
        out = Node({}, line, col)
        for key_node, value_node in node.value:
            kl, kc = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                diags.error(path, kl, kc, "merge keys (<<) are not supported")
                continue
            key = loader.construct_object(key_node, deep=True) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                diags.error(path, kl, kc, f"mapping keys must be strings, got {key_node.value!r} (quote it)")
                continue
            if key in out.value:
                diags.error(path, kl, kc, f"duplicate key {key!r}")
                continue
            out.value[key] = _convert(value_node, loader, path, diags, counter)
            out.key_pos[key] = (kl, kc)
        return out
    if isinstance(node, yaml.SequenceNode):
        return Node([_convert(item, loader, path, diags, counter) for item in node.value], line, col)
    return Node(loader.construct_object(node, deep=True), line, col)

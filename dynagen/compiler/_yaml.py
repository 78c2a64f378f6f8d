"""YAML loading that keeps the line and column of every node, so every error can point at its place."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from dynagen.compiler._diagnostics import Diagnostics

__all__ = ["MAX_FILE_BYTES", "MAX_NODES", "Node", "load_yaml"]

MAX_FILE_BYTES = 1024 * 1024
# Aliases can make a small file expand exponentially ("billion laughs"); a schema never needs this many.
MAX_NODES = 50_000
# A schema is a few levels deep; deeper nesting is hostile input, refused before anything recursive
# (PyYAML's composer, our conversion) could hit Python's recursion limit.
MAX_DEPTH = 64

# libyaml's parser when PyYAML was built with it (3-5x faster on large schema sets); the pure-Python one
# otherwise. Both keep the marks every error needs.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# What YAML counts as a line break (for positions PyYAML gives only as an offset).
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


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


class _Recursive(Exception):
    def __init__(self, line: int, col: int) -> None:
        self.line, self.col = line, col


class _TooDeep(_Recursive):
    pass


def _scan_events(
    text: str, path: str, diags: Diagnostics, *, allow_aliases: bool, loader_class: type[yaml.SafeLoader]
) -> bool:
    """Refuse too-deep nesting (and, where not allowed, anchors and aliases) from the event stream.

    The parser keeps its own stack, so this never recurses, however deep the document.
    """
    depth = 0
    for event in yaml.parse(text, Loader=loader_class):
        mark = event.start_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if not allow_aliases and (isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None)):
            diags.error(path, line, col, "anchors and aliases are not allowed in DMS documents")
            return False
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                diags.error(path, line, col, f"nested more than {MAX_DEPTH} levels deep")
                return False
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return True


def load_yaml(text: str, path: str, diags: Diagnostics, *, allow_aliases: bool = True) -> Node | None:
    """Parse one YAML document; on any problem record diagnostics and return None."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        diags.error(path, 1, 1, f"file is larger than {MAX_FILE_BYTES // 1024} KiB; split it into several schema files")
        return None
    if not text.strip():
        diags.error(path, 1, 1, "file is empty: expected a schema document")
        return None
    if _Loader is not yaml.SafeLoader:
        fast = Diagnostics()
        try:
            root = _load(text, path, fast, allow_aliases, _Loader)
        except yaml.YAMLError:
            pass  # worded below by the pure-Python parser: the same messages with or without libyaml
        else:
            diags.items.extend(fast.items)
            return root
    try:
        return _load(text, path, diags, allow_aliases, yaml.SafeLoader)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: it has no mark, only an offset
        lines = _LINE_BREAK.split(text[: exc.position])
        line, col = len(lines), len(lines[-1]) + 1
        diags.error(path, line, col, f"YAML syntax error: unacceptable character #x{exc.character:04x}: {exc.reason}")
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


def _load(
    text: str, path: str, diags: Diagnostics, allow_aliases: bool, loader_class: type[yaml.SafeLoader]
) -> Node | None:
    loader = loader_class(text)
    try:
        if not _scan_events(text, path, diags, allow_aliases=allow_aliases, loader_class=loader_class):
            return None
        root = loader.get_single_node()
        if root is None:
            diags.error(path, 1, 1, "file is empty: expected a schema document")
            return None
        return _convert(root, loader, path, diags, [0], set())
    except _TooDeep as exc:
        diags.error(path, exc.line, exc.col, f"nested more than {MAX_DEPTH} levels deep (through aliases)")
        return None
    except _Recursive as exc:
        diags.error(path, exc.line, exc.col, "recursive alias: this node contains itself")
        return None
    except _Budget:
        diags.error(path, 1, 1, f"document expands to more than {MAX_NODES} nodes (alias bomb?)")
        return None
    finally:
        loader.dispose()


def _convert(
    node: yaml.Node, loader: yaml.SafeLoader, path: str, diags: Diagnostics, counter: list[int], active: set[int]
) -> Node:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise _Budget
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    if isinstance(node, yaml.CollectionNode):
        # An anchor's node is registered before its children are composed, so `&a [*a]` is a cycle.
        if id(node) in active:
            raise _Recursive(line, col)
        if len(active) >= MAX_DEPTH:  # `active` is the path from the root: aliases can nest past the event scan
            raise _TooDeep(line, col)
        active.add(id(node))
        try:
            return _convert_collection(node, loader, path, diags, counter, active, line, col)
        finally:
            active.discard(id(node))
    return Node(loader.construct_object(node, deep=True), line, col)


def _convert_collection(
    node: yaml.CollectionNode,
    loader: yaml.SafeLoader,
    path: str,
    diags: Diagnostics,
    counter: list[int],
    active: set[int],
    line: int,
    col: int,
) -> Node:
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
            out.value[key] = _convert(value_node, loader, path, diags, counter, active)
            out.key_pos[key] = (kl, kc)
        return out
    return Node([_convert(item, loader, path, diags, counter, active) for item in node.value], line, col)

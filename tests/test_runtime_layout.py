"""The runtime's folders are its layers: every import points down, and no modules import each other in a loop.

Walks every module of ``dynagen/runtime`` (imports at module level and inside functions alike: a
lazy import is still a dependency) and checks them against the layer order in docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

RUNTIME = Path(__file__).resolve().parent.parent / "dynagen" / "runtime"

# Lowest first. A module may import its own folder's modules and any folder below its own.
LAYERS = ["wire", "transport", "ops", "aws_lambda", "repository", "accounts"]
# The runtime's top-level modules: the API version check (imported by generated code) and the face.
TOP = {"dynagen.runtime._api": -1, "dynagen.runtime": len(LAYERS)}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(RUNTIME.rglob("*.py")):
        parts = path.relative_to(RUNTIME.parent.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The runtime modules ``name`` imports (``from a import b`` counts ``a.b`` when that is a module)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            # ``from a import b``: the module ``a.b`` when there is one, else ``a`` (a name defined in ``a``).
            submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
            targets = submodules if len(submodules) == len(node.names) else [base, *submodules]
        for target in targets:
            if target in known and target != name:
                out.add(target)
    return out


def layer(name: str) -> int:
    if name in TOP:
        return TOP[name]
    folder = name.split(".")[2]
    return LAYERS.index(folder) if folder in LAYERS else -2


def test_every_runtime_module_lives_in_a_layer() -> None:
    strays = [name for name in modules() if layer(name) == -2]
    assert strays == [], f"modules outside the runtime's folders ({', '.join(LAYERS)}): {strays}"


def test_imports_only_point_down() -> None:
    known = modules()
    upward = []
    for name, path in known.items():
        for target in imports(name, path, known):
            if layer(target) > layer(name):
                upward.append(f"{name} -> {target}")
    assert upward == [], "imports that point up a layer:\n" + "\n".join(upward)


def test_no_import_cycle() -> None:
    known = modules()
    graph = {name: imports(name, path, known) for name, path in known.items()}
    # Package faces import their own modules by design (and modules import siblings through the package):
    # a cycle through a face is not a cycle of code, so faces are left out.
    faces = {name for name, path in known.items() if path.name == "__init__.py"}
    graph = {n: {t for t in ts if t not in faces} for n, ts in graph.items() if n not in faces}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_walk_sees_imports() -> None:
    """The checks above would pass on a walk that finds nothing: make sure it finds what is there."""
    known = modules()
    assert "dynagen.runtime.transport._bounds" in imports(
        "dynagen.runtime.ops._call", known["dynagen.runtime.ops._call"], known
    )
    assert layer("dynagen.runtime.accounts._resolver") > layer("dynagen.runtime.transport.lean._sts")

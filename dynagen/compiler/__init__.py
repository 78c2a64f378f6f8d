"""The compiler: schema files in, a map of output path -> module text out.

    compile_schemas(paths)  -> Output (pure: reads files, writes nothing)
    write_output(output, out_dir)  -> WriteReport (every target checked first; atomic writes; removes orphans)
    check_output(output, out_dir)  -> CheckReport (changed with diffs, missing, orphaned)

Invalid schemas raise ``SchemaError`` carrying every diagnostic; nothing is produced for them.
"""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

from dynagen.compiler._check import finalize
from dynagen.compiler._codegen import GENERATED_NAMES
from dynagen.compiler._diagnostics import Diagnostics
from dynagen.compiler._dms import load_dms
from dynagen.compiler._ir import Module
from dynagen.compiler._names import is_identifier, snake_case
from dynagen.compiler._native import load_native
from dynagen.compiler._reader import Reader
from dynagen.compiler._render import HEADER_MARK, render_init, render_module
from dynagen.compiler._yaml import load_yaml
from dynagen.errors import Diagnostic, SchemaError

__all__ = [
    "CheckReport",
    "ExitCode",
    "Output",
    "WriteReport",
    "check_output",
    "compile_schemas",
    "discover",
    "load_schemas",
    "write_output",
]


class ExitCode(IntEnum):
    OK = 0
    STALE = 1
    ERROR = 2


@dataclass(frozen=True)
class Output:
    files: dict[str, str]  # path relative to the output folder -> text
    modules: tuple[Module, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()  # ``path:line:col: warning: ...``: worth a look, nothing refused


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class CheckReport:
    changed: dict[str, str] = field(default_factory=dict)  # path -> unified diff
    missing: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)

    @property
    def fresh(self) -> bool:
        return not (self.changed or self.missing or self.orphaned)


def discover(paths: list[Path]) -> list[Path]:
    """Schema files named by ``paths`` (files, or folders searched recursively for *.yaml / *.yml), sorted."""
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        else:
            found.add(path)
    return sorted(found, key=lambda p: p.as_posix())


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(os.path.relpath(path.resolve(), root.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


def load_schemas(
    paths: list[Path], *, root: Path | None = None, warnings: list[Diagnostic] | None = None
) -> list[Module]:
    """Read and check every schema; raise ``SchemaError`` with all diagnostics of all files.

    Warnings (valid schemas that do something costly) are appended to ``warnings`` when given.
    """
    root = root or Path.cwd()
    diags = Diagnostics()
    modules: list[Module] = []
    for path in discover(paths):
        source = _relative(path, root)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            diags.error(source, 1, 1, "no such file")
            continue
        except UnicodeDecodeError as exc:
            diags.error(source, 1, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
            continue
        except OSError as exc:
            diags.error(source, 1, 1, f"cannot read: {exc.strerror}")
            continue
        module = _load_one(text, source, path, diags)
        if module is not None:
            modules.append(module)
    seen: dict[str, str] = {}
    for module in modules:
        if module.name in seen:
            diags.error(module.source, 1, 1, f"module name {module.name!r} is also produced by {seen[module.name]}")
        seen.setdefault(module.name, module.source)  # name the file that keeps it: the first in sorted order
    if diags:
        raise SchemaError(diags.items)
    if warnings is not None:
        warnings.extend(diags.warnings)
    return modules


def _load_one(text: str, source: str, path: Path, diags: Diagnostics) -> Module | None:
    before = len(diags)
    probe = Diagnostics()
    root = load_yaml(text, source, probe)
    is_dms = root is not None and root.is_map and "dms_version" in root.value
    if is_dms:  # DMS forbids anchors and aliases: parse again under that rule
        root = load_yaml(text, source, diags, allow_aliases=False)
    else:
        diags.items.extend(probe.items)
    if root is None:
        return None
    reader = Reader(source, diags)
    default_name = snake_case(path.stem)
    if not is_identifier(default_name):
        default_name = "schema_" + default_name
    if is_dms:
        module = load_dms(root, reader, source, default_name)
    elif root.is_map and "dynagen" in root.value:
        module = load_native(root, reader, source, default_name)
    else:
        reader.error(root, "not a schema: expected a top-level 'dynagen: 1' (native) or 'dms_version: \"0.1\"' (DMS) key")
        return None
    if module is None:
        return None
    module = finalize(module, diags)
    for name in [e.name for e in module.enums] + [m.name for m in module.models]:
        if name in GENERATED_NAMES:
            model = next((m for m in module.models if m.name == name), None)
            line, col = (model.loc.line, model.loc.col) if model else (1, 1)
            diags.error(source, line, col, f"the name {name!r} is used by generated code; choose another")
    return module if len(diags) == before else None


def compile_schemas(paths: list[Path], *, root: Path | None = None) -> Output:
    """Compile schema files into module texts (no I/O besides reading the schemas)."""
    warnings: list[Diagnostic] = []
    modules = load_schemas(paths, root=root, warnings=warnings)
    files = {f"{m.name}.py": render_module(m) for m in modules}
    files["__init__.py"] = render_init(modules)
    return Output(files, tuple(modules), tuple(warnings))


def _is_generated(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.readline().startswith(HEADER_MARK)
    except (OSError, UnicodeDecodeError):
        return False


def _generated_files(out_dir: Path) -> list[str]:
    """Files in ``out_dir`` that carry dynagen's header (only those may be replaced or removed)."""
    if not out_dir.is_dir():
        return []
    return [path.name for path in sorted(out_dir.glob("*.py")) if _is_generated(path)]


def _read_text(path: Path) -> str | None:
    """The file's text, or None when it is missing, not a file or not UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _new_file_mode() -> int:
    """0o666 minus the umask: the mode ``open()`` would give a new file (mkstemp always gives 0o600)."""
    # The umask can only be read by setting it; set it back at once.
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _write_atomic(target: Path, text: str, mode: int) -> None:
    """Write ``text`` to a temporary file beside ``target`` and rename it over ``target``.

    Same directory, so the rename is atomic: readers see the old file or the new one, never half
    of one. On any failure the temporary file is removed and ``target`` is left as it was.
    """
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_output(output: Output, out_dir: Path) -> WriteReport:
    """Write changed files atomically; remove files carrying dynagen's header that are no longer produced.

    Raises ``FileExistsError`` naming every target that exists without dynagen's header; it is
    raised before anything is written, so a refused compile leaves ``out_dir`` as it was.
    """
    report = WriteReport()
    to_write: list[tuple[str, str]] = []
    conflicts: list[Path] = []
    for name, text in sorted(output.files.items()):
        target = out_dir / name
        if target.is_file() and _read_text(target) == text:
            report.unchanged.append(name)
        elif target.exists() and not _is_generated(target):
            # A hand-written file of the same name: never overwrite what dynagen did not write.
            conflicts.append(target)
        else:
            to_write.append((name, text))
    if conflicts:
        names = ", ".join(str(c) for c in conflicts)
        raise FileExistsError(f"refusing to overwrite files dynagen did not generate: {names}; move them away "
                              "first (nothing was written)")  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    new_mode = _new_file_mode()
    for name, text in to_write:
        target = out_dir / name
        # A regenerated file keeps the mode its owner gave it; a new one gets what open() would give.
        mode = stat.S_IMODE(target.stat().st_mode) if target.is_file() else new_mode
        _write_atomic(target, text, mode)
        report.written.append(name)
    for name in _generated_files(out_dir):
        if name not in output.files:
            (out_dir / name).unlink()
            report.removed.append(name)
    return report


def check_output(output: Output, out_dir: Path) -> CheckReport:
    report = CheckReport()
    for name, text in sorted(output.files.items()):
        target = out_dir / name
        if not target.is_file():
            report.missing.append(name)
            continue
        current = target.read_text(encoding="utf-8", errors="replace")
        if current != text:
            diff = difflib.unified_diff(
                current.splitlines(keepends=True), text.splitlines(keepends=True),
                fromfile=f"{out_dir.as_posix()}/{name} (on disk)", tofile=f"{out_dir.as_posix()}/{name} (generated)",
            )  # fmt: skip
            report.changed[name] = "".join(diff)
    report.orphaned = [n for n in _generated_files(out_dir) if n not in output.files]
    return report

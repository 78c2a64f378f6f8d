"""Build the deployment package of the payments example: ``make lambda-build``.

Writes into ``examples/payments_lambda/build/``:

- ``payments-lambda.zip``: only what runs in Lambda: the two handlers (``examples/payments_lambda/
  handler.py``, ``stream.py``), the generated ``generated_example/`` and the ``dynagen`` package
  without its compiler (no ``dynagen/compiler``, ``cli.py``, ``__main__.py``, ``_config.py``,
  ``local.py``; the Jinja templates live outside the package anyway). No third-party package at all:
  the lean transport (and the multi-account resolver's lean STS client) needs only the standard
  library, and Lambda's Python runtime already ships boto3/botocore for the botocore transport. Bytecode (``.pyc``,
  unchecked-hash) is included by default: Lambda's code folder is read-only, so without it every cold
  start compiles every module again. Entries are sorted with fixed timestamps: same sources, same zip.
- ``template.json``: the SAM template (``template.py``) with ``CodeUri: payments-lambda.zip``.
"""

from __future__ import annotations

import argparse
import io
import json
import py_compile
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from examples.payments_lambda.template import template_from_schemas

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "examples" / "payments_lambda" / "build"
ZIP_NAME = "payments-lambda.zip"
TEMPLATE_NAME = "template.json"

HANDLER_FILES = (
    "examples/__init__.py",
    "examples/payments_lambda/__init__.py",
    "examples/payments_lambda/handler.py",
    "examples/payments_lambda/stream.py",
)
# Build-time only parts of dynagen (they import Jinja2, PyYAML, click, or read pyproject.toml).
EXCLUDED = ("dynagen/compiler/", "dynagen/cli.py", "dynagen/__main__.py", "dynagen/_config.py", "dynagen/local.py")
_FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def sources(root: Path = ROOT) -> list[str]:
    """The files of the package, relative to ``root``, sorted."""
    found = set(HANDLER_FILES)
    for package in ("dynagen", "generated_example"):
        for path in (root / package).rglob("*"):
            rel = path.relative_to(root).as_posix()
            if path.is_file() and path.suffix in (".py", ".typed") and "__pycache__" not in rel:
                found.add(rel)
    return sorted(p for p in found if not p.startswith(EXCLUDED))


def _entries(root: Path, files: Sequence[str], bytecode: bool) -> Iterator[tuple[str, bytes]]:
    tag = sys.implementation.cache_tag  # cpython-311: Lambda's python3.11 runtime uses exactly these
    with tempfile.TemporaryDirectory() as tmp:
        for rel in files:
            source = root / rel
            yield rel, source.read_bytes()
            if bytecode and rel.endswith(".py"):
                pyc = Path(tmp) / (rel.replace("/", "_") + ".pyc")
                py_compile.compile(
                    str(source),
                    cfile=str(pyc),
                    dfile=rel,
                    doraise=True,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                )
                folder, _, name = rel.rpartition("/")
                yield f"{folder}/__pycache__/{name[:-3]}.{tag}.pyc", pyc.read_bytes()


def build_zip(out: Path, *, root: Path = ROOT, bytecode: bool = True) -> Path:
    """Write the deployment zip to ``out`` (a file path); returns it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in sorted(_entries(root, sources(root), bytecode)):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16  # readable by Lambda's sandbox user
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    out.write_bytes(buffer.getvalue())
    return out


def build(out_dir: Path = BUILD, *, bytecode: bool = True) -> tuple[Path, Path]:
    """The zip and the template in ``out_dir``."""
    archive = build_zip(out_dir / ZIP_NAME, bytecode=bytecode)
    template = template_from_schemas([ROOT / "schemas"], root=ROOT, code_uri=ZIP_NAME)
    template_path = out_dir / TEMPLATE_NAME
    template_path.write_text(json.dumps(template, indent=2) + "\n", encoding="utf-8")
    return archive, template_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.payments_lambda.build", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=BUILD, help=f"output folder (default {BUILD.relative_to(ROOT)})")
    parser.add_argument("--no-bytecode", action="store_true", help="leave the .pyc files out (smaller, slower cold start)")
    args = parser.parse_args(argv)
    archive, template = build(args.out, bytecode=not args.no_bytecode)
    with zipfile.ZipFile(archive) as z:
        infos = z.infolist()
    unpacked = sum(i.file_size for i in infos)
    print(f"{archive}: {archive.stat().st_size / 1024:.1f} KiB ({len(infos)} files, {unpacked / 1024:.1f} KiB unpacked)")
    for top in ("examples/", "generated_example/", "dynagen/"):
        part = [i for i in infos if i.filename.startswith(top)]
        print(f"  {top:20s} {len(part):3d} files  {sum(i.compress_size for i in part) / 1024:7.1f} KiB compressed")
    print(f"{template}: SAM template (handler examples.payments_lambda.handler.handler, stream consumer, roles)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Generated code passes mypy --strict and ruff: every golden output, checked as users would check it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

GOLDENS = Path(__file__).parent / "goldens"
ROOT = Path(__file__).resolve().parent.parent


def _collect(tmp_path: Path) -> Path:
    """Golden modules copied side by side under distinct names (several cases produce ``schema.py``)."""
    package = tmp_path / "goldens_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for case in sorted(GOLDENS.iterdir()):
        for module in sorted((case / "expected").glob("*.py")):
            if module.name != "__init__.py":
                shutil.copy(module, package / f"{case.name}__{module.name}")
    return package


def test_golden_outputs_pass_mypy_strict(tmp_path: Path) -> None:
    package = _collect(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version", "3.11", str(package)],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_golden_outputs_pass_ruff(tmp_path: Path) -> None:
    package = _collect(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--config", str(ROOT / "pyproject.toml"), "--no-cache", str(package)],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr

"""Golden tests: one folder per case under tests/goldens/ holding ``schema.yaml`` and either
``expected/`` (every generated file) or ``errors.txt`` (every diagnostic). ``--update-goldens``
rewrites them; a case with neither fails.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dynagen.compiler import compile_schemas
from dynagen.errors import SchemaError

GOLDENS = Path(__file__).parent / "goldens"
CASES = sorted(p for p in GOLDENS.iterdir() if p.is_dir())


def _compile(case: Path) -> dict[str, str] | str:
    try:
        return compile_schemas([case / "schema.yaml"], root=case).files
    except SchemaError as error:
        return "".join(f"{d}\n" for d in error.diagnostics)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case: Path, update_goldens: bool) -> None:
    result = _compile(case)
    expected_dir, errors_file = case / "expected", case / "errors.txt"
    if update_goldens:
        shutil.rmtree(expected_dir, ignore_errors=True)
        errors_file.unlink(missing_ok=True)
        if isinstance(result, str):
            errors_file.write_text(result, encoding="utf-8")
        else:
            expected_dir.mkdir()
            for name, text in result.items():
                (expected_dir / name).write_text(text, encoding="utf-8")
        return
    if isinstance(result, str):
        assert errors_file.is_file(), f"{case.name}: no errors.txt golden (run pytest --update-goldens)\n{result}"
        assert result == errors_file.read_text(encoding="utf-8")
        return
    assert expected_dir.is_dir(), f"{case.name}: no expected/ golden (run pytest --update-goldens)"
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in sorted(expected_dir.iterdir())}
    assert sorted(on_disk) == sorted(result), "generated file set differs from the golden"
    for name, text in result.items():
        assert text == on_disk[name], f"{case.name}/{name} differs from its golden"


def test_every_case_has_a_golden() -> None:
    for case in CASES:
        assert (case / "schema.yaml").is_file(), case
        assert (case / "expected").is_dir() or (case / "errors.txt").is_file(), f"{case.name} has no golden"

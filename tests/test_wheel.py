"""A built (non-editable) wheel carries the templates and compiles on its own."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_PROBE = """
import sys
from pathlib import Path
import dynagen
from dynagen.compiler import compile_schemas
from dynagen.compiler._render import templates_dir
assert Path(dynagen.__file__).is_relative_to(Path(sys.argv[1])), dynagen.__file__
assert templates_dir().is_relative_to(Path(sys.argv[1])), templates_dir()
files = compile_schemas([Path(sys.argv[2]) / "schemas"], root=Path(sys.argv[2])).files
print(len(files["payments.py"]))
"""


def test_wheel_ships_templates_and_compiles(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("dynagen-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "dynagen/templates/module.py.j2" in names
    assert "dynagen/py.typed" in names
    # The JSON Schemas editors point at, and the pytest plugin's entry point.
    assert {"dynagen/json_schema/dynagen.schema.json", "dynagen/json_schema/dms-0.1.schema.json"} <= set(names)
    (entry_points,) = (n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "[pytest11]\ndynagen = dynagen.pytest_plugin" in zipfile.ZipFile(wheel).read(entry_points).decode()
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(site), str(ROOT)], env=env, cwd=tmp_path, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    expected = (ROOT / "generated_example" / "payments.py").read_text()
    assert int(done.stdout) == len(expected)

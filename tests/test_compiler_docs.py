"""The schema reference's complete example is a real schema: it compiles, and the module it gives imports."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

from dynagen.compiler import compile_schemas

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "schema.md"


def _section(markdown: str, heading: str) -> str:
    """The text under ``## heading`` up to the next level-2 heading."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", markdown, re.MULTILINE | re.DOTALL)
    assert match is not None, f"docs/schema.md has no '## {heading}' section"
    return match.group(1)


def _yaml_blocks(section: str) -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)


def test_the_complete_example_compiles(tmp_path: Path) -> None:
    blocks = _yaml_blocks(_section(DOC.read_text(encoding="utf-8"), "A complete example"))
    assert blocks, "the complete example has no ```yaml block"
    for number, block in enumerate(blocks):
        path = tmp_path / f"example_{number}.yaml"
        path.write_text(block, encoding="utf-8")
        files = compile_schemas([path], root=tmp_path).files  # raises SchemaError with every problem
        (name,) = (n for n in files if n != "__init__.py")
        # The generated module runs: every model the example declares is a class of it.
        module = types.ModuleType(f"docs_example_{number}")
        sys.modules[module.__name__] = module
        try:
            exec(compile(files[name], name, "exec"), module.__dict__)
        finally:
            del sys.modules[module.__name__]
        declared = re.findall(r"^  ([A-Z][A-Za-z0-9]*):", block.split("\nmodels:\n", 1)[1], re.MULTILINE)
        assert declared, "the example declares no models"
        for model in declared:
            assert isinstance(getattr(module, model, None), type), model

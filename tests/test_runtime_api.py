"""Generated modules check, when imported, that this runtime implements the API they were made for."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from dynagen.errors import DynagenError, IncompatibleRuntimeError
from dynagen.runtime import GENERATED_API, require_api
from dynagen.runtime._api import MIN_GENERATED_API

ROOT = Path(__file__).resolve().parent.parent


def test_the_current_api_is_accepted() -> None:
    require_api(GENERATED_API, "m")
    require_api(MIN_GENERATED_API, "m")


@pytest.mark.parametrize("needed", [MIN_GENERATED_API - 1, GENERATED_API + 1])
def test_another_api_is_refused_with_what_to_do(needed: int) -> None:
    with pytest.raises(IncompatibleRuntimeError) as caught:
        require_api(needed, "app.models")
    error = caught.value
    assert isinstance(error, ImportError) and isinstance(error, DynagenError)
    assert (error.module, error.needed, error.name) == ("app.models", needed, "app.models")
    message = str(error)
    assert f"app.models was generated for dynagen runtime API {needed}" in message
    assert f"implements API {GENERATED_API}" in message and "`dynagen compile`" in message


def test_every_generated_module_asserts_the_api_it_was_made_for() -> None:
    source = (ROOT / "generated_example" / "payments.py").read_text()
    assert f"\nrequire_api({GENERATED_API}, __name__)\n" in source


def test_a_module_made_for_another_runtime_fails_at_import(tmp_path: Path) -> None:
    source = (ROOT / "generated_example" / "payments.py").read_text()
    path = tmp_path / "payments_from_the_future.py"
    path.write_text(source.replace(f"require_api({GENERATED_API}, __name__)", f"require_api({GENERATED_API + 1}, __name__)"))
    spec = importlib.util.spec_from_file_location("payments_from_the_future", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        with pytest.raises(IncompatibleRuntimeError, match="payments_from_the_future was generated for dynagen runtime API"):
            spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]

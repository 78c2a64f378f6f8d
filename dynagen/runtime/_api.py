"""The contract between generated modules and this runtime, as one number.

``GENERATED_API`` changes when generated code starts calling the runtime in a way older runtimes do
not support (or stops calling it in a way newer ones dropped). The compiler writes the current value
into every module it generates, as ``require_api(<n>, __name__)`` right after its imports; a runtime
accepts ``MIN_GENERATED_API`` to ``GENERATED_API``.
"""

from __future__ import annotations

from dynagen._version import __version__
from dynagen.errors import IncompatibleRuntimeError

__all__ = ["GENERATED_API", "MIN_GENERATED_API", "require_api"]

# 1: modules from dynagen 0.1.0 with `key_range(<field>_eq/_from/_to/_after/_before/_prefix)`.
# 2: keys that sort and never collide (fixed-width datetimes and numbers, separator checks), empty
#    sets stored as NULL, typed container checks, `returns: keys/items` patterns, strict DMS versions.
#    Modules of API 1 write keys and sets the old way and call `key_range` with its old result: they
#    must be compiled again (`dynagen compile`), so this runtime refuses them.
#    Still API 2 (not released between the two): each model's `<Model>Fields` typed references
#    (`ModelInfo(fields=...)` instead of an `encoders=` map), `update_by_key`, `get_fields` and
#    `return_old`. A module generated before them (with `encoders=`) runs unchanged on this runtime,
#    without those methods, so nothing that was generated for API 2 misbehaves here.
#    Also still API 2: models that write out __init__/__repr__/__eq__ (with `FACTORY` defaults),
#    `key_unset`, `enc_null`, `required=` on field references and `ModelInfo(projected=...)`. Modules
#    generated before them run unchanged here (each is optional on this side).
GENERATED_API = 2
MIN_GENERATED_API = 2


def require_api(needed: int, module: str) -> None:
    """Raise ``IncompatibleRuntimeError`` unless this runtime implements API ``needed``."""
    if not MIN_GENERATED_API <= needed <= GENERATED_API:
        raise IncompatibleRuntimeError(module, needed, (MIN_GENERATED_API, GENERATED_API), __version__)

"""Names: attribute names to Python identifiers, and the checks that keep schema text out of code."""

from __future__ import annotations

import difflib
import keyword
import re

__all__ = ["GENERATED_GLOBALS", "RESERVED_FIELDS", "did_you_mean", "is_class_name", "is_identifier", "snake_case"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CLASS = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_BOUNDARY_1 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_BOUNDARY_2 = re.compile(r"([a-z])([A-Z])")  # not after a digit: GSI1PK -> gsi1pk

# Names a generated class or module already uses, or that would shadow what generated code needs.
RESERVED_FIELDS = frozenset(
    {"to_item", "from_item", "key", "make_key", "fields", "is_empty", "self", "cls", "item", "model", "dataclass"}
)


# Module globals that generated code reads inside methods whose parameters are field names (make_key,
# the repository's key arguments): a field of one of these names would hide it there. The runtime
# helpers a generated module may import, and the ``dataclasses`` names its class bodies use.
GENERATED_GLOBALS = frozenset(
    {
        "as_list", "as_map", "as_record", "decode_error", "decode_stream_record", "dump_json", "enc_bs",
        "enc_date", "enc_decimal", "enc_float", "enc_int", "enc_ns", "enc_null", "enc_ss", "enc_uuid", "enum_value", "expect",
        "format_datetime", "format_epoch", "from_wire", "key_datetime", "key_decimal", "key_error", "key_int",
        "key_part", "key_range", "key_unset", "load_json", "parse_datetime", "parse_epoch", "require_api", "split_key", "to_wire",
        "dataclass", "field",
    }
)  # fmt: skip


def snake_case(name: str) -> str:
    """``emailHash`` -> ``email_hash``, ``PK`` -> ``pk``, ``GSI1PK`` -> ``gsi1pk``, ``createdAt`` -> ``created_at``."""
    out = _BOUNDARY_1.sub(r"\1_\2", name)
    out = _BOUNDARY_2.sub(r"\1_\2", out)
    out = re.sub(r"[^A-Za-z0-9]+", "_", out)
    return out.strip("_").lower()


def is_identifier(name: str) -> bool:
    """An ASCII Python identifier that is not a keyword nor a dunder."""
    return bool(_IDENTIFIER.match(name)) and not keyword.iskeyword(name) and not name.startswith("__")


def is_class_name(name: str) -> bool:
    return bool(_CLASS.match(name)) and not keyword.iskeyword(name)


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""

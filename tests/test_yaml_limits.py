"""The YAML layer: hostile nesting and cycles are diagnostics, and libyaml changes nothing but speed."""

from __future__ import annotations

import pytest
import yaml

from dynagen.compiler import _yaml
from dynagen.compiler._diagnostics import Diagnostics

DEEP = "dynagen: 1\nx: " + "[" * 5000 + "]" * 5000 + "\n"
JUST_TOO_DEEP = "dynagen: 1\nx: " + "[" * _yaml.MAX_DEPTH + "]" * _yaml.MAX_DEPTH + "\n"  # with the root: one too many
DEEP_ENOUGH = "dynagen: 1\nx: " + "[" * (_yaml.MAX_DEPTH - 1) + "]" * (_yaml.MAX_DEPTH - 1) + "\n"

# Each level is shallow in the text, but aliases stack them: 12 x 60 levels once expanded.
ALIAS_DEEP = "dynagen: 1\nx:\n" + "".join(
    f"  k{i}: &a{i} " + "[" * 60 + (f"*a{i - 1}" if i else "1") + "]" * 60 + "\n" for i in range(12)
)

BAD = {
    "nested through aliases": (ALIAS_DEEP, ["s.yaml:3:13: nested more than 64 levels deep (through aliases)"]),
    "CR line breaks": ("a: 1\rb: \x01", ["s.yaml:2:4: YAML syntax error: unacceptable character #x0001"]),
    "NEL line breaks": ("a: 1\x85b: \x01", ["s.yaml:2:4: YAML syntax error: unacceptable character #x0001"]),
    "recursive sequence": ("dynagen: 1\na: &a [*a]\nmodels: {}\n", ["s.yaml:2:4: recursive alias: this node contains itself"]),
    "recursive mapping": ("dynagen: 1\na: &a {b: *a}\n", ["s.yaml:2:4: recursive alias: this node contains itself"]),
    "5000 levels": (DEEP, [f"s.yaml:2:{4 + _yaml.MAX_DEPTH - 1}: nested more than {_yaml.MAX_DEPTH} levels deep"]),
    "one level too deep": (JUST_TOO_DEEP, [f"s.yaml:2:{4 + _yaml.MAX_DEPTH - 1}: nested more than {_yaml.MAX_DEPTH} levels deep"]),
    "unclosed flow": ("dynagen: 1\nmodels: [\n", ["s.yaml:3:1: YAML syntax error: expected the node content"]),
    "bad indentation": ("dynagen: 1\nmodels:\n  A: 1\n B: 2\n", ["s.yaml:4:2: YAML syntax error:"]),
    "tab": ("dynagen: 1\n\tmodels: {}\n", ["s.yaml:2:1: YAML syntax error:"]),
    "control character": (
        "dynagen: 1\nmodels:\n  A\x1f: {}\n",
        ["s.yaml:3:4: YAML syntax error: unacceptable character #x001f: special characters are not allowed"],
    ),
    "NUL": ("dynagen: 1\x00\n", ["s.yaml:1:11: YAML syntax error: unacceptable character #x0000"]),
    "duplicate key": ("dynagen: 1\ndynagen: 2\n", ["s.yaml:2:1: duplicate key 'dynagen'"]),
}


def _messages(text: str) -> list[str]:
    diags = Diagnostics()
    _yaml.load_yaml(text, "s.yaml", diags)
    return [str(d) for d in diags.items]


@pytest.mark.parametrize(("text", "expected"), list(BAD.values()), ids=list(BAD))
def test_hostile_or_broken_yaml_is_a_positioned_error(text: str, expected: list[str]) -> None:
    messages = _messages(text)
    assert len(messages) == len(expected), messages
    for message, fragment in zip(messages, expected, strict=True):
        assert message.startswith(fragment), messages


def test_nesting_up_to_the_limit_loads() -> None:
    diags = Diagnostics()
    node = _yaml.load_yaml(DEEP_ENOUGH, "s.yaml", diags)
    assert not diags.items and node is not None and node.is_map


def test_aliases_that_are_not_cycles_still_load() -> None:
    diags = Diagnostics()
    node = _yaml.load_yaml("dynagen: 1\na: &a [1, 2]\nb: [*a, *a]\n", "s.yaml", diags)
    assert not diags.items and node is not None
    assert node.plain() == {"dynagen": 1, "a": [1, 2], "b": [[1, 2], [1, 2]]}


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML was built without libyaml")
@pytest.mark.parametrize("text", [t for t, _ in BAD.values()] + [DEEP_ENOUGH, "dynagen: 1\nmodels: {A: {table: t}}\n"])
def test_libyaml_and_the_pure_python_parser_give_the_same_result(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    assert _yaml._Loader is yaml.CSafeLoader  # the fast path is the one in use
    fast_diags = Diagnostics()
    fast = _yaml.load_yaml(text, "s.yaml", fast_diags)
    monkeypatch.setattr(_yaml, "_Loader", yaml.SafeLoader)
    slow_diags = Diagnostics()
    slow = _yaml.load_yaml(text, "s.yaml", slow_diags)
    assert [str(d) for d in fast_diags.items] == [str(d) for d in slow_diags.items]
    assert (fast is None) == (slow is None)
    if fast is not None and slow is not None:
        assert fast.plain() == slow.plain()
        assert (fast.line, fast.col, fast.key_pos) == (slow.line, slow.col, slow.key_pos)

"""What a generated model must be indistinguishable from: the same fields made by ``@dataclass`` alone.

Generated modules write ``__init__``, ``__repr__`` and ``__eq__`` out instead of letting
``@dataclass`` compile them at import. ``assert_like_dataclass(instance)`` checks one instance
against a reference class that ``dataclasses.make_dataclass`` builds from the model's own
``dataclasses.fields`` (so defaults and factories are the model's): the same signature, repr and
equality, fresh factory defaults, and the helpers users hand models to (pydantic included). No tests here.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from functools import cache
from typing import Any

__all__ = ["assert_like_dataclass", "reference_class"]


@cache
def reference_class(model: type) -> type:
    """``model``'s fields, defaults and factories in a class whose methods ``@dataclass`` made."""
    spec: list[tuple[str, Any, Any]] = []
    for f in dataclasses.fields(model):
        if f.default_factory is not dataclasses.MISSING:
            spec.append((f.name, f.type, dataclasses.field(default_factory=f.default_factory)))
        elif f.default is not dataclasses.MISSING:
            spec.append((f.name, f.type, dataclasses.field(default=f.default)))
        else:
            spec.append((f.name, f.type, dataclasses.field()))
    return dataclasses.make_dataclass(model.__name__, spec, slots=True, kw_only=True)


def _parameters(cls: type) -> list[tuple[str, Any, str, str]]:
    # The annotation as text: generated modules use `from __future__ import annotations`, so both are strings.
    return [(p.name, p.kind, repr(p.default), str(p.annotation)) for p in inspect.signature(cls).parameters.values()]


def assert_like_dataclass(instance: Any) -> None:
    model = type(instance)
    assert dataclasses.is_dataclass(model)
    ref = reference_class(model)
    values = {f.name: getattr(instance, f.name) for f in dataclasses.fields(model)}
    twin = ref(**values)
    # Construction: the same keyword-only parameters, defaults (factories shown as <factory>) and annotations.
    assert _parameters(model) == _parameters(ref)
    assert model.__match_args__ == ref.__match_args__  # type: ignore[attr-defined]
    assert repr(instance) == repr(twin)
    # Equality: field by field, only with the very same class; not hashable (a mutable dataclass).
    again = model(**values)
    assert again == instance
    assert not again.__ne__(instance)  # != is derived from the written __eq__
    assert instance.__eq__(twin) is NotImplemented and instance != twin
    assert instance.__eq__(object()) is NotImplemented
    assert model.__hash__ is None
    # Left-out defaults: the same values as the reference's, factories building a new object each time.
    required = {f.name: values[f.name] for f in dataclasses.fields(model) if _required(f)}
    bare, bare_twin = model(**required), ref(**required)
    assert repr(bare) == repr(bare_twin)
    other = model(**required)
    for f in dataclasses.fields(model):
        if f.default_factory is not dataclasses.MISSING:
            assert getattr(bare, f.name) is not getattr(other, f.name), f.name
    # What users hand models to.
    assert dataclasses.asdict(instance) == dataclasses.asdict(twin)
    assert dataclasses.replace(instance) == instance
    assert copy.copy(instance) == instance and copy.deepcopy(instance) == instance
    assert pickle.loads(pickle.dumps(instance)) == instance
    _pydantic_reads(model)


@cache
def _pydantic_reads(model: type) -> None:
    """pydantic resolves every annotation of the model (a field named like a type once broke that)."""
    from pydantic import TypeAdapter

    TypeAdapter(model)


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING

"""Properties over generated schemas (tests/schema_gen.py): what dynagen stores is right on any schema.

Hypothesis draws whole single-table schemas (one to three models, typed sort keys of random shapes,
every field type with random optional / omit_empty / default) and values for them, and checks:

- the compiler either accepts a schema or refuses it with a reason from the documented rules;
- ``from_item(to_item(m)) == m`` for every model (field names include ones that shadow builtins,
  imported names and method options), each model behaves as ``@dataclass`` would have made it, and
  a string key part holding a separator of its key is refused by name instead of written;
- key text order is value order, and two different key-field tuples never give one key;
- an access pattern's sort-key condition (what DynamoDB is sent, evaluated here as DynamoDB does,
  plus the exactness test for free-text parts) selects exactly what a Python filter on the values
  selects;
- on DynamoDB Local, through both transports, a query returns exactly that selection, in order.

``SCHEMAS`` / ``DDB_SCHEMAS`` set how many schemas are drawn (environment: DYNAGEN_PROPERTY_SCHEMAS,
DYNAGEN_PROPERTY_DDB_SCHEMAS); the suite draws the same ones every run, DYNAGEN_PROPERTY_RANDOM=1
draws new ones. The counts seen are printed at the end of a run with ``-s`` (see ``STATS``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from dataclass_reference import assert_like_dataclass
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from schema_gen import Compiled, compile_text, schemas, sort_values, values_for
from test_repository_support import make_table

from dynagen.compiler._ir import Model, Placeholder
from dynagen.errors import InvalidValueError
from dynagen.runtime import SortCondition
from dynagen.runtime.transport._botocore import BotocoreTransport
from dynagen.runtime.transport._interface import Transport

SCHEMAS = int(os.environ.get("DYNAGEN_PROPERTY_SCHEMAS", "120"))
DDB_SCHEMAS = int(os.environ.get("DYNAGEN_PROPERTY_DDB_SCHEMAS", "12"))
STATS: Counter[str] = Counter()
# The suite draws the same schemas on every run (a clean clone's CI must not fail on a new draw);
# DYNAGEN_PROPERTY_RANDOM=1 explores new ones (with DYNAGEN_PROPERTY_SCHEMAS=2000, say).
RANDOM = bool(os.environ.get("DYNAGEN_PROPERTY_RANDOM"))
SETTINGS = settings(
    max_examples=SCHEMAS, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=not RANDOM, database=None if not RANDOM else settings.default.database,
    phases=[Phase.explicit, Phase.reuse, Phase.generate] if os.environ.get("DYNAGEN_NO_SHRINK") else list(Phase),
)
# What the compiler may refuse a generated schema for (anything else is a bug, or a rule to document).
REASONS = (
    "can write the same primary key", "optional and omit_empty together", "omit_empty with the default",
    "clashes with an option of", "clashes with a query option",  # a key field named like a method's option
    "is a name generated code calls",  # a field named like a runtime helper (key_part, split_key, ...)
)  # fmt: skip


def accepted(text: str) -> Compiled:
    compiled = compile_text(text)
    if compiled.module is None:
        assert any(reason in compiled.errors for reason in REASONS), compiled.errors
        STATS["schemas refused (documented reason)"] += 1
    else:
        STATS["schemas accepted"] += 1
    assume(compiled.module is not None)
    return compiled


def bound_models(compiled: Compiled) -> list[Model]:
    assert compiled.ir is not None
    return [m for m in compiled.ir.models if m.table is not None]


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    print("\nschema properties:", dict(sorted(STATS.items())))


# -- round trips ------------------------------------------------------------------------------------


@SETTINGS
@given(text=schemas(), data=st.data())
def test_what_to_item_writes_from_item_reads_back(text: str, data: st.DataObject) -> None:
    compiled = accepted(text)
    module = compiled.module
    assert module is not None
    for model in bound_models(compiled):
        cls = getattr(module, model.name)
        forbidden = compiled.forbidden(model)
        for _ in range(3):
            m = data.draw(values_for(compiled, model))
            holds = [f for f, chars in forbidden.items() if set(str(getattr(m, f))) & chars]
            STATS["instances"] += 1
            if holds:
                with pytest.raises(InvalidValueError) as caught:
                    m.to_item()
                assert caught.value.field in holds
                STATS["instances refused (separator in a key part)"] += 1
                continue
            item = m.to_item()
            assert cls.from_item(item) == m
            assert_like_dataclass(m)  # the written-out __init__/__repr__/__eq__ are @dataclass's
            for key in model.keys:
                if all(getattr(m, name) is not None for name in key.fields):
                    assert key.attribute in item
            STATS["round trips"] += 1


# -- keys: order and injectivity ----------------------------------------------------------------------

# String parts drawn above every separator character ('#', '|'), so that text order is value order for
# them too (below a separator it is not: see the range property, which draws those as well).
HIGH = "}~\u00e9\u00fc\u4e2d"


def sort_fields(model: Model) -> list[Placeholder]:
    sk = model.key("SK")
    assert sk is not None
    return [p for p in sk.template if isinstance(p, Placeholder)]


@st.composite
def sort_tuple(draw: st.DrawFn, compiled: Compiled, model: Model) -> tuple[Any, ...]:
    module = compiled.module
    values = []
    for p in sort_fields(model):
        f = model.field(p.field)
        assert f is not None and module is not None
        if f.type.kind == "string":
            values.append(draw(st.text(alphabet=HIGH, min_size=1, max_size=4)))
        else:
            values.append(draw(sort_values(f, p.width, p.scale, module)))
    return tuple(values)


@SETTINGS
@given(text=schemas(), data=st.data())
def test_key_text_order_is_value_order_and_keys_never_collide(text: str, data: st.DataObject) -> None:
    compiled = accepted(text)
    module = compiled.module
    assert module is not None
    keys: dict[str, tuple[str, tuple[Any, ...]]] = {}
    for model in bound_models(compiled):
        cls = getattr(module, model.name)
        names = [p.field for p in sort_fields(model)]
        pids = data.draw(st.lists(st.sampled_from(["p", "q"]), min_size=6, max_size=6))
        tuples = data.draw(st.lists(sort_tuple(compiled, model), min_size=6, max_size=6))
        for pid, values in zip(pids, tuples, strict=True):
            key = cls.make_key(pid=pid, **dict(zip(names, values, strict=True)))
            text = key["PK"]["S"] + "\x00" + key["SK"]["S"]
            seen = keys.setdefault(text, (model.name, (pid, *values)))
            assert seen == (model.name, (pid, *values)), f"{text!r}: {seen} and {(model.name, values)}"
        texts = [cls.make_key(pid="p", **dict(zip(names, v, strict=True)))["SK"]["S"] for v in tuples]
        for a in range(len(tuples)):
            for b in range(len(tuples)):
                assert (texts[a] < texts[b]) == (tuples[a] < tuples[b]), (texts[a], texts[b])
                assert (texts[a] == texts[b]) == (tuples[a] == tuples[b])
                STATS["key pairs compared"] += 1


# -- access-pattern bounds ---------------------------------------------------------------------------


def holds(condition: SortCondition, text: str) -> bool:
    """A sort-key condition as DynamoDB evaluates it on string keys (UTF-8 byte order = code point order)."""
    values = [v["S"] for v in condition.values]
    op = condition.operator
    if op == "=":
        return text == values[0]
    if op == "<":
        return text < values[0]
    if op == "<=":
        return text <= values[0]
    if op == ">":
        return text > values[0]
    if op == ">=":
        return text >= values[0]
    if op == "BETWEEN":
        return values[0] <= text <= values[1]
    assert op == "begins_with", op
    return text.startswith(values[0])


class Unused:
    """A transport nothing may be sent through (the requests are captured before)."""

    def call(self, operation: str, request: Any, *, deadline: Any = None) -> dict[str, Any]:
        raise AssertionError(f"{operation} was sent")


class Capture:
    """Stands in for ``Repository._query_page``: keeps the sort condition a pattern method built."""

    def __init__(self) -> None:
        self.sort: Any = None

    def __get__(self, instance: Any, owner: Any) -> Capture:  # a method of the repository, without its self
        return self

    def __call__(self, index: Any, partition: Any, sort: Any, *rest: Any, **kw: Any) -> Any:
        from dynagen.runtime import Page

        self.sort = sort
        return Page([], None, 0)


BOUNDS = ["eq", "from", "to", "after", "before", "prefix", "from+to", "after+before", "from+before", "after+to"]
TEXT = "ab !#|}\u00e9"  # below and above the separators, and the separators themselves


@st.composite
def range_values(draw: st.DrawFn, compiled: Compiled, model: Model, field: str, count: int) -> list[Any]:
    f = model.field(field)
    placeholder = next(p for p in sort_fields(model) if p.field == field)
    assert f is not None and compiled.module is not None
    if f.type.kind == "string":
        strategy = st.text(alphabet=TEXT, min_size=1, max_size=3)
    else:
        strategy = sort_values(f, placeholder.width, placeholder.scale, compiled.module)
    return draw(st.lists(strategy, min_size=count, max_size=count))


def expected(bound: str, value: Any, given: dict[str, Any], text: str) -> bool:
    """The Python-side filter: the bound on the field's value (``prefix``: on its key text)."""
    checks = {
        "eq": lambda b: value == b,
        "from": lambda b: value >= b,
        "to": lambda b: value <= b,
        "after": lambda b: value > b,
        "before": lambda b: value < b,
        "prefix": lambda b: text.startswith(b),
    }
    return all(checks[name](b) for name, b in given.items())


@SETTINGS
@given(text=schemas(), data=st.data())
def test_pattern_bounds_select_what_a_python_filter_selects(text: str, data: st.DataObject) -> None:
    compiled = accepted(text)
    module = compiled.module
    assert module is not None
    model = data.draw(st.sampled_from(bound_models(compiled)))
    cls = getattr(module, model.name)
    capture = Capture()
    capturing = type("Capturing", (getattr(module, model.name + "Repository"),), {"__slots__": (), "_query_page": capture})
    repo = capturing(Unused(), table_name="generated")
    fields = [p.field for p in sort_fields(model)]
    sk_template = model.key("SK").template  # type: ignore[union-attr]
    first = next(i for i, part in enumerate(sk_template) if isinstance(part, Placeholder))
    after = sk_template[first + 1] if first + 1 < len(sk_template) else ""
    separator = after[0] if isinstance(after, str) and after else ""
    rows = data.draw(st.lists(sort_tuple(compiled, model), min_size=8, max_size=8))
    firsts = data.draw(range_values(compiled, model, fields[0], 8))
    rows = [(first, *row[1:]) for first, row in zip(firsts, rows, strict=True)]
    items = []
    for row in rows:
        try:
            key = cls.make_key(pid="p", **dict(zip(fields, row, strict=True)))
        except InvalidValueError:
            continue  # a string part holding a separator: refused, as the round-trip property checks
        items.append((row[0], key))
    assume(items)
    bound = data.draw(st.sampled_from(BOUNDS))
    given_values: dict[str, Any] = {}
    for name in bound.split("+"):
        if name == "prefix":
            sample = data.draw(st.sampled_from(items))[1]["SK"]["S"]
            start = len(model.key("SK").prefix)  # type: ignore[union-attr]
            given_values[name] = sample[start : start + data.draw(st.integers(1, 4))]
        else:
            given_values[name] = data.draw(range_values(compiled, model, fields[0], 1))[0]
    suffix = {"eq": "eq", "from": "from", "to": "to", "after": "after", "before": "before", "prefix": "prefix"}
    arguments = {f"{fields[0]}_{suffix[n]}": v for n, v in given_values.items()}
    try:
        repo.by_sort(pid="p", **arguments)
    except InvalidValueError as error:
        # Bounds that leave nothing between them, or a bound holding a separator: refused before any request.
        assert "leave no key between them" in str(error) or "separator" in str(error) or "_prefix" in str(error), error
        STATS["bounds refused"] += 1
        return
    sort = capture.sort
    prefix_len = len(model.key("SK").prefix)  # type: ignore[union-attr]
    for value, key in items:
        sk = key["SK"]["S"]
        part = sk[prefix_len:].split(separator)[0] if separator else sk[prefix_len:]
        want = expected(bound, value, given_values, part)
        got = sort is None or (holds(sort[1], sk) and (sort[2] is None or sort[2]({"SK": {"S": sk}})))
        assert got == want, (bound, given_values, value, sk, sort)
        STATS["range selections checked"] += 1


# -- the same on DynamoDB Local, both transports ------------------------------------------------------


@pytest.fixture(scope="module")
def lean(dynamodb_local: Any) -> Iterator[Transport]:
    from dynagen.runtime.transport.lean import LeanTransport

    with LeanTransport(region="us-east-1", endpoint_url=dynamodb_local.endpoint, credentials=("testing", "testing")) as t:
        yield t


@pytest.mark.ddb
@settings(max_examples=DDB_SCHEMAS, deadline=None, suppress_health_check=list(HealthCheck), derandomize=not RANDOM,
          database=None if not RANDOM else settings.default.database)  # fmt: skip
@given(text=schemas(), data=st.data())
def test_queries_on_dynamodb_local_return_the_python_selection_in_order(
    text: str, data: st.DataObject, ddb_client: Any, lean: Transport
) -> None:
    compiled = accepted(text)
    module = compiled.module
    assert module is not None
    table = make_table(ddb_client, module.TABLES["t"], "prop")
    try:
        for model in bound_models(compiled):
            cls = getattr(module, model.name)
            fields = [p.field for p in sort_fields(model)]
            written: dict[str, Any] = {}
            botocore_repo = getattr(module, model.name + "Repository")(BotocoreTransport(ddb_client), table_name=table)
            for _ in range(10):
                m = replace(data.draw(values_for(compiled, model, separators=False)), pid="p")
                stored = botocore_repo.put(m)
                written[cls.make_key(pid="p", **{n: getattr(m, n) for n in fields})["SK"]["S"]] = stored
            bound = data.draw(st.sampled_from(["", "from", "to", "from+to"]))
            arguments: dict[str, Any] = {}
            values = sorted({getattr(m, fields[0]) for m in written.values()})
            for name in filter(None, bound.split("+")):
                arguments[f"{fields[0]}_{name}"] = data.draw(st.sampled_from(values))
            want = [written[k] for k in sorted(written)]
            low, high = arguments.get(f"{fields[0]}_from"), arguments.get(f"{fields[0]}_to")
            want = [m for m in want if (low is None or getattr(m, fields[0]) >= low)
                    and (high is None or getattr(m, fields[0]) <= high)]  # fmt: skip
            if low is not None and high is not None and low > high:
                continue
            for transport in (BotocoreTransport(ddb_client), lean):
                repo = getattr(module, model.name + "Repository")(transport, table_name=table)
                got = list(repo.iter_by_sort(pid="p", page_size=3, **arguments))
                assert got == want, (model.name, arguments)
                STATS[f"DynamoDB Local queries ({type(transport).__name__})"] += 1
    finally:
        ddb_client.delete_table(TableName=table)

"""What the compiler generates for typed field references, and what the runtime reads from it (no DynamoDB).

- one ``<Model>Fields`` class per model, exported, in an order where each class uses only classes
  defined before it (records holding themselves or each other are assigned after the classes);
- each reference encodes exactly as ``to_item`` writes the field, and ``ModelInfo.encoders`` (the
  encoders of the model-based ``update``'s add/delete/append values) are the references' own;
- reference names never collide (``ref_name``), generated names never clash, key fields never take
  a key method's option name;
- an ``omit_empty`` record holding an optional field reads back as it was written.
"""

from __future__ import annotations

import itertools
import sys
import types
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from test_repository_support import NoRequests, import_generated

from dynagen.compiler import compile_schemas
from dynagen.errors import InvalidValueError, SchemaError
from dynagen.runtime import ModelInfo, RecordRef, StringRef
from dynagen.runtime.wire._typed import RESERVED_NAMES, ref_name
from generated_example import payments

GOLDENS = Path(__file__).parent / "goldens"
tasks = import_generated(GOLDENS / "typed_updates" / "expected" / "tasks.py", "codegen_refs_tasks")


def _compile(tmp_path: Path, text: str) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return compile_schemas([path], root=tmp_path).files["s.py"]


def _errors(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        compile_schemas([path], root=tmp_path)
    return [d.message for d in info.value.diagnostics]


def _exec(name: str, text: str) -> types.ModuleType:
    module = types.ModuleType(name)
    sys.modules[name] = module  # dataclasses looks the module up while the class is built
    exec(compile(text, f"{name}.py", "exec"), module.__dict__)
    return module


def test_every_model_gets_an_exported_fields_class() -> None:
    for name in ("Address", "Partner", "Customer", "Payment", "LineItem", "Refund"):
        cls = getattr(payments, f"{name}Fields")
        assert issubclass(cls, RecordRef) and f"{name}Fields" in payments.__all__
    assert payments.PaymentRepository.model.fields is payments.PaymentFields
    assert payments.PaymentFields.line_items[0].unit_price.path == "lineItems[0].unitPrice"
    assert payments.CustomerFields.address.postal_code.path == "address.postalCode"


def test_records_that_hold_themselves_or_each_other_get_their_references_after_the_classes() -> None:
    C, Th = tasks.CommentFields, tasks.ThreadFields
    assert C.replies[0].replies[1].text.path == "replies[0].replies[1].text"
    assert C.thread.comments[0].thread.title.path == "thread.comments[0].thread.title"
    assert Th.comments[2].replies[0].text.path == "comments[2].replies[0].text"
    assert tasks.TaskFields.thread.comments[0].text.path == "thread.comments[0].text"
    text = (GOLDENS / "typed_updates" / "expected" / "tasks.py").read_text()
    assert "    replies: ClassVar[ListRef[Comment, CommentFields]]" in text
    assert text.index("class ThreadFields") < text.index("class CommentFields") < text.index("ThreadFields.comments = ")


def _sets_sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: sorted(v) if k in ("SS", "NS", "BS") else _sets_sorted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sets_sorted(v) for v in value]
    return value


def test_each_reference_encodes_its_field_as_to_item_writes_it() -> None:
    task = tasks.Task(
        project="p", task_id="t", owner="o", team="x", priority=tasks.Priority.HIGH, due_on=date(2024, 5, 1),
        due_at=datetime(2024, 5, 1, 9, 0, 0, 250000, tzinfo=UTC), assignee="a", estimate=Decimal("1.50"),
        tags={"b", "a"}, points={3, 1}, checklist=["x", "y"], notes={"k": "v"},
        thread=tasks.Thread(title="t", comments=[tasks.Comment(text="c", replies=[tasks.Comment(text="r")])]),
        meta={"z": 1, "a": None}, size=4, created_at=datetime(2024, 1, 1, tzinfo=UTC), version=2,
    )  # fmt: skip
    item = task.to_item()
    info = tasks.TaskRepository.model
    for field, attribute in info.attributes.items():
        ref = info.refs[field]
        assert ref is getattr(tasks.TaskFields, ref_name(field))
        value = getattr(task, field)
        if value is None:
            continue
        assert _sets_sorted(ref.set(value).value) == _sets_sorted(item[attribute]), field
        assert _sets_sorted(info.encoders[field](value)) == _sets_sorted(item[attribute]), field
        assert ref._decode is not None and ref._decode(item[attribute]) == value, field


def test_the_json_update_encoder_writes_none_as_null_as_to_item_does() -> None:
    encoders = payments.PartnerRepository.model.encoders
    assert encoders["settings"](None) == {"NULL": True}
    assert encoders["settings"]({"b": 1, "a": 2}) == {"S": '{"a":2,"b":1}'}
    assert payments.PartnerFields.settings.set(None).value == {"NULL": True}


def test_model_info_takes_the_encoders_of_modules_generated_before_references() -> None:
    # A module of the same runtime API generated before the references: encoders given, no update by key.
    info = payments.PaymentRepository.model
    old = ModelInfo(
        name="Payment", table="payments", partition_key="PK", sort_key="SK", indexes={}, attributes=info.attributes,
        key_fields=info.key_fields, derived=info.derived, entity_attribute="entity", entity="PAYMENT",
        created_at=None, updated_at=None, version=None, ttl=None, from_item=payments.Payment.from_item,
        encoders={"attempts": lambda v: {"N": str(v)}},
    )  # fmt: skip
    assert old.refs == {} and old.encoders["attempts"](2) == {"N": "2"}

    class Old(payments.PaymentRepository):
        __slots__ = ()
        model = old

    with pytest.raises(InvalidValueError, match="compile it again"):
        Old(NoRequests()).update_by_key(payments.PaymentFields.attempts.add(1), partner_id="p", payment_id="x")  # type: ignore[arg-type]


def test_model_info_refuses_a_fields_class_of_another_model() -> None:
    info = payments.PaymentRepository.model
    with pytest.raises(InvalidValueError, match="is not Payment's field"):
        ModelInfo(
            name="Payment", table="payments", partition_key="PK", sort_key="SK", indexes={},
            attributes={"name": "amount"}, key_fields=(), derived={}, entity_attribute=None, entity=None,
            created_at=None, updated_at=None, version=None, ttl=None, from_item=info.from_item,
            fields=payments.PartnerFields,
        )  # fmt: skip


def test_reference_names_never_collide_and_never_hide_an_operator() -> None:
    names = sorted(
        {*RESERVED_NAMES, "a", "_a", "a_", "_path", "_segments", "_encode", "_at"}
        | {n + "_" for n in RESERVED_NAMES}
        | {n + "__" for n in RESERVED_NAMES}
    )
    refs = [ref_name(n) for n in names]
    assert len(set(refs)) == len(refs)
    for name, ref in zip(names, refs, strict=True):
        assert not hasattr(RecordRef, ref), name  # nothing of a record reference is hidden
        assert not hasattr(StringRef, ref), name


def test_fields_named_like_operators_or_private_members_get_their_own_names(tmp_path: Path) -> None:
    text = _compile(tmp_path, """dynagen: 1
module: s
tables: {ttt: {partition_key: PK}}
models:
  M:
    table: ttt
    keys: {PK: "M#{m_id}"}
    fields:
      m_id: string
      size: {type: int, attribute: size}
      size_: {type: int, attribute: sizeU}
      path: {type: string, attribute: path}
      _segments: {type: string, attribute: segs}
      eq: {type: string, attribute: eq}
""")
    module = _exec("codegen_refs_names", text)
    F = module.MFields
    assert [F.size_.path, F.size__.path, F.path_.path, F._segments_.path, F.eq_.path] == ["size", "sizeU", "path", "segs", "eq"]
    assert F.eq_.eq("x") is not None and F.size_.size().eq(1) is not None  # operators are still there
    assert module.MRepository.model.refs["_segments"] is F._segments_


def test_generated_names_and_key_arguments_never_clash(tmp_path: Path) -> None:
    clash = _errors(tmp_path, """dynagen: 1
module: s
tables: {ttt: {partition_key: PK, entity_attribute: e}}
models:
  Pay:
    table: ttt
    keys: {PK: "P#{actions}"}
    fields:
      actions: string
  PayFields:
    fields:
      x: string
""")
    assert any("generated name 'PayFields' clashes with model 'PayFields'" in m for m in clash), clash
    assert any("key field 'actions' clashes with an option of get/delete/update_by_key" in m for m in clash), clash


def test_an_omit_empty_record_with_an_optional_field_reads_back_as_written(tmp_path: Path) -> None:
    # The record is written whenever a field that may be None holds a value, even "" (regression: it
    # was judged empty on "", left out, and read back with None).
    text = _compile(tmp_path, """dynagen: 1
module: s
tables: {ttt: {partition_key: PK}}
models:
  Rec:
    fields:
      label: {type: string, omit_empty: true}
      note: string?
      inner: {type: Rec, optional: true}
  M:
    table: ttt
    keys: {PK: "M#{m_id}"}
    fields:
      m_id: string
      rec: {type: Rec, omit_empty: true}
""")
    module = _exec("codegen_refs_empty", text)
    for note, inner in itertools.product([None, ""], [None, module.Rec()]):
        m = module.M(m_id="a", rec=module.Rec(note=note, inner=inner))
        assert module.M.from_item(m.to_item()) == m, (note, inner)


def test_every_name_a_generated_module_imports_from_the_runtime_exists() -> None:
    # dynagen.runtime has a module __getattr__ (lazy names), so mypy takes any name imported from it as
    # Any: a name missing from the runtime would silently untype the annotations that use it.
    import ast

    import dynagen.runtime

    modules = [Path(payments.__file__), *GOLDENS.glob("*/expected/*.py")]
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "dynagen.runtime":
                for alias in node.names:
                    assert alias.name in dynagen.runtime.__all__, (path.name, alias.name)
                    assert getattr(dynagen.runtime, alias.name) is not None

"""Benchmark 6: building conditions and updates: typed field references vs the stored-name ``Field`` form.

Each case builds the same expression both ways: with ``Field("<stored name>")`` and wire values
made in the loop (``{"N": str(amount)}``: the least a caller of the stored-name form must do), and
with the typed references the generated module declares (``PaymentFields.amount.gt(amount)``), which
encode with the field's encoder and check the value. Both render to the same request text. The
typed form must cost no more than the stored-name form.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks._util import Report, Target, fmt_time, interleaved, median, render_table
from dynagen.runtime import Condition, Field, Update, format_datetime
from dynagen.runtime.wire._expressions import Placeholders
from generated_example import payments
from generated_example.payments import PaymentFields, PaymentStatus


def _declarations() -> tuple[Any, int]:
    """The generated module's ``<Model>Fields`` classes, as code, and how many references they declare."""
    text = Path(payments.__file__).read_text(encoding="utf-8")
    start = text.index("\nclass AddressFields(RecordRef[")
    end = text.index("\nclass PartnerRepository(Repository[")
    classes = [v for k, v in vars(payments).items() if k.endswith("Fields") and isinstance(v, type)]
    count = sum(1 for cls in classes for k in vars(cls) if not k.startswith("_"))
    return compile(text[start:end], payments.__file__, "exec"), count


def _cases(fields: Any) -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    """case -> (stored-name form, typed form), building the same expression."""
    f = fields
    low, high = Decimal("10.00"), Decimal("250.50")
    captured = PaymentStatus.CAPTURED
    since = datetime(2024, 5, 1, 10, 0, 5, tzinfo=UTC)
    stamp = datetime(2024, 5, 1, 10, 0, 5, 123456, tzinfo=UTC)
    return {
        "enum eq": (lambda: Field("status").eq({"S": captured.value}), lambda: f.status.eq(captured)),
        "decimal between": (
            lambda: Field("amount").between({"N": str(low)}, {"N": str(high)}),
            lambda: f.amount.between(low, high),
        ),
        "list element field": (
            lambda: Field("lineItems[0].sku").eq({"S": "A-1"}),
            lambda: f.line_items[0].sku.eq("A-1"),
        ),
        "map entry": (
            lambda: Field(("metadata", "order.ref")).eq({"S": "r-1"}),
            lambda: f.metadata["order.ref"].eq("r-1"),
        ),
        "set contains": (lambda: Field("labels").contains({"S": "vip"}), lambda: f.labels.contains("vip")),
        "four conditions combined": (
            lambda: Field("status").eq({"S": captured.value})
            & Field("amount").ge({"N": str(low)})
            & Field("attempts").lt({"N": str(3)})
            & Field("capturedAmount").not_exists(),
            lambda: f.status.eq(captured) & (f.amount >= low) & (f.attempts < 3) & f.captured_amount.not_exists(),
        ),
        "datetime ge (whole second)": (
            lambda: Field("createdAt").ge({"S": format_datetime(since, "created_at")}),
            lambda: f.created_at.ge(since),
        ),
        "datetime gt (microseconds)": (
            lambda: Field("createdAt").gt({"S": format_datetime(stamp, "created_at")}),
            lambda: f.created_at.gt(stamp),
        ),
        "update: set, add, delete": (
            lambda: Update()
            .set("status", {"S": captured.value})
            .add("attempts", {"N": str(1)})
            .delete("labels", {"SS": ["new"]}),
            lambda: Update.of(f.status.set(captured), f.attempts.add(1), f.labels.delete({"new"})),
        ),
    }


def _rendered(thing: object) -> tuple[str, dict[str, Any]]:
    ph = Placeholders()
    assert isinstance(thing, Condition | Update)
    return thing.render(ph), ph.expression_attributes()


def run(*, quick: bool = False, builds: int | None = None, rounds: int | None = None) -> Report:
    n = builds if builds is not None else (500 if quick else 20_000)
    rounds = rounds if rounds is not None else (3 if quick else 9)
    report = Report("expressions")
    report.note(f"\n## Building conditions and updates ({n:,} builds per sample, median of {rounds} rounds)")
    cases = _cases(PaymentFields)
    rows = []
    for case, (stored, typed) in cases.items():
        like_for_like = case != "datetime gt (microseconds)"
        if case.startswith("datetime"):
            # DatetimeRef compares with a padded bound (exact within a second, where the text order is
            # not); from a fraction on, it also lists the texts of the bound's second that sort wrongly.
            assert _rendered(typed())[0] == ("#n0 > :v0" if like_for_like else "(#n0 > :v0 AND (NOT #n0 IN (:v1, :v2, :v3, :v4, :v5, :v6, :v7)))")
        else:
            assert _rendered(typed()) == _rendered(stored()), case  # same request, built two ways

        def loop(build: Callable[[], object] = stored) -> None:
            for _ in range(n):
                build()

        def loop_typed(build: Callable[[], object] = typed) -> None:
            for _ in range(n):
                build()

        samples = interleaved({"stored-name Field": loop, "typed reference": loop_typed}, rounds=rounds, per=n)
        medians = {name: median(values) for name, values in samples.items()}
        ratio = medians["typed reference"] / medians["stored-name Field"]
        rows.append([case, fmt_time(medians["stored-name Field"]), fmt_time(medians["typed reference"]), f"{ratio:.2f}x"])
        if like_for_like:
            report.target(Target(f"typed vs stored-name build time: {case}", ratio, 1.0))
    report.table(
        render_table(
            ["expression", "stored-name Field", "typed reference", "typed / stored-name"],
            rows,
            "Build one expression (per build)",
        )
    )
    report.note(
        "  datetime gt (microseconds): the typed form is exact to the nanosecond (a padded bound, and an IN of the "
        "7 stored texts of that second that sort on the wrong side); the stored-name form compares the trimmed "
        "text and is wrong within that second, so it is shown without a target."
    )
    # What declaring the references costs at import: the generated module's Fields classes, executed again.
    code, count = _declarations()
    declared = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(20):
            exec(code, dict(vars(payments)))
        declared.append((time.perf_counter() - start) / 20)
    report.table(
        render_table(
            ["what", "median"],
            [[f"declare the 6 Fields classes of generated_example.payments ({count} references) at import", fmt_time(sorted(declared)[len(declared) // 2])]],
            "Import cost of the declarations",
        )
    )
    return report

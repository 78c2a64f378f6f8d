"""Timing, tables and targets shared by the benchmarks."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass
class Target:
    """One goal from the issue: ``value`` compared with ``goal`` (lower is better unless ``higher``)."""

    name: str
    value: float
    goal: float
    unit: str = "x"
    higher: bool = False

    @property
    def passed(self) -> bool:
        return self.value >= self.goal if self.higher else self.value <= self.goal

    def line(self) -> str:
        op = ">=" if self.higher else "<="
        verdict = "PASS" if self.passed else "MISS"
        return f"  [{verdict}] {self.name}: {self.value:.2f}{self.unit} (target {op} {self.goal:g}{self.unit})"


@dataclass
class Report:
    """What one benchmark produced: printed tables (as text) and targets."""

    name: str
    tables: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def table(self, text: str) -> None:
        print(text, flush=True)
        self.tables.append(text)

    def note(self, text: str) -> None:
        print(text, flush=True)
        self.notes.append(text)

    def target(self, target: Target) -> Target:
        self.targets.append(target)
        return target


def interleaved(
    contenders: dict[str, Callable[[], object]], *, rounds: int, per: int = 1, warmup: int = 1
) -> dict[str, list[float]]:
    """Seconds per operation of each contender, one sample per round.

    Each contender's callable runs ``per`` operations (e.g. one loop over 10,000 items). Within a
    round every contender runs once, in an order rotated every round, so drift in machine load hits
    all of them alike. The garbage collector is paused while a sample is timed (as ``timeit`` does).
    """
    names = list(contenders)
    for _ in range(warmup):
        for name in names:
            contenders[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            fn = contenders[name]
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter()
                fn()
                elapsed = time.perf_counter() - start
            finally:
                gc.enable()
            samples[name].append(elapsed / per)
    return samples


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def fmt_time(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.2f} µs"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str = "") -> str:
    """A Markdown table (readable in a terminal, pasteable into docs)."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    lines = []
    if title:
        lines.append(f"\n### {title}\n")
    lines.append("| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        lines.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    return "\n".join(lines)


def timing_table(
    title: str, samples: dict[str, list[float]], baseline: str, *, others: Sequence[str] = ()
) -> tuple[str, dict[str, float]]:
    """Rows of median / min / ratio to ``baseline`` (peer time / baseline time: > 1 means baseline faster)."""
    medians = {name: median(s) for name, s in samples.items()}
    base = medians[baseline]
    rows = []
    for name, s in samples.items():
        ratio = medians[name] / base if base else float("nan")
        rows.append([name, fmt_time(medians[name]), fmt_time(min(s)), f"{ratio:.2f}x"])
    header = ["contender", "median", "best", f"time vs {baseline}"]
    return render_table(header, rows, title), medians

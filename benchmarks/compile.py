"""Benchmark 4: compile and check time for a generated 50-model schema set.

The schema set is written to a temporary folder from a template model (keys from templates, a GSI,
an access pattern, a nested model, enums, sets, maps, lists, datetimes, decimals), ten models per
file. Timed in-process (``compile_schemas``, ``write_output`` onto an empty folder, ``check_output``
on the fresh output) and as the CLI in a fresh process (``python -m dynagen check``, what CI runs).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._util import Report, fmt_time, interleaved, median, render_table

ROOT = Path(__file__).resolve().parent.parent

_HEADER = """\
dynagen: 1
module: {module}
doc: Generated benchmark schema {module}.

enums:
  Status{n}: [active, paused, closed]

tables:
  {table}:
    name: {table}
    partition_key: PK
    sort_key: SK
    billing: on_demand
    ttl: expiresAt
    entity_attribute: entity
    indexes:
      GSI1:
        partition_key: GSI1PK
        sort_key: GSI1SK
        projection: all

models:
  Line{n}:
    fields:
      sku: string
      description: {{type: string, omit_empty: true}}
      quantity: int
      unit_price: decimal
"""

_MODEL = """
  Thing{m}:
    table: {table}
    entity: THING{m}
    doc: Template model number {m}.
    keys:
      PK: "OWNER#{{owner_id}}"
      SK: "THING{m}#{{thing_id}}"
      GSI1PK: "OWNER#{{owner_id}}#STATUS#{{status}}"
      GSI1SK: "{{created_on}}#{{thing_id}}"
    fields:
      owner_id: string
      thing_id: string
      ref: uuid
      amount: decimal
      status: {{type: Status{n}, default: active}}
      created_on: date
      quantity: {{type: int, default: 0}}
      ratio: {{type: float, optional: true}}
      active: {{type: bool, default: true}}
      blob: {{type: bytes, optional: true}}
      labels: {{type: set<string>}}
      scores: {{type: set<int>}}
      attributes: {{type: map<string>, omit_empty: true}}
      lines: {{type: list<Line{n}>, default: []}}
      settings: {{type: json, optional: true}}
      note: string?
      created_at: {{type: datetime, role: created_at}}
      updated_at: {{type: datetime, role: updated_at}}
      version: {{type: int, role: version}}
      expires_at: {{type: datetime, role: ttl, optional: true}}
    access_patterns:
      things_of_owner:
        doc: An owner's things.
      things_by_status:
        index: GSI1
        range: created_on
        descending: true
"""


def write_schemas(folder: Path, models: int, per_file: int = 10) -> list[Path]:
    paths = []
    for n, start in enumerate(range(0, models, per_file)):
        module, table = f"bench{n:02d}", f"bench_table_{n:02d}"
        text = _HEADER.format(module=module, table=table, n=n)
        for m in range(start, min(models, start + per_file)):
            text += _MODEL.format(m=m, n=n, table=table)
        path = folder / f"{module}.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def run(*, quick: bool = False, models: int | None = None, rounds: int | None = None, cli_runs: int | None = None) -> Report:
    from dynagen.compiler import check_output, compile_schemas, write_output

    models = models if models is not None else (10 if quick else 50)
    rounds = rounds if rounds is not None else (1 if quick else 5)
    cli_runs = cli_runs if cli_runs is not None else (1 if quick else 5)
    report = Report("compile")
    report.note(f"\n## Compile and check: {models} models in {(models + 9) // 10} schema files")
    with tempfile.TemporaryDirectory(prefix="dynagen-bench-") as tmp:
        root = Path(tmp)
        schemas = root / "schemas"
        schemas.mkdir()
        paths = write_schemas(schemas, models)
        out = root / "out"
        started = time.perf_counter()
        output = compile_schemas(paths, root=root)
        first = time.perf_counter() - started
        write_output(output, out)
        assert check_output(output, out).fresh
        lines = sum(text.count("\n") for text in output.files.values())

        scratch = root / "scratch"

        def write_fresh() -> None:
            shutil.rmtree(scratch, ignore_errors=True)
            write_output(output, scratch)

        samples = interleaved(
            {
                "compile_schemas()": lambda: compile_schemas(paths, root=root),
                "compile_schemas() + check_output()": lambda: check_output(compile_schemas(paths, root=root), out),
                "check_output() alone": lambda: check_output(output, out),
                "write_output() (empty folder)": write_fresh,
            },
            rounds=rounds,
            per=1,
            warmup=0,
        )
        cli: list[float] = []
        for _ in range(cli_runs):
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "dynagen", "check", str(schemas), "-o", str(out)],
                cwd=root,
                capture_output=True,
                text=True,
                check=False,
            )
            cli.append(time.perf_counter() - started)
            if result.returncode != 0:
                report.note(
                    f"  `dynagen check` exited {result.returncode}: {result.stdout[-500:]}{result.stderr[-500:]}"
                )
                break

    rows = [[name, fmt_time(median(s)), fmt_time(min(s))] for name, s in samples.items()]
    rows.insert(0, ["first compile_schemas() in this process", fmt_time(first), "-"])
    if cli:
        rows.append(["`python -m dynagen check` (fresh process)", fmt_time(median(cli)), fmt_time(min(cli))])
    report.table(
        render_table(
            ["step", "median", "best"], rows, f"{models} models -> {len(output.files)} files, {lines:,} lines of Python"
        )
    )
    per_model = median(samples["compile_schemas()"]) / models
    report.note(f"  {fmt_time(per_model)} per model")
    return report

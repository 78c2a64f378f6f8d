"""Benchmark 3: cold start in fresh processes, and warm start (cached client + repository).

Every scenario runs as ``python -c <script>`` in a fresh process, scenarios interleaved round by
round, against the instant stub server (so the first response costs the client, not the server).
Wall time is measured by the parent around the whole process (interpreter start to exit); the child
reports when its client was ready and when the first response arrived (from its first line of code),
and its peak RSS (``VmHWM`` from /proc/self/status: ``ru_maxrss`` of a child would carry over the
forking parent's peak).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._fixtures import json_safe, make_payment, pynamodb_models, to_pynamodb
from benchmarks._stub import InstantStub
from benchmarks._util import Report, Target, fmt_time, interleaved, median, render_table

ROOT = Path(__file__).resolve().parent.parent

_PROLOGUE = "import time; _t0 = time.perf_counter()\n"
_EPILOGUE = r"""
_rss = 0.0
for _line in open("/proc/self/status"):
    if _line.startswith("VmHWM"):
        _rss = int(_line.split()[1]) / 1024
print("RESULT", (_ready - _t0) * 1000, (_first - _t0) * 1000, _rss)
"""

SCENARIOS: dict[str, str] = {
    "python -c pass (baseline)": "_ready = _first = time.perf_counter()",
    "(a) import runtime + generated module": (
        "import dynagen.runtime\nimport generated_example.payments\n_ready = _first = time.perf_counter()"
    ),
    "(b) (a) + lean transport, first GetItem": (
        "import os\nfrom generated_example.payments import PaymentRepository\n"
        "from dynagen.runtime._lean import LeanTransport\n"
        "repo = PaymentRepository(LeanTransport(endpoint_url=os.environ['BENCH_ENDPOINT']))\n"
        "_ready = time.perf_counter()\n"
        "repo.get(partner_id='p-0001', payment_id='pay-00000000')\n_first = time.perf_counter()"
    ),
    "(c) (a) + botocore transport, first GetItem": (
        "import os\nfrom generated_example.payments import PaymentRepository\n"
        "from dynagen.runtime._clients import get_transport\n"
        "repo = PaymentRepository(get_transport(endpoint_url=os.environ['BENCH_ENDPOINT']))\n"
        "_ready = time.perf_counter()\n"
        "repo.get(partner_id='p-0001', payment_id='pay-00000000')\n_first = time.perf_counter()"
    ),
    "(d) boto3.client('dynamodb'), first GetItem": (
        "import os\nimport boto3\nclient = boto3.client('dynamodb', endpoint_url=os.environ['BENCH_ENDPOINT'])\n"
        "_ready = time.perf_counter()\n"
        "client.get_item(TableName='payments', Key={'PK': {'S': 'PARTNER#p-0001'}, "
        "'SK': {'S': 'PAYMENT#pay-00000000'}})\n_first = time.perf_counter()"
    ),
    "(e) PynamoDB model, first get": (
        "import os\nfrom benchmarks._fixtures import pynamodb_models\n"
        "PynPayment, _ = pynamodb_models(host=os.environ['BENCH_PYN_ENDPOINT'])\n"
        "_ready = time.perf_counter()\n"
        "PynPayment.get('PARTNER#p-0001', 'PAYMENT#pay-00000000')\n_first = time.perf_counter()"
    ),
}


def _env(endpoint: str, pyn_endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.update(
        AWS_ACCESS_KEY_ID="AKIDBENCH",
        AWS_SECRET_ACCESS_KEY="bench-secret",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        BENCH_ENDPOINT=endpoint,
        BENCH_PYN_ENDPOINT=pyn_endpoint,
        PYTHONPATH=str(ROOT),
    )
    return env


def _run_child(script: str, env: dict[str, str], sink: dict[str, list[Any]]) -> None:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _PROLOGUE + script + _EPILOGUE],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"cold-start child failed:\n{out.stderr[-3000:]}")
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))
    _, ready, first, rss = line.split()
    sink["wall"].append(wall)
    sink["ready"].append(float(ready) / 1000)
    sink["first"].append(float(first) / 1000)
    sink["rss"].append(float(rss))


def run(*, quick: bool = False, runs: int | None = None, warm_calls: int | None = None) -> Report:
    runs = runs if runs is not None else (2 if quick else 15)
    report = Report("cold_start")
    report.note(f"\n## Cold start (fresh processes, median of {runs}, scenarios interleaved)")

    payment = make_payment(0)
    PynPayment, PynLineItem = pynamodb_models()
    ours = {"GetItem": {"Item": json_safe(payment.to_item())}}
    theirs = {"GetItem": {"Item": json_safe(to_pynamodb(payment, PynPayment, PynLineItem).serialize())}}
    results: dict[str, dict[str, list[Any]]] = {
        name: {"wall": [], "ready": [], "first": [], "rss": []} for name in SCENARIOS
    }
    with InstantStub(ours) as stub, InstantStub(theirs) as pyn_stub:
        env = _env(stub.endpoint, pyn_stub.endpoint)
        names = list(SCENARIOS)
        for name in names if not quick else ():  # warm the OS page cache and .pyc files; not recorded
            _run_child(SCENARIOS[name], env, {"wall": [], "ready": [], "first": [], "rss": []})
        for r in range(runs):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                _run_child(SCENARIOS[name], env, results[name])

    base_wall = median(results["python -c pass (baseline)"]["wall"])
    rows = []
    for name, s in results.items():
        wall = median(s["wall"])
        rows.append(
            [
                name,
                fmt_time(wall),
                f"+{fmt_time(wall - base_wall)}" if name != "python -c pass (baseline)" else "-",
                fmt_time(median(s["ready"])),
                fmt_time(median(s["first"])),
                f"{median(s['rss']):.1f} MB",
            ]
        )
    report.table(
        render_table(
            [
                "scenario",
                "process wall",
                "over python",
                "client ready (in-process)",
                "first response (in-process)",
                "peak RSS",
            ],
            rows,
            "Cold start: process start to exit; in-process times count from the script's first line",
        )
    )
    a = median(results["(a) import runtime + generated module"]["wall"]) - base_wall
    report.target(Target("import runtime + generated module on top of Python", a * 1000, 30.0, unit=" ms"))
    boto_ready = median(results["(d) boto3.client('dynamodb'), first GetItem"]["ready"])
    for label, key in (
        ("lean", "(b) (a) + lean transport, first GetItem"),
        ("botocore", "(c) (a) + botocore transport, first GetItem"),
    ):
        ready = median(results[key]["ready"])
        report.target(
            Target(
                f"client ready ({label} transport + repository) vs boto3.client('dynamodb') (time ratio)",
                ready / boto_ready,
                1.0,
            )
        )
    _warm(report, quick=quick, calls=warm_calls)
    return report


def _warm(report: Report, *, quick: bool, calls: int | None) -> None:
    """A warm invocation: get the cached transport, build the repository."""
    import boto3

    from dynagen.runtime import _clients
    from generated_example.payments import PaymentRepository

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "AKIDBENCH")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench-secret")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    endpoint = "http://127.0.0.1:9"  # never contacted
    n = calls if calls is not None else (20_000 if quick else 100_000)
    get_transport, get_client = _clients.get_transport, _clients.get_client
    get_transport(endpoint_url=endpoint)
    session = boto3.session.Session(region_name="us-east-1")

    def cached_transport_and_repo() -> None:
        for _ in range(n):
            PaymentRepository(get_transport(endpoint_url=endpoint))

    wrap_calls = max(10, n // 100)  # wraps the client in a new BotocoreTransport every time: ~100x slower

    def cached_client_and_repo() -> None:
        for _ in range(wrap_calls):
            PaymentRepository(get_client(endpoint_url=endpoint))

    def cached_transport_only() -> None:
        for _ in range(n):
            get_transport(endpoint_url=endpoint)

    new_clients = max(3, n // 2000)

    def new_boto3_client() -> None:
        for _ in range(new_clients):
            session.client("dynamodb", endpoint_url=endpoint)

    rounds = 5 if quick else 9
    samples = interleaved(
        {
            "get_transport() + PaymentRepository(...)": cached_transport_and_repo,
            "get_transport() alone": cached_transport_only,
        },
        rounds=rounds,
        per=n,
    )
    samples.update(
        interleaved({"get_client() + PaymentRepository(...)": cached_client_and_repo}, rounds=rounds, per=wrap_calls)
    )
    samples.update(
        interleaved({"session.client('dynamodb') per invocation": new_boto3_client}, rounds=3, per=new_clients)
    )
    rows = [[name, fmt_time(median(s)), fmt_time(min(s))] for name, s in samples.items()]
    report.table(render_table(["warm invocation", "median", "best"], rows, "Warm start (in-process, per invocation)"))
    report.target(
        Target(
            "warm start (cached transport + repository)",
            median(samples["get_transport() + PaymentRepository(...)"]) * 1e6,
            5.0,
            unit=" µs",
        )
    )

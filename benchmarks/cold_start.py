"""Benchmark 3: cold start in fresh processes, and warm start (cached client + repository).

The partner scenarios (k), (l) are the multi-account Lambda's first request for a partner: the
resolver from ``DYNAGEN_PARTNERS``, STS AssumeRole against an instant loopback STS
(``benchmarks/_sts_stub.py``, reached through ``AWS_ENDPOINT_URL_STS`` on both paths) and the first
GetItem in the partner's account, on the lean path (lean STS client, no botocore) and on the botocore
path (botocore's STS client and DynamoDB client).

Every scenario runs as ``python -c <script>`` in a fresh process, scenarios interleaved round by
round, against the instant stub server (so the first response costs the client, not the server).
Wall time is measured by the parent around the whole process (interpreter start to exit); the child
reports when its client was ready and when the first response arrived (from its first line of code),
and its peak RSS (``VmHWM`` from /proc/self/status: ``ru_maxrss`` of a child would carry over the
forking parent's peak). "Start to first response" is the whole process up to the first answer: from
just before the parent spawns the child to the child's first response, on one monotonic clock
(``time.perf_counter`` is system-wide on Linux and macOS), interpreter start-up included.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._fixtures import json_safe, make_payment, pynamodb_models, to_pynamodb
from benchmarks._sts_stub import InstantSTS
from benchmarks._stub import InstantStub
from benchmarks._tls import make_tls_material
from benchmarks._util import Report, Target, fmt_time, interleaved, median, render_table

ROOT = Path(__file__).resolve().parent.parent

_PROLOGUE = "import time; _t0 = time.perf_counter()\n"
_EPILOGUE = r"""
_rss = 0.0
for _line in open("/proc/self/status"):
    if _line.startswith("VmHWM"):
        _rss = int(_line.split()[1]) / 1024
print("RESULT", (_ready - _t0) * 1000, (_first - _t0) * 1000, _rss, repr(_first))
"""

BASELINE = "python -c pass (baseline)"
RUNTIME_ONLY = "(a1) import dynagen.runtime alone"
GENERATED_ONLY = "(a2) import the generated module alone"
IMPORTS = "(a) import runtime + generated module"
LEAN = "(b) (a) + lean transport, first GetItem"
BOTOCORE = "(c) (a) + botocore transport, first GetItem"
BOTO3 = "(d) boto3.client('dynamodb'), first GetItem"
IN_LAMBDA = "(f) (b) after the Lambda runtime's own imports"
IN_LAMBDA_BOTO3 = "(g) (d) after the Lambda runtime's own imports"

# What AWS's Python runtime (awslambdaric's bootstrap) has imported before it loads the handler
# module, standard library part (measured: `import awslambdaric.bootstrap`, awslambdaric 3.x): in a
# real cold start these are paid either way. Scenarios (f) and (g) import them first and restart
# the in-process clock, so their in-process columns are what the handler's own init adds.
_LAMBDA_RUNTIME_IMPORTS = (
    "import atexit, decimal, json, logging, string, textwrap, threading, traceback\n_t0 = time.perf_counter()\n"
)


def _lean_get(endpoint_env: str = "BENCH_ENDPOINT", verify_env: str | None = None) -> str:
    verify = f", verify=os.environ[{verify_env!r}]" if verify_env else ""
    return (
        "import os\nfrom generated_example.payments import PaymentRepository\n"
        "from dynagen.runtime import LeanTransport\n"
        f"repo = PaymentRepository(LeanTransport(endpoint_url=os.environ[{endpoint_env!r}]{verify}))\n"
        "_ready = time.perf_counter()\n"
        "repo.get(partner_id='p-0001', payment_id='pay-00000000')\n_first = time.perf_counter()"
    )


def _boto3_get(endpoint_env: str = "BENCH_ENDPOINT", verify_env: str | None = None) -> str:
    verify = f", verify=os.environ[{verify_env!r}]" if verify_env else ""
    return (
        "import os\nimport boto3\n"
        f"client = boto3.client('dynamodb', endpoint_url=os.environ[{endpoint_env!r}]{verify})\n"
        "_ready = time.perf_counter()\n"
        "client.get_item(TableName='payments', Key={'PK': {'S': 'PARTNER#p-0001'}, "
        "'SK': {'S': 'PAYMENT#pay-00000000'}})\n_first = time.perf_counter()"
    )


_LEAN_GET = _lean_get()
_BOTO3_GET = _boto3_get()

# A partner in its own account: AssumeRole first (instant loopback STS), then the first GetItem.
PARTNER_LEAN = "(k) partner: resolver + AssumeRole + lean transport, first GetItem"
PARTNER_BOTOCORE = "(l) partner: resolver + AssumeRole + botocore transport, first GetItem"
PARTNER_IN_LAMBDA = "(m) (k) after the Lambda runtime's own imports"


def _partner_get(kind: str) -> str:
    return (
        "from generated_example.payments import PaymentRepository\n"
        "from dynagen.runtime import PartnerResolver\n"
        "resolver = PartnerResolver.from_env()\n"
        f"repo = PaymentRepository(resolver.transport('p-0001', kind={kind!r}))\n"  # AssumeRole runs here
        "_ready = time.perf_counter()\n"
        "repo.get(partner_id='p-0001', payment_id='pay-00000000')\n_first = time.perf_counter()"
    )


# Over https (a real endpoint's scheme), with this machine's CA store plus the stub's certificate
# (benchmarks/_tls.py): run only when the openssl binary is there to make them.
LEAN_TLS_HASHED = "(h) (b) over https, CA store as a hashed directory"
LEAN_TLS_BUNDLE = "(i) (b) over https, CA store as one bundle file"
BOTO3_TLS = "(j) (d) over https, CA store as one bundle file"
PARTNER_TLS_HASHED = "(n) (k) over https (STS too), CA store as a hashed directory"
PARTNER_TLS_BUNDLE = "(o) (k) over https (STS too), CA store as one bundle file"


def _partner_tls_get(ca_env: str) -> str:
    # AWS_CA_BUNDLE: what both the lean transport and the lean STS client trust, as botocore reads it.
    return (
        f"import os\nos.environ['AWS_CA_BUNDLE'] = os.environ[{ca_env!r}]\n"
        "from generated_example.payments import PaymentRepository\n"
        "from dynagen.runtime import PartnerResolver\n"
        "resolver = PartnerResolver.from_env('BENCH_TLS_PARTNERS', sts_endpoint_url=os.environ['BENCH_TLS_STS'])\n"
        "repo = PaymentRepository(resolver.transport('p-0001', kind='lean'))\n"
        "_ready = time.perf_counter()\n"
        "repo.get(partner_id='p-0001', payment_id='pay-00000000')\n_first = time.perf_counter()"
    )


TLS_SCENARIOS: dict[str, str] = {
    LEAN_TLS_HASHED: _lean_get("BENCH_TLS_ENDPOINT", "BENCH_CA_DIR"),
    LEAN_TLS_BUNDLE: _lean_get("BENCH_TLS_ENDPOINT", "BENCH_CA_BUNDLE"),
    BOTO3_TLS: _boto3_get("BENCH_TLS_ENDPOINT", "BENCH_CA_BUNDLE"),
    PARTNER_TLS_HASHED: _partner_tls_get("BENCH_CA_DIR"),
    PARTNER_TLS_BUNDLE: _partner_tls_get("BENCH_CA_BUNDLE"),
}

SCENARIOS: dict[str, str] = {
    BASELINE: "_ready = _first = time.perf_counter()",
    RUNTIME_ONLY: "import dynagen.runtime\n_ready = _first = time.perf_counter()",
    GENERATED_ONLY: "import generated_example.payments\n_ready = _first = time.perf_counter()",
    IMPORTS: "import dynagen.runtime\nimport generated_example.payments\n_ready = _first = time.perf_counter()",
    LEAN: _LEAN_GET,
    BOTOCORE: (
        "import os\nfrom generated_example.payments import PaymentRepository\n"
        "from dynagen.runtime.aws_lambda._clients import get_transport\n"
        "repo = PaymentRepository(get_transport(endpoint_url=os.environ['BENCH_ENDPOINT']))\n"
        "_ready = time.perf_counter()\n"
        "repo.get(partner_id='p-0001', payment_id='pay-00000000')\n_first = time.perf_counter()"
    ),
    BOTO3: _BOTO3_GET,
    "(e) PynamoDB model, first get": (
        "import os\nfrom benchmarks._fixtures import pynamodb_models\n"
        "PynPayment, _ = pynamodb_models(host=os.environ['BENCH_PYN_ENDPOINT'])\n"
        "_ready = time.perf_counter()\n"
        "PynPayment.get('PARTNER#p-0001', 'PAYMENT#pay-00000000')\n_first = time.perf_counter()"
    ),
    IN_LAMBDA: _LAMBDA_RUNTIME_IMPORTS + _LEAN_GET,
    IN_LAMBDA_BOTO3: _LAMBDA_RUNTIME_IMPORTS + _BOTO3_GET,
    PARTNER_LEAN: _partner_get("lean"),
    PARTNER_BOTOCORE: _partner_get("botocore"),
    PARTNER_IN_LAMBDA: _LAMBDA_RUNTIME_IMPORTS + _partner_get("lean"),
}


def _partners_json(endpoint: str) -> str:
    """``DYNAGEN_PARTNERS`` for the partner scenarios: one partner whose table is at ``endpoint``."""
    partner = {"role_arn": "arn:aws:iam::111122223333:role/payments", "external_id": "bench-external-id"}
    return json.dumps({"p-0001": {**partner, "region": "us-east-1", "endpoint_url": endpoint}})


def _env(endpoint: str, pyn_endpoint: str, sts_endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON", "DYNAGEN_"))}
    env.update(
        AWS_ENDPOINT_URL_STS=sts_endpoint,
        DYNAGEN_PARTNERS=_partners_json(endpoint),
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


def _sink() -> dict[str, list[Any]]:
    return {"wall": [], "to_first": [], "ready": [], "first": [], "rss": []}


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
    _, ready, first, rss, first_at = line.split()
    sink["wall"].append(wall)
    sink["to_first"].append(float(first_at) - start)
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
    with contextlib.ExitStack() as stack:
        stub, pyn_stub = stack.enter_context(InstantStub(ours)), stack.enter_context(InstantStub(theirs))
        sts = stack.enter_context(InstantSTS())
        env = _env(stub.endpoint, pyn_stub.endpoint, sts.endpoint)
        scenarios = dict(SCENARIOS)
        tls = make_tls_material(Path(stack.enter_context(tempfile.TemporaryDirectory())))
        if tls is None:
            report.note("  (no openssl binary or system CA bundle: the https scenarios are skipped)")
        else:
            tls_stub = stack.enter_context(InstantStub(ours, tls=(tls.cert, tls.key)))
            tls_sts = stack.enter_context(InstantSTS(tls=(tls.cert, tls.key)))
            env.update(BENCH_TLS_ENDPOINT=tls_stub.endpoint, BENCH_CA_DIR=str(tls.hashed_dir), BENCH_CA_BUNDLE=str(tls.bundle))
            env.update(BENCH_TLS_STS=tls_sts.endpoint, BENCH_TLS_PARTNERS=_partners_json(tls_stub.endpoint))
            scenarios.update(TLS_SCENARIOS)
        results: dict[str, dict[str, list[Any]]] = {name: _sink() for name in scenarios}
        names = list(scenarios)
        for name in names if not quick else ():  # warm the OS page cache and .pyc files; not recorded
            _run_child(scenarios[name], env, _sink())
        for r in range(runs):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                _run_child(scenarios[name], env, results[name])

    base_wall = median(results[BASELINE]["wall"])
    rows = []
    for name, s in results.items():
        wall = median(s["wall"])
        rows.append(
            [
                name,
                fmt_time(wall),
                f"+{fmt_time(wall - base_wall)}" if name != BASELINE else "-",
                fmt_time(median(s["to_first"])),
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
                "start to first response",
                "client ready (in-process)",
                "first response (in-process)",
                "peak RSS",
            ],
            rows,
            "Cold start: process wall is start to exit; start to first response includes interpreter "
            "start-up; in-process times count from the script's first line ((f), (g): from after the "
            "Lambda runtime's imports)",
        )
    )
    runtime_only = median(results[RUNTIME_ONLY]["wall"]) - base_wall
    generated_only = median(results[GENERATED_ONLY]["wall"]) - base_wall
    imports = median(results[IMPORTS]["wall"]) - base_wall
    report.note(
        f"  import cost over python: dynagen.runtime alone +{fmt_time(runtime_only)}, the generated module alone "
        f"+{fmt_time(generated_only)} (it imports what it needs of the runtime), both +{fmt_time(imports)}; "
        f"the generated module's own share is about {fmt_time(max(0.0, imports - runtime_only))}"
    )
    in_lambda, in_lambda_boto3 = median(results[IN_LAMBDA]["first"]), median(results[IN_LAMBDA_BOTO3]["first"])
    report.note(
        f"  what the handler's init adds to a Lambda cold start up to the first response (after the runtime's "
        f"own imports, plain http): lean transport {fmt_time(in_lambda)}, boto3 {fmt_time(in_lambda_boto3)} "
        f"({in_lambda / in_lambda_boto3:.2f}x); https adds the ssl import and, for boto3, its CA bundle (see docs)"
    )
    if tls is not None:
        hashed, bundle, boto = (median(results[k]["to_first"]) for k in (LEAN_TLS_HASHED, LEAN_TLS_BUNDLE, BOTO3_TLS))
        report.note(
            f"  over https ({tls.roots} CA certificates): lean {fmt_time(hashed)} with a hashed CA directory, "
            f"{fmt_time(bundle)} with one bundle file; boto3 {fmt_time(boto)} ({bundle / boto:.2f}x with the same bundle)"
        )
        partner_hashed, partner_bundle = (median(results[k]["to_first"]) for k in (PARTNER_TLS_HASHED, PARTNER_TLS_BUNDLE))
        report.note(
            f"  a partner over https (STS and DynamoDB): {fmt_time(partner_hashed)} with a hashed CA directory "
            f"({partner_hashed / hashed:.2f}x the base account's), {fmt_time(partner_bundle)} with one bundle file "
            f"({partner_bundle / bundle:.2f}x)"
        )
    report.target(Target("import runtime + generated module on top of Python", imports * 1000, 30.0, unit=" ms"))
    boto_ready = median(results[BOTO3]["ready"])
    for label, key in (("lean", LEAN), ("botocore", BOTOCORE)):
        ready = median(results[key]["ready"])
        report.target(
            Target(
                f"client ready ({label} transport + repository) vs boto3.client('dynamodb') (time ratio)",
                ready / boto_ready,
                1.0,
            )
        )
    lean_first = median(results[LEAN]["to_first"])
    report.target(
        Target("lean transport: whole process, start to first response", lean_first * 1000, 100.0, unit=" ms")
    )
    report.target(
        Target(
            "lean transport vs boto3.client('dynamodb'): whole process, start to first response (time ratio)",
            lean_first / median(results[BOTO3]["to_first"]),
            0.5,
        )
    )
    report.target(
        Target(
            "lean transport vs boto3.client('dynamodb'): peak RSS after the first request (ratio)",
            median(results[LEAN]["rss"]) / median(results[BOTO3]["rss"]),
            0.5,
        )
    )
    partner_lean, partner_botocore = (median(results[k]["to_first"]) for k in (PARTNER_LEAN, PARTNER_BOTOCORE))
    lean_rss, botocore_rss = (median(results[k]["rss"]) for k in (PARTNER_LEAN, PARTNER_BOTOCORE))
    report.note(
        f"  a partner's first GetItem, AssumeRole included (whole process): lean path {fmt_time(partner_lean)}, "
        f"{lean_rss:.1f} MB; botocore path {fmt_time(partner_botocore)}, {botocore_rss:.1f} MB; the base account "
        f"on the lean transport {fmt_time(lean_first)}"
    )
    partner_init = median(results[PARTNER_IN_LAMBDA]["first"])
    report.note(
        f"  what the handler's init adds up to a partner's first response after the Lambda runtime's own imports "
        f"(logging & co. are loaded there already): {fmt_time(partner_init)}, against {fmt_time(in_lambda)} for the "
        f"base account ({partner_init / in_lambda:.2f}x)"
    )
    report.target(
        Target(
            "partner cold start (lean path, AssumeRole included) vs the base account's lean cold start "
            "(whole process, start to first response, time ratio)",
            partner_lean / lean_first,
            1.3,
        )
    )
    report.target(
        Target(
            "partner cold start: lean path vs botocore path (whole process, start to first response, time ratio)",
            partner_lean / partner_botocore,
            1 / 3,
        )
    )
    _warm(report, quick=quick, calls=warm_calls)
    return report


def _warm(report: Report, *, quick: bool, calls: int | None) -> None:
    """A warm invocation: get the cached transport, build the repository."""
    import boto3  # type: ignore[import-untyped]

    from dynagen.runtime.aws_lambda import _clients
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

"""Run the example handlers as AWS Lambda would, on this machine, against DynamoDB Local (or any endpoint).

What Lambda does, and what this does:

- **Environment**: the runtime's variables (``AWS_LAMBDA_FUNCTION_NAME``, ``..._MEMORY_SIZE``,
  ``AWS_REGION``, ``AWS_EXECUTION_ENV``, log group / stream, ...) are set before the handler module is
  imported, so the runtime sees "in Lambda" and tunes its clients; ``_X_AMZN_TRACE_ID`` is set anew
  for every invocation. ``DYNAGEN_ENDPOINT_URL`` points the function at DynamoDB Local.
- **Init phase**: the handler module is imported once per execution environment (``LocalLambda``);
  its module level builds transport and repositories.
- **Context**: ``LambdaContext`` has ``aws_request_id``, ``function_name``, ``memory_limit_in_mb``,
  ``invoked_function_arn``, ... and ``get_remaining_time_in_millis()`` counted down on a monotonic
  clock from the function's timeout. (A handler that overruns is reported as timed out; unlike
  Lambda, it is not killed.)
- **Warm invocations** reuse the process; a **cold** one runs in a fresh Python process
  (``cold_invoke``): interpreter start, imports, init phase and the first invocation, each timed.
  ``code_dir=`` runs it from an unpacked deployment zip with nothing but that folder and the standard
  library on ``sys.path``, as Lambda's runtime does (where boto3/botocore would also be present).

Command line (``make lambda-bench`` runs ``bench``)::

    python -m examples.payments_lambda.invoke_local bench [--warm 200] [--cold 5] [--transport lean,botocore]
    python -m examples.payments_lambda.invoke_local invoke '{"action": "get_payment", ...}' --endpoint URL
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "API_HANDLER",
    "STREAM_HANDLER",
    "ColdRun",
    "Invocation",
    "LambdaContext",
    "LocalLambda",
    "cold_invoke",
    "lambda_environment",
    "new_trace_header",
    "stream_image",
    "stream_record",
]

API_HANDLER = "examples.payments_lambda.handler.handler"
STREAM_HANDLER = "examples.payments_lambda.stream.handler"
ROOT = Path(__file__).resolve().parents[2]


class LambdaContext:
    """The context object Lambda passes to a handler, with a real countdown."""

    def __init__(
        self,
        *,
        function_name: str = "payments-api",
        memory_limit_in_mb: int = 512,
        timeout: float = 10.0,
        region: str = "us-east-1",
        aws_request_id: str | None = None,
        function_version: str = "$LATEST",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:{region}:000000000000:function:{function_name}"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + secrets.token_hex(16)
        self.identity = None
        self.client_context = None
        self._clock = clock
        self._ends_at = clock() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._ends_at - self._clock()) * 1000))


def new_trace_header() -> str:
    """A fresh X-Ray trace header, as Lambda sets in ``_X_AMZN_TRACE_ID`` for each invocation."""
    root = f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    return f"Root={root};Parent={secrets.token_hex(8)};Sampled=1"


def lambda_environment(
    *,
    function_name: str = "payments-api",
    memory_mb: int = 512,
    region: str = "us-east-1",
    endpoint_url: str | None = None,
    transport: str | None = None,
    table_name: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The variables Lambda's Python 3.11 runtime sets, plus the function's own configuration."""
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + secrets.token_hex(16),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "TZ": ":UTC",
        # Lambda gives the function its role's credentials; DynamoDB Local accepts any.
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID") or "local",
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY") or "local",
    }
    if endpoint_url:
        env["DYNAGEN_ENDPOINT_URL"] = endpoint_url
        # DynamoDB Local (a JVM) can take seconds on its first requests: more than Lambda's 3 s read timeout.
        env["DYNAGEN_READ_TIMEOUT"] = "15"
    if transport:
        env["DYNAGEN_TRANSPORT"] = transport
    if table_name:
        env["PAYMENTS_TABLE"] = table_name
    env.update(extra or {})
    return env


@contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """Set ``env`` in ``os.environ`` for the block, then restore what was there."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class Invocation:
    """One invocation's outcome."""

    request_id: str
    trace_header: str
    result: Any
    duration_ms: float
    timed_out: bool

    @property
    def status(self) -> int | None:
        return self.result.get("statusCode") if isinstance(self.result, Mapping) else None

    @property
    def body(self) -> Any:
        return self.result.get("body") if isinstance(self.result, Mapping) else self.result


class LocalLambda:
    """One execution environment: the init phase once (``start``), then any number of warm invocations.

    ``os.environ`` holds the Lambda variables from ``start()`` until ``stop()`` (or the ``with`` block's
    end), as it does for a function's whole life.
    """

    def __init__(
        self,
        handler: str = API_HANDLER,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.handler_name = handler
        self.env = dict(env or lambda_environment())
        self.timeout = timeout
        self.module: Any = None
        self.function: Callable[[Any, Any], Any] | None = None
        self.init_ms = 0.0
        self.invocations = 0
        self._env_block: Any = None

    def start(self) -> float:
        """The init phase: import the handler's module (re-running its ``init()`` if already imported)."""
        self._env_block = environment(self.env)
        self._env_block.__enter__()
        module_name, _, function_name = self.handler_name.rpartition(".")
        started = time.perf_counter()
        fresh = module_name not in sys.modules
        module = importlib.import_module(module_name)
        if not fresh and hasattr(module, "init"):
            module.init()  # a new execution environment in a process that already imported it
        self.init_ms = (time.perf_counter() - started) * 1000.0
        self.module = module
        self.function = getattr(module, function_name)
        return self.init_ms

    def context(self, *, timeout: float | None = None) -> LambdaContext:
        return LambdaContext(
            function_name=self.env.get("AWS_LAMBDA_FUNCTION_NAME", "payments-api"),
            memory_limit_in_mb=int(self.env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")),
            timeout=self.timeout if timeout is None else timeout,
            region=self.env.get("AWS_REGION", "us-east-1"),
        )

    def invoke(self, event: Any, *, timeout: float | None = None, context: Any = None) -> Invocation:
        """One invocation; ``timeout`` overrides the remaining time this invocation starts with."""
        if self.function is None:
            self.start()
        assert self.function is not None
        context = context or self.context(timeout=timeout)
        trace = new_trace_header()
        os.environ["_X_AMZN_TRACE_ID"] = trace
        started = time.perf_counter()
        try:
            result = self.function(event, context)
        finally:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        duration = (time.perf_counter() - started) * 1000.0
        self.invocations += 1
        limit = (self.timeout if timeout is None else timeout) * 1000.0
        return Invocation(context.aws_request_id, trace, result, duration, duration > limit)

    def stop(self) -> None:
        if self._env_block is not None:
            self._env_block.__exit__(None, None, None)
            self._env_block = None

    def __enter__(self) -> LocalLambda:
        if self.function is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------------------------------
# Cold invocations in a fresh process

# Runs in the child: standard library only, so it also works with nothing but a deployment zip's
# folder on sys.path. Reads {"handler", "events", "timeout", "code_dir"} on stdin, prints one JSON line.
_BOOTSTRAP = r"""
import json, os, sys, time, uuid
t0 = time.perf_counter()
spec = json.loads(sys.stdin.read())
if spec.get("code_dir"):
    sys.path.insert(0, spec["code_dir"])
class Context:
    def __init__(self, timeout):
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.invoked_function_arn = "arn:aws:lambda:local:000000000000:function:" + self.function_name
        self._ends = time.monotonic() + timeout
    def get_remaining_time_in_millis(self):
        return max(0, int((self._ends - time.monotonic()) * 1000))
module_name, _, function_name = spec["handler"].rpartition(".")
import importlib
t1 = time.perf_counter()
function = getattr(importlib.import_module(module_name), function_name)
t2 = time.perf_counter()
out = {"bootstrap_ms": (t1 - t0) * 1000, "init_ms": (t2 - t1) * 1000, "invocations": []}
for event in spec["events"]:
    os.environ["_X_AMZN_TRACE_ID"] = "Root=1-%08x-%s;Sampled=1" % (int(time.time()), uuid.uuid4().hex[:24])
    s = time.perf_counter()
    result = function(event, Context(spec["timeout"]))
    out["invocations"].append({"duration_ms": (time.perf_counter() - s) * 1000, "result": result})
out["loaded"] = sorted(m for m in ("boto3", "botocore", "jinja2", "yaml", "click", "urllib3") if m in sys.modules)
out["sys_path"] = sys.path
print(json.dumps(out, default=str))
"""


@dataclass
class ColdRun:
    """A cold start: process wall time (interpreter start included), the init phase, each invocation."""

    wall_ms: float
    init_ms: float
    invocations: list[dict[str, Any]]
    loaded: list[str]
    sys_path: list[str] = field(default_factory=list)

    @property
    def first_ms(self) -> float:
        return float(self.invocations[0]["duration_ms"]) if self.invocations else 0.0

    @property
    def results(self) -> list[Any]:
        return [i["result"] for i in self.invocations]


def cold_invoke(
    events: Sequence[Any],
    env: Mapping[str, str],
    *,
    handler: str = API_HANDLER,
    timeout: float = 10.0,
    code_dir: str | os.PathLike[str] | None = None,
    python: str = sys.executable,
) -> ColdRun:
    """Run ``events`` in a fresh Python process, like a new Lambda execution environment.

    With ``code_dir`` (an unpacked deployment zip) the child runs isolated (``-I -S``: no site-packages,
    no PYTHON* variables, no current folder on ``sys.path``) with only ``code_dir`` and the standard
    library to import from, and, as in Lambda's read-only ``/var/task``, writes no bytecode.
    """
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "_X_AMZN"))}
    child_env.update(env)
    command = [python]
    if code_dir is not None:
        command += ["-I", "-S", "-B"]
        cwd = str(code_dir)
    else:
        cwd = str(ROOT)
    command += ["-c", _BOOTSTRAP]
    spec = {"handler": handler, "events": list(events), "timeout": timeout, "code_dir": str(code_dir or "")}
    started = time.perf_counter()
    done = subprocess.run(
        command, input=json.dumps(spec), capture_output=True, text=True, env=child_env, cwd=cwd, timeout=120, check=False
    )
    wall = (time.perf_counter() - started) * 1000.0
    if done.returncode != 0:
        raise RuntimeError(f"cold invocation failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return ColdRun(wall, out["init_ms"], out["invocations"], out["loaded"], out["sys_path"])


# --------------------------------------------------------------------------------------------------
# Stream records, as Lambda delivers them


def stream_image(item: Mapping[str, Any]) -> dict[str, Any]:
    """A wire-format item as a stream image in a Lambda event (JSON: binary values as base64 strings)."""

    def convert(av: Mapping[str, Any]) -> dict[str, Any]:
        ((kind, value),) = av.items()
        if kind == "B":
            return {"B": base64.b64encode(value).decode("ascii")}
        if kind == "BS":
            return {"BS": [base64.b64encode(v).decode("ascii") for v in value]}
        if kind == "M":
            return {"M": {k: convert(v) for k, v in value.items()}}
        if kind == "L":
            return {"L": [convert(v) for v in value]}
        return {kind: value}

    return {name: convert(av) for name, av in item.items()}


_sequence = [100000000000000000000]


def stream_record(
    event_name: str,
    *,
    keys: Mapping[str, Any],
    new: Mapping[str, Any] | None = None,
    old: Mapping[str, Any] | None = None,
    table: str = "payments",
    region: str = "us-east-1",
) -> dict[str, Any]:
    """One record of a DynamoDB Streams event for Lambda (``NEW_AND_OLD_IMAGES``)."""
    _sequence[0] += 1
    ddb: dict[str, Any] = {
        "ApproximateCreationDateTime": int(time.time()),
        "Keys": stream_image(keys),
        "SequenceNumber": str(_sequence[0]),
        "SizeBytes": len(json.dumps(stream_image(new or old or {}))),
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        ddb["NewImage"] = stream_image(new)
    if old is not None:
        ddb["OldImage"] = stream_image(old)
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": ddb,
        "eventSourceARN": f"arn:aws:dynamodb:{region}:000000000000:table/{table}/stream/2024-01-01T00:00:00.000",
    }


# --------------------------------------------------------------------------------------------------
# Benchmark


def _percentiles(samples: Sequence[float]) -> str:
    ordered = sorted(samples)
    if len(ordered) < 2:
        return f"{ordered[0]:.2f} ms" if ordered else "-"
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return f"min {ordered[0]:6.2f}  p50 {q[49]:6.2f}  p95 {q[94]:6.2f}  max {ordered[-1]:7.2f} ms"


def ensure_tables(endpoint: str, region: str = "us-east-1") -> None:
    """Create the schema's tables on ``endpoint`` (existing ones are left alone)."""
    from dynagen.runtime.ops._tables import ensure_table
    from dynagen.runtime.transport.lean import LeanTransport
    from generated_example.payments import TABLES

    with LeanTransport(region, endpoint_url=endpoint, credentials=("local", "local")) as transport:
        for definition in TABLES.values():
            ensure_table(transport, definition)


def seed(fn: LocalLambda, partner: str) -> tuple[str, str]:
    """A partner, a customer and one payment through the handler; returns (customer id, payment id)."""
    fn.invoke({"action": "create_partner", "partner_id": partner, "name": f"{partner} Ltd", "fee_rate": "0.029"})
    customer = fn.invoke(
        {"action": "create_customer", "partner_id": partner, "email": "bench@example.com", "name": "Bench"}
    ).body["customer"]["customer_id"]
    payment = fn.invoke(
        {"action": "create_payment", "partner_id": partner, "customer_id": customer, "amount": "10.00", "currency": "EUR"}
    ).body["payment"]["payment_id"]
    return customer, payment


def bench(endpoint: str, *, warm: int, cold: int, transports: Sequence[str], zip_path: Path | None) -> None:
    ensure_tables(endpoint)
    print(f"DynamoDB Local at {endpoint}; {warm} warm invocations per action, {cold} cold starts per transport\n")
    for kind in transports:
        env = lambda_environment(endpoint_url=endpoint, transport=kind, extra={"LOG_LEVEL": "WARNING"})
        fn = LocalLambda(env=env)
        init_ms = fn.start()
        try:
            partner = f"bench-{kind}-{secrets.token_hex(3)}"
            customer, payment = seed(fn, partner)
            get_event = {"action": "get_payment", "partner_id": partner, "payment_id": payment}
            list_event = {"action": "list_payments", "partner_id": partner, "customer_id": customer, "limit": 10}
            create_event = {
                "action": "create_payment", "partner_id": partner, "customer_id": customer,
                "amount": "1.00", "currency": "EUR",
            }  # fmt: skip
            for _ in range(20):  # let the JIT of DynamoDB Local and our connection settle
                fn.invoke(get_event)
            print(f"[{kind}] init phase in this process: {init_ms:.1f} ms")
            for name, event in (("get_payment", get_event), ("list_payments", list_event), ("create_payment", create_event)):
                times = []
                for _ in range(warm):
                    inv = fn.invoke(event)
                    assert inv.status in (200, 201), inv.result
                    times.append(inv.duration_ms)
                print(f"[{kind}] warm {name:15s} {_percentiles(times)}")
        finally:
            fn.stop()
        runs = [cold_invoke([get_event, get_event], env) for _ in range(cold)]
        for label, values in (
            ("process wall (start+init+2 calls)", [r.wall_ms for r in runs]),
            ("init phase (imports+init)", [r.init_ms for r in runs]),
            ("first invocation", [r.first_ms for r in runs]),
            ("second invocation", [float(r.invocations[1]["duration_ms"]) for r in runs]),
        ):
            print(f"[{kind}] cold {label:34s} {_percentiles(values)}")
        print(f"[{kind}] modules loaded in the cold process: {runs[-1].loaded or 'none of boto3/botocore/jinja2/yaml/click'}")
        if zip_path is not None and zip_path.is_file() and kind == "lean":
            with tempfile.TemporaryDirectory() as unpacked:
                with zipfile.ZipFile(zip_path) as archive:
                    archive.extractall(unpacked)
                zruns = [cold_invoke([get_event], env, code_dir=unpacked) for _ in range(cold)]
            print(f"[{kind}] cold from {zip_path.name} (isolated, no bytecode writes):")
            print(f"[{kind}]      process wall  {_percentiles([r.wall_ms for r in zruns])}")
            print(f"[{kind}]      init phase    {_percentiles([r.init_ms for r in zruns])}")
            print(f"[{kind}]      first call    {_percentiles([r.first_ms for r in zruns])}")
        print()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.payments_lambda.invoke_local", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="warm and cold invocation timings")
    b.add_argument("--warm", type=int, default=200)
    b.add_argument("--cold", type=int, default=5)
    b.add_argument("--transport", default="lean,botocore")
    b.add_argument("--endpoint", help="a running DynamoDB (Local) endpoint; default: start DynamoDB Local")
    b.add_argument("--zip", type=Path, default=ROOT / "examples/payments_lambda/build/payments-lambda.zip")
    i = sub.add_parser("invoke", help="one invocation of the API handler")
    i.add_argument("event", help="the event, JSON")
    i.add_argument("--endpoint", help="default: start DynamoDB Local")
    i.add_argument("--transport", default="lean")
    args = parser.parse_args(argv)

    server = None
    endpoint = args.endpoint
    if endpoint is None:
        from dynagen.local import DynamoDBLocal

        server = DynamoDBLocal.start()
        endpoint = server.endpoint
    try:
        if args.command == "bench":
            transports = [t.strip() for t in args.transport.split(",") if t.strip()]
            bench(endpoint, warm=args.warm, cold=args.cold, transports=transports, zip_path=args.zip)
        else:
            ensure_tables(endpoint)
            with LocalLambda(env=lambda_environment(endpoint_url=endpoint, transport=args.transport)) as fn:
                inv = fn.invoke(json.loads(args.event))
            print(json.dumps({"duration_ms": round(inv.duration_ms, 2), **inv.result}, indent=2))
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

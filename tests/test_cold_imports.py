"""The cold path of a Lambda function stays light: what importing and first using dynagen loads.

Each module named here costs milliseconds of every cold start (``typing`` ~5 ms, ``urllib.parse``
~4 ms, botocore ~300 ms) and the cold path has no use for it; a change that brings one back fails
here, in a fresh interpreter, instead of showing up later as a slower benchmark.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Never on the cold path: the SDK, the compiler's dependencies, and standard modules the runtime
# only needs off it (proxies with credentials, transactions, query strings, retries' jitter).
_NEVER = ("botocore", "boto3", "urllib3", "jinja2", "yaml", "click", "typing", "urllib", "http", "email", "random", "zlib")
# The idna codec (with stringprep and unicodedata): what getaddrinfo and TLS load for a str host name.
_NEVER_MODULES = ("encodings.idna", "stringprep", "unicodedata")

_FIRST_GET = r"""
import json, socket, sys, threading

body = json.dumps({"Item": ITEM}).encode()
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)

def answer() -> None:
    conn, _ = server.accept()
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
    while len(rest) < length:
        rest += conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: "
                 + str(len(body)).encode() + b"\r\n\r\n" + body)
    conn.close()

threading.Thread(target=answer, daemon=True).start()
# What the server needed is loaded now; only what follows counts.
before = set(sys.modules)
from generated_example.payments import PaymentRepository
from dynagen.runtime import LeanTransport

repo = PaymentRepository(LeanTransport(endpoint_url="http://127.0.0.1:%d" % server.getsockname()[1]))
payment = repo.get(partner_id="p-1", payment_id="pay-1")
assert payment.payment_id == "pay-1", payment
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _loaded(script: str, **extra_env: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON", "DYNAGEN_"))}
    env.update(PYTHONPATH=str(ROOT), AWS_ACCESS_KEY_ID="AKID", AWS_SECRET_ACCESS_KEY="secret", AWS_REGION="us-east-1")
    env.update(extra_env)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.splitlines()[-1])
    return loaded


@pytest.fixture(scope="module")
def first_get_modules() -> list[str]:
    from benchmarks._fixtures import json_safe, make_payment

    item = json.dumps(json_safe(make_payment(0).to_item())).replace("pay-00000000", "pay-1")
    return _loaded(_FIRST_GET.replace("ITEM", item))


def test_first_get_item_on_the_lean_transport_loads_nothing_heavy(first_get_modules: list[str]) -> None:
    heavy = sorted(m for m in first_get_modules if m.split(".")[0] in _NEVER or m in _NEVER_MODULES)
    assert not heavy, f"the cold path imported {heavy}"


def test_the_cold_path_loads_only_what_a_get_needs_of_the_runtime(first_get_modules: list[str]) -> None:
    ours = {m for m in first_get_modules if m.startswith("dynagen")}
    # Loaded on first use elsewhere: batches, transactions, streams, cursors (a query's pages), tables,
    # the botocore transport's module, the Lambda helpers.
    assert not ours & {
        "dynagen.runtime.wire._streams",
        "dynagen.runtime.wire._cursor",
        "dynagen.runtime.ops._tables",
        "dynagen.runtime.transport._botocore",
        "dynagen.runtime.ops._batch",
        "dynagen.runtime.ops._transact",
        "dynagen.runtime.repository._transactions",
        "dynagen.runtime.aws_lambda._clients",
        "dynagen.runtime.accounts._resolver",
        "dynagen.runtime.aws_lambda._observe",
        "dynagen.runtime.transport._interface",
        "dynagen.runtime.wire._types",
        "dynagen.compiler",
    }, sorted(ours)


def test_the_runtime_alone_does_not_import_dataclasses() -> None:
    """Generated models are dataclasses, so a handler imports it anyway; ops-level code need not (~10 ms:
    dataclasses imports inspect, ast, dis and tokenize)."""
    loaded = _loaded("import json, sys\nimport dynagen.runtime\nprint(json.dumps(sorted(sys.modules)))")
    assert not {"dataclasses", "inspect", "typing"} & set(loaded), sorted({"dataclasses", "inspect", "typing"} & set(loaded))


def test_type_only_names_still_import_at_run_time() -> None:
    # Generated code imports these under TYPE_CHECKING; user code may import them for real.
    script = (
        "import sys, typing\n"
        "from dynagen.runtime import AttributeValue, Transport\n"
        "from dynagen.runtime.transport._interface import Transport as Again\n"
        "from dynagen.runtime import LeanTransport\n"
        "assert Transport is Again and typing.is_typeddict(AttributeValue)\n"
        "assert isinstance(LeanTransport('us-east-1'), Transport) and not isinstance(object(), Transport)\n"
        "from generated_example.payments import PaymentRepository, Payment\n"
        "alias = PaymentRepository.__orig_bases__[0]\n"
        "assert typing.get_origin(alias).__name__ == 'Repository' and typing.get_args(alias) == (Payment,)\n"
        "print('[]')\n"
    )
    assert _loaded(script) == []


def test_loading_partners_imports_neither_pathlib_nor_urllib(tmp_path: Path) -> None:
    # The multi-account resolver reads its partners at init, on the cold path of every function using it.
    config = tmp_path / "partners.json"
    config.write_text(
        '{"acme": {"role_arn": "arn:aws:iam::111122223333:role/dynagen", "external_id": "ext-1", "region": "eu-west-1",'
        ' "endpoint_url": "https://dynamodb.eu-west-1.amazonaws.com"}}'
    )
    script = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        "from dynagen.runtime import load_partners\n"
        f"(partner,) = load_partners({str(config)!r})\n"
        "assert partner.partner_id == 'acme', partner\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    loaded = _loaded(script)
    heavy = sorted(m for m in loaded if m.split(".")[0] in _NEVER or m == "pathlib")
    assert not heavy, heavy


def test_the_lambda_path_of_the_docs_imports_nothing_heavy() -> None:
    # docs/lambda.md's handler: the cached default transport (lean inside Lambda), a repository, and
    # the multi-account resolver built from its environment variable.
    script = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        "from dynagen.runtime import Deadline, PartnerResolver, get_default_transport\n"
        "from generated_example.payments import PaymentRepository\n"
        "transport = get_default_transport()\n"
        "assert type(transport).__name__ == 'LeanTransport', transport\n"
        "payments = PaymentRepository(transport)\n"
        "resolver = PartnerResolver.from_env()\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    partners = (
        '{"acme": {"role_arn": "arn:aws:iam::111122223333:role/dynagen", "external_id": "ext-1",'
        ' "region": "eu-west-1"}}'
    )
    loaded = _loaded(script, AWS_LAMBDA_FUNCTION_NAME="payments", DYNAGEN_PARTNERS=partners)
    heavy = sorted(m for m in loaded if m.split(".")[0] in _NEVER or m in _NEVER_MODULES or m == "pathlib")
    assert not heavy, heavy

"""pytest fixtures for code that uses dynagen: DynamoDB Local, a generated module's tables, both transports.

pytest loads this plugin through the ``pytest11`` entry point wherever dynagen is installed with its
``testing`` extra (``pip install 'dynagen[testing]'``); ``-p no:dynagen`` turns it off. Nothing
starts until a test asks for a fixture, and nothing is installed at test time: DynamoDB Local and
Java must be there already (see docs/testing.md).

    from myservice.generated import payments

    def test_round_trip(dynamodb_local_tables, dynamodb_local_transport):
        names = dynamodb_local_tables(payments)     # every table of the module, under unique names
        repo = payments.PaymentRepository(dynamodb_local_transport, table_name=names["payments"])
        ...

Fixtures:

- ``dynamodb_local`` (session): one DynamoDB Local, in memory, telemetry off, on a free loopback port;
  ``.endpoint`` is its URL. Like DynamoDB Local itself, it keeps one database per access key id and
  region: your own clients see the fixtures' tables with ``CREDENTIALS`` and ``REGION`` below, or
  with any credentials once ``dynamodb_local_shared_db = true`` (ini) starts it with ``-sharedDb``.
- ``dynamodb_local_client`` (session): a botocore DynamoDB client pointed at it.
- ``dynamodb_local_botocore`` / ``dynamodb_local_lean`` (session): a ``BotocoreTransport`` over that
  client / a ``LeanTransport`` pointed at it.
- ``dynamodb_local_transport``: each test that takes it runs twice, on the botocore and the lean transport.
- ``dynamodb_local_tables``: ``create(module_or_tables, prefix=None)`` creates each table of a
  generated module's ``TABLES`` (or of a mapping of table definitions) under a unique name and
  returns ``{table id: created name}``; the tables are deleted when the test ends.

When Java or DynamoDB Local is missing, a test that needs it fails with a message saying how to
install them; with ``dynamodb_local_missing = skip`` (ini) or ``--dynamodb-local-missing=skip`` it is
skipped with that message instead.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from dynagen.local import DynamoDBLocal
    from dynagen.runtime.transport._botocore import BotocoreTransport
    from dynagen.runtime.transport._interface import Transport
    from dynagen.runtime.transport.lean import LeanTransport

__all__ = ["CREDENTIALS", "REGION", "LocalTables"]

# Dummy credentials and region: DynamoDB Local checks that requests are signed, not by whom (its access
# key ids may hold only letters and digits). "testing" is the pair moto's documentation sets in
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, which many test suites already do: their clients then see
# the fixtures' tables.
CREDENTIALS = ("testing", "testing")
REGION = "us-east-1"
_MISSING = "dynamodb_local_missing"
_SHARED = "dynamodb_local_shared_db"


def pytest_addoption(parser: pytest.Parser) -> None:
    help_text = "when Java or DynamoDB Local is not installed: error (default) or skip the tests that need it"
    parser.addini(_MISSING, help_text, default="error")
    parser.addini(_SHARED, "one DynamoDB Local database for every access key and region (-sharedDb)", type="bool",
                  default=False)  # fmt: skip
    parser.getgroup("dynagen").addoption(
        "--dynamodb-local-missing", dest=_MISSING, choices=("error", "skip"), default=None, help=help_text
    )


def _missing_mode(config: pytest.Config) -> str:
    mode = config.getoption(_MISSING) or config.getini(_MISSING)
    if mode not in ("error", "skip"):
        raise pytest.UsageError(f"{_MISSING} must be error or skip, got {mode!r}")
    return str(mode)


@pytest.fixture(scope="session")
def dynamodb_local(pytestconfig: pytest.Config) -> Iterator[DynamoDBLocal]:
    """One DynamoDB Local for the session (in memory, telemetry off)."""
    from dynagen.local import DynamoDBLocal

    mode = _missing_mode(pytestconfig)
    try:
        server = DynamoDBLocal.start(shared_db=bool(pytestconfig.getini(_SHARED)))
    except FileNotFoundError as error:
        message = f"DynamoDB Local cannot start: {error}"
        if mode == "skip":
            pytest.skip(message)
        pytest.fail(f"{message} (or set {_MISSING} = skip to skip these tests)", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dynamodb_local_client(dynamodb_local: DynamoDBLocal) -> Any:
    """A botocore DynamoDB client for DynamoDB Local (standard retries, dummy credentials)."""
    pytest.importorskip("botocore", reason="the botocore client needs botocore: pip install 'dynagen[testing]'")
    import botocore.config  # type: ignore[import-untyped, unused-ignore]
    import botocore.session  # type: ignore[import-untyped, unused-ignore]

    return botocore.session.Session().create_client(
        "dynamodb",
        region_name=REGION,
        endpoint_url=dynamodb_local.endpoint,
        aws_access_key_id=CREDENTIALS[0],
        aws_secret_access_key=CREDENTIALS[1],
        config=botocore.config.Config(retries={"mode": "standard"}),
    )


@pytest.fixture(scope="session")
def dynamodb_local_botocore(dynamodb_local_client: Any) -> BotocoreTransport:
    """The botocore transport over ``dynamodb_local_client``."""
    from dynagen.runtime import BotocoreTransport

    return BotocoreTransport(dynamodb_local_client)


@pytest.fixture(scope="session")
def dynamodb_local_lean(dynamodb_local: DynamoDBLocal) -> Iterator[LeanTransport]:
    """The lean (standard library) transport, pointed at DynamoDB Local."""
    from dynagen.runtime.transport.lean import LeanTransport

    with LeanTransport(REGION, endpoint_url=dynamodb_local.endpoint, credentials=CREDENTIALS) as transport:
        yield transport


@pytest.fixture(params=["botocore", "lean"])
def dynamodb_local_transport(request: pytest.FixtureRequest) -> Transport:
    """Both transports: a test taking this fixture runs once on each."""
    transport: Transport = request.getfixturevalue(f"dynamodb_local_{request.param}")
    return transport


class LocalTables:
    """Creates tables under unique names on DynamoDB Local and deletes them again (``delete_all``)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.created: list[str] = []

    def __call__(self, source: Any, *, prefix: str | None = None) -> dict[str, str]:
        """Create every table of ``source``: a generated module (its ``TABLES``) or a mapping of definitions.

        A definition is a CreateTable request, optionally with a ``TimeToLiveSpecification`` (applied
        once the table is active). Returns ``{table id: created name}`` (pass the name as the
        repository's ``table_name=``).
        """
        from dynagen.runtime import create_table

        tables = getattr(source, "TABLES", source)
        if not isinstance(tables, Mapping):
            raise TypeError(f"expected a generated module (with TABLES) or a mapping of tables, got {source!r}")
        names: dict[str, str] = {}
        for table_id, definition in tables.items():
            base = prefix if prefix is not None else str(definition.get("TableName") or table_id)
            # Table names are 3-255 characters; the suffix keeps parallel and repeated tests apart.
            name = f"{base[:200]}-{uuid.uuid4().hex[:12]}"
            request = copy.deepcopy(dict(definition))
            request["TableName"] = name
            create_table(self.transport, request)
            self.created.append(name)
            names[str(table_id)] = name
        return names

    def delete_all(self) -> None:
        from dynagen.runtime import delete_table

        while self.created:
            delete_table(self.transport, self.created.pop())


@pytest.fixture
def dynamodb_local_tables(dynamodb_local_lean: LeanTransport) -> Iterator[LocalTables]:
    """``create(module_or_tables)`` -> ``{table id: unique name}``; every table is deleted after the test."""
    tables = LocalTables(dynamodb_local_lean)
    try:
        yield tables
    finally:
        tables.delete_all()

"""The ``dynagen`` command: a thin layer over ``dynagen.compiler``. ``main(argv) -> int`` never exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

try:
    import click
except ImportError:  # pragma: no cover - the runtime-only install
    click = None  # type: ignore[assignment]

from dynagen._config import find_config
from dynagen._version import __version__
from dynagen.errors import Diagnostic, DynagenError, SchemaError, ServiceError, TransportError

if TYPE_CHECKING:
    from dynagen.compiler import Output
    from dynagen.compiler._ir import Module, Table

__all__ = ["describe_failure", "main", "run"]

EXIT_OK, EXIT_STALE, EXIT_ERROR = 0, 1, 2


def _resolve(schemas: tuple[str, ...], out: str | None, *, need_out: bool) -> tuple[list[Path], Path | None, Path]:
    """Schema paths, output folder and project root, from arguments or ``[tool.dynagen]``."""
    config = find_config()
    root = config.root if config else Path.cwd()
    paths = [Path(s) for s in schemas] or (list(config.schemas) if config else [])
    if not paths:
        raise click.UsageError("no schemas given and no [tool.dynagen] schemas in pyproject.toml")
    out_dir = Path(out) if out else (config.out if config else None)
    if need_out and out_dir is None:
        raise click.UsageError("no output folder: pass -o OUT or set [tool.dynagen] out in pyproject.toml")
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise click.UsageError(f"no such schema file or folder: {missing[0]}")
    return paths, out_dir, root


def _fail(error: SchemaError) -> NoReturn:
    """Print every diagnostic and end the command with exit code 2."""
    for diagnostic in error.diagnostics:
        click.echo(str(diagnostic), err=True)
    count = len(error.diagnostics)
    click.echo(f"{count} error{'s' if count != 1 else ''}; nothing was written", err=True)
    raise click.exceptions.Exit(EXIT_ERROR)


def _modules(schemas: tuple[str, ...]) -> list[Module]:
    from dynagen.compiler import load_schemas

    paths, _, root = _resolve(schemas, None, need_out=False)
    warnings: list[Diagnostic] = []
    try:
        modules = load_schemas(paths, root=root, warnings=warnings)
    except SchemaError as error:
        _fail(error)
    _warn(warnings)
    return modules


def _warn(warnings: Sequence[Diagnostic]) -> None:
    """Warnings go to stderr, one per line, and change no exit code."""
    for warning in warnings:
        click.echo(str(warning), err=True)


def _compiled(schemas: tuple[str, ...], out: str | None) -> tuple[Output, Path]:
    from dynagen.compiler import compile_schemas

    paths, out_dir, root = _resolve(schemas, out, need_out=True)
    assert out_dir is not None
    try:
        output = compile_schemas(paths, root=root)
    except SchemaError as error:
        _fail(error)
    _warn(output.warnings)
    return output, out_dir


def _tables(modules: list[Module]) -> list[Table]:
    """Every table of the schemas, once, by physical name."""
    tables = {t.name: t for m in modules for t in m.tables}
    return [tables[name] for name in sorted(tables)]


if click is not None:
    out_option = click.option("-o", "--out", type=click.Path(file_okay=False), help="Output folder of generated modules.")

    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="dynagen")
    def cli() -> None:
        """Compile DynamoDB schemas into typed Python modules."""

    @cli.command("compile")
    @click.argument("schemas", nargs=-1)
    @out_option
    def compile_command(schemas: tuple[str, ...], out: str | None) -> int:
        """Write one module per schema file (plus __init__.py) into OUT."""
        from dynagen.compiler import write_output

        output, out_dir = _compiled(schemas, out)
        try:
            report = write_output(output, out_dir)
        except FileExistsError as error:
            click.echo(f"error: {error}", err=True)
            return EXIT_ERROR
        for name in report.written:
            click.echo(f"wrote {out_dir / name}")
        for name in report.removed:
            click.echo(f"removed {out_dir / name} (no schema produces it any more)")
        click.echo(f"{len(report.written)} written, {len(report.unchanged)} unchanged, {len(report.removed)} removed")
        return EXIT_OK

    @cli.command("check")
    @click.argument("schemas", nargs=-1)
    @out_option
    def check_command(schemas: tuple[str, ...], out: str | None) -> int:
        """Exit 1 when OUT differs from what the schemas compile to (diffs, missing and orphaned files)."""
        from dynagen.compiler import check_output

        output, out_dir = _compiled(schemas, out)
        report = check_output(output, out_dir)
        for name, diff in report.changed.items():
            click.echo(diff, nl=False)
            click.echo(f"stale: {out_dir / name} differs from its schema", err=True)
        for name in report.missing:
            click.echo(f"missing: {out_dir / name} is not generated yet", err=True)
        for name in report.orphaned:
            click.echo(f"orphaned: {out_dir / name} carries dynagen's header but no schema produces it", err=True)
        if report.fresh:
            click.echo(f"fresh: {out_dir} matches {len(output.modules)} schema(s)")
            return EXIT_OK
        click.echo("run `dynagen compile` and commit the result", err=True)
        return EXIT_STALE

    @cli.command("validate")
    @click.argument("schemas", nargs=-1)
    def validate_command(schemas: tuple[str, ...]) -> int:
        """Report every schema error as path:line:col: message."""
        modules = _modules(schemas)
        models = sum(len(m.models) for m in modules)
        click.echo(f"ok: {len(modules)} schema(s), {models} model(s)")
        return EXIT_OK

    @cli.command("tables")
    @click.argument("schemas", nargs=-1)
    @click.option("--format", "fmt", type=click.Choice(["json", "cloudformation", "terraform"]), default="json")
    def tables_command(schemas: tuple[str, ...], fmt: str) -> int:
        """Print the tables' definitions: API requests (JSON), a CloudFormation template or Terraform.

        json: a list with one object per table, {"CreateTable": request, "UpdateTimeToLive": request},
        each request exactly as that DynamoDB operation takes it (UpdateTimeToLive only with a TTL).
        """
        from dynagen.compiler._tables import cloudformation, table_requests, terraform

        ordered = _tables(_modules(schemas))
        if fmt == "cloudformation":
            click.echo(cloudformation(ordered), nl=False)
        elif fmt == "terraform":
            click.echo(terraform(ordered), nl=False)
        else:
            click.echo(json.dumps([table_requests(t) for t in ordered], indent=2))
        return EXIT_OK

    @cli.command("create-tables")
    @click.argument("schemas", nargs=-1)
    @click.option("--endpoint-url", required=True, help="e.g. http://localhost:8000 (DynamoDB Local).")
    @click.option("--region", default="us-east-1", show_default=True)
    def create_tables_command(schemas: tuple[str, ...], endpoint_url: str, region: str) -> int:
        """Create the schemas' tables on an endpoint (existing tables are left alone)."""
        from dynagen.compiler._tables import create_table_request
        from dynagen.runtime import BotocoreTransport, ensure_table

        if not endpoint_url.startswith(("http://", "https://")):
            raise click.BadParameter(f"{endpoint_url!r} is not an http:// or https:// URL", param_hint="--endpoint-url")
        tables = _tables(_modules(schemas))
        try:
            import botocore.config  # type: ignore[import-untyped, unused-ignore]
            import botocore.session  # type: ignore[import-untyped, unused-ignore]
        except ImportError:
            click.echo("error: create-tables needs botocore: pip install 'dynagen[boto]'", err=True)
            return EXIT_ERROR
        # Few, quick retries: an endpoint that is not there should say so in seconds, not minutes.
        config = botocore.config.Config(connect_timeout=5, retries={"mode": "standard", "max_attempts": 3})
        client = botocore.session.get_session().create_client(
            "dynamodb", endpoint_url=endpoint_url, region_name=region, config=config
        )
        transport = BotocoreTransport(client)
        for table in tables:
            try:
                ensure_table(transport, create_table_request(table))
            except Exception as error:
                message = describe_failure(error, endpoint=endpoint_url)
                if message is None:
                    raise
                click.echo(f"error: table {table.name}: {message}", err=True)
                return EXIT_ERROR
            click.echo(f"ready: {table.name}")
        return EXIT_OK

    @cli.command("json-schema")
    @click.option("--dialect", type=click.Choice(["native", "dms"]), default="native", show_default=True,
                  help="native: documents with 'dynagen: 1'; dms: DynamORM's DMS v0.1.")  # fmt: skip
    @click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
    def json_schema_command(dialect: str, output: str | None) -> int:
        """Print the JSON Schema of a schema dialect, for editors (yaml-language-server) and other tools."""
        from dynagen._json_schema import render

        text = render(dialect)
        if output is None:
            click.echo(text, nl=False)
        else:
            Path(output).write_text(text, encoding="utf-8")
            click.echo(f"wrote {output}; first line of a schema: # yaml-language-server: $schema=<path to it>")
        return EXIT_OK


_CREDENTIAL_HINT = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values do for DynamoDB Local), or AWS_PROFILE to a "
    "configured profile"
)


def describe_failure(error: BaseException, *, endpoint: str | None = None) -> str | None:
    """One line saying what went wrong and what to do, for the failures a command can expect; None otherwise.

    Missing or unusable credentials, an endpoint that does not answer, a service refusal and file-system
    errors: these are the user's setup, not dynagen's bugs, so they get no traceback.
    """
    kind = type(error)
    if kind.__module__.startswith("botocore"):
        name = kind.__name__
        if "Credential" in name or "Token" in name or name in ("ProfileNotFound", "ConfigNotFound"):
            return f"no usable AWS credentials ({error}): {_CREDENTIAL_HINT}"
        if name == "NoRegionError":
            return f"{error}: pass --region or set AWS_REGION"
        return f"{name}: {error}"
    if isinstance(error, TransportError):
        where = endpoint or "the endpoint"
        return (f"cannot reach {where} ({error}); is DynamoDB Local (or the service) running there? "
                "Check --endpoint-url")  # fmt: skip
    if isinstance(error, ServiceError):
        if error.code in ("UnrecognizedClientException", "InvalidSignatureException", "MissingAuthenticationToken"):
            return f"the endpoint refused the credentials ({error}): {_CREDENTIAL_HINT}"
        return f"the service refused the request: {error}"
    if isinstance(error, DynagenError):
        return str(error)
    if isinstance(error, OSError):
        return f"{error.strerror or error}: {error.filename}" if error.filename else str(error)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 stale, 2 invalid schema or usage)."""
    if click is None:
        print("dynagen's compiler needs its extras: pip install 'dynagen[cli]'", file=sys.stderr)
        return EXIT_ERROR
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="dynagen", standalone_mode=False)
    except click.UsageError as error:
        error.show()
        return EXIT_ERROR
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:
        click.echo("aborted", err=True)
        return EXIT_ERROR
    except Exception as error:
        message = describe_failure(error)
        if message is None:
            raise
        click.echo(f"error: {message}", err=True)
        return EXIT_ERROR
    return result if isinstance(result, int) else EXIT_OK


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())

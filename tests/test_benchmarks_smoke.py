"""Smoke test: each benchmark runs in quick mode on tiny sizes and prints a table (no timing assertions)."""

from __future__ import annotations

import shutil

import pytest

from benchmarks import cold_start, compile, expressions, lean_transport, operations, serialization
from benchmarks._util import Report


def _produced_tables(report: Report, capsys: pytest.CaptureFixture[str]) -> None:
    out = capsys.readouterr().out
    assert report.tables, f"{report.name} produced no table"
    for table in report.tables:
        assert "| " in table and "---" in table
        assert table in out


def test_serialization(capsys: pytest.CaptureFixture[str]) -> None:
    report = serialization.run(quick=True, items=20, rounds=1)
    _produced_tables(report, capsys)
    assert report.targets


def test_operations_against_stub(capsys: pytest.CaptureFixture[str]) -> None:
    report = operations.run(quick=True, local=False, calls=2, rounds=1)
    _produced_tables(report, capsys)
    assert len(report.tables) == 3  # get, create, query
    lean = [t for t in report.targets if "lean transport" in t.name]
    assert len(lean) == 3 and all(t.goal == 0.5 and t.value > 0 for t in lean), lean


def test_cold_start(capsys: pytest.CaptureFixture[str]) -> None:
    report = cold_start.run(quick=True, runs=1, warm_calls=50)
    _produced_tables(report, capsys)
    assert "(a1) import dynagen.runtime alone" in report.tables[0]
    assert "(a2) import the generated module alone" in report.tables[0]
    if shutil.which("openssl"):  # the https scenarios need it to make the stub's certificate
        for name in (cold_start.LEAN_TLS_HASHED, cold_start.LEAN_TLS_BUNDLE, cold_start.BOTO3_TLS):
            assert name in report.tables[0], name
    names = [t.name for t in report.targets]
    assert "lean transport: whole process, start to first response" in names, names
    assert any("peak RSS" in n for n in names), names
    assert all(t.value == t.value and t.value > 0 for t in report.targets), "every target measured (no NaN)"


def test_compile(capsys: pytest.CaptureFixture[str]) -> None:
    report = compile.run(quick=True, models=3, rounds=1, cli_runs=1)
    _produced_tables(report, capsys)


def test_expressions(capsys: pytest.CaptureFixture[str]) -> None:
    report = expressions.run(quick=True, builds=20, rounds=1)
    _produced_tables(report, capsys)
    assert len(report.tables) == 2 and len(report.targets) == 8 and all(t.value > 0 for t in report.targets)


def test_main_only_and_quick(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.__main__ import NAMES, main

    assert "lean_transport" in NAMES
    assert main(["--quick", "--only", "compile"]) == 0
    assert "## Targets" in capsys.readouterr().out


def test_lean_transport(capsys: pytest.CaptureFixture[str]) -> None:
    report = lean_transport.run(quick=True, calls=2, rounds=1, codec_calls=5)
    _produced_tables(report, capsys)
    assert len(report.tables) == 5  # GetItem / PutItem x 2 items, then the codec
    assert {t.name.split(":")[0] for t in report.targets} >= {"GetItem (plain item)", "PutItem (plain item)"}

"""Smoke test: each benchmark runs in quick mode on tiny sizes and prints a table (no timing assertions)."""

from __future__ import annotations

import pytest

from benchmarks import cold_start, compile, operations, serialization
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


def test_cold_start(capsys: pytest.CaptureFixture[str]) -> None:
    report = cold_start.run(quick=True, runs=1, warm_calls=50)
    _produced_tables(report, capsys)


def test_compile(capsys: pytest.CaptureFixture[str]) -> None:
    report = compile.run(quick=True, models=3, rounds=1, cli_runs=1)
    _produced_tables(report, capsys)


def test_main_only_and_quick(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.__main__ import main

    assert main(["--quick", "--only", "compile"]) == 0
    assert "## Targets" in capsys.readouterr().out

"""``python -m benchmarks [--quick] [--only NAME ...] [--no-local]``: run the benchmarks, print tables and targets."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable

from benchmarks._util import Report

NAMES = ("serialization", "operations", "lean_transport", "cold_start", "compile", "expressions")


def _runner(name: str, args: argparse.Namespace) -> Callable[[], Report]:
    if name == "serialization":
        from benchmarks import serialization

        return lambda: serialization.run(quick=args.quick)
    if name == "operations":
        from benchmarks import operations

        return lambda: operations.run(quick=args.quick, local=args.local)
    if name == "lean_transport":
        from benchmarks import lean_transport

        return lambda: lean_transport.run(quick=args.quick)
    if name == "cold_start":
        from benchmarks import cold_start

        return lambda: cold_start.run(quick=args.quick)
    if name == "expressions":
        from benchmarks import expressions

        return lambda: expressions.run(quick=args.quick)
    from benchmarks import compile

    return lambda: compile.run(quick=args.quick)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes and few rounds (CI; under a minute)")
    parser.add_argument(
        "--only",
        action="append",
        choices=NAMES,
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(NAMES)}",
    )
    parser.add_argument(
        "--local",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run the DynamoDB Local part of 'operations' (default: in full runs only)",
    )
    args = parser.parse_args(argv)

    print("# dynagen benchmarks" + (" (quick)" if args.quick else ""))
    print(
        f"python {platform.python_version()} on {platform.machine()} {platform.system()}, "
        f"{os.cpu_count()} CPUs; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at start"
    )
    print("Medians over rounds; contenders interleaved within each round; ratios measured in this run.")
    started = time.perf_counter()
    reports = []
    for name in args.only or NAMES:
        section = time.perf_counter()
        reports.append(_runner(name, args)())
        print(f"\n({name}: {time.perf_counter() - section:.1f} s)")
    print("\n## Targets (reported, never failed on)")
    for report in reports:
        for target in report.targets:
            print(target.line())
    print(
        f"\nTotal {time.perf_counter() - started:.1f} s; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at end"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

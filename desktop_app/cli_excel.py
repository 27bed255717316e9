"""Headless Excel-road commands: ``excel`` (the three stages) and ``reconcile-roads``."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from desktop_app.core.excel.stages import STAGE_KEYS
from desktop_app.core.progress import CancelToken


def register(commands: argparse._SubParsersAction) -> None:
    excel = commands.add_parser("excel", help="write the Excel road's workbooks (raw export → intermediate → report)")
    excel.add_argument("--warehouse", required=True, type=Path, metavar="FILE.duckdb")
    excel.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder for the workbooks")
    excel.add_argument("--stage", choices=(*STAGE_KEYS, "all"), default="all")
    excel.add_argument("--reconcile", action="store_true", help="then compare the report with the model marts")
    excel.add_argument("--json", action="store_true")
    excel.set_defaults(handler=_excel)
    roads = commands.add_parser("reconcile-roads", help="compare the final report's figures with the model marts")
    roads.add_argument("--warehouse", required=True, type=Path, metavar="FILE.duckdb")
    roads.add_argument("--report", required=True, type=Path, metavar="03_final_report.xlsx")
    roads.add_argument("--json", action="store_true")
    roads.set_defaults(handler=_roads)


def _excel(args: argparse.Namespace, cancel: CancelToken) -> int:
    from desktop_app.console import progress_bars, stdout
    from desktop_app.core.excel.pipeline import run_excel
    from desktop_app.core.olap.warehouse import Warehouse

    with Warehouse.for_reading(args.warehouse) as warehouse:  # a read-only warehouse is fine: only read
        with progress_bars(not args.json) as report:
            results = run_excel(warehouse, args.out, stage=args.stage, report=report, cancel=cancel)
        status = 0
        if args.reconcile and results and results[-1].stage == "final":
            status = _print_roads(results[-1].path, warehouse, args.json)
    if args.json:
        sys.stdout.write(json.dumps([{"stage": r.stage, "path": str(r.path), "seconds": r.seconds, "rows": r.rows,
                                      "steps": [asdict(s) for s in r.steps]} for r in results], indent=2) + "\n")
        return status
    for r in results:
        rows = ", ".join(f"{sheet} {n:,}" for sheet, n in r.rows.items())
        stdout.print(f"{r.stage:<13} {r.path}  ({rows}) in {r.seconds:.1f} s")
        for step in r.steps:
            stdout.print(f"    {step.step:<9} {step.rows_in:>10,} → {step.rows_out:>10,}  {step.description}")
    return status


def _print_roads(report_path: Path, warehouse, as_json: bool) -> int:
    from desktop_app.console import line, stdout
    from desktop_app.core.excel.roads import reconcile_roads

    checks = reconcile_roads(report_path, warehouse)
    different = [c for c in checks if not c.equal]
    if as_json:
        sys.stdout.write(json.dumps([{"figure": c.figure, "excel": str(c.excel), "models": str(c.models),
                                      "status": c.status} for c in checks], indent=2) + "\n")
    else:
        for check in different:
            stdout.print(line(("different", "red"), f" {check.figure}: Excel {check.excel} vs models {check.models}"))
        colour = "green" if not different else "red"
        stdout.print(line((f"{len(checks) - len(different)} of {len(checks)} figures equal", colour),
                          " (the Excel report vs the model marts)"))
    return 0 if not different else 1


def _roads(args: argparse.Namespace, cancel: CancelToken) -> int:
    from desktop_app.core.olap.warehouse import Warehouse

    with Warehouse.for_reading(args.warehouse) as warehouse:
        return _print_roads(args.report, warehouse, args.json)


def register_pipeline(commands: argparse._SubParsersAction) -> None:
    pipeline = commands.add_parser("pipeline", help="run everything: ingest → build models → Excel stages → "
                                                    "reconcile the two roads")
    pipeline.add_argument("--oltp", required=True, metavar="URL_OR_FILE")
    pipeline.add_argument("--warehouse", required=True, type=Path, metavar="FILE.duckdb")
    pipeline.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder for the workbooks")
    pipeline.add_argument("--project", type=Path, help="dbt project (default: the bundled sql/)")
    pipeline.add_argument("--mode", choices=("full", "incremental"), default="incremental")
    from desktop_app.cli_export import add_export_options

    add_export_options(pipeline, required=False)
    pipeline.set_defaults(handler=_pipeline)


def _pipeline(args: argparse.Namespace, cancel: CancelToken) -> int:
    from desktop_app.console import line, progress_bars, stdout
    from desktop_app.core.pipeline import run_pipeline
    from desktop_app.paths import sql_project_dir

    with progress_bars() as report:
        result = run_pipeline(args.oltp, args.warehouse, args.project or sql_project_dir(), args.out,
                              mode=args.mode, target_dir=args.out / "target", report=report, cancel=cancel,
                              export_dir=args.export_dir, export_format=args.export_format)
    for step in result.summary():
        stdout.print(step)
    stdout.print(line(("everything checked out", "green")) if result.ok else
                 line(("something did not check out", "red")))
    return 0 if result.ok else 1

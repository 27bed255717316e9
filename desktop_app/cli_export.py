"""``oltp-olap export``: the project's relations for BI tools (Parquet, CSV, Tableau, a portable DuckDB)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop_app.core.progress import CancelToken

FORMATS = ("parquet", "csv", "hyper", "duckdb")


def add_export_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--out" if required else "--export", required=required, type=Path, metavar="DIR",
                        dest="export_dir", help="folder for the exported files (created if missing)")
    parser.add_argument("--format", choices=FORMATS, default="parquet", dest="export_format",
                        help="parquet (default), csv, hyper (Tableau; needs `uv sync --extra tableau`) or duckdb "
                             "(one file DuckDB 1.x opens)")


def register(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser("export", help="export the marts (or --select) for BI tools",
                                 description="One file per relation (Parquet, CSV, or a Tableau .hyper with a .tds "
                                             "beside it) or one portable DuckDB file; written under temporary names "
                                             "and renamed only when all are complete.")
    export.add_argument("--warehouse", required=True, type=Path, metavar="FILE.duckdb")
    add_export_options(export, required=True)
    export.add_argument("--select", nargs="+", metavar="SPEC", help="what to export, as build selects "
                                                                    "(default: the project's marts)")
    export.add_argument("--project", type=Path, help="dbt project (default: the bundled sql/)")
    export.add_argument("--json", action="store_true", help="print the files, rows and bytes as JSON")
    export.set_defaults(handler=_export)


def _export(args: argparse.Namespace, cancel: CancelToken) -> int:
    from desktop_app.console import progress_bars
    from desktop_app.core.handoff.export import export
    from desktop_app.core.olap.warehouse import Warehouse
    from desktop_app.paths import sql_project_dir

    with Warehouse.for_reading(args.warehouse) as warehouse, progress_bars(not args.json) as report:
        result = export(warehouse, args.project or sql_project_dir(), args.export_dir, args.export_format,
                        selection=args.select, report=report, cancel=cancel)
    print_report(result, args.json)
    return 0


def print_report(result, as_json: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    from desktop_app.console import line, stdout

    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
        return
    grid = Table(title=Text(f"Exported {len(result.files)} relation(s) as {result.format} to {result.folder}"),
                 title_justify="left", show_edge=False)
    for heading, justify in (("relation", "left"), ("file", "left"), ("rows", "right"), ("bytes", "right")):
        grid.add_column(heading, justify=justify)
    for f in result.files:
        grid.add_row(Text(f.relation), Text(Path(f.path).name), f"{f.rows:,}", f"{f.bytes:,}")
    stdout.print(grid)
    for note in result.notes:
        stdout.print(line("  ", ("note", "yellow"), f" {note}"))

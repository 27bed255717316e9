"""Headless ingestion commands: ``ingest`` and ``reconcile``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop_app.core.progress import CancelToken


def register(commands: argparse._SubParsersAction) -> None:
    ingest = commands.add_parser("ingest", help="copy the source's tables into the warehouse's raw schema",
                                 description="Full or incremental load of OLTP tables into raw.<table> of a "
                                             "DuckDB warehouse, reconciled after every table.")
    ingest.add_argument("--oltp", required=True, metavar="URL_OR_FILE", help="SQLite file or SQLAlchemy URL")
    ingest.add_argument("--warehouse", required=True, type=Path, metavar="FILE.duckdb", help="DuckDB warehouse")
    ingest.add_argument("--mode", choices=("full", "incremental"), default="full")
    ingest.add_argument("--tables", help="comma-separated table names (default: all)")
    ingest.add_argument("--look-back", type=int, default=None, metavar="SECONDS",
                        help="incremental watermark loads re-read this window before the last mark, so a row "
                             "committed late is not missed (default 300)")
    ingest.add_argument("--json", action="store_true", help="print a machine-readable report")
    ingest.set_defaults(handler=_ingest)

    reconcile = commands.add_parser("reconcile", help="compare source and warehouse: row counts and checksums")
    reconcile.add_argument("--oltp", required=True, metavar="URL_OR_FILE")
    reconcile.add_argument("--warehouse", required=True, type=Path, metavar="FILE.duckdb")
    reconcile.add_argument("--tables", help="comma-separated table names (default: all loaded tables)")
    reconcile.add_argument("--json", action="store_true")
    reconcile.set_defaults(handler=_reconcile)


def _tables(text: str | None) -> list[str] | None:
    """``--tables``: None (all) when not given; a list — possibly empty, which the core refuses — when given."""
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def _ingest(args: argparse.Namespace, cancel: CancelToken) -> int:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from desktop_app.console import line, progress_bars, stdout
    from desktop_app.core.ingest.run import run_ingest
    from desktop_app.core.olap.warehouse import Warehouse
    from desktop_app.core.oltp.source import open_source

    look_back = _look_back(args.look_back)  # checked before anything is opened or created
    with open_source(args.oltp) as source, Warehouse(args.warehouse) as warehouse:
        with progress_bars(not args.json) as report:
            result = run_ingest(source, warehouse, mode=args.mode, tables=_tables(args.tables), look_back=look_back,
                                report=report, cancel=cancel)
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
        return 0 if result.ok else 1
    grid = Table(title=Text(f"Run {result.run_id}: {result.mode} load of {result.source} → {result.warehouse}"),
                 title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 0), show_edge=False)
    rows = []
    for t in result.tables:
        recon = t.reconciliation.status if t.reconciliation else t.status
        rows.append((t.table, t.mode, t.strategy, f"{t.rows_read:,}", f"{t.inserted:,}", f"{t.updated:,}",
                     f"{t.deleted:,}", f"{t.rows_per_second:,.0f}", recon))
    headings = ("table", "mode", "strategy", "read", "inserted", "updated", "deleted", "rows/s", "reconciled")
    for index, heading in enumerate(headings):
        # On an 80-column terminal only the strategy wraps; no cell loses characters to an ellipsis ("231,7…").
        widest = max((len(row[index]) for row in rows), default=1)
        grid.add_column(heading, justify="right" if 3 <= index <= 7 else "left", overflow="fold",
                        min_width=10 if heading == "strategy" else widest)
    for t, row in zip(result.tables, rows, strict=True):
        style = "green" if t.status == "success" else "red"
        grid.add_row(*(Text(cell) for cell in row[:-1]), Text(row[-1], style))
    stdout.print(grid)
    for note in result.notes:
        stdout.print(line("  ", ("note", "yellow"), f" {note}"))
    for t in result.tables:
        for note in t.notes:
            stdout.print(line("  ", ("note", "yellow"), f" {t.table}: {note}"))
        if t.error:
            stdout.print(line("  ", ("error", "red"), f" {t.table}: {t.error}"))
    stdout.print(f"{result.status} in {result.seconds:.1f} s")
    return 0 if result.ok else 1


def _reconcile(args: argparse.Namespace, cancel: CancelToken) -> int:
    from desktop_app.console import line, stdout
    from desktop_app.core.errors import WarehouseError
    from desktop_app.core.ingest.journal import record_reconciliation
    from desktop_app.core.ingest.reconcile import reconcile_table
    from desktop_app.core.olap.warehouse import Warehouse
    from desktop_app.core.oltp.inspect import list_tables
    from desktop_app.core.oltp.source import open_source

    with open_source(args.oltp) as source, Warehouse.for_reading(args.warehouse) as warehouse:
        loaded = warehouse.raw_tables()
        chosen = _tables(args.tables)
        if chosen is not None and not chosen:
            raise WarehouseError("No table was named.", "Name tables separated by commas, or leave --tables out.")
        in_source = list_tables(source)
        tables = chosen if chosen is not None else in_source
        unknown = [t for t in tables if t not in in_source]
        if unknown:
            raise WarehouseError(f"No table {', '.join(map(repr, unknown))} in the source.",
                                 f"Known tables: {', '.join(in_source)}.")
        missing = [t for t in tables if t not in loaded]  # in the source, never loaded: not equal
        results = []
        for table in (t for t in tables if t in loaded):
            source_columns = [c for c, _ in warehouse.columns("raw", table)]
            recon = reconcile_table(source, warehouse, table, columns=source_columns, cancel=cancel)
            if not warehouse.read_only and warehouse.table_exists("_studio", "reconciliations"):
                record_reconciliation(warehouse.cursor(), None, recon)  # a read-only warehouse is checked, not noted
            results.append(recon)
        gone = [t for t in loaded if t not in in_source] if chosen is None else []
    rows = [{"table": r.table, "status": r.status, "detail": r.detail, "source_rows": r.source_rows,
             "warehouse_rows": r.warehouse_rows} for r in results]
    rows += [{"table": t, "status": "missing", "detail": "in the source but not in the warehouse: run oltp-olap "
              "ingest", "source_rows": None, "warehouse_rows": None} for t in missing]
    rows += [{"table": t, "status": "dropped", "detail": "in the warehouse only: dropped at the source since it "
              "was loaded (kept, not compared)", "source_rows": None, "warehouse_rows": None} for t in gone]
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        for row in rows:
            colour = {"equal": "green", "dropped": "yellow"}.get(row["status"], "red")
            stdout.print(line((f"{row['status']:>9}", colour), f"  {row['table']}: {row['detail']}"))
    return 0 if all(r.equal for r in results) and not missing else 1


def _look_back(seconds: int | None) -> int:
    from desktop_app.core.errors import AppError
    from desktop_app.core.ingest.look_back import DEFAULT_LOOK_BACK

    if seconds is None:
        return DEFAULT_LOOK_BACK
    if seconds < 0:
        raise AppError(f"--look-back must be 0 or more seconds, not {seconds}.", "Example: --look-back 600")
    return seconds

"""Run an ingestion: check the request, load the tables two at a time, record the run.

``run_ingest`` is the one entry point for the CLI, the GUI and tests. Each table loads, reconciles
and is recorded on its own (``core.ingest.table_job``); a table that fails is rolled back and
recorded, and the others still load. Cancelling rolls back the tables in progress and stops. The
run itself is recorded in ``_studio`` (``core.ingest.journal``) whatever ends it.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from desktop_app.core.errors import AppError, Cancelled, SourceError
from desktop_app.core.ingest.journal import finish_run, start_run
from desktop_app.core.ingest.look_back import DEFAULT_LOOK_BACK
from desktop_app.core.ingest.results import IngestReport, TableResult
from desktop_app.core.ingest.table_job import RunProgress, ingest_table
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.inspect import TableInfo, inspect_source, list_tables
from desktop_app.core.oltp.source import Source
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Progress, Report

__all__ = ["IngestReport", "TableResult", "run_ingest"]

MODES = ("full", "incremental")
TABLES_IN_PARALLEL = 2
INGEST_MEMORY_MB = 192
MB_PER_COLUMN = 0.5  # measured: 2,000 columns need about 1 GB while two tables load


def run_ingest(source: Source, warehouse: Warehouse, *, mode: str = "full", tables: list[str] | None = None,
               look_back: int = DEFAULT_LOOK_BACK, report: Report = NULL_REPORT,
               cancel: CancelToken = NEVER) -> IngestReport:
    """Load ``tables`` (default: all) in ``mode``; watermark loads re-read ``look_back`` seconds before their
    mark (``core.ingest.look_back``)."""
    if mode not in MODES:
        raise AppError(f"Unknown mode {mode!r}.", "Use full or incremental.")
    started = time.perf_counter()
    available = list_tables(source)
    chosen = _chosen_tables(source, available, tables)
    report(Progress("ingest", 0, None, "Inspecting the source"))
    info = inspect_source(source, tables=chosen, with_counts=True, cancel=cancel)
    cursor = warehouse.new_cursor()
    # Bounded memory whatever the table's length (DuckDB spills to its temp folder beyond this). Its
    # width is another matter: DuckDB keeps a block per column of a table being written, so a table of
    # 2,000 columns failed with "Out of Memory" at 192 MB; the limit grows with the widest table.
    widest = max((len(t.columns) for t in info.tables), default=0)
    cursor.execute(f"SET memory_limit = '{int(max(INGEST_MEMORY_MB, widest * MB_PER_COLUMN))}MB'")
    run_id = start_run(cursor, source.label, mode)
    progress = RunProgress(report, sum(t.row_count or 0 for t in info.tables))
    results: dict[str, TableResult] = {}
    status = "failed"  # whatever stops the run before the end, it did not succeed
    try:
        status = _load_tables(source, warehouse, run_id, info.tables, mode, look_back, progress, cancel, results)
    except Cancelled:
        status = "cancelled"
        raise
    finally:
        done = [results[t.name] for t in info.tables if t.name in results]
        finish_run(cursor, run_id, status, "; ".join(f"{r.table}: {r.error}" for r in done if r.error) or None)
        cursor.close()
    gone = [t for t in warehouse.raw_tables() if t not in available] if tables is None else []
    notes = [f"{t}: in the warehouse but no longer in the source — kept as it was, no longer updated" for t in gone]
    return IngestReport(run_id, source.label, str(warehouse.path), mode, status, time.perf_counter() - started,
                        [results[t.name] for t in info.tables], notes)


def _chosen_tables(source: Source, available: list[str], tables: list[str] | None) -> list[str]:
    if tables is not None and not tables:
        raise AppError("No table was named.", "Name tables separated by commas, or leave --tables out to load all.")
    chosen = available if tables is None else list(tables)
    repeated = sorted({t for t in chosen if chosen.count(t) > 1})
    if repeated:
        raise AppError(f"Table {', '.join(map(repr, repeated))} is named more than once.", "Name each table once.")
    unknown = [t for t in chosen if t not in available]
    if unknown:
        raise SourceError(f"No table {', '.join(map(repr, unknown))} in {source.label}.",
                          f"Known tables: {', '.join(available)}.")
    return chosen


def _load_tables(source: Source, warehouse: Warehouse, run_id: int, tables: list[TableInfo], mode: str,
                 look_back: int, progress: RunProgress, cancel: CancelToken, results: dict[str, TableResult]) -> str:
    """Two tables at a time, largest first: each load is a reader plus a DuckDB writer, and two of them
    keep both cores busy while one waits on a commit or a count. Returns the run's status."""

    def load(table: TableInfo) -> TableResult:
        own = warehouse.new_cursor()  # DuckDB cursors are per thread
        try:
            cancel.raise_if_cancelled()
            return ingest_table(source, warehouse, own, run_id, table, mode, progress, cancel, look_back)
        finally:
            own.close()

    status, cancelled = "success", False
    with ThreadPoolExecutor(max_workers=TABLES_IN_PARALLEL, thread_name_prefix="ingest") as pool:
        futures = [pool.submit(load, table) for table in sorted(tables, key=lambda t: -(t.row_count or 0))]
        for future in as_completed(futures):
            try:
                result = future.result()
            except Cancelled:
                cancelled = True
                continue
            results[result.table] = result
            if result.status != "success":
                status = "failed"
    if cancelled:
        raise Cancelled()
    return status

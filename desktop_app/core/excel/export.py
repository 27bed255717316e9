"""Stage 1 — raw export: warehouse tables → ``01_raw_export.xlsx``, one typed sheet per table.

A table over Excel's row limit is refused before anything is written, naming the table and its
row count. Rows stream through ``xlsx_stream`` into a temporary file that is renamed into place.
"""

from __future__ import annotations

import time
from pathlib import Path

from desktop_app.core.errors import ExportError
from desktop_app.core.excel.safety import atomic_target
from desktop_app.core.excel.stages import RAW_EXPORT, REPORT_TABLES, StageResult
from desktop_app.core.excel.xlsx_stream import MAX_ROWS, StreamingWorkbook, sheet_notes
from desktop_app.core.identifiers import qualified
from desktop_app.core.olap.warehouse import RAW_SCHEMA, Warehouse
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Progress, Report


def export_raw(warehouse: Warehouse, out_dir: Path, *, tables: list[str] | None = None,
               report: Report = NULL_REPORT, cancel: CancelToken = NEVER) -> StageResult:
    started = time.perf_counter()
    tables = list(tables or REPORT_TABLES)
    loaded = set(warehouse.raw_tables())
    missing = [t for t in tables if t not in loaded]
    if missing:
        raise ExportError(f"The warehouse has no raw.{', raw.'.join(missing)}.",
                          "Run the ingestion first (`oltp-olap ingest`).")
    cursor = warehouse.new_cursor()
    counts = {t: cursor.execute(f"SELECT count(*) FROM {qualified(RAW_SCHEMA, t)}").fetchall()[0][0] for t in tables}
    too_big = {t: n for t, n in counts.items() if n + 1 > MAX_ROWS}
    if too_big:
        names = ", ".join(f"{t} ({n:,} rows)" for t, n in too_big.items())
        raise ExportError(f"Too many rows for one Excel sheet: {names}; Excel holds at most {MAX_ROWS - 1:,} "
                          "data rows. Nothing was written.",
                          "Export fewer tables, or use the model road (oltp-olap build) for data this large.")
    total = sum(counts.values())
    done = 0
    target = Path(out_dir) / RAW_EXPORT
    remove = cancel.on_cancel(cursor.interrupt)
    try:
        with atomic_target(target) as temp:
            book = StreamingWorkbook(temp)
            try:
                for table in tables:
                    def on_rows(n: int, table=table) -> None:
                        nonlocal done
                        done += n
                        report(Progress("excel", done, total, f"Exporting {table}", "raw export"))

                    book.add_sheet(cursor, table, qualified(RAW_SCHEMA, table), order_by_first=True, on_rows=on_rows,
                                   cancel=cancel)
            except BaseException:
                book.abort()
                raise
            book.close()
    finally:
        remove()
        cursor.close()
    return StageResult("raw", target, time.perf_counter() - started, counts, notes=sheet_notes(book.sheets))

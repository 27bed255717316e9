"""Read workbook sheets fast (python-calamine, a Rust reader) into DuckDB tables, with clear errors."""

from __future__ import annotations

from pathlib import Path

import duckdb
from python_calamine import CalamineWorkbook

from desktop_app.core.arrow_rows import rows_to_batch
from desktop_app.core.errors import ExportError
from desktop_app.core.ingest.load import BatchTable
from desktop_app.core.olap.warehouse import quote
from desktop_app.core.progress import NEVER, CancelToken

CHUNK_ROWS = 50_000


def open_workbook(path: Path, expected_stage: str) -> CalamineWorkbook:
    path = Path(path)
    if not path.exists():
        raise ExportError(f"No {expected_stage} workbook at {path}.", "Run the previous stage first.")
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as err:  # noqa: BLE001 - calamine raises its own error types for broken files
        raise ExportError(f"{path} is not a readable .xlsx workbook ({err}).",
                          f"Choose the {expected_stage} workbook written by the previous stage.") from None


def load_sheet(con: duckdb.DuckDBPyConnection, book: CalamineWorkbook, path: Path, sheet: str, table: str,
               required: tuple[str, ...] = (), cancel: CancelToken = NEVER) -> int:
    """Stream one sheet into the DuckDB table ``table`` of ``con``; returns its row count.

    Rows go over in Arrow batches of ``CHUNK_ROWS``, so at most one chunk of Python row objects is
    alive at a time: a million live row lists would make the garbage collector's full passes (which
    hold the GIL, and with it the window's event loop) last half a second each. Empty cells are
    NULL; a column whose cells disagree in type becomes text rather than losing a value.
    """
    if sheet not in book.sheet_names:
        raise ExportError(f"{path} has no sheet {sheet!r} (it has {', '.join(book.sheet_names)}).",
                          "Choose the workbook written by the previous stage.")
    rows = iter(book.get_sheet_by_name(sheet).iter_rows())
    header_row = next(rows, None)
    if header_row is None:
        raise ExportError(f"Sheet {sheet!r} of {path} is empty.")
    header = _column_names(header_row)
    missing = [c for c in required if c not in header]
    if missing:
        raise ExportError(f"Sheet {sheet!r} of {path} lacks the column(s) {', '.join(missing)}.",
                          "The workbook was changed by hand or comes from another tool; re-run the previous stage.")
    target = BatchTable(con, quote(table), {})
    chunk: list[list] = []
    count = 0
    for row in rows:  # a Python-level loop: the event loop gets the GIL between rows
        chunk.append(row)
        if len(chunk) == CHUNK_ROWS:
            cancel.raise_if_cancelled()
            target.append(rows_to_batch(header, chunk, blank_is_null=True))
            count += len(chunk)
            chunk = []
    if chunk or not target.created:
        target.append(rows_to_batch(header, chunk, blank_is_null=True))
        count += len(chunk)
    return count


def _column_names(header_row: list) -> list[str]:
    """Header cells as distinct, non-empty column names (``column_3`` for a blank one, ``name_2`` for a repeat)."""
    names: list[str] = []
    for index, cell in enumerate(header_row, 1):
        name = str(cell).strip() if cell not in (None, "") else f"column_{index}"
        base, n = name, 1
        while name in names:
            n += 1
            name = f"{base}_{n}"
        names.append(name)
    return names


def sheet_preview(path: Path, sheet: str, limit: int = 500) -> tuple[list[str], list[list], int]:
    """Header, first ``limit`` rows and total rows of a sheet, for the GUI's preview (reads only those)."""
    book = open_workbook(path, "Excel")
    data = book.get_sheet_by_name(sheet)
    rows = []
    for row in data.iter_rows():
        rows.append(row)
        if len(rows) > limit:
            break
    if not rows:
        return [], [], 0
    return [str(h) for h in rows[0]], rows[1:limit + 1], max(0, data.height - 1)

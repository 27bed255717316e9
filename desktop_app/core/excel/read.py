"""Read workbook sheets fast (python-calamine, a Rust reader) into DuckDB tables, with clear errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import openpyxl
from python_calamine import CalamineWorkbook

from desktop_app.core.arrow_rows import columns_to_batch
from desktop_app.core.errors import ExportError
from desktop_app.core.excel.cell_text import column_letter, read_back
from desktop_app.core.excel.column_copy import read_copy
from desktop_app.core.excel.number_format import format_value
from desktop_app.core.identifiers import quote
from desktop_app.core.ingest.load import BatchTable
from desktop_app.core.ingest.temporal import iso_sql
from desktop_app.core.progress import NEVER, CancelToken

CHUNK_ROWS = 20_000  # rows per Arrow batch sent to DuckDB (building one holds the GIL)
FOLD_ROWS = 500  # row lists alive at once (well under the GC's first-generation threshold)


def open_workbook(path: Path, expected_stage: str) -> CalamineWorkbook:
    path = Path(path)
    if not path.exists():
        raise ExportError(f"No {expected_stage} workbook at {path}.", "Run the previous stage first.")
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as err:  # calamine raises its own error types for broken files
        raise ExportError(f"{path} is not a readable .xlsx workbook ({err}).",
                          f"Choose the {expected_stage} workbook written by the previous stage.") from None


@dataclass(frozen=True)
class SheetRead:
    rows: int
    from_copy: bool  # read from the workbook's copy of the sheet's values (``column_copy``), not its cells


def read_notes(path: Path, reads: dict[str, SheetRead]) -> list[str]:
    """What a stage says about how it read each sheet of ``path`` (each note starts with "read ")."""
    copied = [s for s, r in reads.items() if r.from_copy]
    parsed = [s for s, r in reads.items() if not r.from_copy]
    notes = []
    if copied:
        notes.append(f"read {', '.join(copied)} from the copy of their values in {path.name} (unchanged since "
                     "written)")
    if parsed:
        notes.append(f"read {', '.join(parsed)} cell by cell from {path.name} (changed since written, or saved by "
                     "another app: slower)")
    return notes


def load_sheet(con: duckdb.DuckDBPyConnection, book: CalamineWorkbook, path: Path, sheet: str, table: str,
               required: tuple[str, ...] = (), cancel: CancelToken = NEVER) -> SheetRead:
    """Stream one sheet into the DuckDB table ``table`` of ``con``; returns its row count and how it was read.

    Rows go over in Arrow batches of ``CHUNK_ROWS``. Each row list calamine hands us is folded into
    per-column lists within ``FOLD_ROWS`` rows, so row objects die young: a chunk of row lists kept
    alive would be promoted to the garbage collector's old generation and trigger full passes over
    every object in the process — each one holding the GIL, and with it the window, for 200–400 ms.
    Empty cells are NULL; a column whose cells disagree in type becomes text rather than losing a value.
    A sheet unchanged since our writer wrote it is read from the copy of its values in the workbook
    (``column_copy``): the same values, without parsing a cell.
    """
    if sheet not in book.sheet_names:
        raise ExportError(f"{path} has no sheet {sheet!r} (it has {', '.join(book.sheet_names)}).",
                          "Choose the workbook written by the previous stage.")
    copied = read_copy(con, path, sheet, table)
    if copied is not None:
        _require_columns(con, table, path, sheet, required)
        return SheetRead(copied, True)
    rows = iter(book.get_sheet_by_name(sheet).iter_rows())
    header_row = next(rows, None)
    if header_row is None:
        raise ExportError(f"Sheet {sheet!r} of {path} is empty.")
    header = _column_names(header_row)
    _check_columns(header, path, sheet, required)
    target = BatchTable(con, quote(table), {})
    columns: list[list] = [[] for _ in header]
    pending: list[list] = []
    count = 0

    def fold() -> None:
        if not pending:
            return
        for column, values in zip(columns, zip(*pending, strict=True), strict=True):
            column.extend(values)
        pending.clear()

    def flush() -> None:
        nonlocal columns, count
        target.append(columns_to_batch(header, columns, blank_is_null=True))
        count += len(columns[0]) if columns else 0
        columns = [[] for _ in header]

    for row in rows:  # a Python-level loop: the event loop gets the GIL between rows
        pending.append(row)
        if len(pending) == FOLD_ROWS:
            fold()
            if len(columns[0]) >= CHUNK_ROWS:
                cancel.raise_if_cancelled()
                flush()
    fold()
    if (columns and columns[0]) or not target.created:
        flush()
    return SheetRead(count, False)


def _check_columns(header: list[str], path: Path, sheet: str, required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise ExportError(f"Sheet {sheet!r} of {path} lacks the column(s) {', '.join(missing)}.",
                          "The workbook was changed by hand or comes from another tool; re-run the previous stage.")


def _require_columns(con: duckdb.DuckDBPyConnection, table: str, path: Path, sheet: str,
                     required: tuple[str, ...]) -> None:
    header = [r[0] for r in con.execute(f"DESCRIBE {quote(table)}").fetchall()]
    _check_columns(header, path, sheet, required)


def require_types(con: duckdb.DuckDBPyConnection, relation: str, path: Path, sheet: str, kinds: dict[str, str],
                  hint: str, required: tuple[str, ...] = ()) -> None:
    """Every value of these columns of a loaded sheet is of its kind, read strictly: BIGINT a whole number
    (a number cell with no fraction and within 2^53, where a double is exact, or text of digits only);
    TIMESTAMP a date cell or ISO text. DuckDB's own casts are lenient — they read '0x1A' as 26, 'epoch'
    and 'infinity' as dates, and round 2.5 — so a workbook changed by hand would pass as data. Columns in
    ``required`` may not be blank. An error names the sheet, the column and an example value."""
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {relation})").fetchall())
    for column, kind in kinds.items():
        q = quote(column)
        bad = _not_of_kind_sql(q, types.get(column, "VARCHAR"), kind)
        example, count = con.execute(
            f"SELECT any_value(CAST({q} AS VARCHAR)), count(*) FROM {relation} WHERE {q} IS NOT NULL AND ({bad})"
        ).fetchall()[0]
        if count:
            what = "dates" if kind == "TIMESTAMP" else "whole numbers"  # (or beyond 2^53: not exact in a number cell)
            raise ExportError(f"Column {column} of the {sheet} sheet in {path} has {count:,} value(s) that are not "
                              f"{what} (e.g. {example!r}).", hint)
    for column in required:
        blanks = con.execute(f"SELECT count(*) FROM {relation} WHERE {quote(column)} IS NULL").fetchall()[0][0]
        if blanks:
            raise ExportError(f"Column {column} of the {sheet} sheet in {path} has {blanks:,} blank cell(s); every "
                              "line needs one (a blank would drop the line from every total).", hint)


def _not_of_kind_sql(q: str, column_type: str, kind: str) -> str:
    if kind == "BIGINT":
        if column_type in ("BIGINT", "INTEGER", "HUGEINT"):
            return "false"
        if column_type == "DOUBLE":
            return f"NOT isfinite({q}) OR {q} <> round({q}) OR abs({q}) > {2 ** 53}"
        if column_type == "VARCHAR":  # digits, or a whole number cell in a column that also holds text ('12.0')
            return f"NOT regexp_full_match({q}, '[+-]?[0-9]+(\\.0+)?') OR TRY_CAST({q} AS BIGINT) IS NULL"
        return "true"
    if kind == "TIMESTAMP":
        if column_type in ("TIMESTAMP", "DATE", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE"):
            return f"NOT isfinite(CAST({q} AS TIMESTAMP))"
        if column_type == "VARCHAR":
            return f"NOT {iso_sql(q, 'TIMESTAMP')}"
        return "true"
    raise ValueError(kind)


def require_unique(con: duckdb.DuckDBPyConnection, relation: str, path: Path, sheet: str, key: str,
                   hint: str) -> None:
    """The sheet's key identifies one row: a row duplicated by hand would count twice in every total."""
    q = quote(key)
    found = con.execute(f"SELECT {q}, count(*) FROM {relation} WHERE {q} IS NOT NULL "
                        f"GROUP BY {q} HAVING count(*) > 1 LIMIT 1").fetchall()
    if found:
        value, count = found[0]
        value = int(value) if isinstance(value, float) and value.is_integer() else value
        raise ExportError(f"The {sheet} sheet in {path} has {count} rows with {key} {value}; a key names one row "
                          "(a duplicated row would count twice).", hint)
    blanks = con.execute(f"SELECT count(*) FROM {relation} WHERE {q} IS NULL").fetchall()[0][0]
    if blanks:
        raise ExportError(f"The {sheet} sheet in {path} has {blanks:,} row(s) without a {key}.", hint)


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


@dataclass(frozen=True)
class SheetPreview:
    """The first rows of a sheet as the workbook shows them: each cell's text in its number format,
    whether it is a number (right-aligned) and whether it is bold (headers)."""

    texts: list[list[str]]
    numeric: list[list[bool]]
    bold: list[list[bool]]
    total_rows: int | None  # rows of the sheet (its first row included), if the file says
    width: int = 0  # columns
    column_chars: tuple[int, ...] = ()  # the longest text of each column, in characters (capped at 60)
    letters: tuple[str, ...] = ()  # the columns' names as the spreadsheet shows them (A, B, … AA)


def sheet_preview(path: Path, sheet: str, limit: int = 500) -> SheetPreview:
    """The first ``limit`` rows of a sheet, formatted, for the window.

    openpyxl's read-only mode streams the sheet's XML and stops after ``limit`` rows, so the cost does
    not grow with the sheet (python-calamine always parses a whole sheet: seconds for a million rows).
    Values are the cached results of formulas, as a spreadsheet app shows them.
    """
    path = Path(path)
    if not path.exists():
        raise ExportError(f"No workbook at {path}.", "Run the stage that writes it first.")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many types for broken files
        raise ExportError(f"{path} is not a readable .xlsx workbook ({err}).") from None
    texts, numeric, bold = [], [], []
    try:
        if sheet not in book.sheetnames:
            raise ExportError(f"{path} has no sheet {sheet!r}.")
        worksheet = book[sheet]
        for row in worksheet.iter_rows(max_row=limit):
            texts.append([format_value(read_back(c.value) if isinstance(c.value, str) else c.value,
                                       getattr(c, "number_format", None)) for c in row])
            numeric.append([isinstance(c.value, int | float) and not isinstance(c.value, bool) for c in row])
            bold.append([bool(getattr(getattr(c, "font", None), "b", False)) for c in row])
        total = worksheet.max_row or None
    finally:
        book.close()
    width = max((len(row) for row in texts), default=0)
    # Measured here, on the worker: sizing columns to their contents on the GUI thread stalled the window.
    chars = tuple(min(60, max((len(row[c]) for row in texts if c < len(row)), default=0)) for c in range(width))
    return SheetPreview(texts, numeric, bold, total, width, chars, tuple(column_letter(c) for c in range(width)))

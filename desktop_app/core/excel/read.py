"""Read workbook sheets fast (python-calamine, a Rust reader) into pandas, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from python_calamine import CalamineWorkbook

from desktop_app.core.errors import ExportError

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


def read_sheet(book: CalamineWorkbook, path: Path, sheet: str, required: tuple[str, ...] = ()) -> pd.DataFrame:
    if sheet not in book.sheet_names:
        raise ExportError(f"{path} has no sheet {sheet!r} (it has {', '.join(book.sheet_names)}).",
                          "Choose the workbook written by the previous stage.")
    rows = _rows(book.get_sheet_by_name(sheet))
    if not rows:
        raise ExportError(f"Sheet {sheet!r} of {path} is empty.")
    header = [str(h) for h in rows[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise ExportError(f"Sheet {sheet!r} of {path} lacks the column(s) {', '.join(missing)}.",
                          "The workbook was changed by hand or comes from another tool; re-run the previous stage.")
    # In chunks: one DataFrame built from a million lists is a single native call that holds the GIL
    # (and so the window's event handling) for half a second.
    chunks = [pd.DataFrame(rows[start:start + CHUNK_ROWS], columns=header).replace({"": None})
              for start in range(1, len(rows), CHUNK_ROWS)]
    return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=header)


def _rows(sheet) -> list[list]:
    """All rows, read in a Python-level loop: one native ``to_python()`` over a million rows would hold
    the GIL for seconds and freeze the window's event handling meanwhile."""
    rows = []
    for row in sheet.iter_rows():
        rows.append(row)
    return rows


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

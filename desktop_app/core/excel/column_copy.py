"""A copy of each data sheet's values inside its own workbook, in columns, read while the sheet is unchanged.

Reading a sheet back costs a parser a Python object per cell and the whole sheet in memory
(python-calamine: 18 s and 1.2 GB for the road's 870,000-line intermediate sheet). The writer also
stores what each sheet's cells hold as a Parquet part of the same .xlsx package, with the CRC-32 and
size of the sheet's XML (and of the styles, which make a number a date) in a small manifest. A stage
reads the copy only if the sheet's XML is byte for byte the one written — the zip directory already
holds each part's CRC, so checking costs nothing; a sheet edited and saved by Excel, LibreOffice or
openpyxl no longer matches (they rewrite the XML and drop parts they do not know) and is read from its
cells, with every hand-edit check. Spreadsheet apps ignore the parts: they are declared in the content
types and tied to the package by a relationship of our own type, as OPC allows.

The copy holds each value as the sheet shows it: text without U+FFFE/U+FFFF and with empty text
blank, as a cell reads back; a column written as text to stay exact (``SheetResult.as_text``) as that
text; everything else in its own type, which every check and step reads as it reads the cell's value.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import duckdb

from desktop_app.core.excel.cell_text import NONCHARACTERS, REPLACEMENT
from desktop_app.core.identifiers import quote

FOLDER = "oltp-olap"
MANIFEST = f"{FOLDER}/sheets.json"
RELATIONSHIP = "https://oltp-olap.studio/2026/relationships/sheet-values"
CONTENT_TYPES = {"parquet": "application/vnd.apache.parquet", "json": "application/json"}
STYLES = "xl/styles.xml"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DOC_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def copy_sql(column: str, duck_type: str, as_text: bool, is_text: bool) -> str:
    """SQL for ``column`` as its cells hold it (see the module docstring)."""
    q = quote(column)
    if duck_type.upper() == "BLOB":
        return f"hex({q}) AS {q}"
    if not (as_text or is_text):
        return q
    text = f"CAST({q} AS VARCHAR)"
    for char in NONCHARACTERS:
        text = f"replace({text}, chr({ord(char)}), chr({ord(REPLACEMENT)}))"
    return f"nullif({text}, '') AS {q}"


@dataclass
class CopyWriter:
    """Adds sheet copies to a ``zipfile.ZipFile`` being written and, at the end, their manifest."""

    book: zipfile.ZipFile
    entries: list[dict] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.entries = []

    def add(self, cursor: duckdb.DuckDBPyConnection, sheet: str, part: str, query: str, rows: int) -> None:
        """Store ``query``'s result (in the sheet's row order) as the copy of ``sheet``, whose XML is ``part``."""
        member = f"{FOLDER}/sheet{len(self.entries) + 1}.parquet"
        folder = Path(tempfile.mkdtemp(prefix="sheet-copy-"))
        try:
            parquet = folder / "copy.parquet"
            cursor.execute(f"COPY ({query}) TO '{parquet}' (FORMAT parquet, COMPRESSION zstd)")
            self.book.write(parquet, member, compress_type=zipfile.ZIP_STORED)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        info = self.book.getinfo(part)
        self.entries.append({"sheet": sheet, "part": part, "crc": info.CRC, "size": info.file_size,
                             "copy": member, "rows": rows})

    def close(self) -> None:
        """Write the manifest, after the styles (their CRC is part of it)."""
        styles = self.book.getinfo(STYLES)
        manifest = {"styles": {"crc": styles.CRC, "size": styles.file_size}, "sheets": self.entries}
        self.book.writestr(MANIFEST, json.dumps(manifest, indent=1))

    def relationships(self) -> str:
        """The package relationships that tie the copies and the manifest to the package."""
        targets = [MANIFEST, *(e["copy"] for e in self.entries)]
        return "".join(f'<Relationship Id="rOltpOlap{i}" Type="{RELATIONSHIP}" Target="{t}"/>'
                       for i, t in enumerate(targets, 1))


def read_copy(con: duckdb.DuckDBPyConnection, path: Path, sheet: str, table: str) -> int | None:
    """Load the copy of ``sheet`` into ``table`` and return its rows, or None when the workbook has no
    copy or the sheet (or its styles) changed since it was written."""
    try:
        with zipfile.ZipFile(path) as book:
            entry = _unchanged_entry(book, sheet)
            if entry is None:
                return None
            folder = Path(tempfile.mkdtemp(prefix="sheet-copy-"))
            try:
                parquet = folder / "copy.parquet"
                with book.open(entry["copy"]) as source, open(parquet, "wb") as target:
                    shutil.copyfileobj(source, target, 8 << 20)
                con.execute(f"CREATE OR REPLACE TABLE {quote(table)} AS SELECT * FROM read_parquet('{parquet}')")
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, ElementTree.ParseError, duckdb.Error):
        con.execute(f"DROP TABLE IF EXISTS {quote(table)}")
        return None  # a damaged copy is no proof: read the cells
    rows = con.execute(f"SELECT count(*) FROM {quote(table)}").fetchall()[0][0]
    if rows != entry["rows"]:
        con.execute(f"DROP TABLE {quote(table)}")
        return None
    return rows


def _unchanged_entry(book: zipfile.ZipFile, sheet: str) -> dict | None:
    try:
        manifest = json.loads(book.read(MANIFEST))
    except KeyError:
        return None
    entry = next((e for e in manifest["sheets"] if e["sheet"] == sheet), None)
    if entry is None or _sheet_part(book, sheet) != entry["part"]:
        return None
    sheet_info, styles = book.getinfo(entry["part"]), book.getinfo(STYLES)
    if (sheet_info.CRC, sheet_info.file_size) != (entry["crc"], entry["size"]):
        return None
    if (styles.CRC, styles.file_size) != (manifest["styles"]["crc"], manifest["styles"]["size"]):
        return None
    return entry


def _sheet_part(book: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member that holds ``sheet`` now, by the workbook's sheet list and relationships."""
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    pr = workbook.find(f"{_MAIN}workbookPr")
    if pr is not None and pr.get("date1904") in ("1", "true"):
        return None  # dates count from 1904 now: the cells no longer mean what was written
    rel_id = next((s.get(_DOC_ID) for s in workbook.iter(f"{_MAIN}sheet") if s.get("name") == sheet), None)
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    target = next((r.get("Target") for r in rels.iter(f"{_RELS}Relationship") if r.get("Id") == rel_id), None)
    if target is None:
        return None
    return target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)

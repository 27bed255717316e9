"""The copy of a sheet's values inside its workbook: read only while the sheet is unchanged, and equal to its cells."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest

from desktop_app.core.excel import read as read_module
from desktop_app.core.excel.column_copy import MANIFEST
from desktop_app.core.excel.read import load_sheet, open_workbook
from desktop_app.core.excel.xlsx_stream import StreamingWorkbook
from tests.excel.libreoffice import sheets_as_csv, soffice

HOSTILE = """
SELECT * FROM (VALUES
  (1, 9007199254740993, 12345678901234567890123.45::DECIMAL(38, 2), 1.25::DECIMAL(10, 2), 'nan'::DOUBLE,
   TIMESTAMP '2024-03-01 10:00:00.123', TIMESTAMP '2024-03-01 10:00:00.123456', DATE '2024-02-29', true,
   'plain', '=1+1', E'line\\r\\nbreak', '_x0001_ & <tag>', 'a' || chr(65534) || 'b', '\\xAB'::BLOB),
  (2, -5, 1, 2.5, 0.1, TIMESTAMP 'infinity', TIMESTAMP '1899-12-31 10:00', DATE '1900-02-28', false,
   '', ' lead', 'tab\\tend', '@SUM(A1)', 'Zoltán', '\\x00'::BLOB),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
) AS t(id, big, wide, small, x, moment, fine, day, flag, txt, formula, breaks, escapes, nonchar, raw)
"""


def _write(path: Path, relation: str = f"({HOSTILE})") -> None:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE hostile AS {relation[1:-1]}")
    book = StreamingWorkbook(path)
    book.add_sheet(con, "hostile", "hostile")
    book.add_sheet(con, "second", "(SELECT 7 AS id, 'seven' AS name)")
    book.close()


def _load(path: Path, sheet: str, table: str, con, from_cells: bool = False, monkeypatch=None):
    if from_cells:
        monkeypatch.setattr(read_module, "read_copy", lambda *a: None)
    try:
        return load_sheet(con, open_workbook(path, "test"), path, sheet, table)
    finally:
        if from_cells:
            monkeypatch.undo()


def test_an_unchanged_sheet_reads_from_its_copy_the_values_its_cells_hold(tmp_path, monkeypatch):
    path = tmp_path / "w.xlsx"
    _write(path)
    con = duckdb.connect()
    copied = _load(path, "hostile", "copy", con)
    cells = _load(path, "hostile", "cells", con, from_cells=True, monkeypatch=monkeypatch)
    assert copied.from_copy and not cells.from_copy
    assert copied.rows == cells.rows == 3
    columns = con.execute("SELECT column_name, column_type FROM (DESCRIBE copy)").fetchall()
    assert [c for c, _ in columns] == [r[0] for r in con.execute("DESCRIBE cells").fetchall()]
    for column, kind in columns:  # each value as the cell reads back, in the copy's own type
        differing = con.execute(
            f'SELECT a."{column}", b."{column}" FROM copy a POSITIONAL JOIN (SELECT "{column}" FROM cells) b '
            f'WHERE TRY_CAST(b."{column}" AS {kind}) IS DISTINCT FROM a."{column}"').fetchall()
        assert not differing, (column, kind, differing)
    row = con.execute("SELECT big, txt, nonchar, raw FROM copy ORDER BY id").fetchall()
    assert row[0] == ("9007199254740993", "plain", "a\ufffdb", "AB")  # beyond 2^53: the text the cell holds
    assert row[1][1] is None  # an empty text is a blank cell


def test_a_sheet_changed_in_place_is_read_from_its_cells(tmp_path):
    """A tool that rewrites only the sheet's XML leaves the copy stale: the CRC tells, and the cells win."""
    path = tmp_path / "w.xlsx"
    _write(path)
    edited = tmp_path / "edited.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(edited, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet2.xml":
                data = data.replace(b"<v>7</v>", b"<v>8</v>")
            target.writestr(item, data)
    con = duckdb.connect()
    read = _load(edited, "second", "t", con)
    assert not read.from_copy
    assert con.execute("SELECT id FROM t").fetchall() == [(8,)]
    assert _load(edited, "hostile", "h", con).from_copy  # the other sheet is unchanged


@pytest.mark.parametrize("change", ["styles", "renamed", "damaged copy", "1904 dates", "openpyxl"])
def test_anything_that_could_change_what_the_cells_mean_is_read_from_the_cells(tmp_path, change):
    path = tmp_path / "w.xlsx"
    _write(path)
    edited = tmp_path / "edited.xlsx"
    if change == "openpyxl":
        book = openpyxl.load_workbook(path)
        book.save(edited)
    else:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(edited, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                data = source.read(item)
                if change == "styles" and item.filename == "xl/styles.xml":
                    data = data.replace(b'formatCode="yyyy-mm-dd"', b'formatCode="0.00"')
                if change == "renamed" and item.filename == "xl/workbook.xml":  # the two sheets swap names
                    data = (data.replace(b'name="hostile"', b'name="tmp"').replace(b'name="second"', b'name="hostile"')
                            .replace(b'name="tmp"', b'name="second"'))
                if change == "damaged copy" and item.filename.endswith("sheet2.parquet"):
                    data = data[:20] + b"garbage" + data[27:]
                if change == "1904 dates" and item.filename == "xl/workbook.xml":
                    data = data.replace(b"<sheets>", b'<workbookPr date1904="1"/><sheets>')
                target.writestr(item, data)
    con = duckdb.connect()
    read = _load(edited, "second", "t", con)
    assert not read.from_copy
    if change == "renamed":
        assert "big" in [r[0] for r in con.execute("DESCRIBE t").fetchall()]  # the sheet now named 'second'
    else:
        assert con.execute("SELECT id, name FROM t").fetchall() == [(7, "seven")]


def test_the_manifest_names_each_sheet_with_its_crc(tmp_path):
    path = tmp_path / "w.xlsx"
    _write(path)
    with zipfile.ZipFile(path) as book:
        manifest = json.loads(book.read(MANIFEST))
        assert [s["sheet"] for s in manifest["sheets"]] == ["hostile", "second"]
        for sheet in manifest["sheets"]:
            assert book.getinfo(sheet["part"]).CRC == sheet["crc"]
            assert book.getinfo(sheet["copy"]).compress_type == zipfile.ZIP_STORED
        assert b"parquet" in book.read("[Content_Types].xml")
        assert MANIFEST.encode() in book.read("_rels/.rels")


@pytest.mark.skipif(not soffice(), reason="needs LibreOffice")
def test_libreoffice_opens_a_workbook_with_copies(tmp_path):
    path = tmp_path / "w.xlsx"
    _write(path)
    sheets = sheets_as_csv(path, tmp_path)
    assert sheets["second"] == [["id", "name"], ["7", "seven"]]
    assert sheets["hostile"][1][9] == "plain"

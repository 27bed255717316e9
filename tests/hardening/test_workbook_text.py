"""Text in the workbooks arrives byte for byte: characters XML forbids, carriage returns, literal
OOXML escapes; and formula-looking text always gets the quote prefix."""

from __future__ import annotations

import os
import random
import xml.etree.ElementTree as ET
import zipfile

import duckdb
import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from desktop_app.core.excel.cell_text import FORMULA_LIKE, FORMULA_LIKE_RE2, read_back, xml_text, xml_text_sql
from desktop_app.core.excel.export import export_raw
from desktop_app.core.excel.xlsx_stream import formula_like_sql
from desktop_app.core.olap.warehouse import Warehouse
from tests.excel.libreoffice import sheets_as_csv, soffice

AWKWARD = ["a\rb", "\r\n", "line\r", "\x00nul", "\x01\x02\x1f", "\x0b\x0c", "tab\tkept", "lf\nkept",
           "lit _x0041_ z", "_x005F_", "_x000D_", "_xFFFE_", "a_x00e9_b", "<&>\"'", "é€😀", "  padded  ",
           "\ufeffbom", "plain"]
NONCHARACTERS = ["x\ufffey", "\uffff"]
FORMULA_LIKE_TEXT = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\x01=HYPERLINK(\"http://x\",\"y\")",
                     "\ufeff=1", " =1", "\u200b=1", "＝1+1", "＋1", "－1", "＠x", "\n=1"]
PLAIN_TEXT = ["a=1", "1-2", "x@y", "", "(=1)"]


def random_text(rng: random.Random) -> str:
    alphabet = [chr(c) for c in range(0, 0x30)] + list("_x0123456789ABCDEFabcdef=+-@&<>é€😀") + \
               ["\ufffe", "\uffff", "\ufeff", "\u200b", "＝"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def test_xml_text_is_valid_xml_and_sql_renders_it_the_same(tmp_path):
    rng = random.Random(17)
    values = AWKWARD + NONCHARACTERS + FORMULA_LIKE_TEXT + PLAIN_TEXT + [random_text(rng) for _ in range(3000)]
    con = duckdb.connect()
    con.execute("create table t (i int, v varchar)")
    con.executemany("insert into t values (?, ?)", list(enumerate(values)))
    rendered = dict(con.execute(f"select i, {xml_text_sql('v')} from t").fetchall())
    quoted = dict(con.execute(f"select i, regexp_matches(v, '{FORMULA_LIKE_RE2}') from t").fetchall())
    prechecked = dict(con.execute(f"select i, {formula_like_sql('v')} from t").fetchall())  # the writer's form
    for i, value in enumerate(values):
        assert rendered[i] == xml_text(value), repr(value)
        assert quoted[i] == prechecked[i] == bool(FORMULA_LIKE.match(value)), repr(value)
        element = ET.fromstring(f'<t xml:space="preserve">{xml_text(value)}</t>')  # strict: fails on bad XML
        expected = value.replace("\ufffe", "\ufffd").replace("\uffff", "\ufffd")
        assert read_back(element.text or "") == expected, repr(value)


def test_formula_like_text_is_recognised_behind_any_lead_in():
    assert all(FORMULA_LIKE.match(v) for v in FORMULA_LIKE_TEXT)
    assert not any(FORMULA_LIKE.match(v) for v in PLAIN_TEXT)


def awkward_warehouse(path):
    """A warehouse whose raw.customers holds every awkward and formula-looking text."""
    texts = AWKWARD + NONCHARACTERS + FORMULA_LIKE_TEXT + PLAIN_TEXT
    with Warehouse(path) as wh:
        cursor = wh.cursor()
        cursor.execute('create table raw.customers (customer_id bigint, "=HYPERLINK(1)" varchar, note varchar)')
        cursor.executemany("insert into raw.customers values (?, ?, ?)",
                           [(i, t, t[::-1]) for i, t in enumerate(texts)])
        for table in ("orders", "order_items", "products", "categories"):
            cursor.execute(f"create table raw.{table} (id bigint)")
    return texts


def exported_awkward_text(tmp_path):
    """Stage 1 of a warehouse of awkward text: (the texts, the stage's result, its folder)."""
    warehouse = tmp_path / "w.duckdb"
    texts = awkward_warehouse(warehouse)
    out = tmp_path / "out"
    out.mkdir()
    with Warehouse(warehouse) as wh:
        return texts, export_raw(wh, out), out


def test_stage_one_writes_valid_xml_and_every_reader_gets_the_text_back(tmp_path):
    texts, result, out = exported_awkward_text(tmp_path)
    expected = [t.replace("\ufffe", "\ufffd").replace("\uffff", "\ufffd") for t in texts]
    assert any("U+FFFE" in note and "customers" in note for note in result.notes)  # the one change is named
    path = out / "01_raw_export.xlsx"
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            if name.endswith(".xml"):
                ET.fromstring(package.read(name))  # every part is well-formed XML
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("customers").to_python()
    assert rows[0] == ["customer_id", "=HYPERLINK(1)", "note"]
    assert [r[1] for r in rows[1:]] == expected
    assert [r[2] for r in rows[1:]] == [t[::-1] for t in expected]
    book = openpyxl.load_workbook(path)
    sheet = book["customers"]
    assert sheet["B1"].quotePrefix  # a column name that looks like a formula
    for row, text in enumerate(expected, 2):
        cell = sheet.cell(row, 2)
        assert cell.data_type == "s" and read_back(cell.value) == text
        assert cell.quotePrefix == bool(FORMULA_LIKE.match(text)), repr(text)


@pytest.mark.skipif(soffice() is None and not os.environ.get("CI"), reason="LibreOffice is not installed here")
def test_libreoffice_reads_stage_one_text_byte_for_byte(tmp_path):
    texts, _result, out = exported_awkward_text(tmp_path)
    sheets = sheets_as_csv(out / "01_raw_export.xlsx", tmp_path)
    customers = sheets["customers"]
    assert len(customers) == len(texts) + 1  # no row lost (LibreOffice stopped at the first bad character)
    expected = [t.replace("\ufffe", "\ufffd").replace("\uffff", "\ufffd") for t in texts]
    # LibreOffice's import makes a CR LF pair one LF (a lone CR stays; an .xlsx LibreOffice saves shows the
    # same): everything else must be as written.
    assert [r[1] for r in customers[1:]] == [t.replace("\r\n", "\n") for t in expected]


def test_the_two_roads_agree_on_departments_with_awkward_names(shop, tmp_path):
    """A CR in a grouping key made the roads disagree (stage 1 wrote a raw CR, read back as LF); control
    characters were dropped; U+FFFE made the workbooks invalid XML."""
    import sqlite3

    from desktop_app.core.excel.pipeline import run_excel
    from desktop_app.core.excel.roads import reconcile_roads
    from desktop_app.core.ingest.run import run_ingest
    from desktop_app.core.models.runner import run_command
    from desktop_app.core.oltp.source import open_source
    from desktop_app.paths import sql_project_dir

    names = ["Books\rand more", "Toys\x01", "=Garden", "Home\ufffe", "Sports\r\n", "_x0041_"]
    with sqlite3.connect(shop) as db:
        departments = [r[0] for r in db.execute("select category_id from categories where parent_id is null "
                                                "order by 1").fetchall()]
        for category_id, name in zip(departments, names, strict=False):
            db.execute("update categories set name = ? where category_id = ?", (name, category_id))
    warehouse, out = tmp_path / "w.duckdb", tmp_path / "out"
    out.mkdir()
    with open_source(str(shop)) as source, Warehouse(warehouse) as wh:
        assert run_ingest(source, wh).ok
        assert run_command("build", sql_project_dir(), wh, target_dir=tmp_path / "target").ok
        results = run_excel(wh, out)
        checks = reconcile_roads(results[-1].path, wh)
    different = [(c.figure, c.excel, c.models) for c in checks if not c.equal]
    assert checks and not different, different[:5]
    figures = {c.figure for c in checks}
    assert any("Books\rand more" in f for f in figures) and any("Toys\x01" in f for f in figures)
    assert any("Home\ufffd" in f for f in figures)  # the one named change
    assert any("U+FFFE" in note for r in results for note in r.notes)
    report = openpyxl.load_workbook(results[-1].path)
    header = {read_back(c.value): c for c in report["Monthly revenue"][1]}
    assert header["=Garden"].quotePrefix and header["=Garden"].data_type == "s"

"""The Excel road with values the demo shop never has: keys beyond 2^53, infinity, NaN, old dates, hand
edits. Every value arrives exactly or the stage stops with an error naming it; never a wrong total."""

from __future__ import annotations

import duckdb
import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from desktop_app.core.errors import ExportError
from desktop_app.core.excel import transform as transform_module
from desktop_app.core.excel.export import export_raw
from desktop_app.core.excel.pipeline import run_excel
from desktop_app.core.excel.roads import reconcile_roads
from desktop_app.core.excel.stages import INTERMEDIATE, RAW_EXPORT
from desktop_app.core.excel.transform import transform
from desktop_app.core.models.runner import run_command
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.paths import sql_project_dir
from tests.conftest import private_copy

BIG = 2 ** 60


@pytest.fixture
def warehouse(ingested_warehouse, tmp_path):
    return private_copy(ingested_warehouse, tmp_path)


def test_keys_beyond_2_53_round_trip_exactly_and_the_roads_agree(warehouse, tmp_path):
    """20,000 orders became 79 ids and an 11-million-row sheet: stage 2 read the keys back as doubles."""
    with duckdb.connect(str(warehouse)) as con:
        for table, key in (("orders", "order_id"), ("order_items", "order_id"), ("order_items", "order_item_id"),
                           ("payments", "order_id"), ("shipments", "order_id")):
            con.execute(f"update raw.{table} set {key} = {key} + {BIG}")
        expected = con.execute("select count(*), min(order_id), max(order_id) from raw.orders").fetchall()[0]
    out = tmp_path / "out"
    out.mkdir()
    with Warehouse(warehouse) as wh:
        assert run_command("build", sql_project_dir(), wh, target_dir=tmp_path / "target").ok
        results = run_excel(wh, out)
        checks = reconcile_roads(results[-1].path, wh)
    assert any("order_id" in note and "written as text" in note for note in results[0].notes)
    raw = CalamineWorkbook.from_path(str(out / RAW_EXPORT)).get_sheet_by_name("orders").to_python()
    ids = [int(row[0]) for row in raw[1:]]
    assert (len(ids), min(ids), max(ids)) == expected and isinstance(raw[1][0], str)
    lines = CalamineWorkbook.from_path(str(out / INTERMEDIATE)).get_sheet_by_name("order_lines").to_python()
    assert len(lines) - 1 == results[1].rows["order_lines"] < 60_000  # not multiplied by collapsed keys
    assert all(int(row[1]) > BIG for row in lines[1:])
    different = [(c.figure, c.excel, c.models) for c in checks if not c.equal]
    assert checks and not different, different[:5]


def test_the_intermediate_sheet_never_exceeds_a_sheet(warehouse, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    with Warehouse(warehouse) as wh:
        export_raw(wh, out)
    monkeypatch.setattr(transform_module, "MAX_ROWS", 1_000)
    with pytest.raises(ExportError, match="one Excel sheet holds at most 999"):
        transform(out / RAW_EXPORT, out)
    assert not (out / INTERMEDIATE).exists()


@pytest.mark.parametrize("sheet, column, value, message", [
    ("orders", "order_id", "duplicate", r"has 2 rows with order_id 1; a key names one row"),
    ("orders", "placed_at", "infinity", r"placed_at of the orders sheet .* not dates \(e.g. 'infinity'\)"),
    ("orders", "placed_at", "epoch", r"placed_at of the orders sheet .* not dates \(e.g. 'epoch'\)"),
    ("order_items", "product_id", "0x1A", r"product_id of the order_items sheet .* not whole numbers \(e.g. '0x1A'\)"),
    ("order_items", "quantity", 9007199254740994.0, r"quantity of the order_items sheet .* not whole numbers"),
    ("order_items", "quantity", 9007199254740992.0, r"Step derive failed .* Overflow"),
    ("orders", "order_id", None, r"row\(s\) without a order_id"),
])
def test_hand_edits_that_would_change_a_total_are_refused(warehouse, tmp_path, sheet, column, value, message):
    """A duplicated row inflated revenue; 'infinity', 'epoch' and '0x1A' were read as values."""
    out = tmp_path / "out"
    out.mkdir()
    with Warehouse(warehouse) as wh:
        export_raw(wh, out)
    book = openpyxl.load_workbook(out / RAW_EXPORT)
    rows = book[sheet]
    header = [c.value for c in rows[1]]
    if value == "duplicate":
        rows.append([c.value for c in rows[2]])
    else:
        rows.cell(row=2, column=header.index(column) + 1).value = value
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    with pytest.raises(ExportError, match=message):
        transform(edited, tmp_path)
    assert not (tmp_path / INTERMEDIATE).exists()


def test_values_excel_cannot_hold_are_written_as_text_not_bent(tmp_path):
    """TIMESTAMP 'infinity' crashed stage 1; DATE ±infinity became a serial of ±2.1e9; NaN a blank."""
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        cursor = wh.cursor()
        cursor.execute("create table raw.customers (customer_id bigint, moment timestamp, day date, x double, "
                       "amount decimal(38, 2), small decimal(10, 2))")
        cursor.execute("insert into raw.customers values "
                       "(1, 'infinity', 'infinity', 'nan', 12345678901234567890123.45, 1.25), "
                       "(2, '-infinity', '-infinity', 'inf', 1, 2), "
                       "(3, '1899-12-31 10:00', '1900-02-28', '-inf', 2, 3), "
                       "(4, '2024-03-01 10:00', '2024-03-01', 0.1, 3, 4)")
        for table in ("orders", "order_items", "products", "categories"):
            cursor.execute(f"create table raw.{table} (id bigint)")
        out = tmp_path / "out"
        out.mkdir()
        result = export_raw(wh, out)
    rows = CalamineWorkbook.from_path(str(out / RAW_EXPORT)).get_sheet_by_name("customers").to_python()
    assert rows[1][1:4] == ["infinity", "infinity", "nan"]
    assert rows[2][1:4] == ["-infinity", "-infinity", "inf"]
    assert rows[3][1:4] == ["1899-12-31 10:00:00", "1900-02-28", "-inf"]
    assert str(rows[4][1]).startswith("2024-03-01") and rows[4][3] == 0.1
    assert rows[1][4] == "12345678901234567890123.45" and rows[1][5] == 1.25  # exact, as text where needed
    assert any("amount written as text" in note for note in result.notes)


def test_a_report_with_an_odd_month_is_still_reconciled(warehouse, tmp_path):
    """reconcile-roads crashed on an infinity month; stage 3 on a blank one."""
    out = tmp_path / "out"
    out.mkdir()
    with Warehouse(warehouse) as wh:
        assert run_command("build", sql_project_dir(), wh, target_dir=tmp_path / "target").ok
        results = run_excel(wh, out)
        wh.cursor().execute("update raw.orders set placed_at = 'infinity' where order_id = "
                            "(select min(order_id) from raw.orders where status = 'paid')")
        assert run_command("build", sql_project_dir(), wh, target_dir=tmp_path / "target", full_refresh=True).ok
        checks = reconcile_roads(results[-1].path, wh)
    assert checks and any(not c.equal for c in checks)  # the marts changed: said, not crashed


def test_an_empty_text_is_named_because_a_workbook_reads_it_as_blank(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update raw.categories set name = '' where category_id = 1")
    out = tmp_path / "out"
    out.mkdir()
    with Warehouse(warehouse) as wh:
        result = export_raw(wh, out)
    assert any(note.startswith("categories: empty texts (name 1)") for note in result.notes)

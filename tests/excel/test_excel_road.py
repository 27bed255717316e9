"""The Excel road on a freshly ingested and modelled demo warehouse."""

from __future__ import annotations

import os
import shutil
from decimal import Decimal

import duckdb
import openpyxl
import pytest

from desktop_app.core.errors import Cancelled, ExportError
from desktop_app.core.excel.export import export_raw
from desktop_app.core.excel.pipeline import run_excel
from desktop_app.core.excel.roads import FigureCheck, reconcile_roads
from desktop_app.core.excel.stages import FINAL_REPORT, INTERMEDIATE, RAW_EXPORT
from desktop_app.core.excel.transform import transform
from desktop_app.core.ingest.run import run_ingest
from desktop_app.core.models.runner import run_command
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.source import open_source
from desktop_app.core.progress import CancelToken
from desktop_app.paths import sql_project_dir
from tests.excel.libreoffice import recalculate, soffice


@pytest.fixture(scope="module")
def modelled(pristine_shop, tmp_path_factory):
    """A warehouse with the demo shop ingested and the models built, and the three workbooks."""
    folder = tmp_path_factory.mktemp("excel")
    warehouse = folder / "warehouse.duckdb"
    with open_source(str(pristine_shop)) as source, Warehouse(warehouse) as wh:
        assert run_ingest(source, wh).ok
        assert run_command("build", sql_project_dir(), wh, target_dir=folder / "target").ok
        out = folder / "out"
        out.mkdir()
        results = run_excel(wh, out)
    return warehouse, out, results


def revenue_from_warehouse(warehouse) -> Decimal:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cents = con.execute("""select sum(i.quantity * i.unit_price_cents - i.discount_cents) from raw.order_items i
                               join raw.orders o using (order_id)
                               where o.status in ('paid', 'shipped', 'delivered')""").fetchall()[0][0]
    return Decimal(cents) / 100


def test_three_stages_write_real_typed_values(modelled):
    warehouse, out, results = modelled
    assert [r.stage for r in results] == ["raw", "intermediate", "final"]
    raw = openpyxl.load_workbook(out / RAW_EXPORT, read_only=True)
    assert raw.sheetnames == ["orders", "order_items", "products", "categories", "customers"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        first = con.execute("select order_id, total_cents, placed_at, status from raw.orders order by 1 limit 1"
                            ).fetchall()[0]
        counts = {t: con.execute(f"select count(*) from raw.{t}").fetchall()[0][0] for t in raw.sheetnames}
    rows = list(raw["orders"].iter_rows(min_row=1, max_row=2, values_only=True))
    header = rows[0]
    values = dict(zip(header, rows[1], strict=True))
    assert (values["order_id"], values["total_cents"], values["placed_at"], values["status"]) == first
    assert results[0].rows == counts
    full = openpyxl.load_workbook(out / RAW_EXPORT)
    orders = full["orders"]
    assert orders.freeze_panes == "A2" and orders.auto_filter.ref.startswith("A1:")
    assert orders["A1"].font.b
    # Formula-injection text is a text cell (with Excel's quote prefix), never a formula.
    risky = [c for c in full["customers"]["C"] if isinstance(c.value, str) and c.value.startswith("=")]
    assert risky and all(c.data_type == "s" and c.quotePrefix for c in risky)
    steps = {r[0]: r[1:] for r in openpyxl.load_workbook(out / INTERMEDIATE, read_only=True)["Steps"]
             .iter_rows(min_row=2, values_only=True)}
    assert list(steps) == ["clean", "derive", "look up", "filter", "tidy"]
    assert steps["clean"][1] == sum(counts.values())
    assert steps["look up"][2] == counts["order_items"]
    assert steps["tidy"][2] == results[1].rows["order_lines"] < counts["order_items"]
    report = openpyxl.load_workbook(out / FINAL_REPORT)
    assert report.sheetnames == ["Summary", "Monthly revenue", "Top customers", "Top products", "Provenance"]
    assert report["Summary"]["B4"].value.startswith("=")  # a live formula
    assert len(report["Summary"]._charts) == 2
    provenance = {r[0]: r[1] for r in report["Provenance"].iter_rows(min_row=3, values_only=True)}
    assert provenance["Ingestion run"] == "1" and provenance["Warehouse"] == str(warehouse)


@pytest.mark.skipif(soffice() is None and not os.environ.get("CI"), reason="LibreOffice is not installed here")
def test_libreoffice_recalculates_every_formula_to_the_warehouse_figure(modelled, tmp_path):
    warehouse, out, _ = modelled
    recalculated = recalculate(out / FINAL_REPORT, tmp_path)
    book = openpyxl.load_workbook(recalculated, data_only=True)
    formulas = openpyxl.load_workbook(out / FINAL_REPORT)
    expected_total = revenue_from_warehouse(warehouse)
    assert round(Decimal(str(book["Summary"]["B4"].value)), 2) == expected_total
    with duckdb.connect(str(warehouse), read_only=True) as con:
        by_month = {m: r for m, r in con.execute(
            "select order_month, sum(revenue) from main_marts.monthly_revenue_by_category group by 1").fetchall()}
        by_department = dict(con.execute(
            "select department, sum(revenue) from main_marts.monthly_revenue_by_category group by 1").fetchall())
        orders = con.execute("select count(*) from main_marts.fct_orders where is_revenue").fetchall()[0][0]
    monthly, source = book["Monthly revenue"], formulas["Monthly revenue"]
    checked = 0
    header = [c.value for c in monthly[1]]
    for row in range(2, monthly.max_row + 1):
        for col in range(2, monthly.max_column + 1):
            if not str(source.cell(row, col).value).startswith("="):
                continue
            value = round(Decimal(str(monthly.cell(row, col).value)), 2)
            label = monthly.cell(row, 1).value
            if label == "Total":
                wanted = expected_total if header[col - 1] == "Total" else by_department[header[col - 1]]
            else:
                wanted = by_month[label.date()]
            assert value == wanted, (row, col)
            checked += 1
    # one total per month row, then one per department column plus the grand total
    assert checked == (monthly.max_row - 2) + (monthly.max_column - 1)
    assert book["Summary"]["B5"].value == orders
    assert round(Decimal(str(book["Summary"]["B6"].value)), 2) == round(expected_total / orders, 2)


def test_roads_agree_and_an_altered_figure_is_caught(modelled, tmp_path):
    warehouse, out, _ = modelled
    with Warehouse(warehouse) as wh:
        checks = reconcile_roads(out / FINAL_REPORT, wh)
        assert len(checks) > 50 and all(c.equal for c in checks)
        altered = tmp_path / "altered.xlsx"
        book = openpyxl.load_workbook(out / FINAL_REPORT)
        book["Monthly revenue"]["C5"].value = book["Monthly revenue"]["C5"].value + 1
        book.save(altered)
        different = [c for c in reconcile_roads(altered, wh) if not c.equal]
    assert sorted(c.figure for c in different)[1] == "total revenue"  # the cell, and the total it feeds
    assert len(different) == 2 and different[0].figure.startswith("revenue 20")


def test_row_limit_is_refused_before_writing(tmp_path):
    warehouse = tmp_path / "big.duckdb"
    with Warehouse(warehouse) as wh:
        for table in ("orders", "order_items", "products", "categories", "customers"):
            wh.cursor().execute(f"create table raw.{table} as select 1 as id")
        wh.cursor().execute("create or replace table raw.order_items as select range as id from range(1048576)")
        with pytest.raises(ExportError, match=r"order_items \(1,048,576 rows\)"):
            export_raw(wh, tmp_path)
    assert not list(tmp_path.glob("*.xlsx*"))


def test_failures_never_break_or_lose_the_previous_workbook(modelled, tmp_path):
    warehouse, out, _ = modelled
    target_dir = tmp_path / "out"
    target_dir.mkdir()
    shutil.copy(out / RAW_EXPORT, target_dir / RAW_EXPORT)
    before = (target_dir / RAW_EXPORT).read_bytes()
    token = CancelToken()

    def cancel_midway(progress):
        if progress.done > 1000:
            token.cancel()

    with Warehouse(warehouse) as wh, pytest.raises(Cancelled):
        export_raw(wh, target_dir, report=cancel_midway, cancel=token)
    assert (target_dir / RAW_EXPORT).read_bytes() == before
    assert sorted(p.name for p in target_dir.iterdir()) == [RAW_EXPORT]
    read_only = tmp_path / "locked"
    read_only.mkdir()
    read_only.chmod(0o555)
    try:
        if not os.access(read_only, os.W_OK):  # root can write anywhere: nothing to test then
            with Warehouse(warehouse) as wh, pytest.raises(ExportError, match="permission denied"):
                export_raw(wh, read_only)
    finally:
        read_only.chmod(0o755)


def test_stage2_input_errors_name_the_file_sheet_and_column(modelled, tmp_path):
    _, out, _ = modelled
    with pytest.raises(ExportError, match=r"No raw export \(01_raw_export.xlsx\) workbook at .*missing.xlsx"):
        transform(tmp_path / "missing.xlsx", tmp_path)
    not_xlsx = tmp_path / "notes.xlsx"
    not_xlsx.write_text("hello")
    with pytest.raises(ExportError, match="not a readable .xlsx workbook"):
        transform(not_xlsx, tmp_path)
    with pytest.raises(ExportError, match="has no sheet 'orders'"):
        transform(out / FINAL_REPORT, tmp_path)
    broken = tmp_path / "broken.xlsx"
    book = openpyxl.load_workbook(out / RAW_EXPORT)
    book["products"].delete_cols(4)  # the "name" column
    book.save(broken)
    with pytest.raises(ExportError, match=r"Sheet 'products' of .*broken.xlsx lacks the column\(s\) name"):
        transform(broken, tmp_path)
    assert not (tmp_path / INTERMEDIATE).exists()


@pytest.mark.parametrize(("sheet", "column", "typed", "message"), [
    ("order_items", "unit_price_cents", "twelve", r"unit_price_cents of the order_items sheet .* not whole numbers "
                                                  r"\(e.g. 'twelve'\)"),
    ("order_items", "quantity", 2.5, r"quantity of the order_items sheet .* not whole numbers \(e.g. '2.5'\)"),
    ("orders", "placed_at", "last tuesday", r"placed_at of the orders sheet .* not dates \(e.g. 'last tuesday'\)"),
])
def test_hand_edited_raw_export_gets_a_clear_error(modelled, tmp_path, sheet, column, typed, message):
    """Stage 2 read such cells with a database cast: text failed with DuckDB's conversion error, and a
    fraction in a whole-number column would have been rounded."""
    _, out, _ = modelled
    book = openpyxl.load_workbook(out / RAW_EXPORT)
    header = [c.value for c in book[sheet][1]]
    book[sheet].cell(row=4, column=header.index(column) + 1, value=typed)
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    with pytest.raises(ExportError, match=message) as raised:
        transform(edited, tmp_path)
    assert "Correct the cell" in raised.value.hint
    assert not (tmp_path / INTERMEDIATE).exists()


def test_hand_edited_intermediate_gets_a_clear_error_and_blank_cells_are_empty(modelled, tmp_path):
    """Stage 3 reads what the analyst's workbook holds: text typed into a number column is named, not dropped."""
    from desktop_app.core.excel.report import build_report

    _, out, _ = modelled
    book = openpyxl.load_workbook(out / INTERMEDIATE, read_only=False)
    sheet = book["order_lines"]
    header = [c.value for c in sheet[1]]
    revenue_col = header.index("line_revenue_cents") + 1
    sheet.cell(row=3, column=revenue_col, value="twelve")
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    with pytest.raises(ExportError, match=r"line_revenue_cents .* 1 value\(s\) that are not whole numbers "
                                          r"\(e.g. 'twelve'\)"):
        build_report(edited, tmp_path)
    assert not (tmp_path / FINAL_REPORT).exists()

    # An emptied cell used to drop the line from every total, silently; now it is named.
    sheet.cell(row=3, column=revenue_col).value = None
    book.save(edited)
    with pytest.raises(ExportError, match=r"line_revenue_cents of the order_lines sheet .* 1 blank cell"):
        build_report(edited, tmp_path)
    assert not (tmp_path / FINAL_REPORT).exists()


def test_sheet_preview_reads_the_first_rows_and_knows_the_total(modelled):
    from desktop_app.core.excel.read import sheet_preview

    _, out, results = modelled
    preview = sheet_preview(out / RAW_EXPORT, "orders", limit=50)
    header, rows = preview.texts[0], preview.texts[1:]
    assert header[:2] == ["order_id", "customer_id"] and len(rows) == 49
    assert preview.total_rows == results[0].rows["orders"] + 1 and all(preview.bold[0])
    assert rows[0][0] == "1" and preview.numeric[1][0] and all(len(r) == len(header) for r in rows)
    report = sheet_preview(out / FINAL_REPORT, "Monthly revenue")
    assert report.texts[0][0] == "Month" and report.texts[1][0].split()[1].isdigit()  # 'Feb 2023', not a serial
    assert report.texts[1][1].endswith(" €") and report.numeric[1][1]  # money as the report shows it
    assert report.texts[-1][0] == "Total" and "None" not in sum(report.texts, [])
    with pytest.raises(ExportError, match="has no sheet 'nope'"):
        sheet_preview(out / RAW_EXPORT, "nope")


def test_both_roads_figures_are_shown_in_one_form():
    assert FigureCheck("revenue", 308.2, Decimal("308.20")).shown() == ("308.20", "308.20")
    assert FigureCheck("revenue", 93.0, Decimal("93.00")).shown() == ("93.00", "93.00")
    assert FigureCheck("top customer #1 id", 1617.0, 1617).shown() == ("1617", "1617")
    assert FigureCheck("revenue", None, Decimal("5.10")).shown() == ("", "5.10")

"""Stage 3 — final report: ``02_intermediate.xlsx`` → ``03_final_report.xlsx`` (xlsxwriter).

Summary (revenue, orders, average order value, active customers), monthly revenue by department
as a pivot whose totals are live ``SUM`` formulas, top customers and products, a native line
chart and bar chart, number formats, conditional formatting, print set-up, and Provenance.
Every formula is written with its computed value cached, so viewers that do not recalculate
show the right figure, and LibreOffice/Excel recalculating get the same one. Money is summed in
integer cents, then shown in euros, so no float rounding creeps in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from desktop_app import __version__
from desktop_app.core.excel.cell_text import FORMULA_LIKE
from desktop_app.core.excel.read import load_sheet, open_workbook, require_types
from desktop_app.core.excel.safety import atomic_target
from desktop_app.core.excel.stages import FINAL_REPORT, StageResult
from desktop_app.core.identifiers import quote
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Progress, Report

TOP_N = 20
LINE_COLUMNS = ("order_item_id", "order_id", "order_month", "customer_id", "customer_name", "country_code",
                "product_id", "product_name", "department", "quantity", "line_revenue_cents")


@dataclass
class Provenance:
    """Where the numbers came from, for the Provenance sheet."""

    source: str = ""
    warehouse: str = ""
    ingestion_run: str = ""
    ingested_at: str = ""
    stage_rows: dict[str, int] = field(default_factory=dict)


@dataclass
class Pivot:
    """Revenue in cents by month (rows) and department (columns)."""

    months: list[datetime]
    departments: list[str]
    cents: list[list[int]]  # [month][department]

    def __len__(self) -> int:
        return len(self.months)


@dataclass
class Figures:
    pivot: Pivot
    customers: list[tuple]  # (customer_id, name, country, orders, revenue_cents), best first
    products: list[tuple]  # (product_id, name, department, units, revenue_cents), best first
    revenue_cents: int
    orders: int
    active_customers: int
    first_month: datetime | None
    last_month: datetime | None
    line_count: int


def build_report(stage2: Path, out_dir: Path, *, provenance: Provenance | None = None,
                 report: Report = NULL_REPORT, cancel: CancelToken = NEVER) -> StageResult:
    started = time.perf_counter()
    stage2 = Path(stage2)
    book = open_workbook(stage2, "intermediate (02_intermediate.xlsx)")
    report(Progress("excel", 0, 3, "Reading the intermediate workbook", "final report"))
    con = duckdb.connect()
    remove = cancel.on_cancel(con.interrupt)
    try:
        load_sheet(con, book, stage2, "order_lines", "sheet_lines", LINE_COLUMNS, cancel)
        cancel.raise_if_cancelled()
        report(Progress("excel", 1, 3, "Computing the figures", "final report"))
        figures = compute_figures(con, "sheet_lines", stage2)
    finally:
        remove()
        con.close()
    target = Path(out_dir) / FINAL_REPORT
    with atomic_target(target) as temp:
        _write(temp, figures, provenance or Provenance())
    report(Progress("excel", 3, 3, "Report written", "final report"))
    return StageResult("final", target, time.perf_counter() - started,
                       {"Monthly revenue": len(figures.pivot), "Top customers": len(figures.customers),
                        "Top products": len(figures.products)})


def compute_figures(con: duckdb.DuckDBPyConnection, sheet_table: str, path: Path) -> Figures:
    """Every figure of the report, summed in integer cents by DuckDB over the order-line sheet."""
    _typed_lines(con, sheet_table, path)
    months = [m for (m,) in con.execute("SELECT DISTINCT order_month FROM lines ORDER BY 1").fetchall()]
    departments = [d for (d,) in con.execute("SELECT DISTINCT department FROM lines ORDER BY 1").fetchall()]
    cells = {(m, d): c for m, d, c in con.execute(
        "SELECT order_month, department, sum(line_revenue_cents) FROM lines GROUP BY ALL").fetchall()}
    pivot = Pivot(months, departments, [[int(cells.get((m, d), 0)) for d in departments] for m in months])
    customers = con.execute(f"""
        SELECT customer_id, customer_name, country_code, count(DISTINCT order_id), sum(line_revenue_cents) AS cents
        FROM lines GROUP BY ALL ORDER BY cents DESC, customer_id LIMIT {TOP_N}""").fetchall()
    products = con.execute(f"""
        SELECT product_id, product_name, department, sum(quantity), sum(line_revenue_cents) AS cents
        FROM lines GROUP BY ALL ORDER BY cents DESC, product_id LIMIT {TOP_N}""").fetchall()
    revenue, orders, active, first, last, count = con.execute(
        "SELECT coalesce(sum(line_revenue_cents), 0), count(DISTINCT order_id), count(DISTINCT customer_id), "
        "min(order_month), max(order_month), count(*) FROM lines").fetchall()[0]
    return Figures(pivot, customers, products, int(revenue), orders, active, first, last, count)


def _typed_lines(con: duckdb.DuckDBPyConnection, sheet_table: str, path: Path) -> None:
    """The sheet's columns as the report needs them; a cell that is not a whole number (or a month) is an
    error naming its column, never a silently dropped line."""
    whole = ("order_id", "customer_id", "product_id", "quantity", "line_revenue_cents")
    require_types(con, sheet_table, path, "order_lines", {**dict.fromkeys(whole, "BIGINT"), "order_month": "TIMESTAMP"},
                  "The workbook was changed by hand; re-run the intermediate stage.", required=(*whole, "order_month"))
    casts = ", ".join(f"CAST({quote(c)} AS BIGINT) AS {quote(c)}" for c in whole)
    con.execute(f"""CREATE TABLE lines AS SELECT {casts}, CAST(order_month AS TIMESTAMP) AS order_month,
                    CAST(customer_name AS VARCHAR) AS customer_name, CAST(country_code AS VARCHAR) AS country_code,
                    CAST(product_name AS VARCHAR) AS product_name,
                    coalesce(CAST(department AS VARCHAR), '(no department)') AS department
                    FROM {sheet_table}""")


def _text(sheet, row: int, col: int, value, fmt=None, quoted=None) -> None:
    """Always a string cell; formula-looking text also gets Excel's quote prefix."""
    value = "" if value is None else str(value)
    sheet.write_string(row, col, value, quoted if quoted is not None and FORMULA_LIKE.match(value) else fmt)


def _write(path: Path, figures: Figures, provenance: Provenance) -> None:
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False})
    f = {
        "title": book.add_format({"bold": True, "font_size": 16}),
        "header": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
        "header_quoted": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "quote_prefix": True}),
        "money": book.add_format({"num_format": "#,##0.00 [$€-x-euro2]"}),
        "money_bold": book.add_format({"num_format": "#,##0.00 [$€-x-euro2]", "bold": True, "top": 1}),
        "int": book.add_format({"num_format": "#,##0"}),
        "month": book.add_format({"num_format": "mmm yyyy"}),
        "label": book.add_format({"bold": True}),
        "quoted": book.add_format({"quote_prefix": True}),
        "bold_total": book.add_format({"bold": True, "top": 1}),
    }
    summary = book.add_worksheet("Summary")
    monthly = book.add_worksheet("Monthly revenue")
    customers = book.add_worksheet("Top customers")
    products = book.add_worksheet("Top products")
    prov = book.add_worksheet("Provenance")

    # -- Monthly revenue: the pivot, with SUM formulas for every total --------------------------------
    pivot = figures.pivot
    departments = pivot.departments
    monthly.write_string(0, 0, "Month", f["header"])
    for j, department in enumerate(departments, 1):
        _text(monthly, 0, j, department, f["header"], f["header_quoted"])
    total_col = len(departments) + 1
    monthly.write_string(0, total_col, "Total", f["header"])
    for i, (month, row) in enumerate(zip(pivot.months, pivot.cents, strict=True), 1):
        monthly.write_datetime(i, 0, month, f["month"])
        for j, cents in enumerate(row, 1):
            monthly.write_number(i, j, cents / 100, f["money"])
        first, last = xl_rowcol_to_cell(i, 1), xl_rowcol_to_cell(i, total_col - 1)
        monthly.write_formula(i, total_col, f"=SUM({first}:{last})", f["money_bold"], sum(row) / 100)
    total_row = len(pivot) + 1
    monthly.write_string(total_row, 0, "Total", f["bold_total"])
    for j in range(1, total_col + 1):
        column = xl_col_to_name(j)
        cached = (sum(r[j - 1] for r in pivot.cents) if j < total_col else sum(map(sum, pivot.cents))) / 100
        monthly.write_formula(total_row, j, f"=SUM({column}2:{column}{total_row})", f["money_bold"], cached)
    monthly.set_column(0, 0, 12)
    monthly.set_column(1, total_col, 16)
    monthly.freeze_panes(1, 1)
    if len(pivot):
        monthly.conditional_format(1, 1, total_row - 1, total_col - 1,
                                   {"type": "3_color_scale", "min_color": "#F8696B", "mid_color": "#FFEB84",
                                    "max_color": "#63BE7B"})
    grand_total = f"'Monthly revenue'!{xl_rowcol_to_cell(total_row, total_col, row_abs=True, col_abs=True)}"

    # -- Summary: formulas over the pivot and the values behind them ----------------------------------
    summary.write_string(0, 0, "Sales report", f["title"])
    summary.write_string(1, 0, f"{figures.first_month:%B %Y} – {figures.last_month:%B %Y}"
                         if figures.line_count else "No revenue in the data")
    rows = [("Revenue", f"={grand_total}", figures.revenue_cents / 100, f["money"]),
            ("Orders", None, figures.orders, f["int"]),
            ("Average order value", "=IF(B5=0,0,B4/B5)",
             (figures.revenue_cents / 100 / figures.orders) if figures.orders else 0, f["money"]),
            ("Active customers", None, figures.active_customers, f["int"])]
    for offset, (label, formula, value, fmt) in enumerate(rows):
        r = 3 + offset
        summary.write_string(r, 0, label, f["label"])
        if formula:
            summary.write_formula(r, 1, formula, fmt, value)
        else:
            summary.write_number(r, 1, value, fmt)
    summary.set_column(0, 0, 24)
    summary.set_column(1, 1, 18)

    if len(pivot):
        line = book.add_chart({"type": "line"})
        line.add_series({"name": "Revenue", "categories": ["Monthly revenue", 1, 0, total_row - 1, 0],
                         "values": ["Monthly revenue", 1, total_col, total_row - 1, total_col],
                         "marker": {"type": "circle", "size": 4}})
        line.set_title({"name": "Monthly revenue"})
        line.set_x_axis({"date_axis": True, "num_format": "mmm yy"})
        line.set_y_axis({"num_format": "#,##0"})
        line.set_legend({"none": True})
        summary.insert_chart("D2", line, {"x_scale": 1.4, "y_scale": 1.1})
        bar = book.add_chart({"type": "bar"})
        bar.add_series({"name": "Revenue by department",
                        "categories": ["Monthly revenue", 0, 1, 0, total_col - 1],
                        "values": ["Monthly revenue", total_row, 1, total_row, total_col - 1]})
        bar.set_title({"name": "Revenue by department"})
        bar.set_x_axis({"num_format": "#,##0"})
        bar.set_legend({"none": True})
        summary.insert_chart("D19", bar, {"x_scale": 1.4, "y_scale": 1.1})

    # -- Top customers and products --------------------------------------------------------------------
    def table(sheet, headers, records, widths):
        for j, header in enumerate(headers):
            sheet.write_string(0, j, header, f["header"])
        for i, record in enumerate(records, 1):
            for j, (value, fmt) in enumerate(record):
                if value is None:  # an empty text cell reads back as blank: a name may be missing
                    sheet.write_blank(i, j, None, fmt)
                elif isinstance(value, str):
                    _text(sheet, i, j, value, fmt, f["quoted"])
                else:
                    sheet.write_number(i, j, value, fmt)
        for j, width in enumerate(widths):
            sheet.set_column(j, j, width)
        sheet.freeze_panes(1, 0)
        if records:
            sheet.autofilter(0, 0, len(records), len(headers) - 1)
            sheet.conditional_format(1, len(headers) - 1, len(records), len(headers) - 1,
                                     {"type": "data_bar", "bar_color": "#63BE7B"})

    table(customers, ["Rank", "Customer id", "Customer", "Country", "Orders", "Revenue"],
          [((i, f["int"]), (customer_id, None), (name, None), (country, None), (orders, f["int"]),
            (int(cents) / 100, f["money"]))
           for i, (customer_id, name, country, orders, cents) in enumerate(figures.customers, 1)],
          [6, 12, 30, 9, 9, 16])
    table(products, ["Rank", "Product id", "Product", "Department", "Units", "Revenue"],
          [((i, f["int"]), (product_id, None), (name, None), (department, None), (int(units), f["int"]),
            (int(cents) / 100, f["money"]))
           for i, (product_id, name, department, units, cents) in enumerate(figures.products, 1)],
          [6, 11, 34, 20, 9, 16])

    # -- Provenance --------------------------------------------------------------------------------------
    prov.write_string(0, 0, "Provenance", f["title"])
    facts = [("App", f"OLTP → OLAP Studio {__version__}"),
             ("Generated at", datetime.now(UTC).isoformat(" ", "seconds")),
             ("Source", provenance.source), ("Warehouse", provenance.warehouse),
             ("Ingestion run", provenance.ingestion_run), ("Ingested at", provenance.ingested_at),
             ("Revenue rule", "lines of paid, shipped and delivered orders: quantity × unit price − discount")]
    facts += [(f"Rows: {stage}", f"{rows:,}") for stage, rows in provenance.stage_rows.items()]
    facts.append(("Rows: order lines in the report", f"{figures.line_count:,}"))
    for i, (key, value) in enumerate(facts, 2):
        prov.write_string(i, 0, key, f["label"])
        _text(prov, i, 1, value, None, f["quoted"])
    prov.set_column(0, 0, 32)
    prov.set_column(1, 1, 70)

    for sheet in (summary, monthly, customers, products, prov):
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.fit_to_pages(1, 0)
        sheet.set_margins(0.5, 0.5, 0.6, 0.6)
        sheet.set_header("&L&\"Calibri,Bold\"OLTP → OLAP Studio&R&A")
        sheet.set_footer("&CPage &P of &N")
    for sheet in (monthly, customers, products):
        sheet.repeat_rows(0)
    book.close()

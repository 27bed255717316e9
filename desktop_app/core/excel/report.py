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
from pathlib import Path

import duckdb

from desktop_app.core.excel.read import load_sheet, open_workbook, read_notes, require_types
from desktop_app.core.excel.report_figures import TOP_N, Figures, Pivot, Provenance
from desktop_app.core.excel.report_sheets import write_report
from desktop_app.core.excel.safety import atomic_target
from desktop_app.core.excel.scratch import scratch_connection
from desktop_app.core.excel.stages import FINAL_REPORT, StageResult
from desktop_app.core.identifiers import quote
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Progress, Report

LINE_COLUMNS = ("order_item_id", "order_id", "order_month", "customer_id", "customer_name", "country_code",
                "product_id", "product_name", "department", "quantity", "line_revenue_cents")


def build_report(stage2: Path, out_dir: Path, *, provenance: Provenance | None = None,
                 report: Report = NULL_REPORT, cancel: CancelToken = NEVER) -> StageResult:
    started = time.perf_counter()
    stage2 = Path(stage2)
    book = open_workbook(stage2, "intermediate (02_intermediate.xlsx)")
    report(Progress("excel", 0, 3, "Reading the intermediate workbook", "final report"))
    with scratch_connection() as con:
        remove = cancel.on_cancel(con.interrupt)
        try:
            read = load_sheet(con, book, stage2, "order_lines", "sheet_lines", LINE_COLUMNS, cancel)
            cancel.raise_if_cancelled()
            report(Progress("excel", 1, 3, "Computing the figures", "final report"))
            figures = compute_figures(con, "sheet_lines", stage2)
        finally:
            remove()
    from desktop_app.core.lineage.excel_road import report_origins  # it reads this module's FIGURE_SQL

    provenance = provenance or Provenance()
    provenance.origins = report_origins()
    target = Path(out_dir) / FINAL_REPORT
    with atomic_target(target) as temp:
        write_report(temp, figures, provenance)
    report(Progress("excel", 3, 3, "Report written", "final report"))
    return StageResult("final", target, time.perf_counter() - started,
                       {"Monthly revenue": len(figures.pivot), "Top customers": len(figures.customers),
                        "Top products": len(figures.products)}, notes=read_notes(stage2, {"order_lines": read}))


# The report's figures, each one query over the typed order lines (``lines``); named here so the
# lineage of every figure (``core.lineage.excel_road``) is read from the very SQL that computes it.
FIGURE_SQL = {
    "Monthly revenue": "SELECT order_month, department, sum(line_revenue_cents) AS revenue_cents "
                       "FROM lines GROUP BY ALL",
    "Top customers": "SELECT customer_id, customer_name, country_code, count(DISTINCT order_id) AS orders, "
                     "sum(line_revenue_cents) AS revenue_cents FROM lines GROUP BY ALL "
                     f"ORDER BY revenue_cents DESC, customer_id LIMIT {TOP_N}",
    "Top products": "SELECT product_id, product_name, department, sum(quantity) AS units, "
                    "sum(line_revenue_cents) AS revenue_cents FROM lines GROUP BY ALL "
                    f"ORDER BY revenue_cents DESC, product_id LIMIT {TOP_N}",
    "Summary": "SELECT coalesce(sum(line_revenue_cents), 0) AS revenue_cents, count(DISTINCT order_id) AS orders, "
               "count(DISTINCT customer_id) AS active_customers, min(order_month) AS first_month, "
               "max(order_month) AS last_month, count(*) AS line_count FROM lines",
}
WHOLE_COLUMNS = ("order_id", "customer_id", "product_id", "quantity", "line_revenue_cents")


def lines_sql(sheet_table: str) -> str:
    """The order-line sheet typed as the figures need it (``lines``)."""
    casts = ", ".join(f"CAST({quote(c)} AS BIGINT) AS {quote(c)}" for c in WHOLE_COLUMNS)
    return f"""SELECT {casts}, CAST(order_month AS TIMESTAMP) AS order_month,
               CAST(customer_name AS VARCHAR) AS customer_name, CAST(country_code AS VARCHAR) AS country_code,
               CAST(product_name AS VARCHAR) AS product_name,
               coalesce(CAST(department AS VARCHAR), '(no department)') AS department
               FROM {sheet_table}"""


def compute_figures(con: duckdb.DuckDBPyConnection, sheet_table: str, path: Path) -> Figures:
    """Every figure of the report, summed in integer cents by DuckDB over the order-line sheet."""
    _typed_lines(con, sheet_table, path)
    months = [m for (m,) in con.execute("SELECT DISTINCT order_month FROM lines ORDER BY 1").fetchall()]
    departments = [d for (d,) in con.execute("SELECT DISTINCT department FROM lines ORDER BY 1").fetchall()]
    cells = {(m, d): c for m, d, c in con.execute(FIGURE_SQL["Monthly revenue"]).fetchall()}
    pivot = Pivot(months, departments, [[int(cells.get((m, d), 0)) for d in departments] for m in months])
    customers = con.execute(FIGURE_SQL["Top customers"]).fetchall()
    products = con.execute(FIGURE_SQL["Top products"]).fetchall()
    revenue, orders, active, first, last, count = con.execute(FIGURE_SQL["Summary"]).fetchall()[0]
    return Figures(pivot, customers, products, int(revenue), orders, active, first, last, count)


def _typed_lines(con: duckdb.DuckDBPyConnection, sheet_table: str, path: Path) -> None:
    """The sheet's columns as the report needs them; a cell that is not a whole number (or a month) is an
    error naming its column, never a silently dropped line."""
    require_types(con, sheet_table, path, "order_lines",
                  {**dict.fromkeys(WHOLE_COLUMNS, "BIGINT"), "order_month": "TIMESTAMP"},
                  "The workbook was changed by hand; re-run the intermediate stage.",
                  required=(*WHOLE_COLUMNS, "order_month"))
    con.execute(f"CREATE TABLE lines AS {lines_sql(sheet_table)}")

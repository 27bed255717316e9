"""Two roads, one truth: compare the final report's figures with the model marts, figure by figure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from desktop_app.core.errors import ExportError
from desktop_app.core.excel.cell_text import as_written
from desktop_app.core.excel.read import open_workbook
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.shop_marts import (
    CUSTOMER_LIFETIME_VALUE,
    DAILY_REVENUE,
    FCT_ORDERS,
    MONTHLY_REVENUE_BY_CATEGORY,
    PRODUCT_PERFORMANCE,
)


@dataclass(frozen=True)
class FigureCheck:
    figure: str
    excel: object
    models: object

    @property
    def equal(self) -> bool:
        return _norm(self.excel) == _norm(self.models)

    @property
    def status(self) -> str:
        return "equal" if self.equal else "different"

    def shown(self) -> tuple[str, str]:
        """Both sides as text in one form: a count as a whole number, an amount with two decimals on
        both sides (the report's cell says 308.2 where the mart says 308.20: the same figure)."""
        whole = not any(_has_fraction(v) for v in (self.excel, self.models))
        return _shown(self.excel, whole), _shown(self.models, whole)


def _has_fraction(value) -> bool:
    """An amount, as opposed to a count or an id: a decimal with places, or a float with a fraction."""
    if isinstance(value, Decimal):
        return value.as_tuple().exponent < 0
    return isinstance(value, float) and not value.is_integer()


def _shown(value, whole: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float | int | Decimal):
        return f"{_norm(value):.0f}" if whole else f"{_norm(value):.2f}"
    return str(value)


def _norm(value):
    if value is None:
        return None
    if isinstance(value, float | int | Decimal):
        return round(Decimal(str(value)), 2)
    return value


def _month(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value


def _rows(book, sheet: str, min_row: int = 1) -> list[tuple]:
    """A sheet's values by python-calamine, which decodes text exactly as Excel shows it."""
    return [tuple(row) for row in book.get_sheet_by_name(sheet).to_python()[min_row - 1:]]


def reconcile_roads(report_path: Path, warehouse: Warehouse) -> list[FigureCheck]:
    """Every figure of the report's pivot, summary and top lists against the marts."""
    report_path = Path(report_path)
    if not report_path.exists():
        raise ExportError(f"No final report at {report_path}.", "Run the Excel stages first.")
    book = open_workbook(report_path, "final report (03_final_report.xlsx)")
    needed = {"Summary", "Monthly revenue", "Top customers", "Top products"}
    if not needed <= set(book.sheet_names):
        raise ExportError(f"{report_path} is not a final report (missing {', '.join(needed - set(book.sheet_names))}).")
    cursor = warehouse.new_cursor()
    try:
        # The department as the workbooks can hold it (the Excel road names that one change).
        marts = {(m, as_written(d)): r for m, d, r in cursor.execute(
            f"select order_month, department, revenue from {MONTHLY_REVENUE_BY_CATEGORY}").fetchall()}
    except Exception as err:  # a missing mart is a user-fixable state
        raise ExportError("The warehouse has no model marts yet.", "Build the models first (oltp-olap build).") \
            from err
    checks: list[FigureCheck] = []
    rows = _rows(book, "Monthly revenue")
    header = rows[0]
    departments = [d for d in header[1:-1]]
    # The report's total is a SUM over these cells; summing them here checks the figure even when a
    # tool saved the file without cached formula results.
    pivot_total = sum(Decimal(str(v)) for row in rows[1:-1] for v in row[1:-1] if isinstance(v, int | float))
    for row in rows[1:-1]:
        month = _month(row[0])
        for j, department in enumerate(departments, 1):
            excel = row[j] or 0
            models = marts.pop((month, department), Decimal(0))
            if excel or models:
                checks.append(FigureCheck(f"revenue {month:%Y-%m} {department}", excel, models))
    for (month, department), revenue in marts.items():  # a month or department only the models have
        checks.append(FigureCheck(f"revenue {month:%Y-%m} {department}", None, revenue))
    summary = {r[0]: r[1] for r in _rows(book, "Summary", min_row=4)[:4] if len(r) > 1}
    total, orders, customers = cursor.execute(f"""
        select (select sum(revenue) from {DAILY_REVENUE}),
               (select count(*) from {FCT_ORDERS} where is_revenue),
               (select count(*) from {CUSTOMER_LIFETIME_VALUE})""").fetchall()[0]
    checks += [FigureCheck("total revenue", pivot_total, total),
               FigureCheck("revenue orders", summary.get("Orders"), orders),
               FigureCheck("active customers", summary.get("Active customers"), customers)]
    for sheet, sql, label in (
            ("Top customers", f"select customer_id, lifetime_revenue from {CUSTOMER_LIFETIME_VALUE} "
                              "order by lifetime_revenue desc, customer_id limit ?", "customer"),
            ("Top products", f"select product_id, revenue from {PRODUCT_PERFORMANCE} "
                             "order by revenue desc, product_id limit ?", "product")):
        excel_rows = _rows(book, sheet, min_row=2)
        model_rows = cursor.execute(sql, [len(excel_rows)]).fetchall()
        for rank, (excel_row, model_row) in enumerate(zip(excel_rows, model_rows, strict=False), 1):
            checks.append(FigureCheck(f"top {label} #{rank} id", excel_row[1], model_row[0]))
            checks.append(FigureCheck(f"top {label} #{rank} revenue", excel_row[-1], model_row[1]))
    cursor.close()
    book.close()
    return checks

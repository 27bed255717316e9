"""Write the final report's sheets with xlsxwriter: one function per sheet.

Every formula is written with its computed value cached, so viewers that do not recalculate show
the right figure and LibreOffice/Excel recalculating get the same one. Text is always a string
cell, and text that a spreadsheet would run as a formula gets Excel's quote prefix.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from desktop_app import __version__
from desktop_app.core.excel.cell_text import FORMULA_LIKE
from desktop_app.core.excel.report_figures import Figures, Pivot, Provenance

MONEY = "#,##0.00 [$€-x-euro2]"
REVENUE_RULE = "lines of paid, shipped and delivered orders: quantity × unit price − discount"


def write_report(path: Path, figures: Figures, provenance: Provenance) -> None:
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False})
    formats = _formats(book)
    summary = book.add_worksheet("Summary")
    monthly = book.add_worksheet("Monthly revenue")
    customers = book.add_worksheet("Top customers")
    products = book.add_worksheet("Top products")
    provenance_sheet = book.add_worksheet("Provenance")
    total_row, total_col = _monthly(monthly, figures.pivot, formats)
    _summary(summary, figures, formats, f"'Monthly revenue'!{xl_rowcol_to_cell(total_row, total_col, True, True)}")
    if len(figures.pivot):
        _charts(book, summary, total_row, total_col)
    _ranked(customers, ["Rank", "Customer id", "Customer", "Country", "Orders", "Revenue"],
            [((i, formats["int"]), (customer_id, None), (name, None), (country, None), (orders, formats["int"]),
              (int(cents) / 100, formats["money"]))
             for i, (customer_id, name, country, orders, cents) in enumerate(figures.customers, 1)],
            [6, 12, 30, 9, 9, 16], formats)
    _ranked(products, ["Rank", "Product id", "Product", "Department", "Units", "Revenue"],
            [((i, formats["int"]), (product_id, None), (name, None), (department, None), (int(units), formats["int"]),
              (int(cents) / 100, formats["money"]))
             for i, (product_id, name, department, units, cents) in enumerate(figures.products, 1)],
            [6, 11, 34, 20, 9, 16], formats)
    _provenance(provenance_sheet, figures, provenance, formats)
    for sheet in (summary, monthly, customers, products, provenance_sheet):
        _print_setup(sheet)
    for sheet in (monthly, customers, products):
        sheet.repeat_rows(0)
    book.close()


def _formats(book) -> dict:
    header = {"bold": True, "bg_color": "#DDEBF7", "border": 1}
    return {
        "title": book.add_format({"bold": True, "font_size": 16}),
        "header": book.add_format(header),
        "header_quoted": book.add_format({**header, "quote_prefix": True}),
        "money": book.add_format({"num_format": MONEY}),
        "money_bold": book.add_format({"num_format": MONEY, "bold": True, "top": 1}),
        "int": book.add_format({"num_format": "#,##0"}),
        "month": book.add_format({"num_format": "mmm yyyy"}),
        "label": book.add_format({"bold": True}),
        "quoted": book.add_format({"quote_prefix": True}),
        "bold_total": book.add_format({"bold": True, "top": 1}),
    }


def _text(sheet, row: int, col: int, value, fmt=None, quoted=None) -> None:
    """Always a string cell; formula-looking text also gets Excel's quote prefix."""
    value = "" if value is None else str(value)
    sheet.write_string(row, col, value, quoted if quoted is not None and FORMULA_LIKE.match(value) else fmt)


def _monthly(sheet, pivot: Pivot, f: dict) -> tuple[int, int]:
    """The pivot, with SUM formulas for every total; returns the (row, column) of the grand total."""
    sheet.write_string(0, 0, "Month", f["header"])
    for j, department in enumerate(pivot.departments, 1):
        _text(sheet, 0, j, department, f["header"], f["header_quoted"])
    total_col = len(pivot.departments) + 1
    sheet.write_string(0, total_col, "Total", f["header"])
    for i, (month, row) in enumerate(zip(pivot.months, pivot.cents, strict=True), 1):
        sheet.write_datetime(i, 0, month, f["month"])
        for j, cents in enumerate(row, 1):
            sheet.write_number(i, j, cents / 100, f["money"])
        first, last = xl_rowcol_to_cell(i, 1), xl_rowcol_to_cell(i, total_col - 1)
        sheet.write_formula(i, total_col, f"=SUM({first}:{last})", f["money_bold"], sum(row) / 100)
    total_row = len(pivot) + 1
    sheet.write_string(total_row, 0, "Total", f["bold_total"])
    for j in range(1, total_col + 1):
        column = xl_col_to_name(j)
        cached = (sum(r[j - 1] for r in pivot.cents) if j < total_col else sum(map(sum, pivot.cents))) / 100
        sheet.write_formula(total_row, j, f"=SUM({column}2:{column}{total_row})", f["money_bold"], cached)
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, total_col, 16)
    sheet.freeze_panes(1, 1)
    if len(pivot):
        sheet.conditional_format(1, 1, total_row - 1, total_col - 1,
                                 {"type": "3_color_scale", "min_color": "#F8696B", "mid_color": "#FFEB84",
                                  "max_color": "#63BE7B"})
    return total_row, total_col


def _summary(sheet, figures: Figures, f: dict, grand_total: str) -> None:
    """Formulas over the pivot, and the values behind them."""
    sheet.write_string(0, 0, "Sales report", f["title"])
    sheet.write_string(1, 0, f"{figures.first_month:%B %Y} – {figures.last_month:%B %Y}"
                       if figures.line_count else "No revenue in the data")
    rows = [("Revenue", f"={grand_total}", figures.revenue_cents / 100, f["money"]),
            ("Orders", None, figures.orders, f["int"]),
            ("Average order value", "=IF(B5=0,0,B4/B5)",
             (figures.revenue_cents / 100 / figures.orders) if figures.orders else 0, f["money"]),
            ("Active customers", None, figures.active_customers, f["int"])]
    for offset, (label, formula, value, fmt) in enumerate(rows):
        r = 3 + offset
        sheet.write_string(r, 0, label, f["label"])
        if formula:
            sheet.write_formula(r, 1, formula, fmt, value)
        else:
            sheet.write_number(r, 1, value, fmt)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 18)


def _charts(book, summary, total_row: int, total_col: int) -> None:
    """A native line chart of the monthly totals and a bar chart of the department totals."""
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
    bar.add_series({"name": "Revenue by department", "categories": ["Monthly revenue", 0, 1, 0, total_col - 1],
                    "values": ["Monthly revenue", total_row, 1, total_row, total_col - 1]})
    bar.set_title({"name": "Revenue by department"})
    bar.set_x_axis({"num_format": "#,##0"})
    bar.set_legend({"none": True})
    summary.insert_chart("D19", bar, {"x_scale": 1.4, "y_scale": 1.1})


def _ranked(sheet, headers: list[str], records: list[tuple], widths: list[int], f: dict) -> None:
    """A ranked table (top customers, top products) with a filter and data bars on its last column."""
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


def _provenance(sheet, figures: Figures, provenance: Provenance, f: dict) -> None:
    sheet.write_string(0, 0, "Provenance", f["title"])
    facts = [("App", f"OLTP → OLAP Studio {__version__}"),
             ("Generated at", datetime.now(UTC).isoformat(" ", "seconds")),
             ("Source", provenance.source), ("Warehouse", provenance.warehouse),
             ("Ingestion run", provenance.ingestion_run), ("Ingested at", provenance.ingested_at),
             ("Revenue rule", REVENUE_RULE)]
    facts += [(f"Rows: {stage}", f"{rows:,}") for stage, rows in provenance.stage_rows.items()]
    facts.append(("Rows: order lines in the report", f"{figures.line_count:,}"))
    for group, (values, selection) in provenance.origins.items():  # the column lineage of each figure group
        facts.append((f"{group}: values from OLTP", ", ".join(values) or "(counts only)"))
        facts.append((f"{group}: rows chosen by OLTP", ", ".join(selection) or "(all rows)"))
    for i, (key, value) in enumerate(facts, 2):
        sheet.write_string(i, 0, key, f["label"])
        _text(sheet, i, 1, value, None, f["quoted"])
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, 1, 70)


def _print_setup(sheet) -> None:
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(0.5, 0.5, 0.6, 0.6)
    sheet.set_header("&L&\"Calibri,Bold\"OLTP → OLAP Studio&R&A")
    sheet.set_footer("&CPage &P of &N")

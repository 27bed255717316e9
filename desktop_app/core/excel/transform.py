"""Stage 2 — intermediate: ``01_raw_export.xlsx`` → ``02_intermediate.xlsx`` by named steps.

Each step is a small pure function from named DuckDB relations to new ones (SQL run by DuckDB, which
releases the GIL and holds no Python object per cell), declared in ``STEPS`` with a description; the
``Steps`` sheet documents every step with its rows in and out. The result is one sheet of revenue
order lines with everything the report needs. Reads only the stage-1 workbook, never the warehouse.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import duckdb

from desktop_app.core.arrow_rows import rows_to_batch
from desktop_app.core.errors import ExportError
from desktop_app.core.excel.read import (
    SheetRead,
    load_sheet,
    open_workbook,
    read_notes,
    require_types,
    require_unique,
)
from desktop_app.core.excel.safety import atomic_target
from desktop_app.core.excel.scratch import scratch_connection
from desktop_app.core.excel.stages import INTERMEDIATE, RAW_EXPORT, StageResult, StepRecord
from desktop_app.core.excel.xlsx_stream import MAX_ROWS, StreamingWorkbook, sheet_notes
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Progress, Report

Tables = dict[str, str]  # logical table name -> DuckDB relation holding it

REQUIRED = {
    "orders": ("order_id", "customer_id", "status", "placed_at"),
    "order_items": ("order_item_id", "order_id", "product_id", "quantity", "unit_price_cents", "discount_cents"),
    "products": ("product_id", "name", "category_id"),
    "categories": ("category_id", "parent_id", "name"),
    "customers": ("customer_id", "first_name", "last_name", "country_code"),
}
# What the clean step reads as numbers and times; checked first, so a hand-edited cell is a clear error.
TYPED = {
    "orders": {"order_id": "BIGINT", "customer_id": "BIGINT", "placed_at": "TIMESTAMP"},
    "order_items": dict.fromkeys(REQUIRED["order_items"], "BIGINT"),
    "products": {"product_id": "BIGINT", "category_id": "BIGINT"},
    "categories": {"category_id": "BIGINT", "parent_id": "BIGINT"},
    "customers": {"customer_id": "BIGINT"},
}
KEYS = {"orders": "order_id", "order_items": "order_item_id", "products": "product_id", "categories": "category_id",
        "customers": "customer_id"}
REVENUE_STATUSES = ("paid", "shipped", "delivered")  # the same rule as the models' revenue_statuses var

# Each step is a small pure function: it reads the relations it is given and creates new ones, never
# changing its inputs. The SQL runs inside DuckDB, which releases the GIL (the window stays responsive)
# and does not hold a Python object per cell.


def _create(con: duckdb.DuckDBPyConnection, name: str, sql: str) -> str:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
    return name


def clean(con: duckdb.DuckDBPyConnection, t: Tables) -> Tables:
    """Trim text, lower-case statuses, parse timestamps, make keys integers."""
    return {
        "orders": _create(con, "clean_orders", f"""
            SELECT CAST(order_id AS BIGINT) AS order_id, CAST(customer_id AS BIGINT) AS customer_id,
                   lower(trim(CAST(status AS VARCHAR))) AS status, CAST(placed_at AS TIMESTAMP) AS placed_at
            FROM {t['orders']}"""),
        "order_items": _create(con, "clean_order_items", f"""
            SELECT CAST(order_item_id AS BIGINT) AS order_item_id, CAST(order_id AS BIGINT) AS order_id,
                   CAST(product_id AS BIGINT) AS product_id, CAST(quantity AS BIGINT) AS quantity,
                   CAST(unit_price_cents AS BIGINT) AS unit_price_cents,
                   CAST(discount_cents AS BIGINT) AS discount_cents
            FROM {t['order_items']}"""),
        "products": _create(con, "clean_products", f"""
            SELECT CAST(product_id AS BIGINT) AS product_id, trim(CAST(name AS VARCHAR)) AS name,
                   CAST(category_id AS BIGINT) AS category_id FROM {t['products']}"""),
        "categories": _create(con, "clean_categories", f"""
            SELECT CAST(category_id AS BIGINT) AS category_id, CAST(parent_id AS BIGINT) AS parent_id,
                   trim(CAST(name AS VARCHAR)) AS name FROM {t['categories']}"""),
        "customers": _create(con, "clean_customers", f"""
            SELECT CAST(customer_id AS BIGINT) AS customer_id, trim(CAST(first_name AS VARCHAR)) AS first_name,
                   trim(CAST(last_name AS VARCHAR)) AS last_name,
                   upper(trim(CAST(country_code AS VARCHAR))) AS country_code FROM {t['customers']}"""),
    }


def derive(con: duckdb.DuckDBPyConnection, t: Tables) -> Tables:
    """Line revenue = quantity × unit price − discount (in cents, then euros); the order month."""
    out = dict(t)
    out["order_items"] = _create(con, "derived_order_items", f"""
        SELECT *, quantity * unit_price_cents - discount_cents AS line_revenue_cents,
               (quantity * unit_price_cents - discount_cents) / 100.0 AS line_revenue
        FROM {t['order_items']}""")
    out["orders"] = _create(con, "derived_orders", f"""
        SELECT *, CAST(date_trunc('month', placed_at) AS TIMESTAMP) AS order_month FROM {t['orders']}""")
    return out


def look_up(con: duckdb.DuckDBPyConnection, t: Tables) -> Tables:
    """Order lines joined with their orders, products, categories (and department) and customers."""
    return {"order_lines": _create(con, "looked_up_lines", f"""
        SELECT i.*, o.customer_id, o.status, o.placed_at, o.order_month,
               p.name AS product_name, p.category_id, c.name AS category_name,
               coalesce(d.name, c.name) AS department,
               cu.first_name || ' ' || cu.last_name AS customer_name, cu.country_code
        FROM {t['order_items']} i
        JOIN {t['orders']} o USING (order_id)
        JOIN {t['products']} p USING (product_id)
        LEFT JOIN {t['categories']} c ON c.category_id = p.category_id
        LEFT JOIN {t['categories']} d ON d.category_id = c.parent_id
        LEFT JOIN {t['customers']} cu ON cu.customer_id = o.customer_id""")}


def keep_revenue(con: duckdb.DuckDBPyConnection, t: Tables) -> Tables:
    """Keep lines of paid, shipped and delivered orders (placed, cancelled and returned are not revenue)."""
    statuses = ", ".join(f"'{s}'" for s in REVENUE_STATUSES)
    return {"order_lines": _create(con, "revenue_lines",
                                   f"SELECT * FROM {t['order_lines']} WHERE status IN ({statuses})")}


def tidy(con: duckdb.DuckDBPyConnection, t: Tables) -> Tables:
    """Order the columns for reading and sort by order, then line."""
    return {"order_lines": _create(con, "order_lines", f"""
        SELECT order_item_id, order_id, order_month, placed_at, status, customer_id, customer_name, country_code,
               product_id, product_name, category_name, department, quantity, unit_price_cents, discount_cents,
               line_revenue_cents, line_revenue
        FROM {t['order_lines']} ORDER BY order_id, order_item_id""")}


@dataclass(frozen=True)
class Step:
    name: str
    description: str
    run: Callable[[Tables], Tables]


STEPS: tuple[Step, ...] = (
    Step("clean", clean.__doc__, clean),
    Step("derive", derive.__doc__, derive),
    Step("look up", look_up.__doc__, look_up),
    Step("filter", keep_revenue.__doc__, keep_revenue),
    Step("tidy", tidy.__doc__, tidy),
)


def _rows(con: duckdb.DuckDBPyConnection, tables: Tables) -> int:
    return sum(con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0] for relation in tables.values())


def transform(stage1: Path, out_dir: Path, *, report: Report = NULL_REPORT,
              cancel: CancelToken = NEVER) -> StageResult:
    started = time.perf_counter()
    stage1 = Path(stage1)
    book = open_workbook(stage1, "raw export (01_raw_export.xlsx)")
    with scratch_connection() as con:
        remove = cancel.on_cancel(con.interrupt)
        try:
            tables: Tables = {}
            reads: dict[str, SheetRead] = {}
            for index, (sheet, required) in enumerate(REQUIRED.items()):
                cancel.raise_if_cancelled()
                report(Progress("excel", index, len(REQUIRED) + len(STEPS) + 1, f"Reading {sheet}", "intermediate"))
                reads[sheet] = load_sheet(con, book, stage1, sheet, f"read_{sheet}", required, cancel)
                hint = "Correct the cell, or run the raw export again to write the workbook afresh."
                require_types(con, f"read_{sheet}", stage1, sheet, TYPED[sheet], hint)
                require_unique(con, f"read_{sheet}", stage1, sheet, KEYS[sheet], hint)
                tables[sheet] = f"read_{sheet}"
            steps = []
            for index, step in enumerate(STEPS):
                cancel.raise_if_cancelled()
                report(Progress("excel", len(REQUIRED) + index, len(REQUIRED) + len(STEPS) + 1, f"Step: {step.name}",
                                "intermediate"))
                rows_in = _rows(con, tables)
                previous = tables
                try:
                    tables = step.run(con, tables)
                except duckdb.InterruptException:
                    raise
                except duckdb.Error as err:  # e.g. a quantity so large that its revenue overflows 64 bits
                    raise ExportError(f"Step {step.name} failed on the data of {stage1}: {str(err).splitlines()[0]}",
                                      "Correct the cells, or run the raw export again to write the workbook afresh.") \
                        from None
                steps.append(StepRecord(step.name, " ".join(step.description.split()), rows_in, _rows(con, tables)))
                for done in set(previous.values()) - set(tables.values()):  # no later step reads it
                    con.execute(f"DROP TABLE {done}")
            lines = con.execute(f"SELECT count(*) FROM {tables['order_lines']}").fetchall()[0][0]
            if lines + 1 > MAX_ROWS:
                raise ExportError(f"The steps made {lines:,} order lines; one Excel sheet holds at most "
                                  f"{MAX_ROWS - 1:,}. Nothing was written.",
                                  "Use the model road (oltp-olap build) for data this large.")
            target = Path(out_dir) / INTERMEDIATE
            con.register("steps", rows_to_batch([f.name for f in fields(StepRecord)],
                                                [list(astuple(step)) for step in steps]).data)
            with atomic_target(target) as temp:
                book_out = StreamingWorkbook(temp)
                try:
                    book_out.add_sheet(con, "order_lines", tables["order_lines"], cancel=cancel)
                    book_out.add_sheet(con, "Steps", "steps")
                except BaseException:
                    book_out.abort()
                    raise
                book_out.close()
        finally:
            remove()
    report(Progress("excel", 1, 1, "Intermediate written", "intermediate"))
    notes = [f"read from {stage1.name}" if stage1.name == RAW_EXPORT else f"read from {stage1}"]
    return StageResult("intermediate", target, time.perf_counter() - started, {"order_lines": lines}, steps,
                       notes + read_notes(stage1, reads) + sheet_notes(book_out.sheets))

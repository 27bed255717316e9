"""Stage 2 — intermediate: ``01_raw_export.xlsx`` → ``02_intermediate.xlsx`` by named steps.

Each step is a small pure function from a dict of DataFrames to a new dict, declared in ``STEPS``
with a description; the ``Steps`` sheet documents every step with its rows in and out. The
result is one sheet of revenue order lines with everything the report needs. Reads only the
stage-1 workbook, never the warehouse.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from desktop_app.core.excel.read import open_workbook, read_sheet
from desktop_app.core.excel.safety import atomic_target
from desktop_app.core.excel.stages import INTERMEDIATE, RAW_EXPORT, StageResult
from desktop_app.core.excel.xlsx_stream import StreamingWorkbook
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Progress, Report

Tables = dict[str, pd.DataFrame]

REQUIRED = {
    "orders": ("order_id", "customer_id", "status", "placed_at"),
    "order_items": ("order_item_id", "order_id", "product_id", "quantity", "unit_price_cents", "discount_cents"),
    "products": ("product_id", "name", "category_id"),
    "categories": ("category_id", "parent_id", "name"),
    "customers": ("customer_id", "first_name", "last_name", "country_code"),
}
REVENUE_STATUSES = ("paid", "shipped", "delivered")  # the same rule as the models' revenue_statuses var


def clean(tables: Tables) -> Tables:
    """Trim text, lower-case statuses, parse timestamps, make keys integers."""
    out = {}
    for name, frame in tables.items():
        frame = frame.copy()
        for column in frame.columns:
            if frame[column].dtype == object or str(frame[column].dtype).startswith("str"):
                frame[column] = frame[column].map(lambda v: v.strip() if isinstance(v, str) else v)
        out[name] = frame
    orders = out["orders"]
    orders["status"] = orders["status"].str.lower()
    orders["placed_at"] = pd.to_datetime(orders["placed_at"])
    for name, keys in (("orders", ("order_id", "customer_id")), ("order_items", ("order_item_id", "order_id",
                       "product_id", "quantity", "unit_price_cents", "discount_cents")),
                       ("products", ("product_id", "category_id")), ("customers", ("customer_id",))):
        for key in keys:
            out[name][key] = pd.to_numeric(out[name][key]).astype("int64")
    out["categories"]["category_id"] = pd.to_numeric(out["categories"]["category_id"]).astype("int64")
    out["categories"]["parent_id"] = pd.to_numeric(out["categories"]["parent_id"]).astype("Int64")
    return out


def derive(tables: Tables) -> Tables:
    """Line revenue = quantity × unit price − discount (in cents, then euros); the order month."""
    out = dict(tables)
    items = tables["order_items"].copy()
    items["line_revenue_cents"] = items["quantity"] * items["unit_price_cents"] - items["discount_cents"]
    items["line_revenue"] = items["line_revenue_cents"] / 100
    out["order_items"] = items
    orders = tables["orders"].copy()
    orders["order_month"] = orders["placed_at"].dt.to_period("M").dt.to_timestamp()
    out["orders"] = orders
    return out


def look_up(tables: Tables) -> Tables:
    """Order lines ⨝ orders ⨝ products ⨝ categories (and their department) ⨝ customers."""
    categories = tables["categories"]
    departments = categories[["category_id", "name"]].rename(columns={"category_id": "parent_id",
                                                                     "name": "department"})
    category = categories.merge(departments, on="parent_id", how="left")
    category["department"] = category["department"].fillna(category["name"])
    customers = tables["customers"].assign(
        customer_name=lambda c: c["first_name"].astype(str) + " " + c["last_name"].astype(str))
    lines = (tables["order_items"]
             .merge(tables["orders"][["order_id", "customer_id", "status", "placed_at", "order_month"]],
                    on="order_id", how="inner", validate="many_to_one")
             .merge(tables["products"][["product_id", "name", "category_id"]].rename(columns={"name": "product_name"}),
                    on="product_id", how="inner", validate="many_to_one")
             .merge(category[["category_id", "name", "department"]].rename(columns={"name": "category_name"}),
                    on="category_id", how="left", validate="many_to_one")
             .merge(customers[["customer_id", "customer_name", "country_code"]], on="customer_id", how="left",
                    validate="many_to_one"))
    return {"order_lines": lines}


def keep_revenue(tables: Tables) -> Tables:
    """Keep lines of paid, shipped and delivered orders (placed, cancelled and returned are not revenue)."""
    lines = tables["order_lines"]
    return {"order_lines": lines[lines["status"].isin(REVENUE_STATUSES)].reset_index(drop=True)}


def tidy(tables: Tables) -> Tables:
    """Order the columns for reading and sort by order, then line."""
    columns = ["order_item_id", "order_id", "order_month", "placed_at", "status", "customer_id", "customer_name",
               "country_code", "product_id", "product_name", "category_name", "department", "quantity",
               "unit_price_cents", "discount_cents", "line_revenue_cents", "line_revenue"]
    lines = tables["order_lines"][columns].sort_values(["order_id", "order_item_id"]).reset_index(drop=True)
    return {"order_lines": lines}


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


def _rows(tables: Tables) -> int:
    return sum(len(f) for f in tables.values())


def transform(stage1: Path, out_dir: Path, *, report: Report = NULL_REPORT,
              cancel: CancelToken = NEVER) -> StageResult:
    started = time.perf_counter()
    stage1 = Path(stage1)
    book = open_workbook(stage1, "raw export (01_raw_export.xlsx)")
    tables: Tables = {}
    for index, (sheet, required) in enumerate(REQUIRED.items()):
        cancel.raise_if_cancelled()
        report(Progress("excel", index, len(REQUIRED) + len(STEPS) + 1, f"Reading {sheet}", "intermediate"))
        tables[sheet] = read_sheet(book, stage1, sheet, required)
    steps = []
    for index, step in enumerate(STEPS):
        cancel.raise_if_cancelled()
        report(Progress("excel", len(REQUIRED) + index, len(REQUIRED) + len(STEPS) + 1, f"Step: {step.name}",
                        "intermediate"))
        rows_in = _rows(tables)
        tables = step.run(tables)
        steps.append({"step": step.name, "description": " ".join(step.description.split()), "rows_in": rows_in,
                      "rows_out": _rows(tables)})
    lines = tables["order_lines"]
    target = Path(out_dir) / INTERMEDIATE
    con = duckdb.connect()
    try:
        con.register("order_lines", lines)
        con.register("steps", pd.DataFrame(steps))
        with atomic_target(target) as temp:
            book_out = StreamingWorkbook(temp)
            try:
                book_out.add_sheet(con, "order_lines", "order_lines", cancel=cancel)
                book_out.add_sheet(con, "Steps", "steps")
            except BaseException:
                book_out.abort()
                raise
            book_out.close()
    finally:
        con.close()
    report(Progress("excel", 1, 1, "Intermediate written", "intermediate"))
    return StageResult("intermediate", target, time.perf_counter() - started, {"order_lines": len(lines)}, steps,
                       [f"read from {stage1.name}" if stage1.name == RAW_EXPORT else f"read from {stage1}"])

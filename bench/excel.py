"""Benchmark: the Excel road at scale 1.

Stage 1's writer against pandas ``DataFrame.to_excel`` (openpyxl engine) on the same 1,000,000
order lines in the same run, then all three stages of the road on a scale-1 demo warehouse.
Each stage of the road is also run the obvious other way, in its own process: pandas ``read_excel``
with its fastest engine (calamine) → the same steps in pandas → ``to_excel`` (xlsxwriter, pandas'
fastest writer). Every contender runs in its own process; prints seconds, rows/s, the ratio and peak RSS.
Stages 2 and 3 read a sheet unchanged since it was written from its copy inside the workbook
(``core.excel.column_copy``); ``--from-cells`` reads every sheet cell by cell instead, as for a
workbook edited by hand.
Run: ``uv run python bench/excel.py [--rows 1000000] [--skip-pandas-road] [--from-cells]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
sys.path.insert(0, str(ROOT))


def child(mode: str, warehouse: str, rows: int, out: str) -> None:
    import duckdb

    from desktop_app.core.excel.xlsx_stream import StreamingWorkbook

    con = duckdb.connect(warehouse, read_only=True)
    relation = f"(SELECT * FROM raw.order_items ORDER BY order_item_id LIMIT {rows})"
    started = time.perf_counter()
    if mode == "ours":
        book = StreamingWorkbook(Path(out))
        book.add_sheet(con, "order_items", relation)
        book.close()
    elif mode == "pandas":
        frame = con.execute(f"SELECT * FROM {relation}").df()
        frame.to_excel(out, sheet_name="order_items", index=False, engine="openpyxl")
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def pandas_road(stage: str, folder: str) -> None:
    """One stage of the road the pandas way, reading the workbook our previous stage wrote (so both
    contenders read the same file) and writing its own."""
    import pandas as pd

    folder_path = Path(folder)
    started = time.perf_counter()
    if stage == "intermediate":
        sheets = pd.read_excel(folder_path / "01_raw_export.xlsx", engine="calamine",
                               sheet_name=["orders", "order_items", "products", "categories", "customers"])
        read = time.perf_counter() - started
        orders, items = sheets["orders"], sheets["order_items"]
        products, categories, customers = sheets["products"], sheets["categories"], sheets["customers"]
        orders["status"] = orders["status"].str.strip().str.lower()
        orders["placed_at"] = pd.to_datetime(orders["placed_at"])
        orders["order_month"] = orders["placed_at"].dt.to_period("M").dt.to_timestamp()
        items["line_revenue_cents"] = items["quantity"] * items["unit_price_cents"] - items["discount_cents"]
        items["line_revenue"] = items["line_revenue_cents"] / 100
        parents = categories[["category_id", "name"]].rename(columns={"category_id": "parent_id",
                                                                      "name": "department"})
        categories = categories.merge(parents, on="parent_id", how="left")
        categories["department"] = categories["department"].fillna(categories["name"])
        customers["customer_name"] = customers["first_name"].str.strip() + " " + customers["last_name"].str.strip()
        lines = (items.merge(orders[["order_id", "customer_id", "status", "placed_at", "order_month"]], on="order_id")
                 .merge(products[["product_id", "name", "category_id"]].rename(columns={"name": "product_name"}),
                        on="product_id")
                 .merge(categories[["category_id", "name", "department"]].rename(columns={"name": "category_name"}),
                        on="category_id", how="left")
                 .merge(customers[["customer_id", "customer_name", "country_code"]], on="customer_id", how="left"))
        lines = lines[lines["status"].isin(["paid", "shipped", "delivered"])].sort_values(["order_id", "order_item_id"])
        steps = time.perf_counter() - started - read
        lines.to_excel(folder_path / "pandas_02.xlsx", sheet_name="order_lines", index=False, engine="xlsxwriter")
        rows = len(lines)
    else:
        lines = pd.read_excel(folder_path / "02_intermediate.xlsx", sheet_name="order_lines", engine="calamine")
        read = time.perf_counter() - started
        pivot = lines.pivot_table(index="order_month", columns="department", values="line_revenue_cents",
                                  aggfunc="sum", fill_value=0)
        top_customers = (lines.groupby(["customer_id", "customer_name", "country_code"])
                         .agg(orders=("order_id", "nunique"), revenue_cents=("line_revenue_cents", "sum"))
                         .nlargest(10, "revenue_cents"))
        top_products = (lines.groupby(["product_id", "product_name", "department"])
                        .agg(units=("quantity", "sum"), revenue_cents=("line_revenue_cents", "sum"))
                        .nlargest(10, "revenue_cents"))
        steps = time.perf_counter() - started - read
        with pd.ExcelWriter(folder_path / "pandas_03.xlsx", engine="xlsxwriter") as writer:
            pivot.to_excel(writer, sheet_name="Monthly revenue")
            top_customers.to_excel(writer, sheet_name="Top customers")
            top_products.to_excel(writer, sheet_name="Top products")
        rows = len(pivot)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "read": read, "steps": steps, "rows": rows,
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def run_child(mode: str, warehouse: Path, rows: int, out: Path) -> dict:
    return _json_child("--child", mode, str(warehouse), str(rows), str(out))


def _json_child(*args: str) -> dict:
    """Run this script with ``args`` in a fresh process; its last output line is a JSON result."""
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def scale_one_warehouse() -> Path:
    from desktop_app.core.ingest.run import run_ingest
    from desktop_app.core.models.runner import run_command
    from desktop_app.core.olap.warehouse import Warehouse
    from desktop_app.core.oltp.demo_shop import create_shop
    from desktop_app.core.oltp.source import open_source
    from desktop_app.paths import sql_project_dir

    CACHE.mkdir(parents=True, exist_ok=True)
    warehouse = CACHE / "excel-warehouse.duckdb"
    if warehouse.exists():
        return warehouse
    shop = CACHE / "shop-1.0.sqlite"
    if not shop.exists():
        create_shop(shop, scale=1.0, seed=42)
    with open_source(str(shop)) as source, Warehouse(warehouse) as wh:
        run_ingest(source, wh)
        run_command("build", sql_project_dir(), wh, target_dir=CACHE / "target")
    return warehouse


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--pandas-road":
        pandas_road(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-pandas-road", action="store_true", help="only our road for stages 2 and 3")
    parser.add_argument("--from-cells", action="store_true",
                        help="read every sheet cell by cell, as for a workbook edited since it was written")
    args = parser.parse_args()
    if args.from_cells:
        from desktop_app.core.excel import read

        read.read_copy = lambda *a: None
    warehouse = scale_one_warehouse()
    with tempfile.TemporaryDirectory() as folder:
        ours = run_child("ours", warehouse, args.rows, Path(folder) / "ours.xlsx")
        theirs = run_child("pandas", warehouse, args.rows, Path(folder) / "pandas.xlsx")
    print(f"stage-1 writer on {args.rows:,} order lines (9 columns):")
    for name, r in (("ours (DuckDB-rendered streaming xlsx)", ours), ("pandas to_excel (openpyxl)", theirs)):
        print(f"  {name:<40}{r['seconds']:8.1f} s {args.rows / r['seconds']:>10,.0f} rows/s  "
              f"peak {r['peak_mib']:,.0f} MiB")
    print(f"  ratio: ours is {theirs['seconds'] / ours['seconds']:.1f}x faster")
    from desktop_app.core.excel.pipeline import run_excel
    from desktop_app.core.olap.warehouse import Warehouse

    with tempfile.TemporaryDirectory() as folder:
        with Warehouse(warehouse) as wh:
            started = time.perf_counter()
            results = run_excel(wh, Path(folder))
            total = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        pandas = {} if args.skip_pandas_road else {stage: pandas_stage(stage, folder)
                                                   for stage in ("intermediate", "final")}
    print("the whole road at scale 1 (pandas: read_excel(calamine) -> the same steps -> to_excel(xlsxwriter)):")
    for r in results:
        rows = sum(r.rows.values())
        line = f"  {r.stage:<13}{r.seconds:8.1f} s  ({rows:,} rows)"
        other = pandas.get(r.stage)
        if other and "error" not in other:
            line += (f"   pandas {other['seconds']:.1f} s (read {other['read']:.1f} s), peak {other['peak_mib']:,.0f}"
                     f" MiB: ours is {other['seconds'] / r.seconds:.2f}x")
        elif other:
            line += f"   pandas failed: {other['error']}"
        print(line)
        for note in r.notes:
            if "read " in note:
                print(f"      {note}")
    print(f"  total {total:.1f} s; peak RSS of this process {peak:,.0f} MiB")


def pandas_stage(stage: str, folder: str) -> dict:
    return _json_child("--pandas-road", stage, folder)

if __name__ == "__main__":
    main()

"""Benchmark: the Excel road at scale 1.

Stage 1's writer against pandas ``DataFrame.to_excel`` (openpyxl engine) on the same 1,000,000
order lines in the same run, then all three stages of the road on a scale-1 demo warehouse.
Every contender runs in its own process; prints seconds, rows/s, the ratio and peak RSS.
Run: ``uv run python bench/excel.py [--rows 1000000]``.
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


def run_child(mode: str, warehouse: Path, rows: int, out: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", mode, str(warehouse), str(rows), str(out)],
                          capture_output=True, text=True)
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
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
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

    with tempfile.TemporaryDirectory() as folder, Warehouse(warehouse) as wh:
        started = time.perf_counter()
        results = run_excel(wh, Path(folder))
        total = time.perf_counter() - started
    print("the whole road at scale 1:")
    for r in results:
        rows = sum(r.rows.values())
        print(f"  {r.stage:<13}{r.seconds:8.1f} s  ({rows:,} rows)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  total {total:.1f} s; peak RSS of this process {peak:,.0f} MiB")


if __name__ == "__main__":
    main()

"""Benchmark: the export for BI tools against the pandas route, in the same run.

For each format, export the scale-1 marts (8 relations) and the 1M-row ``fct_order_items`` with ours
(``core.handoff.export``: DuckDB's writers, Hyper reading Parquet) and with the obvious alternative —
pandas ``read_sql`` → ``to_parquet`` / ``to_csv``, and pandas → pantab for Hyper when pantab is
installed. Each contender runs in its own process; prints seconds, the ratio and peak RSS.
Run: ``uv run python bench/export.py`` (the scale-1 warehouse is built once into bench/.cache).
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
sys.path.insert(0, str(ROOT))
from bench.excel import scale_one_warehouse  # noqa: E402 - after sys.path


def child(mode: str, fmt: str, warehouse: str, selection: str, out: str) -> None:
    started = time.perf_counter()
    names = selection.split(",") if selection else None
    if mode == "ours":
        from desktop_app.core.handoff.export import export
        from desktop_app.core.olap.warehouse import Warehouse
        from desktop_app.paths import sql_project_dir

        with Warehouse.for_reading(warehouse) as wh:
            result = export(wh, sql_project_dir(), Path(out), fmt, selection=names)
        rows = sum(f.rows for f in result.files)
    else:
        import duckdb
        import pandas as pd

        con = duckdb.connect(warehouse, read_only=True)
        relations = names or [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main_marts'").fetchall()]
        con.close()
        rows = 0
        with duckdb.connect(warehouse, read_only=True) as connection:
            for name in relations:
                frame = pd.read_sql(f"SELECT * FROM main_marts.{name}", connection)  # noqa: S608
                rows += len(frame)
                target = Path(out) / f"{name}.{fmt}"
                if fmt == "parquet":
                    frame.to_parquet(target, compression="zstd")
                elif fmt == "csv":
                    frame.to_csv(target, index=False)
                else:
                    import pantab

                    pantab.frame_to_hyper(frame, target, table="Extract")
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "rows": rows,
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def run_child(mode: str, fmt: str, warehouse: Path, selection: str) -> dict:
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run([sys.executable, __file__, "--child", mode, fmt, str(warehouse), selection, out],
                              capture_output=True, text=True)
    if done.returncode:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:7])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--formats", default="parquet,csv,hyper,duckdb")
    args = parser.parse_args()
    warehouse = scale_one_warehouse()
    for label, selection in (("the 8 marts at scale 1", ""), ("fct_order_items (1M rows)", "fct_order_items")):
        print(f"{label}:")
        for fmt in args.formats.split(","):
            ours = run_child("ours", fmt, warehouse, selection)
            theirs = run_child("pandas", fmt, warehouse, selection) if fmt != "duckdb" else {"error": "no pandas route"}
            line = f"  {fmt:<8} ours "
            line += (f"{ours['seconds']:6.2f} s ({ours['rows']:,} rows, peak {ours['peak_mib']:,.0f} MiB)"
                     if "error" not in ours else f"FAILED: {ours['error']}")
            if "error" in theirs:
                line += f"   pandas: {theirs['error']}"
            else:
                line += (f"   pandas {theirs['seconds']:6.2f} s (peak {theirs['peak_mib']:,.0f} MiB)   "
                         f"ratio {theirs['seconds'] / ours['seconds']:.1f}x")
            print(line, flush=True)


if __name__ == "__main__":
    main()

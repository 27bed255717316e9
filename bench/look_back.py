"""Benchmark: what the look-back window of watermark loads costs, to choose its default.

A scale-1 demo shop is loaded in full, changed by ``simulate`` (~1% of rows) and loaded
incrementally; changed again and loaded incrementally with windows of 0, 1, 5, 15 and 60 minutes,
each from a copy of the same warehouse (the cost). Then 1% of every table is stamped 30 s before
the last mark, as rows whose transactions committed after that load read the table (the benefit):
without a window they are missed — the per-load reconciliation catches it and fails the table.
Prints, per window, the time (median of 3), the rows read, the cost over no window, our full
load as the yardstick, and whether every table came out equal to the source.
Run: ``uv run python bench/look_back.py [--scale 1]``.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desktop_app.core.ingest.look_back import read_from  # noqa: E402
from desktop_app.core.ingest.run import run_ingest  # noqa: E402
from desktop_app.core.olap.warehouse import Warehouse  # noqa: E402
from desktop_app.core.oltp.demo_shop import create_shop  # noqa: E402
from desktop_app.core.oltp.simulate import simulate_activity  # noqa: E402
from desktop_app.core.oltp.source import open_source  # noqa: E402

WINDOWS = (0, 60, 300, 900, 3600)


def load(shop: Path, warehouse: Path, mode: str, look_back: int = 0, check: bool = True) -> tuple[float, int, str]:
    with open_source(str(shop)) as source, Warehouse(warehouse) as wh:
        started = time.perf_counter()
        report = run_ingest(source, wh, mode=mode, look_back=look_back)
        seconds = time.perf_counter() - started
    failed = [t.table for t in report.tables if t.status != "success"]
    if failed and check:
        raise SystemExit(f"load failed: {[t.error for t in report.tables if t.error]}")
    status = f"ROWS MISSED (reconciliation caught it in {', '.join(failed)})" if failed else "every table equal"
    return seconds, sum(t.rows_read for t in report.tables), status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        shop, base = work / "shop.sqlite", work / "base.duckdb"
        create_shop(shop, scale=args.scale, seed=3)
        full_seconds, full_rows, _ = load(shop, base, "full")
        changes = dict(orders=int(4000 * args.scale), updates=int(4000 * args.scale), deletes=int(100 * args.scale))
        simulate_activity(shop, seed=1, **changes)
        load(shop, base, "incremental", 0)
        simulate_activity(shop, seed=2, **changes)
        figures = measure(shop, base, work)
        late_base = work / "late.duckdb"  # then 1% of every table committed late: stamped 30 s before the mark
        shutil.copy(base, late_base)
        load(shop, late_base, "incremental", 0)
        burst(shop)
        late = measure(shop, late_base, work)
    print(f"full load of a scale-{args.scale} shop: {full_seconds:.2f} s, {full_rows:,} rows")
    for title, found in (("after simulate (~1% changed, spread over its ~day of shop time)", figures),
                         ("after 1% of every table was committed late, stamped 30 s before the last mark", late)):
        print(title + ":")
        none = found[0][0]
        for window, (seconds, rows, status) in found.items():
            print(f"  look-back {window // 60:>3} min: incremental {seconds:.2f} s, {rows:,} rows read, "
                  f"{seconds / none - 1:+.0%} over no window, {seconds / full_seconds:.0%} of the full load; "
                  f"{status}")


def burst(shop: Path) -> None:
    db = sqlite3.connect(shop)
    for (table,) in db.execute("select name from sqlite_master where type = 'table'").fetchall():
        columns = [row[1] for row in db.execute(f"pragma table_info({table})")]
        if "updated_at" not in columns:
            continue
        mark = db.execute(f"select max(updated_at) from {table}").fetchone()[0]
        db.execute(f"update {table} set updated_at = ? where rowid % 100 = 0 and updated_at < ?",
                   (read_from(mark, 30), mark))
    db.commit()
    db.close()


def measure(shop: Path, base: Path, work: Path) -> dict[int, tuple[float, int, str]]:
    figures = {}
    for window in WINDOWS:
        runs = []
        for _ in range(3):
            copy = work / f"w{window}.duckdb"
            shutil.copy(base, copy)
            runs.append(load(shop, copy, "incremental", window, check=False))
            copy.unlink()
        figures[window] = (statistics.median(s for s, _, _ in runs), runs[0][1], runs[0][2])
    return figures


if __name__ == "__main__":
    main()

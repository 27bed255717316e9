"""Benchmark: demo-shop generation speed at a scale (default 1 ≈ 1M order items).

Prints our rows/s, and for comparison the same rows inserted by a plain Python loop of
single-row ``INSERT``s via SQLAlchemy Core (what a naive seeding script does), plus peak RSS.
Run: ``uv run python bench/seed.py [--scale 1]``.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop_app.core.oltp.demo_shop import create_shop  # noqa: E402


def naive_insert_rate(source: Path, rows: int = 50_000) -> float:
    """Rows/s of copying order_items one row per execute() into a fresh file, as a naive script would."""
    import sqlalchemy as sa

    with sqlite3.connect(source) as db:
        sample = db.execute("select * from order_items limit ?", (rows,)).fetchall()
    with tempfile.TemporaryDirectory() as folder:
        engine = sa.create_engine(f"sqlite:///{folder}/naive.sqlite")
        meta = sa.MetaData()
        table = sa.Table("order_items", meta, *(sa.Column(f"c{i}", sa.String) for i in range(len(sample[0]))))
        meta.create_all(engine)
        started = time.perf_counter()
        with engine.begin() as connection:
            for row in sample:
                connection.execute(table.insert().values(dict(zip(table.columns.keys(), row, strict=True))))
        return len(sample) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "shop.sqlite"
        result = create_shop(path, scale=args.scale, seed=42)
        ours = result.total_rows / result.seconds
        naive = naive_insert_rate(path)
        size_mb = path.stat().st_size / 1e6
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"scale {args.scale}: {result.total_rows:,} rows ({result.row_counts['order_items']:,} order items), "
          f"{size_mb:.0f} MB file")
    print(f"ours (numpy blocks + executemany): {result.seconds:6.1f} s  {ours:>10,.0f} rows/s")
    print(f"naive row-at-a-time SQLAlchemy:    {result.total_rows / naive:6.1f} s  {naive:>10,.0f} rows/s "
          "(extrapolated)")
    print(f"ratio ours/naive: {ours / naive:.1f}x   peak RSS: {peak_mb:.0f} MiB")


if __name__ == "__main__":
    main()

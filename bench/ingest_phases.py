"""Where a SQLite full load's time goes, per table and per phase (issue #18, item 1).

Loads the source once for real (the table's wall time in a run, two tables at a time), then replays
each table's phases alone, one at a time, on one core each:

- render: SQLite turns every row into CSV text (``chunk_queries``, one connection);
- parse: DuckDB reads those chunks into the table's final types, with no checks;
- checks: what the exact reading adds (timestamp forms, control characters, marks);
- checksum: the reconciliation's Σ hash(row) over the loaded table.

Run: ``uv run python bench/ingest_phases.py [--scale 1 | --tpch 0.3 | --messy 1]``.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.side_env import CACHE  # noqa: E402


def _source(args) -> Path:
    if args.tpch:
        from bench.tpch import tpch_sqlite

        return tpch_sqlite(args.tpch)
    if args.messy:
        from bench.messy import messy_sqlite

        return Path(messy_sqlite(args.messy))
    from desktop_app.core.oltp.demo_shop import create_shop

    path = CACHE / f"shop-{args.scale}.sqlite"
    if not path.exists():
        create_shop(path, scale=args.scale, seed=42)
    return path


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def phases(db: sqlite3.Connection, con, table: str, types: dict[str, str]) -> dict[str, float]:
    """Seconds of each phase for one table, replayed alone."""
    from desktop_app.core.identifiers import quote
    from desktop_app.core.ingest.declared_types import numbers_possible
    from desktop_app.core.ingest.reconcile import warehouse_checksum_of
    from desktop_app.core.ingest.sqlite_chunks import chunk_select, read_chunk
    from desktop_app.core.ingest.sqlite_render import chunk_queries, chunk_ranges, order_key, range_query, rowid_alias
    from desktop_app.core.ingest.temporal import TEMPORAL

    info = db.execute("SELECT name, type, pk FROM pragma_table_info(?)", (table,)).fetchall()
    columns = [name for name, _, _ in info]
    order = order_key(db, table, info)
    queries = chunk_queries(table, columns, types, "", rowid_alias(db, table, info),
                            numbers_possible(info, columns), order)
    folder = Path(tempfile.mkdtemp(prefix="phases-"))
    files: list[Path] = []

    def render() -> None:
        for index, chunk_range in enumerate(chunk_ranges(db, table, order)):
            sql, key = range_query(queries, chunk_range)
            text = db.execute(sql, key).fetchone()[0]
            if text:
                files.append(folder / f"{index}.csv")
                files[-1].write_bytes(text)

    def create(name: str) -> None:
        con.execute(f"CREATE OR REPLACE TEMPORARY TABLE {name} ("
                    + ", ".join(f"{quote(c)} {types[c]}" for c in columns) + ")")

    def parse() -> None:
        create("plain")
        plain = {c: ("VARCHAR" if types[c] in (*TEMPORAL, "BLOB") else types[c]) for c in columns}
        casts = ", ".join(f"TRY_CAST({quote(c)} AS {types[c]}) AS {quote(c)}" for c in columns if types[c] in TEMPORAL)
        select = f"SELECT * REPLACE ({casts})" if casts else "SELECT *"
        for path in files:
            con.execute(f"INSERT INTO plain {select} FROM {read_chunk(path, plain)}")

    def checked() -> None:
        create("checked")
        for path in files:
            con.execute(f"INSERT INTO checked {chunk_select(path, columns, types, {}, False, True)}")

    seconds = {"render": _timed(render), "parse": _timed(parse)}
    seconds["checks"] = max(0.0, _timed(checked) - seconds["parse"])
    seconds["checksum"] = _timed(lambda: warehouse_checksum_of(con, "checked", columns))
    shutil.rmtree(folder)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--tpch", type=float, metavar="SF")
    parser.add_argument("--messy", type=float, metavar="SCALE")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    import duckdb

    from desktop_app.core.ingest.run import run_ingest
    from desktop_app.core.olap.warehouse import Warehouse
    from desktop_app.core.oltp.source import open_source

    source = _source(args)
    warehouse = CACHE / "phases.duckdb"
    warehouse.unlink(missing_ok=True)
    started = time.perf_counter()
    with open_source(str(source)) as src, Warehouse(warehouse) as wh:
        report = run_ingest(src, wh)
    whole = time.perf_counter() - started
    con = duckdb.connect(str(warehouse))
    db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    print(f"{source.name}: full load {whole:.2f} s (two tables at a time, both cores); each table's phases "
          "replayed alone, one core each:")
    print(f"{'table':<16}{'rows':>11}{'in run':>8}{'render':>8}{'parse':>8}{'checks':>8}{'checksum':>9}  path")
    totals = dict.fromkeys(("render", "parse", "checks", "checksum"), 0.0)
    for result in sorted(report.tables, key=lambda t: -t.rows_read):
        types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_schema = 'raw' AND table_name = ?", [result.table]).fetchall())
        types = {c: ("VARCHAR" if t.startswith("DECIMAL") else t) for c, t in types.items()}
        general = any("general path" in note for note in result.notes)
        widened = [note.split(":")[0] for note in result.notes if "loaded as" in note]
        seconds = phases(db, con, result.table, types) if not general else dict.fromkeys(totals, 0.0)
        for name in totals:
            totals[name] += seconds[name]
        path = "general (Arrow)" if general else "fast" + (f", widened {', '.join(widened)}" if widened else "")
        print(f"{result.table:<16}{result.rows_read:>11,}{result.seconds:>8.2f}{seconds['render']:>8.2f}"
              f"{seconds['parse']:>8.2f}{seconds['checks']:>8.2f}{seconds['checksum']:>9.2f}  {path}")
    work = sum(totals.values())
    print(f"{'all (CPU s)':<16}{'':>11}{'':>8}" + "".join(f"{totals[n]:>8.2f}" for n in ("render", "parse", "checks"))
          + f"{totals['checksum']:>9.2f}  = " + ", ".join(f"{n} {totals[n] / work:.0%}" for n in totals))
    con.close()


if __name__ == "__main__":
    main()

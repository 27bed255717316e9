"""Server sources for ``bench/ingest.py --servers``: the demo shop loaded into real PostgreSQL and MariaDB.

The servers are the ones the tests start (``tests/servers.py``). The shop's tables are created with
server types (integers, text, timestamps for ``*_at`` columns) and filled with each server's bulk
path (``COPY`` / ``LOAD DATA LOCAL INFILE``). Then, per server, in separate processes: ours (a full
``ingest``, reconciliation included), pandas ``read_sql`` in chunks of 100,000 into DuckDB, and
connectorx (Rust, Arrow out) into DuckDB where it installs (a side environment in bench/.cache).
"""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"

CONNECTORX_SCRIPT = r"""
import duckdb, json, resource, sys, time
import connectorx as cx
url, out, tables = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
started = time.perf_counter()
con = duckdb.connect(out)
con.execute("CREATE SCHEMA raw")
rows = 0
for table in tables:
    data = cx.read_sql(url, f"SELECT * FROM {table}", return_type="arrow")
    con.register("chunk", data)
    con.execute(f'CREATE TABLE raw."{table}" AS SELECT * FROM chunk')
    con.unregister("chunk")
    rows += data.num_rows
con.close()
print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _server_type(declared: str, column: str, dialect: str) -> str:
    declared = declared.upper()
    if column.endswith("_at"):
        return "timestamp" if dialect == "postgresql" else "datetime(6)"
    if "INT" in declared:
        return "bigint"
    if "REAL" in declared or "FLOA" in declared or "DOUB" in declared:
        return "double precision" if dialect == "postgresql" else "double"
    return "text"


def _shop_tables(shop: Path) -> dict[str, list[tuple[str, str, bool]]]:
    db = sqlite3.connect(shop)
    tables = [t for (t,) in db.execute("select name from sqlite_master where type = 'table' and name not like "
                                        "'sqlite_%'")]
    out = {t: [(c[1], c[2], bool(c[5])) for c in db.execute(f'pragma table_info("{t}")')] for t in tables}
    db.close()
    return out


def load_shop(shop: Path, url: str, folder: Path) -> list[str]:
    """The shop's tables in the server at ``url`` (created afresh); returns their names."""
    dialect = "postgresql" if url.startswith("postgresql") else "mysql"
    tables = _shop_tables(shop)
    db = sqlite3.connect(shop)
    engine = sa.create_engine(url + ("?local_infile=1" if dialect == "mysql" else ""))
    for table, columns in tables.items():
        keys = [name for name, _declared, is_key in columns if is_key]
        body = ", ".join(f"{name} {_server_type(declared, name, dialect)}" for name, declared, _k in columns)
        path = folder / f"{table}.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            for row in db.execute(f'select * from "{table}"'):
                writer.writerow(["\\N" if v is None else (v.replace("T", " ") if isinstance(v, str) and
                                                           len(v) >= 19 and v[10] == "T" and v[4] == "-" else v)
                                 for v in row])
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
            key = f", PRIMARY KEY ({', '.join(keys)})" if keys else ""
            connection.exec_driver_sql(f"CREATE TABLE {table} ({body}{key})")
            if dialect == "postgresql":
                raw = connection.connection.dbapi_connection
                with raw.cursor() as cursor, open(path, encoding="utf-8") as handle:
                    with cursor.copy(f"COPY {table} FROM STDIN (FORMAT csv, NULL '\\N')") as copy:
                        while chunk := handle.read(1 << 20):
                            copy.write(chunk)
            else:
                connection.exec_driver_sql(
                    f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE {table} CHARACTER SET utf8mb4 "
                    "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\\r\\n'")
        path.unlink()
    engine.dispose()
    db.close()
    return list(tables)


def connectorx_python() -> Path | None:
    from bench.side_env import side_python

    return side_python("connectorx-venv", ["connectorx", "pyarrow", "duckdb==1.5.5"])


def run_connectorx(url: str, tables: list[str], warehouse: Path) -> dict:
    import json

    python = connectorx_python()
    if python is None:
        return {"error": "connectorx did not install here"}
    warehouse.unlink(missing_ok=True)
    plain = url.replace("postgresql+psycopg://", "postgresql://").replace("mysql+pymysql://", "mysql://")
    done = subprocess.run([str(python), "-c", CONNECTORX_SCRIPT, plain, str(warehouse), ",".join(tables)],
                          capture_output=True, text=True)
    if done.returncode:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def server_figures(shop: Path, run_child) -> list[str]:
    """Lines to print: per server, ours against pandas and connectorx, with ratios and peak memory."""
    sys.path.insert(0, str(ROOT))
    from tests.servers import mariadb_server, postgres_server

    lines = []
    with tempfile.TemporaryDirectory() as folder:
        for name, server in (("PostgreSQL 15 (psycopg)", postgres_server), ("MariaDB 10.11 (PyMySQL)", mariadb_server)):
            with server() as url:
                tables = load_shop(shop, url, Path(folder))
                out = Path(folder) / "w.duckdb"
                ours = run_child("ours", url, out)
                pandas = run_child("pandas", url, out)
                cx = run_connectorx(url, tables, out)
                lines.append(_line(name, ours, pandas, cx))
    return lines


def _line(name: str, ours: dict, pandas: dict, cx: dict) -> str:
    if "error" in ours:
        return f"{name}: our load failed: {ours['error']}"

    def versus(label: str, other: dict) -> str:
        if "error" in other:
            return f"{label}: {other['error']}"
        return (f"{label} {other['seconds']:.1f} s, peak {other['peak_mib']:.0f} MiB "
                f"(ours {other['seconds'] / ours['seconds']:.2f}x as fast)")

    return (f"{name}: ours {ours['seconds']:.1f} s for {ours['rows']:,} rows "
            f"({ours['rows'] / ours['seconds']:,.0f} rows/s, reconciled), peak {ours['peak_mib']:.0f} MiB; "
            f"{versus('pandas read_sql chunks', pandas)}; {versus('connectorx', cx)}")

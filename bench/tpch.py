"""TPC-H in SQLite, for ``bench/ingest.py --tpch SF``: data the project did not generate.

``tpchgen-cli`` (from PyPI, installed into a side environment) writes the eight tables as CSV; they
are loaded into a SQLite file with TPC-H's declared types — ``DECIMAL(15,2)`` money, ``DATE``
columns, composite primary keys (``lineitem``, ``partsupp``) — and cached in bench/.cache.
"""

from __future__ import annotations

import csv
import re
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from bench.side_env import CACHE, side_python

SCHEMA = {
    "region": "r_regionkey INTEGER PRIMARY KEY, r_name CHAR(25), r_comment VARCHAR(152)",
    "nation": "n_nationkey INTEGER PRIMARY KEY, n_name CHAR(25), n_regionkey INTEGER, n_comment VARCHAR(152)",
    "supplier": "s_suppkey INTEGER PRIMARY KEY, s_name CHAR(25), s_address VARCHAR(40), s_nationkey INTEGER, "
                "s_phone CHAR(15), s_acctbal DECIMAL(15,2), s_comment VARCHAR(101)",
    "customer": "c_custkey INTEGER PRIMARY KEY, c_name VARCHAR(25), c_address VARCHAR(40), c_nationkey INTEGER, "
                "c_phone CHAR(15), c_acctbal DECIMAL(15,2), c_mktsegment CHAR(10), c_comment VARCHAR(117)",
    "part": "p_partkey INTEGER PRIMARY KEY, p_name VARCHAR(55), p_mfgr CHAR(25), p_brand CHAR(10), "
            "p_type VARCHAR(25), p_size INTEGER, p_container CHAR(10), p_retailprice DECIMAL(15,2), "
            "p_comment VARCHAR(23)",
    "partsupp": "ps_partkey INTEGER, ps_suppkey INTEGER, ps_availqty INTEGER, ps_supplycost DECIMAL(15,2), "
                "ps_comment VARCHAR(199), PRIMARY KEY (ps_partkey, ps_suppkey)",
    "orders": "o_orderkey INTEGER PRIMARY KEY, o_custkey INTEGER, o_orderstatus CHAR(1), "
              "o_totalprice DECIMAL(15,2), o_orderdate DATE, o_orderpriority CHAR(15), o_clerk CHAR(15), "
              "o_shippriority INTEGER, o_comment VARCHAR(79)",
    "lineitem": "l_orderkey INTEGER, l_partkey INTEGER, l_suppkey INTEGER, l_linenumber INTEGER, "
                "l_quantity DECIMAL(15,2), l_extendedprice DECIMAL(15,2), l_discount DECIMAL(15,2), "
                "l_tax DECIMAL(15,2), l_returnflag CHAR(1), l_linestatus CHAR(1), l_shipdate DATE, "
                "l_commitdate DATE, l_receiptdate DATE, l_shipinstruct CHAR(25), l_shipmode CHAR(10), "
                "l_comment VARCHAR(44), PRIMARY KEY (l_orderkey, l_linenumber)",
}


def tpch_sqlite(scale: float) -> Path:
    """The TPC-H tables at ``scale`` in a SQLite file (made once, then cached)."""
    target = CACHE / f"tpch-{scale}.sqlite"
    if target.exists():
        return target
    python = side_python("tpchgen-venv", ["tpchgen-cli"])
    if python is None:
        raise SystemExit("tpchgen-cli could not be installed from PyPI")
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([str(python.parent / "tpchgen-cli"), "csv", "-s", str(scale), "--output-dir", folder],
                       check=True, capture_output=True)
        partial = target.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        db = sqlite3.connect(partial)
        for table, columns in SCHEMA.items():
            db.execute(f"CREATE TABLE {table} ({columns})")
            width = sum(1 for part in re.split(r",\s*(?![^()]*\))", columns) if not part.startswith("PRIMARY KEY"))
            marks = ", ".join("?" * width)
            with open(Path(folder) / f"{table}.csv", newline="", encoding="utf-8") as handle:
                rows = csv.reader(handle)
                next(rows)  # the header
                db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            db.commit()
        db.close()
        partial.rename(target)
    return target

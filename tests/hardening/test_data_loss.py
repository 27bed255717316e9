"""Hardening: nothing lost, nothing corrupted (issue: staging names, workbook text, seed cancel)."""

from __future__ import annotations

import sqlite3

import duckdb
import pytest

from desktop_app.core.ingest import run as run_module
from desktop_app.core.ingest.run import run_ingest
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.source import open_source


def ingest(source_path, warehouse_path, **kwargs):
    with open_source(str(source_path)) as source, Warehouse(warehouse_path) as warehouse:
        return run_ingest(source, warehouse, **kwargs)


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_source_table_named_like_a_staging_table_is_never_dropped(tmp_path, monkeypatch, fast_path):
    """A user's ``t__loading`` was dropped by the next full load of ``t`` (the staging name collided),
    and loading both at once failed on a catalog conflict."""
    monkeypatch.setattr(run_module, "SQLITE_FAST_PATH", fast_path)
    source = tmp_path / "s.sqlite"
    with sqlite3.connect(source) as db:
        for name, n in (("t", 3), ("t__loading", 5), ("__stage_t", 7), ("__keys_t", 2)):
            db.execute(f'create table "{name}" (id integer primary key, v text)')
            db.executemany(f'insert into "{name}" values (?, ?)', [(i, f"{name}-{i}") for i in range(n)])
    warehouse = tmp_path / "w.duckdb"
    for mode in ("full", "full", "incremental"):
        report = ingest(source, warehouse, mode=mode)
        assert report.ok, [t.error for t in report.tables]
        report = ingest(source, warehouse, mode="full", tables=["t"])  # t alone must not touch t__loading
        assert report.ok
    with duckdb.connect(str(warehouse), read_only=True) as con:
        counts = dict(con.execute("select table_name, estimated_size from duckdb_tables() where schema_name = 'raw'"
                                  ).fetchall())
        assert set(counts) == {"t", "t__loading", "__stage_t", "__keys_t"}
        for name, n in (("t", 3), ("t__loading", 5), ("__stage_t", 7), ("__keys_t", 2)):
            assert con.execute(f'select count(*), min(v) from raw."{name}"').fetchall() == [(n, f"{name}-0")]

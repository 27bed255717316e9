"""Ingestion and its history: a run's status reflects every table; bad input is refused in words."""

from __future__ import annotations

import sqlite3

import duckdb
import pytest

from desktop_app.cli import main
from desktop_app.core.errors import AppError, WarehouseError
from desktop_app.core.ingest import table_job as run_module
from desktop_app.core.ingest.run import run_ingest
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.source import open_source


def ingest(source, warehouse, **kwargs):
    with open_source(str(source)) as src, Warehouse(warehouse) as wh:
        return run_ingest(src, wh, **kwargs)


def small_source(path, tables=("a", "b")):
    with sqlite3.connect(path) as db:
        for name in tables:
            db.execute(f'create table "{name}" (id integer primary key, v text)')
            db.executemany(f'insert into "{name}" values (?, ?)', [(i, f"{name}{i}") for i in range(50)])
    return path


def test_a_table_that_crashes_fails_the_run_and_reconcile_names_what_is_missing(tmp_path, monkeypatch, capsys):
    """A crash was recorded as `success`, and reconcile then said 'equal' for the tables that loaded."""
    source, warehouse = small_source(tmp_path / "s.sqlite"), tmp_path / "w.duckdb"
    original = run_module.TableJob.run_fast

    def crash_on_b(self):
        if self.info.name == "b":
            raise RuntimeError("a bug")
        return original(self)

    monkeypatch.setattr(run_module.TableJob, "run_fast", crash_on_b)
    report = ingest(source, warehouse)
    assert report.status == "failed" and not report.ok
    failed = {t.table: t for t in report.tables}["b"]
    assert failed.status == "failed" and "unexpected error: RuntimeError: a bug" in failed.error
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select status from _studio.runs").fetchall() == [("failed",)]
        assert con.execute("select status from _studio.table_loads where table_name = 'b'").fetchall() == [("failed",)]
    monkeypatch.undo()
    assert main(["reconcile", "--oltp", str(source), "--warehouse", str(warehouse)]) == 1
    out = capsys.readouterr().out
    assert "missing" in out and "b: in the source but not in the warehouse" in out and "equal" in out


def test_tables_are_named_once_and_at_least_one(tmp_path, capsys):
    source, warehouse = small_source(tmp_path / "s.sqlite"), tmp_path / "w.duckdb"
    with pytest.raises(AppError, match="'a' is named more than once"):
        ingest(source, warehouse, tables=["a", "a"])
    assert main(["ingest", "--oltp", str(source), "--warehouse", str(warehouse), "--tables", "a,a"]) == 1
    assert main(["ingest", "--oltp", str(source), "--warehouse", str(warehouse), "--tables", " , "]) == 1
    err = capsys.readouterr().err
    assert "named more than once" in err and "No table was named" in err
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from _studio.table_loads").fetchall() == [(0,)]


def test_a_table_dropped_at_the_source_is_named(tmp_path, capsys):
    source, warehouse = small_source(tmp_path / "s.sqlite"), tmp_path / "w.duckdb"
    assert ingest(source, warehouse).ok
    with sqlite3.connect(source) as db:
        db.execute("drop table b")
    report = ingest(source, warehouse, mode="incremental")
    assert report.ok and any("b: in the warehouse but no longer in the source" in n for n in report.notes)
    assert main(["reconcile", "--oltp", str(source), "--warehouse", str(warehouse)]) == 0
    assert "dropped" in capsys.readouterr().out


def test_an_older_history_layout_is_migrated_and_a_newer_refused(tmp_path):
    """With an older _studio.table_loads layout every load record was swallowed; an extra column in
    _studio.runs crashed the run."""
    source, warehouse = small_source(tmp_path / "s.sqlite"), tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema _studio; create sequence _studio.run_ids")
        con.execute("create table _studio.runs (run_id bigint primary key, started_at timestamp not null, "
                    "finished_at timestamp, source varchar not null, mode varchar not null, status varchar not null, "
                    "error varchar, operator varchar)")  # a column of someone's own
        con.execute("create table _studio.table_loads (run_id bigint not null, table_name varchar not null, "
                    "mode varchar not null, strategy varchar not null, rows_read bigint, rows_inserted bigint, "
                    "rows_updated bigint, rows_deleted bigint, seconds double, watermark varchar, "
                    "status varchar not null, error varchar, primary key (run_id, table_name))")  # no notes yet
    assert ingest(source, warehouse).ok
    with duckdb.connect(str(warehouse)) as con:
        assert con.execute("select count(*) from _studio.table_loads").fetchall() == [(2,)]
        assert con.execute("select version, note from _studio.layout").fetchall() == [(1, "added table_loads.notes")]
        con.execute("insert into _studio.layout values (99, now()::timestamp, 'from the future')")
    with pytest.raises(WarehouseError, match="newer version of the app"):
        Warehouse(warehouse)


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_huge_text_or_blob_loads_exactly(tmp_path, monkeypatch, fast_path):
    """A text over 131,072 characters or a blob over 64 KB crashed the SQLite fast path."""
    monkeypatch.setattr(run_module, "SQLITE_FAST_PATH", fast_path)
    source, warehouse = tmp_path / "s.sqlite", tmp_path / "w.duckdb"
    text, blob = "x" * 300_000 + "é", bytes(range(256)) * 400
    with sqlite3.connect(source) as db:
        db.execute("create table t (id integer primary key, body text, data blob)")
        db.executemany("insert into t values (?, ?, ?)", [(1, text, blob), (2, "short", b"\x00")])
    report = ingest(source, warehouse)
    assert report.ok, [t.error for t in report.tables]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select body, data from raw.t order by id").fetchall() == [(text, blob), ("short", b"\x00")]


def test_a_corrupt_source_page_fails_clearly(tmp_path, capsys):
    """'database disk image is malformed' crashed ingest and simulate; reconcile called it invalid UTF-8.
    (A damaged page surfaces as 'malformed', as 'out of memory' or as bad UTF-8, depending on where.)"""
    from desktop_app.core.oltp.demo_shop import create_shop

    source, warehouse = tmp_path / "shop.sqlite", tmp_path / "w.duckdb"
    create_shop(source, scale=0.01, seed=1)
    assert main(["ingest", "--oltp", str(source), "--warehouse", str(warehouse)]) == 0
    with sqlite3.connect(source) as db:
        db.execute("pragma wal_checkpoint(truncate)")
    data = bytearray(source.read_bytes())
    pages = len(data) // 4096
    for page in (pages // 2, pages // 2 + 3, pages - 5):
        data[4096 * page + 100: 4096 * page + 1500] = b"\xff" * 1400
    source.write_bytes(bytes(data))
    capsys.readouterr()
    for argv in (["ingest", "--oltp", str(source), "--warehouse", str(warehouse)],
                 ["reconcile", "--oltp", str(source), "--warehouse", str(warehouse)],
                 ["simulate", "--oltp", str(source), "--orders", "5"]):
        code = main(argv)
        out = capsys.readouterr()
        text = out.out + out.err
        assert code == 1 and "Traceback" not in text and "Unexpected" not in text, (argv, text)
        assert "is corrupt" in text and "UTF-8" not in text, (argv, text)


@pytest.mark.parametrize("fast_path", [True, False])
def test_an_incremental_load_never_calls_a_missed_change_equal(tmp_path, monkeypatch, fast_path):
    """Changes whose updated_at is NULL or sorts below the watermark (SQLite's CURRENT_TIMESTAMP form
    '2025-06-28 23:00:00' against ISO '…T…' text) were missed, and the table was still called equal."""
    monkeypatch.setattr(run_module, "SQLITE_FAST_PATH", fast_path)
    source, warehouse = tmp_path / "s.sqlite", tmp_path / "w.duckdb"
    with sqlite3.connect(source) as db:
        db.execute("create table t (id integer primary key, v text, updated_at text)")
        db.executemany("insert into t values (?, ?, ?)",
                       [(i, f"v{i}", f"2025-06-{1 + i % 28:02d}T10:00:00") for i in range(1, 501)])
    assert ingest(source, warehouse).ok
    with sqlite3.connect(source) as db:  # the watermark is now '2025-06-28T10:00:00'
        db.execute("update t set v = 'space form', updated_at = '2025-06-28 23:00:00' where id = 1")
        db.execute("update t set v = 'no stamp', updated_at = NULL where id = 2")
    second = ingest(source, warehouse, mode="incremental")
    assert second.ok, [t.error for t in second.tables]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select v from raw.t where id in (1, 2) order by id").fetchall() == [
            ("space form",), ("no stamp",)]
    with sqlite3.connect(source) as db:  # an application that stamps a change with an old time
        db.execute("update t set v = 'back-dated', updated_at = '2020-01-01T00:00:00' where id = 3")
    third = ingest(source, warehouse, mode="incremental")
    table = third.tables[0]
    assert not third.ok and table.status == "failed" and table.reconciliation.status == "different"


def test_a_table_of_2000_columns_loads(tmp_path):
    """SQLite allows 2,000 columns; the load failed with DuckDB's 'Out of Memory … 183 MiB' and no hint."""
    source, warehouse = tmp_path / "s.sqlite", tmp_path / "w.duckdb"
    with sqlite3.connect(source) as db:
        db.execute(f"create table w (id integer primary key, {', '.join(f'c{i} integer' for i in range(1999))})")
        db.executemany(f"insert into w values ({', '.join('?' * 2000)})",
                       [[r, *(r * i for i in range(1999))] for r in range(1000)])
    report = ingest(source, warehouse)
    assert report.ok, [t.error for t in report.tables]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*), sum(c1998) from raw.w").fetchall() == [(1000, sum(r * 1998 for r in
                                                                                               range(1000)))]


def test_a_hot_journal_is_explained(tmp_path):
    """A source with an unfinished write said 'attempt to write a readonly database', with no hint."""
    import os
    import signal
    import subprocess
    import sys

    source = tmp_path / "s.sqlite"
    with sqlite3.connect(source) as db:
        db.execute("pragma journal_mode = delete")
        db.execute("create table t (id integer primary key, v text)")
        db.executemany("insert into t values (?, ?)", [(i, "v" * 100) for i in range(2000)])
    writer = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        f"db = sqlite3.connect({str(source)!r}, isolation_level=None)\n"
        "db.execute('pragma cache_size = 5')  # changed pages spill into the file: the journal is hot\n"
        "db.execute('begin immediate'); db.execute(\"update t set v = 'x' || v\")\n"
        "sys.stdout.write('ready\\n'); sys.stdout.flush(); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "ready"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    if not source.with_name(source.name + "-journal").exists():
        pytest.skip("the killed writer left no hot journal on this file system")
    with pytest.raises(AppError, match="unfinished write") as raised:
        ingest(source, tmp_path / "w.duckdb")
    assert "PRAGMA quick_check" in raised.value.hint

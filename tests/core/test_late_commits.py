"""No row missed by a watermark: a row stamped before a load read the table but committed after it."""

from __future__ import annotations

import sqlite3
import threading

import sqlalchemy as sa

from desktop_app.core.ingest.look_back import read_from
from desktop_app.core.ingest.run import run_ingest
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.source import open_source
from tests.core.test_ingest import rows


def _table(engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS late")
        connection.exec_driver_sql("CREATE TABLE late (id integer PRIMARY KEY, v text, "
                                   "updated_at timestamp NOT NULL DEFAULT now())")
        connection.exec_driver_sql("INSERT INTO late (id, v, updated_at) SELECT g, 'v' || g, now() - interval '1 day' "
                                   "FROM generate_series(1, 50) g")


def test_postgres_late_commit_arrives_with_the_snapshot_boundary(postgres_url, tmp_path):
    """A writer stamps row 1 with now() and commits after the load; another row stamped later committed
    before it. Even with no look-back window, the mark stays below the open writer's start."""
    engine = sa.create_engine(postgres_url)
    _table(engine)
    warehouse = tmp_path / "w.duckdb"
    with open_source(postgres_url) as source, Warehouse(warehouse) as wh:
        assert run_ingest(source, wh, tables=["late"]).ok
    late_writer = engine.connect()
    late_writer.begin()
    late_writer.exec_driver_sql("UPDATE late SET v = 'late', updated_at = now() WHERE id = 1")
    with engine.begin() as connection:  # stamped after the late writer's now(), committed at once
        connection.exec_driver_sql("UPDATE late SET v = 'early', updated_at = clock_timestamp() WHERE id = 2")
    with open_source(postgres_url) as source, Warehouse(warehouse) as wh:
        middle = run_ingest(source, wh, mode="incremental", look_back=0, tables=["late"])
    assert middle.ok and middle.tables[0].updated == 1  # row 2; row 1 is not committed yet
    late_writer.commit()
    late_writer.close()
    with open_source(postgres_url) as source, Warehouse(warehouse) as wh:
        last = run_ingest(source, wh, mode="incremental", look_back=0, tables=["late"])
    assert last.ok
    assert rows(warehouse, "select id, v from raw.late where id <= 2 order by id") == [(1, "late"), (2, "early")]
    assert last.tables[0].reconciliation.status == "equal"
    engine.dispose()


def test_sqlite_timestamps_out_of_commit_order_are_caught_by_the_look_back(shop, tmp_path):
    """An application stamps a row, then commits it after a load that saw a later stamp: the next
    incremental load re-reads the look-back window and finds it (it was lost before)."""
    warehouse = tmp_path / "w.duckdb"
    with open_source(str(shop)) as source, Warehouse(warehouse) as wh:
        assert run_ingest(source, wh).ok
    db = sqlite3.connect(shop)
    mark = db.execute("select max(updated_at) from customers").fetchone()[0]
    stamped_before = read_from(mark, 120)  # two minutes before the mark the last load reached
    db.execute("update customers set first_name = 'Late', updated_at = ? where customer_id = 1", (stamped_before,))
    db.commit()
    db.close()
    with open_source(str(shop)) as source, Warehouse(warehouse) as wh:
        report = run_ingest(source, wh, mode="incremental")
    customers = next(t for t in report.tables if t.table == "customers")
    assert customers.updated == 1 and customers.strategy == "watermark:updated_at (look-back 5 min)"
    assert rows(warehouse, "select first_name from raw.customers where customer_id = 1") == [("Late",)]
    # re-read, unchanged rows are neither counted nor rewritten
    with open_source(str(shop)) as source, Warehouse(warehouse) as wh:
        again = run_ingest(source, wh, mode="incremental")
    assert all((t.inserted, t.updated, t.deleted) == (0, 0, 0) for t in again.tables)


def test_a_long_writer_concurrent_with_the_load(postgres_url, tmp_path):
    """The late writer's transaction spans the whole load, which runs on another thread."""
    engine = sa.create_engine(postgres_url)
    _table(engine)
    warehouse = tmp_path / "w.duckdb"
    with open_source(postgres_url) as source, Warehouse(warehouse) as wh:
        assert run_ingest(source, wh, tables=["late"]).ok
    started, release = threading.Event(), threading.Event()

    def writer() -> None:
        with engine.connect() as connection:
            connection.begin()
            connection.exec_driver_sql("UPDATE late SET v = 'long', updated_at = now() WHERE id = 3")
            started.set()
            release.wait(30)
            connection.commit()

    thread = threading.Thread(target=writer)
    thread.start()
    started.wait(30)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE late SET v = 'quick', updated_at = clock_timestamp() WHERE id = 4")
    with open_source(postgres_url) as source, Warehouse(warehouse) as wh:
        assert run_ingest(source, wh, mode="incremental", look_back=0, tables=["late"]).ok
    release.set()
    thread.join()
    with open_source(postgres_url) as source, Warehouse(warehouse) as wh:
        assert run_ingest(source, wh, mode="incremental", look_back=0, tables=["late"]).ok
    assert rows(warehouse, "select v from raw.late where id in (3, 4) order by id") == [("long",), ("quick",)]
    engine.dispose()


def test_both_iso_forms_without_re_reading_the_mark_day():
    """Against a 'T' mark a space-form row stamped later was missed by one comparison; against a space
    mark every 'T'-form row of the day was re-read. Both forms are compared, each on its own range."""
    import sqlite3 as sq

    from desktop_app.core.ingest.plan import TablePlan, changed_rows_sql

    db = sq.connect(":memory:")
    db.execute("create table t (id integer primary key, updated_at text)")
    stamps = ["2025-06-28T09:00:00", "2025-06-28 09:00:00", "2025-06-28T10:00:00", "2025-06-28 10:00:01",
              "2025-06-28T10:00:02", "2025-06-29 00:00:00", "2025-06-29T00:00:00", None]
    db.executemany("insert into t (updated_at) values (?)", [(s,) for s in stamps])
    plan = TablePlan("t", "watermark", "updated_at", ("id",))
    for mark in ("2025-06-28T10:00:00", "2025-06-28 10:00:00"):
        where, params = changed_rows_sql(plan, "updated_at", mark)
        found = [r[0] for r in db.execute(f"select updated_at from t where {where} order by id", params)]
        assert found == ["2025-06-28T10:00:00", "2025-06-28 10:00:01", "2025-06-28T10:00:02",
                         "2025-06-29 00:00:00", "2025-06-29T00:00:00", None], mark

"""A long-lived source: the server drops the connection mid-load, or stops a statement at its time limit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from desktop_app.core.errors import SourceError
from desktop_app.core.ingest.extract import SourceReader
from desktop_app.core.ingest.run import run_ingest
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.source import open_source
from tests.core.test_ingest import rows


def _big_table(engine, name: str, n: int) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        connection.exec_driver_sql(f"CREATE TABLE {name} (id integer PRIMARY KEY, v text, updated_at timestamp "
                                   "NOT NULL)")
        connection.exec_driver_sql(f"INSERT INTO {name} SELECT g, repeat('x', 50), timestamp '2025-01-01' "
                                   f"+ g * interval '1 second' FROM generate_series(1, {n}) g")


def test_a_connection_lost_mid_load_fails_the_table_cleanly_and_the_next_run_converges(postgres_url, tmp_path):
    engine = sa.create_engine(postgres_url)
    _big_table(engine, "dropped", 300_000)
    warehouse = tmp_path / "w.duckdb"
    with open_source(postgres_url) as source, Warehouse(warehouse) as wh:
        assert run_ingest(source, wh, tables=["dropped"]).ok
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE dropped SET v = 'changed', updated_at = updated_at + interval '1 year'")
    killed = []

    def kill_the_reader(progress) -> None:  # as a server restart would, once rows are flowing
        if progress.done and not killed:
            with engine.begin() as connection:
                killed.append(connection.exec_driver_sql(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend' AND state <> 'idle'").scalar())

    with open_source(postgres_url) as source, Warehouse(warehouse) as wh:
        broken = run_ingest(source, wh, tables=["dropped"], mode="incremental", report=kill_the_reader)
    (table,) = broken.tables
    assert killed and killed[0] >= 1
    assert table.status == "failed" and "connection to" in table.error and "was lost" in table.error
    assert rows(warehouse, "SELECT count(*), count(*) FILTER (WHERE v = 'changed') FROM raw.dropped") == [
        (300_000, 0)]  # the table as it was: the failed load left nothing half-written
    with open_source(postgres_url) as source, Warehouse(warehouse) as wh:
        again = run_ingest(source, wh, tables=["dropped"], mode="incremental")
    assert again.ok and again.tables[0].reconciliation.status == "equal"
    assert rows(warehouse, "SELECT count(*) FILTER (WHERE v = 'changed') FROM raw.dropped") == [(300_000,)]
    engine.dispose()


def test_a_statement_timeout_is_a_clear_error(postgres_url):
    limited = postgres_url + "?options=-c%20statement_timeout%3D200"
    with open_source(limited) as source:
        reader = SourceReader(source)
        with reader.snapshot():
            with pytest.raises(SourceError) as caught:
                reader.scalar(sa.select(sa.func.pg_sleep(5)))
    assert "statement time limit" in caught.value.user_message and "statement_timeout" in caught.value.hint


def test_mysql_statement_timeout_is_a_clear_error(mariadb_url):
    with open_source(mariadb_url) as source:
        reader = SourceReader(source)
        with reader.snapshot():
            with pytest.raises(SourceError) as caught:
                reader.scalar(sa.text("SET STATEMENT max_statement_time=0.2 FOR "
                                      "SELECT count(*) FROM seq_1_to_1000000000 WHERE sha2(seq, 256) = 'x'"))
    assert "statement time limit" in caught.value.user_message

"""MySQL / MariaDB as a source, for real: MariaDB from Debian's packages, started for the test session."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa

from desktop_app.core.errors import SourceError
from desktop_app.core.ingest.run import run_ingest
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.source import open_source
from tests.core.test_ingest import rows


@pytest.fixture
def maria(mariadb_url, request):
    """A fresh database of the test's own on the session's server: (URL, engine)."""
    name = "t_" + request.node.name[:40].replace("[", "_").replace("]", "_").replace("-", "_")
    server = sa.create_engine(mariadb_url)
    with server.begin() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        connection.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    server.dispose()
    url = mariadb_url.rsplit("/", 1)[0] + f"/{name}?charset=utf8mb4"
    engine = sa.create_engine(url)
    yield url, engine
    engine.dispose()


def _ingest(url, warehouse, **kwargs):
    with open_source(url) as source, Warehouse(warehouse) as wh:
        return run_ingest(source, wh, **kwargs)


ODD = """CREATE TABLE `odd``types` (
    id int PRIMARY KEY, flag tinyint(1), big bigint unsigned, dec65 decimal(65,30), dt6 datetime(6), tm time,
    yr year, zero_date date, zero_dt datetime, en enum('a','b','c'), st set('x','y','z'), bits bit(10), js json,
    bl blob, bn binary(4), latin varchar(20) CHARACTER SET latin1, emoji varchar(20) CHARACTER SET utf8mb4,
    gen int AS (id * 2) VIRTUAL, `select` varchar(5),
    updated_at datetime(6) NOT NULL DEFAULT current_timestamp(6))"""
ODD_ROWS = """INSERT INTO `odd``types` (id, flag, big, dec65, dt6, tm, yr, zero_date, zero_dt, en, st, bits, js, bl, bn,
    latin, emoji, `select`) VALUES
    (1, 1, 18446744073709551615, 12345678901234567890123456789012345.123456789012345678901234567891,
     '2024-02-29 12:34:56.123456', '-838:59:59', 2024, '0000-00-00', '0000-00-00 00:00:00', 'b', 'x,z',
     b'1010101010', '{"a": [1, 2]}', x'00ff10', x'01020304', 'Café', 'Zoë 🎉', '=1+1'),
    (2, 0, 9223372036854775808, -0.000000000000000000000000000001, '1970-01-01 00:00:00.000001', '25:00:00',
     1901, '2024-01-01', '2024-01-01 00:00:00', 'a', '', b'0', 'null', NULL, NULL, NULL, NULL, NULL),
    (3, NULL, 0, 0, NULL, '-00:00:01', NULL, NULL, NULL, NULL, NULL, NULL, NULL, '', x'00000000', '', '', '')"""


def test_mysql_odd_values_arrive_exactly_or_widen_with_a_note(maria, tmp_path):
    url, engine = maria
    with engine.begin() as connection:
        connection.exec_driver_sql("SET SESSION sql_mode = ''")  # zero dates, as non-strict servers keep them
        connection.exec_driver_sql(ODD)
        connection.exec_driver_sql(ODD_ROWS)
    warehouse = tmp_path / "w.duckdb"
    report = _ingest(url, warehouse)
    (table,) = report.tables
    assert report.ok and table.reconciliation.status == "equal", table.error
    notes = " | ".join(table.notes)
    for column in ("big: loaded as text — integer beyond 64 bits", "dec65: loaded as text — decimal wider than",
                   "zero_date: loaded as text", "zero_dt: loaded as text"):
        assert column in notes
    got = rows(warehouse, 'SELECT * FROM raw."odd`types" ORDER BY id')
    first = got[0]
    assert first[:5] == (1, 1, "18446744073709551615",
                         "12345678901234567890123456789012345.123456789012345678901234567891",
                         dt.datetime(2024, 2, 29, 12, 34, 56, 123456))
    assert [r[5] for r in got] == [-dt.timedelta(hours=838, minutes=59, seconds=59), dt.timedelta(hours=25),
                                   -dt.timedelta(seconds=1)]  # TIME: negative and over 24 h
    assert first[6:19] == (2024, "0000-00-00", "0000-00-00 00:00:00", "b", "x,z", bytes.fromhex("02aa"),
                           '{"a": [1, 2]}', bytes.fromhex("00ff10"), bytes.fromhex("01020304"), "Café", "Zoë 🎉",
                           2, "=1+1")
    assert got[1][2] == "9223372036854775808" and got[2][11] is None and got[2][13] == b""


def test_mysql_full_then_incremental_equals_a_fresh_full_load(maria, tmp_path):
    url, engine = maria
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE customers (id int PRIMARY KEY, name varchar(40), balance "
                                   "decimal(12,2), updated_at datetime(6) NOT NULL)")
        connection.exec_driver_sql("CREATE TABLE events (id bigint PRIMARY KEY, kind varchar(10))")  # key strategy
        connection.exec_driver_sql("CREATE TABLE notes (body text)")  # no key: full every run
        connection.execute(sa.text("INSERT INTO customers VALUES (:id, :name, :b, :ts)"), [
            {"id": i, "name": f"Zoë {i}", "b": i / 4, "ts": dt.datetime(2025, 1, 1, 12, 0, i % 60)}
            for i in range(1, 301)])
        connection.exec_driver_sql("INSERT INTO events VALUES (1, 'a'), (2, 'b')")
        connection.exec_driver_sql("INSERT INTO notes VALUES ('one'), ('two')")
    warehouse = tmp_path / "w.duckdb"
    first = _ingest(url, warehouse)
    assert first.ok and {t.strategy for t in first.tables} == {
        "watermark:updated_at (look-back 5 min)", "key:id", "full"}
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE customers SET balance = balance + 1, updated_at = '2025-02-01' "
                                   "WHERE id <= 10")
        connection.exec_driver_sql("DELETE FROM customers WHERE id = 300")
        connection.exec_driver_sql("INSERT INTO customers VALUES (301, 'Łukasz', 9.99, '2025-02-02')")
        connection.exec_driver_sql("ALTER TABLE customers ADD COLUMN tier varchar(5)")  # drift
        connection.exec_driver_sql("UPDATE customers SET tier = 'gold', updated_at = '2025-02-03' WHERE id = 301")
        connection.exec_driver_sql("INSERT INTO events VALUES (3, 'c')")
        connection.exec_driver_sql("INSERT INTO notes VALUES ('three')")
    second = _ingest(url, warehouse, mode="incremental")
    customers = next(t for t in second.tables if t.table == "customers")
    assert second.ok and customers.mode == "incremental"
    assert (customers.inserted, customers.updated, customers.deleted) == (1, 10, 1)
    assert any("new column tier" in note for note in customers.notes)
    fresh = tmp_path / "fresh.duckdb"
    assert _ingest(url, fresh).ok
    for table in ("customers", "events", "notes"):
        assert rows(warehouse, f"SELECT * FROM raw.{table} EXCEPT ALL SELECT * FROM "
                               f"(SELECT * FROM read_parquet('{_parquet(fresh, table, tmp_path)}'))") == []
        assert rows(warehouse, f"SELECT count(*) FROM raw.{table}") == rows(fresh, f"SELECT count(*) FROM raw.{table}")


def _parquet(warehouse, table, folder):
    """One table of another warehouse as a Parquet file (two DuckDB files cannot be open in one test
    process under different write modes)."""
    import duckdb

    path = folder / f"{table}.parquet"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(f"COPY raw.{table} TO '{path}' (FORMAT parquet)")
    return path


def test_mysql_late_commit_arrives(maria, tmp_path):
    """A writer stamps row 1, a load reads (and sees a later stamp), the writer commits: the next load
    has it, even with no look-back window (the mark stays below InnoDB's oldest open writer)."""
    url, engine = maria
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE late (id int PRIMARY KEY, v varchar(10), updated_at datetime(6) "
                                   "NOT NULL)")
        connection.exec_driver_sql("INSERT INTO late VALUES (1, 'a', now(6) - INTERVAL 1 DAY), "
                                   "(2, 'b', now(6) - INTERVAL 1 DAY)")
    warehouse = tmp_path / "w.duckdb"
    assert _ingest(url, warehouse).ok
    writer = engine.connect()
    writer.begin()
    writer.exec_driver_sql("UPDATE late SET v = 'late', updated_at = now(6) WHERE id = 1")
    time.sleep(0.01)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE late SET v = 'early', updated_at = now(6) WHERE id = 2")
    assert _ingest(url, warehouse, mode="incremental", look_back=0).ok
    writer.commit()
    writer.close()
    assert _ingest(url, warehouse, mode="incremental", look_back=0).ok
    assert rows(warehouse, "SELECT id, v FROM raw.late ORDER BY id") == [(1, "late"), (2, "early")]


def test_mysql_cancel_kills_the_running_query(maria):
    from desktop_app.core.ingest.extract import SourceReader
    from desktop_app.core.progress import CancelToken

    url, _engine = maria
    token = CancelToken()
    with open_source(url) as source:
        reader = SourceReader(source, token)
        with reader.snapshot():
            threading.Timer(0.3, token.cancel).start()
            started = time.perf_counter()
            with pytest.raises(SourceError, match="was cancelled"):
                reader.scalar(sa.text("SELECT count(*) FROM seq_1_to_1000000000 WHERE sha2(seq, 256) = 'x'"))
            assert time.perf_counter() - started < 10  # the server stopped it; it would run for minutes


def test_mysql_connection_errors_are_one_clear_line(mariadb_url):
    base = mariadb_url.rsplit("@", 1)[1].rsplit("/", 1)[0]  # host:port
    server = sa.create_engine(mariadb_url)
    with server.begin() as connection:
        connection.exec_driver_sql("CREATE USER IF NOT EXISTS 'alice'@'127.0.0.1' IDENTIFIED BY 'right-Pa55'")
    server.dispose()
    secret = "wr0ng-Pa55"
    cases = {f"mysql+pymysql://alice:{secret}@{base}/mysql": "refused the user name or password",
             f"mysql+pymysql://root@{base}/no_such_db": "no_such_db",
             "mysql+pymysql://root@127.0.0.1:9/mysql?connect_timeout=2": "Cannot connect"}
    for url, expected in cases.items():
        with pytest.raises(SourceError) as caught:
            with open_source(url) as source:
                run_ingest(source, Warehouse(":memory:"))
        text = f"{caught.value.user_message} {caught.value.hint}"
        assert expected in text and secret not in text and "\n" not in caught.value.user_message, text

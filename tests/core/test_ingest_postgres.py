"""A second real dialect: PostgreSQL from Debian's packages, started for the test session (tests/servers.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from desktop_app.core.ingest.reconcile import reconcile_table
from desktop_app.core.ingest.run import run_ingest
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.source import open_source
from tests.core.test_ingest import rows


def test_postgres_full_and_incremental(postgres_url, tmp_path):
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql('DROP TABLE IF EXISTS "Kunden" CASCADE')
        connection.exec_driver_sql(
            'CREATE TABLE "Kunden" (id integer PRIMARY KEY, "naïve name" text, balance numeric(12,2), '
            'active boolean, "select" text, updated_at timestamp NOT NULL)')
        connection.execute(sa.text('INSERT INTO "Kunden" VALUES (:id, :name, :balance, :active, :sel, :ts)'), [
            {"id": i, "name": f"Zoë {i}", "balance": Decimal(i) / 4, "active": i % 2 == 0, "sel": "=1+1" if i == 3
             else None, "ts": datetime(2025, 1, 1, 12, 0, i % 60)} for i in range(1, 501)])
    warehouse = tmp_path / "w.duckdb"
    with open_source(postgres_url) as source, Warehouse(warehouse) as wh:
        first = run_ingest(source, wh)
    kunden = first.tables[0]
    assert first.ok and kunden.rows_read == 500 and kunden.reconciliation.status == "equal"
    types = dict(rows(warehouse, "select column_name, data_type from information_schema.columns "
                                 "where table_name = 'Kunden'"))
    assert types["balance"] == "DECIMAL(12,2)" and types["active"] == "BOOLEAN"
    assert types["updated_at"] == "TIMESTAMP"
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE \"Kunden\" SET balance = balance + 1, updated_at = '2025-02-01' WHERE id <= 10")
        connection.exec_driver_sql("DELETE FROM \"Kunden\" WHERE id = 500")
        connection.exec_driver_sql("INSERT INTO \"Kunden\" VALUES (501, 'Łukasz', 9.99, true, NULL, '2025-02-02')")
    with open_source(postgres_url) as source, Warehouse(warehouse) as wh:
        second = run_ingest(source, wh, mode="incremental")
    kunden = second.tables[0]
    assert second.ok and kunden.mode == "incremental" and kunden.strategy == "watermark:updated_at (look-back 5 min)"
    assert (kunden.inserted, kunden.updated, kunden.deleted) == (1, 10, 1)
    assert rows(warehouse, 'select count(*), sum(balance) from raw."Kunden"') == [
        (500, sum(Decimal(i) / 4 for i in range(1, 500)) + 10 + Decimal("9.99"))]
    engine.dispose()


def test_postgres_json_and_infinite_times_arrive_as_stored(postgres_url, tmp_path):
    """psycopg parses JSON (a column of objects, arrays and strings arrived as Python's repr) and ranges
    ('(None, 11)'), and refuses 'infinity' timestamps and dates (the table failed). JSON and ranges must
    stay PostgreSQL's text and ±infinity arrive as DuckDB's own infinity, in full and incremental loads."""
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS valid")
        connection.exec_driver_sql("CREATE TABLE valid (id integer PRIMARY KEY, doc jsonb, until timestamptz, "
                                   "since timestamp, day date, span int4range, updated_at timestamp NOT NULL)")
        connection.exec_driver_sql(
            "INSERT INTO valid VALUES "
            "(1, '{\"a\": 1}', 'infinity', '-infinity', 'infinity', '[1,5)', '2025-01-01'), "
            "(2, '[1, \"x\"]', '2025-01-01 10:00+02', '2025-01-01 10:00', '2025-01-01', '(,10]', '2025-01-01'), "
            "(3, '\"text\"', NULL, NULL, '-infinity', 'empty', '2025-01-01'), "
            "(4, 'null', NULL, NULL, NULL, NULL, '2025-01-01')")
    warehouse = tmp_path / "w.duckdb"
    with open_source(postgres_url) as source, Warehouse(warehouse) as wh:
        first = run_ingest(source, wh, tables=["valid"])
    table = first.tables[0]
    assert first.ok and table.reconciliation.status == "equal", table.error
    assert rows(warehouse, "select id, doc, until = 'infinity'::TIMESTAMPTZ, since = '-infinity'::TIMESTAMP, "
                           "day::VARCHAR, span from raw.valid order by id") == [
        (1, '{"a": 1}', True, True, "infinity", "[1,5)"), (2, '[1, "x"]', False, False, "2025-01-01", "(,11)"),
        (3, '"text"', None, None, "-infinity", "empty"), (4, "null", None, None, None, None)]
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE valid SET until = 'infinity', updated_at = '2025-02-01' WHERE id = 2")
    with open_source(postgres_url) as source, Warehouse(warehouse) as wh:
        second = run_ingest(source, wh, mode="incremental", tables=["valid"])
        assert reconcile_table(source, wh, "valid").equal
    assert second.ok and second.tables[0].updated == 1
    assert rows(warehouse, "select until = 'infinity'::TIMESTAMPTZ from raw.valid where id = 2") == [(True,)]
    engine.dispose()


def test_a_cancel_stops_the_statement_running_on_the_server(postgres_url):
    """The dialect's interrupter sends PostgreSQL a cancel request: the statement ends now, not when done."""
    import threading

    import pytest

    from desktop_app.core.errors import SourceError
    from desktop_app.core.ingest.extract import SourceReader
    from desktop_app.core.progress import CancelToken

    token = CancelToken()
    with open_source(postgres_url) as source:
        reader = SourceReader(source, token)
        with reader.snapshot():
            threading.Timer(0.3, token.cancel).start()
            with pytest.raises(SourceError, match="cancel"):
                reader.scalar(sa.select(sa.func.pg_sleep(30)))


def test_dates_and_times_arrive_exactly_whatever_the_servers_datestyle(postgres_url, tmp_path):
    """Dates and timestamps are read as PostgreSQL's text (much cheaper than psycopg's objects): that text
    must be ISO even where the server writes 'SQL, DMY' (02/01/2025), else DuckDB reads another day."""
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS dated")
        connection.exec_driver_sql("CREATE TABLE dated (id int PRIMARY KEY, d date, ts timestamp(6), "
                                   "tz timestamptz, updated_at timestamp NOT NULL)")
        connection.exec_driver_sql(
            "INSERT INTO dated VALUES (1, '2025-01-02', '2025-01-02 03:04:05.678901', '2025-01-02 03:04:05+05:30', "
            "'2025-01-02'), (2, NULL, 'infinity', '-infinity', '2025-01-03'), "
            "(3, '0001-01-01', '1999-12-31 23:59:59', '1970-01-01 00:00:00+00', '2025-01-04')")
    engine.dispose()
    dmy = postgres_url + "?options=-c%20datestyle%3DSQL%2CDMY%20-c%20timezone%3DAmerica%2FSao_Paulo"
    warehouse = tmp_path / "w.duckdb"
    with open_source(dmy) as source, Warehouse(warehouse) as wh:
        report = run_ingest(source, wh, tables=["dated"])
    assert report.ok and report.tables[0].reconciliation.status == "equal"
    got = rows(warehouse, "SELECT id, d, ts, epoch(tz), isinf(ts), isinf(tz) FROM raw.dated ORDER BY id")
    assert got[0][:3] == (1, datetime(2025, 1, 2).date(), datetime(2025, 1, 2, 3, 4, 5, 678901))
    assert got[0][3] == datetime(2025, 1, 1, 21, 34, 5, tzinfo=__import__("datetime").UTC).timestamp()
    assert got[1][4:] == (True, True) and got[2][1] == datetime(1, 1, 1).date() and got[2][3] == 0
    types = dict(rows(warehouse, "SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'dated'"))
    assert (types["d"], types["ts"], types["tz"]) == ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE")

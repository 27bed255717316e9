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

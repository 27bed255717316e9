"""A big single table is rendered by several SQLite connections of one snapshot (issue #18).

The table here is shaped like TPC-H's lineitem: a composite key (so the row id is not the key),
DECIMAL money stored as REAL, DATE text, fractional-second DATETIME text, wide text, NULLs, and
gaps in the row ids. It spans several chunk ranges, so the load really runs on two readers.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

import duckdb
import nanoarrow
import pytest

from desktop_app.core.errors import Cancelled
from desktop_app.core.ingest import adbc_process, sqlite_chunks, table_job
from desktop_app.core.ingest.run import run_ingest
from desktop_app.core.ingest.sqlite_render import CHUNK_ROWS
from desktop_app.core.ingest.sqlite_snapshot import Snapshot
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.source import open_source
from desktop_app.core.progress import CancelToken

ROWS = 420_000


def make_lineitem(path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE lineitem (l_orderkey INTEGER, l_linenumber INTEGER, l_price DECIMAL(15,2), "
                   "l_discount REAL, l_shipdate DATE, l_updated DATETIME, l_comment VARCHAR(200), "
                   "PRIMARY KEY (l_orderkey, l_linenumber))")
        db.execute(f"""
            INSERT INTO lineitem
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS})
            SELECT i / 4, i % 4, round(i * 1.37, 2), iif(i % 11 = 0, NULL, (i % 10) / 100.0),
                   date('1992-01-01', '+' || (i % 2500) || ' days'),
                   strftime('%Y-%m-%d %H:%M:%f', '2024-01-01', '+' || (i + (i % 1000) / 1000.0) || ' seconds'),
                   iif(i % 13 = 0, NULL, printf('%.*c', 1 + i % 150, 'x') || ' ''quoted'' é ' || i)
            FROM n""")
        db.execute("DELETE FROM lineitem WHERE l_orderkey BETWEEN 20000 AND 40000")  # a gap in the row ids


def source_rows(path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT * FROM lineitem ORDER BY rowid").fetchall()


def warehouse_rows(path) -> list[tuple]:
    """The warehouse table in its own order, with dates and timestamps written back as the source's text."""
    with duckdb.connect(str(path), read_only=True) as con:
        found = con.execute("SELECT * FROM raw.lineitem").fetchall()

    def text(value):
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
        return value.isoformat() if isinstance(value, date) else value
    return [tuple(text(v) for v in row) for row in found]


@pytest.fixture(params=["typed", "rendered"])
def two_readers(monkeypatch, request):
    """Two readers whatever this machine's core count, reading typed Arrow batches or rendering CSV
    chunks (the typed path's fallback); records each range-reading chunk set's readers."""
    monkeypatch.setattr(table_job, "READERS_PER_TABLE", 2)
    monkeypatch.setattr(table_job, "TYPED_BATCHES", request.param == "typed")
    readers: list[int] = []
    original = sqlite_chunks.Chunks.__init__

    def recording(self, connections, *args, **kwargs):
        readers.append(len(connections) if kwargs.get("ranges", args[4] if len(args) > 4 else None) else 1)
        original(self, connections, *args, **kwargs)

    monkeypatch.setattr(sqlite_chunks.Chunks, "__init__", recording)
    return readers


def ingest(source, warehouse, **kwargs):
    with open_source(str(source)) as src, Warehouse(warehouse) as wh:
        return run_ingest(src, wh, **kwargs)


def test_a_big_table_read_by_two_readers_equals_the_source_in_order(tmp_path, two_readers):
    source, warehouse = tmp_path / "big.sqlite", tmp_path / "w.duckdb"
    make_lineitem(source)
    report = ingest(source, warehouse)
    table = report.tables[0]
    assert report.ok and table.reconciliation.status == "equal", table.error
    assert two_readers == [2]  # the table spanned several ranges and both readers rendered them
    expected = source_rows(source)
    assert len(expected) > 3 * CHUNK_ROWS and table.rows_read == len(expected)
    assert warehouse_rows(warehouse) == expected  # every value, in the source's row order
    with duckdb.connect(str(warehouse), read_only=True) as con:
        types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'lineitem'").fetchall())
    assert types == {"l_orderkey": "BIGINT", "l_linenumber": "BIGINT", "l_price": "DOUBLE", "l_discount": "DOUBLE",
                     "l_shipdate": "DATE", "l_updated": "TIMESTAMP", "l_comment": "VARCHAR"}


def test_an_incremental_load_after_a_parallel_full_load_equals_the_source(tmp_path, two_readers):
    source, warehouse = tmp_path / "big.sqlite", tmp_path / "w.duckdb"
    make_lineitem(source)
    assert ingest(source, warehouse).ok
    with sqlite3.connect(source) as db:  # changes in every range: updates, inserts, deletes
        db.execute("UPDATE lineitem SET l_price = l_price + 0.01, l_updated = '2030-01-01 00:00:00.000' "
                   "WHERE l_orderkey % 9000 = 1")
        db.execute("INSERT INTO lineitem VALUES (999999, 1, 12.34, 0.05, '2030-01-02', '2030-01-02 00:00:00.000', "
                   "'new')")
        db.execute("DELETE FROM lineitem WHERE l_orderkey % 17000 = 3")
    report = ingest(source, warehouse, mode="incremental")
    table = report.tables[0]
    assert report.ok and table.reconciliation.status == "equal", table.error
    assert sorted(warehouse_rows(warehouse)) == sorted(source_rows(source))


def test_a_cancel_mid_table_keeps_the_previous_load(tmp_path, two_readers):
    source, warehouse = tmp_path / "big.sqlite", tmp_path / "w.duckdb"
    make_lineitem(source)
    assert ingest(source, warehouse).ok
    before = warehouse_rows(warehouse)
    with sqlite3.connect(source) as db:
        db.execute("DELETE FROM lineitem WHERE l_orderkey < 1000")
    token = CancelToken()
    seen = []

    def cancel_after_two_chunks(progress):
        if progress.target == "lineitem" and progress.done and progress.done >= 2 * CHUNK_ROWS:
            seen.append(progress.done)
            token.cancel()

    with pytest.raises(Cancelled):
        ingest(source, warehouse, report=cancel_after_two_chunks, cancel=token)
    assert seen and seen[0] < len(before)  # it was cancelled mid-table
    assert warehouse_rows(warehouse) == before  # all or nothing: the previous load stands
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
                           ).fetchall() == [("lineitem",)]
    assert ingest(source, warehouse).ok and warehouse_rows(warehouse) == source_rows(source)  # and it converges


def _count(reader) -> int:
    if isinstance(reader, sqlite3.Connection):
        return reader.execute("SELECT count(*) FROM t").fetchone()[0]
    _, batches = reader.query("SELECT count(*) AS n FROM t", 10)
    return nanoarrow.Array(batches[0]).to_pylist()[0]["n"]


@pytest.mark.parametrize("make", ["sibling", "arrow_reader"])
def test_another_reader_shares_the_snapshot_or_is_refused(tmp_path, make):
    """In WAL mode a commit can land between two read transactions; data_version sees it (also of an
    ADBC reader, which runs in a reader process)."""
    source = tmp_path / "s.sqlite"
    with sqlite3.connect(source) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE t (x)")
        db.execute("INSERT INTO t VALUES (1)")
    writer = sqlite3.connect(source, isolation_level=None)
    snapshot = Snapshot(source)
    try:
        writer.execute("INSERT INTO t VALUES (2)")  # committed after main's snapshot began
        assert getattr(snapshot, make)() is None
    finally:
        snapshot.close()
    snapshot = Snapshot(source)
    try:
        reader = getattr(snapshot, make)()
        writer.execute("INSERT INTO t VALUES (3)")  # after both began: neither sees it
        assert reader is not None
        assert [_count(c) for c in (snapshot.main, reader)] == [2, 2]
    finally:
        snapshot.close()
        writer.close()


@pytest.mark.parametrize("late_timestamp", [False, True])
def test_a_dirty_value_late_in_a_big_table_widens_its_column_in_place(tmp_path, two_readers, late_timestamp,
                                                                       monkeypatch):
    """Text in an INTEGER column after 300,000 clean rows made the whole table be read twice; the rows
    already loaded now change type in place and the load reads on from the chunk that fell short. (A
    timestamp in a DATE column is still found by reading the table again, strictly.)"""
    source, warehouse = tmp_path / "dirty.sqlite", tmp_path / "w.duckdb"
    with sqlite3.connect(source) as db:
        db.execute("CREATE TABLE t (code INTEGER, shipped DATE, qty INTEGER, note TEXT)")
        db.execute("""INSERT INTO t WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 350000)
                      SELECT CASE i WHEN 300001 THEN 'N/A' ELSE i * 7 END,
                             CASE WHEN i = 250000 AND :late_timestamp THEN '2024-01-02 10:30:00'
                                  ELSE date('2020-01-01', '+' || (i % 900) || ' days') END,
                             CASE i WHEN 320000 THEN 2.5 ELSE i % 1000 END, 'row ' || i FROM n""",
                   {"late_timestamp": late_timestamp})
        expected = db.execute("SELECT CAST(code AS TEXT), shipped, CAST(qty AS REAL), note FROM t ORDER BY rowid"
                              ).fetchall()
    rendered = []
    original = sqlite_chunks.Chunks._render

    def counting(self, cursor, index, sql, params):
        rendered.append(index)
        return original(self, cursor, index, sql, params)

    monkeypatch.setattr(sqlite_chunks.Chunks, "_render", counting)
    original_query = adbc_process.ProcessReader.query

    def counting_batches(self, sql, batch_rows, stop=lambda: False):
        if "UNION ALL" in sql:  # a range (not the query that takes the snapshot)
            rendered.append(sql)
        return original_query(self, sql, batch_rows, stop)

    monkeypatch.setattr(adbc_process.ProcessReader, "query", counting_batches)
    report = ingest(source, warehouse)
    table = report.tables[0]
    assert report.ok and table.reconciliation.status == "equal", table.error
    # Four ranges; the short one read again after widening, but never the whole table (but to find a
    # timestamp in a DATE column: ahead readers may have rendered one range more). Typed batches widen
    # the same way, each time a range's column arrives as another Arrow type.
    assert len(rendered) <= 6 if not late_timestamp else len(rendered) >= 8, rendered
    widened = {"code", "qty", "shipped"} if late_timestamp else {"code", "qty"}
    assert {note.split(":")[0] for note in table.notes if "loaded as" in note} == widened
    with duckdb.connect(str(warehouse), read_only=True) as con:
        types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 't'").fetchall())
        found = con.execute("SELECT code, strftime(shipped, '%Y-%m-%d %H:%M:%S'), qty, note FROM raw.t").fetchall()
    assert types == {"code": "VARCHAR", "shipped": "TIMESTAMP" if late_timestamp else "DATE", "qty": "DOUBLE",
                     "note": "VARCHAR"}
    assert [(c, s.removesuffix(" 00:00:00"), q, n) for c, s, q, n in found] == expected


def test_a_big_without_rowid_table_is_cut_by_its_composite_key(tmp_path, two_readers):
    source, warehouse = tmp_path / "k.sqlite", tmp_path / "w.duckdb"
    with sqlite3.connect(source) as db:
        db.execute("CREATE TABLE sessions (region TEXT COLLATE NOCASE, seq INTEGER, started DATETIME, seconds REAL, "
                   "PRIMARY KEY (region, seq)) WITHOUT ROWID")
        db.execute("""INSERT INTO sessions
                      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 330000)
                      SELECT char(65 + i % 7) || iif(i % 2, 'x', 'X'), i,
                             datetime('2022-01-01', '+' || i || ' minutes'), (i % 3600) / 3.0 FROM n""")
        expected = db.execute("SELECT * FROM sessions ORDER BY region, seq").fetchall()
    report = ingest(source, warehouse)
    table = report.tables[0]
    assert report.ok and table.reconciliation.status == "equal" and table.rows_read == len(expected)
    assert not any("general path" in note for note in table.notes) and two_readers == [2]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = con.execute("SELECT region, seq, strftime(started, '%Y-%m-%d %H:%M:%S'), seconds "
                            "FROM raw.sessions").fetchall()
    assert found == expected  # every row once, in the key's order (NOCASE: 'Ax' and 'AX' sort together)

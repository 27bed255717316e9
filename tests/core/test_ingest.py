"""Ingestion into the warehouse's raw layer: exactness, dirty data, incremental, drift, atomicity."""

from __future__ import annotations

import sqlite3

import duckdb
import pytest

from desktop_app.core.errors import Cancelled, SourceError, WarehouseError
from desktop_app.core.ingest import sqlite_chunks
from desktop_app.core.ingest import table_job as run_module
from desktop_app.core.ingest.reconcile import reconcile_table
from desktop_app.core.ingest.run import run_ingest
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp import shop_schema
from desktop_app.core.oltp.simulate import simulate_activity
from desktop_app.core.oltp.source import open_source
from desktop_app.core.progress import CancelToken


def ingest(source_path, warehouse_path, **kwargs):
    with open_source(str(source_path)) as source, Warehouse(warehouse_path) as warehouse:
        return run_ingest(source, warehouse, **kwargs)


def rows(warehouse_path, sql):
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def column_types(warehouse_path, table):
    return dict(rows(warehouse_path, "select column_name, data_type from information_schema.columns "
                                     f"where table_schema = 'raw' and table_name = '{table}'"))


def assert_same_tables(a, b, tables):
    with duckdb.connect(str(a)) as con:
        con.execute(f"ATTACH '{b}' AS other (READ_ONLY)")
        for table in tables:
            for left, right in ((f"raw.{table}", f"other.raw.{table}"), (f"other.raw.{table}", f"raw.{table}")):
                extra = con.execute(f"SELECT count(*) FROM (SELECT * FROM {left} EXCEPT ALL SELECT * FROM {right})"
                                    ).fetchall()[0][0]
                assert extra == 0, f"{left} has {extra} rows not in {right}"


def test_full_load_equals_the_source_exactly(shop, tmp_path):
    report = ingest(shop, tmp_path / "w.duckdb")
    assert report.ok and {t.table for t in report.tables} == set(shop_schema.TABLES)
    with sqlite3.connect(shop) as db:
        for table in report.tables:
            assert table.reconciliation.status == "equal"
            count = db.execute(f"select count(*) from {table.table}").fetchone()[0]
            loaded = rows(tmp_path / "w.duckdb", f"select count(*) from raw.{table.table}")[0][0]
            assert table.rows_read == count == loaded
        revenue = db.execute("select sum(total_cents) from orders").fetchone()[0]
    assert rows(tmp_path / "w.duckdb", "select sum(total_cents) from raw.orders")[0][0] == revenue
    types = column_types(tmp_path / "w.duckdb", "orders")
    assert types["updated_at"] == "TIMESTAMP" and types["total_cents"] == "BIGINT" and types["status"] == "VARCHAR"
    # Formula-looking and non-ASCII text arrives untouched.
    names = {r[0] for r in rows(tmp_path / "w.duckdb", "select first_name from raw.customers")}
    assert '=HYPERLINK("http://example.invalid","Click")' in names
    history = rows(tmp_path / "w.duckdb", "select status, mode from _studio.runs")
    assert history == [("success", "full")]
    loads = rows(tmp_path / "w.duckdb", "select count(*), min(status) from _studio.table_loads")
    assert loads == [(8, "success")]


def test_awkward_text_arrives_byte_for_byte(tmp_path):
    """Carriage returns (Windows line breaks in a note) failed the whole table; quotes, the word NULL,
    separators, control characters and long values must also arrive as stored, on the fast path."""
    values = ["line 1\r\nline 2", "a\rb", "\r", "\n", "''", "'", "NULL", "null", " ", "\\", '"x"', "\ufeffbom",
              "tab\tx", "\x0b\x0c", "é€😀", ",", "", "a" * 100_000, None]
    source = tmp_path / "text.sqlite"
    with sqlite3.connect(source) as db:
        db.execute("create table notes (id integer primary key, body text)")
        db.executemany("insert into notes values (?, ?)", list(enumerate(values, 1)))
    report = ingest(source, tmp_path / "w.duckdb")
    table = report.tables[0]
    assert report.ok and not any("general path" in note for note in table.notes)
    assert rows(tmp_path / "w.duckdb", "select body from raw.notes order by id") == [(v,) for v in values]
    with open_source(str(source)) as src, Warehouse(tmp_path / "w.duckdb") as warehouse:
        assert reconcile_table(src, warehouse, "notes").equal


original_read_chunk = sqlite_chunks.read_chunk


def test_a_chunk_the_csv_reader_cannot_read_sends_its_table_through_the_general_path(tmp_path, monkeypatch):
    """A safety net for cases the fast path does not know yet: here the reader is made to take a carriage
    return for the end of a row again. The table must still load exactly, through the Arrow path."""
    monkeypatch.setattr(run_module, "TYPED_BATCHES", False)  # typed batches carry no CSV text
    monkeypatch.setattr(sqlite_chunks, "read_chunk", lambda path, types, options="": original_read_chunk(
        path, types, options).replace(", new_line = '\\n'", ""))
    source = tmp_path / "text.sqlite"
    with sqlite3.connect(source) as db:
        db.execute("create table notes (id integer primary key, body text)")
        db.executemany("insert into notes values (?, ?)", [(1, "line 1\r\nline 2"), (2, "plain")])
    report = ingest(source, tmp_path / "w.duckdb")
    table = report.tables[0]
    assert report.ok and any("general path" in note and "read back" in note for note in table.notes)
    assert rows(tmp_path / "w.duckdb", "select body from raw.notes order by id") == [("line 1\r\nline 2",), ("plain",)]


def test_a_table_wider_than_a_sqlite_function_call_stays_on_the_fast_path(tmp_path):
    """SQLite allows 127 arguments per function: a 300-column row is rendered by several format() calls."""
    width = 300
    source = tmp_path / "wide.sqlite"
    with sqlite3.connect(source) as db:
        db.execute(f"create table w (id integer primary key, {', '.join(f'c{i} integer' for i in range(width))}, "
                   "last text)")
        db.executemany(f"insert into w values ({', '.join('?' * (width + 2))})",
                       [(r, *range(r, r + width), f"row {r}") for r in range(1, 1001)])
    report = ingest(source, tmp_path / "w.duckdb")
    table = report.tables[0]
    assert report.ok and not any("general path" in note for note in table.notes)
    assert table.reconciliation.status == "equal"
    assert rows(tmp_path / "w.duckdb", "select c0, c99, c100, c299, last from raw.w where id = 7") == [
        (7, 106, 107, 306, "row 7")]
    with open_source(str(source)) as src, Warehouse(tmp_path / "w.duckdb") as warehouse:
        assert reconcile_table(src, warehouse, "w").equal


def test_a_without_rowid_table_is_cut_by_its_key_and_keeps_in_step(tmp_path):
    """A WITHOUT ROWID table has no row id to cut chunks by: it took the general path, 2.5x slower.
    Whole reads are now cut by its primary key; a filtered (incremental) read still takes the general path."""
    source, warehouse = tmp_path / "k.sqlite", tmp_path / "w.duckdb"
    with sqlite3.connect(source) as db:
        db.execute("create table k (code text primary key, n integer, updated_at text) without rowid")
        db.executemany("insert into k values (?, ?, '2024-01-01 00:00:00')", [(f"k{r:04d}", r) for r in range(1, 1001)])
    report = ingest(source, warehouse)
    assert report.ok and not any("general path" in note for note in report.tables[0].notes)
    assert report.tables[0].reconciliation.status == "equal"
    with sqlite3.connect(source) as db:
        db.execute("update k set n = -1, updated_at = '2024-02-01 00:00:00' where code = 'k0005'")
        db.execute("delete from k where code in ('k0001', 'k1000')")
    table = ingest(source, warehouse, mode="incremental").tables[0]
    assert table.status == "success" and (table.updated, table.deleted) == (1, 2)
    assert "loaded through the general path (a WITHOUT ROWID table, read by a filter)" in table.notes
    assert rows(warehouse, "select count(*), sum(n) from raw.k") == [(998, sum(range(2, 1000)) - 5 - 1)]


def test_a_column_named_rowid_does_not_hide_the_row_id(tmp_path):
    """Chunks are cut by SQLite's row id; a column named rowid hid it, chunks were cut by that column and
    only the first 100,000 rows arrived. With all three names taken, the table takes the Arrow path."""
    source = tmp_path / "rowid.sqlite"
    with sqlite3.connect(source) as db:
        db.execute("create table t (rowid text, x integer)")
        db.executemany("insert into t values ('same', ?)", [(i,) for i in range(250_000)])
        db.execute('create table u ("rowid" integer, "OID" integer, "_rowid_" integer, x integer)')
        db.executemany("insert into u values (1, 1, 1, ?)", [(i,) for i in range(1_000)])
    report = ingest(source, tmp_path / "w.duckdb")
    t, u = sorted(report.tables, key=lambda r: r.table)
    assert report.ok and t.rows_read == 250_000 and not any("general path" in n for n in t.notes)
    assert rows(tmp_path / "w.duckdb", "select count(*), sum(x) from raw.t") == [(250_000, sum(range(250_000)))]
    assert u.rows_read == 1_000 and any("hide SQLite's row id" in n for n in u.notes)


def test_integers_beyond_2_53_never_meet_reals_in_a_double_column(tmp_path, monkeypatch):
    """Integers and reals share DOUBLE, unless an integer would be rounded by it: then text. That held inside
    one batch; across batches (Arrow path) and across loads (an incremental update) the column became
    DOUBLE and 9223372036854775807 came out as 9223372036854775808."""
    from desktop_app.core.ingest import extract

    monkeypatch.setattr(run_module, "SQLITE_FAST_PATH", False)
    monkeypatch.setattr(extract, "BATCH_ROWS", 10)
    monkeypatch.setattr(extract.SourceReader.batches, "__defaults__", (10, None))
    source, warehouse = tmp_path / "s.sqlite", tmp_path / "w.duckdb"
    with sqlite3.connect(source) as db:
        db.execute("create table a (id integer primary key, v, updated_at text)")  # batches: ints, then reals
        db.executemany("insert into a values (?, ?, '2024-01-01 00:00:00')",
                       [(i, 2**62 + 1 if i == 3 else (i if i <= 10 else i / 2)) for i in range(1, 31)])
        db.execute("create table b (id integer primary key, v, updated_at text)")  # reals; an integer comes later
        db.executemany("insert into b values (?, ?, '2024-01-01 00:00:00')", [(i, i / 2) for i in range(1, 31)])
    assert ingest(source, warehouse).ok
    with sqlite3.connect(source) as db:
        db.execute("update b set v = 9223372036854775807, updated_at = '2024-02-01 00:00:00' where id = 5")
    report = ingest(source, warehouse, mode="incremental")
    assert report.ok
    assert rows(warehouse, "select v from raw.a where id = 3") == [(str(2**62 + 1),)]
    assert rows(warehouse, "select v from raw.b where id in (4, 5) order by id") == [("2.0",), ("9223372036854775807",)]
    with open_source(str(source)) as src, Warehouse(warehouse) as wh:
        assert reconcile_table(src, wh, "a").equal and reconcile_table(src, wh, "b").equal


def test_reconcile_sees_values_a_warehouse_type_changed(tmp_path):
    """The source side is cast to the warehouse's types before hashing, so a lossy type would hide
    the very change it made. Here the warehouse columns are retyped by hand the way a lenient load
    would have typed them: an integer beyond 2^53 into DOUBLE, a zoned timestamp text into TIMESTAMP."""
    source, warehouse = tmp_path / "s.sqlite", tmp_path / "w.duckdb"
    with sqlite3.connect(source) as db:
        db.execute("create table t (id integer primary key, big integer, zoned text, fine text)")
        db.executemany("insert into t values (?, ?, ?, ?)", [
            (1, 12345678901234567, "2024-01-01T10:00:00+02:00", "2024-01-01T10:00:00"),
            (2, 5, "2024-01-02T10:00:00", "2024-01-02T10:00:00")])
    assert ingest(source, warehouse).ok
    with open_source(str(source)) as src, Warehouse(warehouse) as wh:
        assert reconcile_table(src, wh, "t").equal
        cursor = wh.cursor()
        cursor.execute("ALTER TABLE raw.t ALTER big TYPE DOUBLE")
        cursor.execute("ALTER TABLE raw.t ALTER zoned TYPE TIMESTAMP USING TRY_CAST(zoned AS TIMESTAMP)")
        result = reconcile_table(src, wh, "t")
    assert not result.equal and result.changed == ("big", "zoned")
    assert "big, zoned" in result.detail and "reload" in result.detail


def make_dirty_source(path):
    db = sqlite3.connect(path)
    # "big" has no declared type, so SQLite keeps a >64-bit literal as text (an INTEGER column would
    # have turned it into a REAL by itself).
    db.execute('create table readings (id integer primary key, "amount" integer, happened text, big, '
               '"nothing" integer, note text, ratio real, huge integer)')
    rows_ = [(i, i * 10, f"2024-01-{1 + i % 28:02d}", i, None, "" if i % 7 == 0 else f"n{i}", i / 3, i)
             for i in range(1, 200_001)]
    rows_[150_000] = (150_001, "n/a", "2024-01-05", 1, None, "x", 0.5, 1)            # text after 150,000 clean rows
    rows_[150_010] = (150_011, 42, "05/01/2024", 2, None, "y", 0.25, 2)             # another date format
    big = "123456789012345678901234567890"                                          # beyond 64 bits
    rows_[150_020] = (150_021, 43, "2024-01-06", big, None, "z", 1.0, big)
    db.executemany("insert into readings values (?, ?, ?, ?, ?, ?, ?, ?)", rows_)
    db.commit()
    db.close()
    return rows_


def test_dirty_columns_keep_every_row_and_value(tmp_path):
    source = tmp_path / "dirty.sqlite"
    original = make_dirty_source(source)
    report = ingest(source, tmp_path / "w.duckdb")
    table = report.tables[0]
    assert report.ok and table.rows_read == 200_000 and table.reconciliation.status == "equal"
    dirty = {d.column: d for d in table.dirty_columns}
    assert dirty["amount"].example == "n/a"
    assert any("happened" in note and "mixed date formats" in note for note in table.notes)
    types = column_types(tmp_path / "w.duckdb", "readings")
    # An INTEGER column turns a >64-bit literal into a REAL by itself (SQLite affinity): DOUBLE holds it.
    assert types == {"id": "BIGINT", "amount": "VARCHAR", "happened": "VARCHAR", "big": "VARCHAR",
                     "nothing": "BIGINT", "note": "VARCHAR", "ratio": "DOUBLE", "huge": "DOUBLE"}
    assert rows(tmp_path / "w.duckdb", "select huge from raw.readings where id = 150021") == [(1.2345678901234568e29,)]
    loaded = {r[0]: r[1:] for r in rows(tmp_path / "w.duckdb", "select * from raw.readings")}
    assert len(loaded) == 200_000
    for row in (original[0], original[149_999], original[150_000], original[150_010], original[150_020]):
        got = loaded[row[0]]
        assert got[0] == str(row[1]) and got[1] == row[2] and got[2] == str(row[3]) and got[3] is None
        assert got[4] == row[5] and got[5] == row[6]
    assert loaded[7][4] == "" and loaded[8][4] == "n8"  # empty strings stay empty strings, not NULL
    # An independent check: re-read the source through the general (Arrow) path and compare every column.
    with open_source(str(source)) as src, Warehouse(tmp_path / "w.duckdb") as warehouse:
        assert reconcile_table(src, warehouse, "readings").equal


def test_dates_and_timestamps_are_never_bent_to_fit(tmp_path):
    """DuckDB's own text parser drops a zone offset, truncates nanoseconds and reads a time of day
    into a DATE; values like those, appearing only after 150,000 clean rows, must arrive exactly."""
    source = tmp_path / "times.sqlite"
    db = sqlite3.connect(source)
    db.execute("create table events (id integer primary key, zoned text, day text, stamp text, fine text)")
    clean = [(i, f"2024-01-{1 + i % 28:02d}T10:00:00", f"2024-02-{1 + i % 28:02d}", f"2024-03-01 10:{i % 60:02d}:00",
              f"2024-04-01 10:00:{i % 60:02d}") for i in range(1, 200_001)]
    clean[150_000] = (150_001, "2024-01-05T10:00:00+02:00", "2024-02-05 10:30", "2024-03-01 10:00:00.250000",
                      "2024-04-01 10:00:00.123456789")
    db.executemany("insert into events values (?, ?, ?, ?, ?)", clean)
    db.commit()
    db.close()
    report = ingest(source, tmp_path / "w.duckdb")
    table = report.tables[0]
    assert report.ok and table.rows_read == 200_000 and table.reconciliation.status == "equal"
    types = column_types(tmp_path / "w.duckdb", "events")
    # An offset and nanoseconds cannot be held by TIMESTAMP: text. A time of day widens DATE to TIMESTAMP.
    # Another ISO form (fractional seconds among whole ones) is still a TIMESTAMP.
    assert types == {"id": "BIGINT", "zoned": "VARCHAR", "day": "TIMESTAMP", "stamp": "TIMESTAMP", "fine": "VARCHAR"}
    dirty = {d.column: d.example for d in table.dirty_columns}
    assert dirty == {"zoned": "2024-01-05T10:00:00+02:00", "day": "2024-02-05 10:30",
                     "fine": "2024-04-01 10:00:00.123456789"}
    got = rows(tmp_path / "w.duckdb", "select zoned, day::VARCHAR, stamp::VARCHAR, fine from raw.events "
                                      "where id in (2, 150001) order by id")
    assert got == [("2024-01-03T10:00:00", "2024-02-03 00:00:00", "2024-03-01 10:02:00", "2024-04-01 10:00:02"),
                   ("2024-01-05T10:00:00+02:00", "2024-02-05 10:30:00", "2024-03-01 10:00:00.25",
                    "2024-04-01 10:00:00.123456789")]
    with open_source(str(source)) as src, Warehouse(tmp_path / "w.duckdb") as warehouse:
        assert reconcile_table(src, warehouse, "events").equal


@pytest.mark.parametrize("odd", [
    {"worded": "epoch", "forever": "infinity", "padded": " 2024-03-01 10:00:00", "short": "2024-3-01 10:00:00",
     "spaced": "2024-03-01\t10:00:00"},
    # White space other than a space, alone in its table: only the chunk's control-character test finds it.
    {"tabbed": "\t024-03-01T10:00:00"},
    {"broken": "\n024-03-01T10:00:00"},
], ids=["words-and-spaces", "tab", "line-break"])
def test_timestamp_text_is_never_read_past_its_exact_form(tmp_path, odd):
    """strptime skips white space (a tab or line break too) and reads the words epoch and infinity;
    after 150,000 clean rows such values must keep their text (the column becomes VARCHAR)."""
    source = tmp_path / "words.sqlite"
    db = sqlite3.connect(source)
    db.execute(f"create table events (id integer primary key, {', '.join(f'{c} text' for c in odd)}, fine text)")
    sep = "T" if "T" in next(iter(odd.values())) else " "
    clean = [(i, *(f"2024-03-{1 + i % 28:02d}{sep}10:00:{i % 60:02d}" for _ in range(len(odd) + 1)))
             for i in range(1, 200_001)]
    clean[150_000] = (150_001, *odd.values(), f"2024-03-01{sep}10:00:00")
    db.executemany(f"insert into events values ({', '.join('?' * (len(odd) + 2))})", clean)
    db.commit()
    db.close()
    report = ingest(source, tmp_path / "w.duckdb")
    table = report.tables[0]
    assert report.ok and table.rows_read == 200_000 and table.reconciliation.status == "equal"
    assert column_types(tmp_path / "w.duckdb", "events") == {"id": "BIGINT", **dict.fromkeys(odd, "VARCHAR"),
                                                             "fine": "TIMESTAMP"}
    assert {d.column: d.example for d in table.dirty_columns} == odd
    got = rows(tmp_path / "w.duckdb", f"select {', '.join(odd)} from raw.events where id = 150001")
    assert got == [tuple(odd.values())]
    with open_source(str(source)) as src, Warehouse(tmp_path / "w.duckdb") as warehouse:
        assert reconcile_table(src, warehouse, "events").equal


def test_general_path_loads_the_same_warehouse_as_the_sqlite_fast_path(shop, tmp_path, monkeypatch):
    fast = tmp_path / "fast.duckdb"
    assert ingest(shop, fast).ok
    simulate_activity(shop, orders=100, updates=100, deletes=10, seed=2)
    assert ingest(shop, fast, mode="incremental").ok
    monkeypatch.setattr(run_module, "SQLITE_FAST_PATH", False)
    general = tmp_path / "general.duckdb"
    report = ingest(shop, general)
    assert report.ok and all(t.reconciliation.scope == "full" for t in report.tables)
    assert_same_tables(fast, general, shop_schema.TABLES)


def test_incremental_after_simulate_equals_a_fresh_full_load(shop, tmp_path):
    incremental = tmp_path / "inc.duckdb"
    ingest(shop, incremental)
    before = rows(incremental, "select count(*) from raw.orders")[0][0]
    simulate_activity(shop, orders=150, updates=300, deletes=40, seed=3)
    report = ingest(shop, incremental, mode="incremental")
    assert report.ok
    by_table = {t.table: t for t in report.tables}
    orders = by_table["orders"]
    assert orders.mode == "incremental" and orders.strategy == "watermark:updated_at (look-back 5 min)"
    assert orders.inserted >= 100 and orders.updated > 0 and orders.deleted > 0
    assert orders.rows_read < before / 5  # only the changes were read
    assert by_table["order_items"].deleted > 0
    full = tmp_path / "full.duckdb"
    ingest(shop, full)
    assert_same_tables(incremental, full, shop_schema.TABLES)
    watermarks = rows(incremental, "select watermark from _studio.table_loads where table_name = 'orders' "
                                   "order by run_id")
    assert watermarks[1][0] > watermarks[0][0]


def test_schema_drift_adds_keeps_and_widens(tmp_path):
    path = tmp_path / "drift.sqlite"
    db = sqlite3.connect(path)
    db.execute("create table items (id integer primary key, qty integer, legacy text, updated_at text)")
    db.executemany("insert into items values (?, ?, ?, ?)", [(i, i, "old", "2024-01-01T00:00:00") for i in range(100)])
    db.commit()
    warehouse = tmp_path / "w.duckdb"
    ingest(path, warehouse)
    db.execute("alter table items add column colour text")
    db.execute("alter table items drop column legacy")
    db.execute("insert into items (id, qty, updated_at, colour) values (100, 'lots', '2024-02-01T00:00:00', 'red')")
    db.commit()
    db.close()
    report = ingest(path, warehouse, mode="incremental")
    table = report.tables[0]
    assert report.ok, table.error
    notes = " | ".join(table.notes)
    assert "new column colour" in notes and "legacy dropped in the source: kept" in notes
    assert "widened qty: BIGINT → VARCHAR" in notes
    assert rows(warehouse, "select qty, colour, legacy from raw.items where id = 100") == [("lots", "red", None)]
    assert rows(warehouse, "select qty, legacy from raw.items where id = 5") == [("5", "old")]


def test_cancel_mid_table_leaves_the_previous_state(shop, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    ingest(shop, warehouse, tables=["orders"])
    before = rows(warehouse, "select count(*), sum(total_cents) from raw.orders")
    simulate_activity(shop, orders=100, updates=0, deletes=0, seed=1)
    token = CancelToken()

    def cancel_when_loading(progress):
        if progress.target == "order_items" and progress.done > 0:
            token.cancel()

    with pytest.raises(Cancelled):
        with open_source(str(shop)) as source, Warehouse(warehouse) as wh:
            run_ingest(source, wh, tables=["orders", "order_items"], report=cancel_when_loading, cancel=token)
    # All or nothing per table: orders is exactly as before or exactly the new state (tables load two
    # at a time, so it may have committed before the cancel); order_items never half-exists.
    assert rows(warehouse, "select count(*) from raw.orders")[0][0] in (before[0][0], before[0][0] + 100)
    assert rows(warehouse, "select count(*) from information_schema.tables where table_name like 'order_items%'"
                ) == [(0,)]
    assert rows(warehouse, "select status from _studio.runs order by run_id") == [("success",), ("cancelled",)]


def test_a_cancel_after_a_table_committed_does_not_cut_off_its_history(shop, tmp_path, monkeypatch):
    """The cancel interrupted every statement of the table's cursor, also the run history written after
    the load had committed: a reconciliation record cut off escaped as a database error (seen in CI).
    Here a cancel arrives while a slow statement runs in that bookkeeping."""
    import threading

    token = CancelToken()
    original = run_module.record_reconciliation

    def slow_record(cursor, run_id, recon):
        threading.Timer(0.05, token.cancel).start()
        cursor.execute("SELECT sum(range) FROM range(3000000000)").fetchall()  # seconds: the cancel lands in it
        original(cursor, run_id, recon)

    monkeypatch.setattr(run_module, "record_reconciliation", slow_record)
    with open_source(str(shop)) as source, Warehouse(tmp_path / "w.duckdb") as warehouse:
        report = run_ingest(source, warehouse, tables=["categories"], cancel=token)
    assert token.cancelled and report.ok  # the only table had committed: its load and history stand
    assert rows(tmp_path / "w.duckdb", "select count(*) from _studio.reconciliations") == [(1,)]


def test_table_without_primary_key_and_awkward_identifiers(tmp_path):
    path = tmp_path / "odd.sqlite"
    db = sqlite3.connect(path)
    db.execute('create table "order lines ""2024"" é" ("select" integer, "naïve col" text, "x""y" real)')
    db.executemany('insert into "order lines ""2024"" é" values (?, ?, ?)', [(i, f"ü{i}", i / 2) for i in range(50)])
    db.commit()
    db.close()
    warehouse = tmp_path / "w.duckdb"
    report = ingest(path, warehouse, mode="incremental")
    table = report.tables[0]
    assert report.ok and table.strategy == "full" and any("no primary key" in n for n in table.notes)
    assert rows(warehouse, 'select count(*), sum("select") from raw."order lines ""2024"" é"') == [(50, 1225)]
    again = ingest(path, warehouse, mode="incremental")
    assert again.ok and again.tables[0].mode == "full"


def test_bad_warehouse_and_unknown_tables(shop, tmp_path):
    not_duck = tmp_path / "notes.duckdb"
    not_duck.write_text("hello")
    with pytest.raises(WarehouseError, match="not a DuckDB database"):
        Warehouse(not_duck)
    assert not_duck.read_text() == "hello"
    with pytest.raises(WarehouseError, match="is a folder"):
        Warehouse(tmp_path)
    with open_source(str(shop)) as source, Warehouse(tmp_path / "w.duckdb") as warehouse:
        with pytest.raises(SourceError, match="No table 'nope'"):
            run_ingest(source, warehouse, tables=["orders", "nope"])


def test_warehouse_in_use_by_another_process(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "busy.duckdb"
    duckdb.connect(str(path)).close()
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, sys, time; c = duckdb.connect({str(path)!r}); "
                               "print('ready', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseError, match="in use by another program"):
            Warehouse(path)
    finally:
        holder.kill()
        holder.wait()


def test_hard_deletes_are_found_in_key_ranges_and_across_key_chunks(tmp_path, monkeypatch):
    """A few deletions are found by comparing key ranges (only differing ranges' keys are read);
    dense deletions by comparing every key, which crosses to DuckDB in chunks. Deletions at range
    and chunk edges, and of the smallest and largest key, are applied either way."""
    import sqlite3

    import desktop_app.core.ingest.sqlite_table as sqlite_table

    monkeypatch.setattr(sqlite_table, "KEY_CHUNK", 1000)
    every_key_reads = []
    copy_all = sqlite_table.copy_integer_keys
    monkeypatch.setattr(sqlite_table, "copy_integer_keys",
                        lambda *a, **k: every_key_reads.append(a[2]) or copy_all(*a, **k))
    path = tmp_path / "keys.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, updated_at TEXT NOT NULL, v TEXT)")
        db.executemany("INSERT INTO t VALUES (?, '2024-01-01 00:00:00', ?)", [(i, f"v{i}") for i in range(1, 3501)])
    warehouse = tmp_path / "w.duckdb"
    with open_source(str(path)) as source, Warehouse(warehouse) as wh:
        assert run_ingest(source, wh).ok
    expected = set(range(1, 3501))
    for gone, reads_every_key in (({1, 16, 17, 18, 999, 1000, 1001, 2000, 3333, 3500}, False),
                                  ({i for i in range(1, 3501) if i % 3 == 0} | {2, 3499}, True)):
        gone &= expected  # a key deleted in an earlier round is not deleted again
        with sqlite3.connect(path) as db:
            db.executemany("DELETE FROM t WHERE id = ?", [(i,) for i in gone])
        every_key_reads.clear()
        with open_source(str(path)) as source, Warehouse(warehouse) as wh:
            report = run_ingest(source, wh, mode="incremental")
            assert report.ok and report.tables[0].deleted == len(gone)
            left = {r[0] for r in wh.cursor().execute("SELECT id FROM raw.t").fetchall()}
        expected -= gone
        assert left == expected
        assert bool(every_key_reads) == reads_every_key


def test_text_that_is_not_utf8_fails_its_table_clearly_and_keeps_the_previous_load(tmp_path):
    source, warehouse = tmp_path / "bytes.sqlite", tmp_path / "w.duckdb"
    with sqlite3.connect(source) as db:
        db.execute("create table good (id integer primary key, a text)")
        db.execute("create table bad (id integer primary key, a text)")
        for table in ("good", "bad"):
            db.executemany(f"insert into {table} values (?, ?)", [(i, f"v{i}") for i in range(1, 501)])
    assert ingest(source, warehouse).ok
    with sqlite3.connect(source) as db:
        db.execute("update bad set a = CAST(x'41ff42' AS TEXT) where id = 250")  # SQLite keeps any bytes as TEXT
        db.execute("insert into good values (501, 'new')")
    report = ingest(source, warehouse)
    results = {t.table: t for t in report.tables}
    assert not report.ok and results["good"].status == "success" and results["bad"].status == "failed"
    assert "not valid UTF-8" in results["bad"].error and "leave its table out" in results["bad"].error
    assert rows(warehouse, "select count(*), max(id) from raw.good") == [(501, 501)]
    assert rows(warehouse, "select count(*), min(a) filter (where id = 250) from raw.bad") == [(500, "v250")]


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_timestamp_column_that_gets_text_is_reloaded_not_cast(tmp_path, monkeypatch, fast_path):
    """Widening loaded TIMESTAMPs to text would write DuckDB's form of them ('2024-01-01 10:00:01'), not the
    source's ('2024-01-01T10:00:01'): the incremental load is rolled back and the table reloaded in full."""
    monkeypatch.setattr(run_module, "SQLITE_FAST_PATH", fast_path)
    source, warehouse = tmp_path / "seen.sqlite", tmp_path / "w.duckdb"
    with sqlite3.connect(source) as db:
        db.execute("create table t (id integer primary key, seen text, updated_at text)")
        db.executemany("insert into t values (?, ?, '2024-01-01 00:00:00')",
                       [(i, f"2024-01-01T10:00:{i % 60:02d}") for i in range(1, 3001)])
    assert ingest(source, warehouse).ok
    with sqlite3.connect(source) as db:  # another ISO form: still a timestamp, merged incrementally
        db.execute("update t set seen = '2024-01-02 10:00:00.5', updated_at = '2024-01-02 00:00:00' where id = 1")
    report = ingest(source, warehouse, mode="incremental")
    assert report.ok and report.tables[0].mode == "incremental" and report.tables[0].updated == 1
    with sqlite3.connect(source) as db:  # a zone offset: TIMESTAMP cannot hold it
        db.execute("update t set seen = '2024-01-03T10:00:00+02:00', updated_at = '2024-01-03 00:00:00' where id = 2")
    report = ingest(source, warehouse, mode="incremental")
    table = report.tables[0]
    assert report.ok and table.mode == "full" and table.reconciliation.status == "equal"
    assert any("reloaded in full" in note and "+02:00" in note for note in table.notes)
    assert rows(warehouse, "select id, seen from raw.t where id <= 3 order by id") == [
        (1, "2024-01-02 10:00:00.5"), (2, "2024-01-03T10:00:00+02:00"), (3, "2024-01-01T10:00:03")]


def test_numbers_are_never_read_into_text_or_rounded(tmp_path):
    """DuckDB reads '0x1A' as 26, '1_000' as 1000, 'nan' as NaN and a REAL 2.5 in a BIGINT column as 3; SQLite
    keeps those as text (or a REAL) in numeric columns. After 150,000 clean rows they must still arrive exactly."""
    source = tmp_path / "numbers.sqlite"
    with sqlite3.connect(source) as db:
        db.execute("create table n (id integer primary key, hex integer, under integer, frac integer)")
        db.executemany("insert into n values (?, ?, ?, ?)", [(i, i, i, i) for i in range(1, 200_001)])
        db.execute("update n set hex = '0x1A', under = '1_000', frac = 2.5 where id = 150001")
        db.execute("create table r (id integer primary key, notanumber real)")
        db.executemany("insert into r values (?, ?)", [(i, i / 4) for i in range(1, 200_001)])
        db.execute("update r set notanumber = 'nan' where id = 150001")
    report = ingest(source, tmp_path / "w.duckdb")
    n, r = sorted(report.tables, key=lambda t: t.table)
    assert report.ok and n.rows_read == r.rows_read == 200_000
    assert n.reconciliation.status == r.reconciliation.status == "equal"
    assert not any("general path" in note for note in n.notes)  # marked by SQLite, refused by DuckDB
    assert column_types(tmp_path / "w.duckdb", "n") == {"id": "BIGINT", "hex": "VARCHAR", "under": "VARCHAR",
                                                        "frac": "DOUBLE"}
    assert {d.column: d.example for d in n.dirty_columns} == {"hex": "0x1A", "under": "1_000", "frac": "2.5"}
    assert rows(tmp_path / "w.duckdb", "select hex, under, frac from raw.n where id in (2, 150001) order by id") == [
        ("2", "2", 2.0), ("0x1A", "1_000", 2.5)]
    # Reals beside text: SQLite cannot write them as Python and DuckDB do, so that table took the Arrow path.
    assert any("general path" in note for note in r.notes)
    assert {d.column: d.example for d in r.dirty_columns} == {"notanumber": "nan"}
    assert rows(tmp_path / "w.duckdb", "select notanumber from raw.r where id in (2, 150001) order by id") == [
        ("0.5",), ("nan",)]


@pytest.mark.parametrize("huge", [False, True], ids=["fast-path", "huge-real"])
def test_reals_and_big_integers_keep_every_digit(tmp_path, huge):
    """A DECIMAL column (DOUBLE here) holding an integer beyond 2^53 would be rounded by DOUBLE; SQLite 3.40
    writes some doubles beyond 1e100 inexactly. After 150,000 clean rows every value must arrive exactly."""
    source = tmp_path / "digits.sqlite"
    with sqlite3.connect(source) as db:
        db.execute("create table d (id integer primary key, big decimal, huge real)")
        db.executemany("insert into d values (?, ?, ?)", [(i, i, i / 8) for i in range(1, 200_001)])
        db.execute("update d set big = 12345678901234567, huge = ? where id = 150001",
                   (1.7976931348623157e308 if huge else 0.125,))
    report = ingest(source, tmp_path / "w.duckdb")
    table = report.tables[0]
    assert report.ok and table.rows_read == 200_000 and table.reconciliation.status == "equal"
    general = any("general path" in note and "1e+100" in note for note in table.notes)
    assert general == huge  # a huge real sends the table through the exact Arrow path (Python floats)
    # The fast path cannot know the DECIMAL column holds only integers: text keeps them exact. The Arrow
    # path sees every value's type: BIGINT.
    assert column_types(tmp_path / "w.duckdb", "d") == {"id": "BIGINT", "big": "BIGINT" if huge else "VARCHAR",
                                                        "huge": "DOUBLE"}
    got = rows(tmp_path / "w.duckdb", "select big::VARCHAR, huge from raw.d where id = 150001")
    assert got == [("12345678901234567", 1.7976931348623157e308 if huge else 0.125)]


@pytest.mark.parametrize("odd", [0.1 + 0.2, b"\x00\x01"], ids=["real", "blob"])
def test_a_value_text_cannot_carry_sends_its_table_through_the_general_path(tmp_path, odd):
    """A REAL in a column of no declared type would be written with SQLite's 15 digits ('0.3'), a blob
    in a TEXT column as its bytes cut at the first NUL (''). Found in any chunk, the table takes the
    Arrow path, which keeps each value and names the column."""
    source = tmp_path / "odd.sqlite"
    with sqlite3.connect(source) as db:
        db.execute("create table u (id integer primary key, anything, body text, stored text)")
        db.executemany("insert into u values (?, ?, ?, ?)", [(i, i, f"b{i}", 0.1 + 0.2) for i in range(1, 200_001)])
        db.execute("update u set anything = ?, body = ? where id = 150001", (odd, odd))
    report = ingest(source, tmp_path / "w.duckdb")
    table = report.tables[0]
    assert report.ok and table.reconciliation.status == "equal"
    assert any("general path" in note for note in table.notes)
    got = rows(tmp_path / "w.duckdb", "select anything, body, stored from raw.u where id in (2, 150001) order by id")
    # Integers and reals share DOUBLE; a blob (as hex) beside integers or text makes a text column, named.
    # A TEXT column already holds SQLite's text of a number (converted on insert): it stays as stored.
    if isinstance(odd, float):
        assert got == [(2.0, "b2", "0.3"), (odd, "0.3", "0.3")]  # body is TEXT: SQLite stored the text '0.3'
        assert table.dirty_columns == []
    else:
        assert got == [("2", "b2", "0.3"), ("0001", "0001", "0.3")]
        assert {d.column for d in table.dirty_columns} == {"anything", "body"}


@pytest.mark.parametrize("base", [2 ** 61, 2 ** 62 + 5, -(2 ** 63) + 1])
def test_snowflake_sized_keys_are_fingerprinted_and_deleted_without_overflow(tmp_path, base):
    """A sum of 62-bit keys overflows 64 bits after a few rows (SQLite's sum() then raises): key sums are
    taken modulo a prime. Near the ends of the 64-bit range, ranges are not cut; every key is compared."""
    source, warehouse = tmp_path / "big.sqlite", tmp_path / "w.duckdb"
    keys = [base + i * 1_000_003 for i in range(2_000)]
    with sqlite3.connect(source) as db:
        db.execute("create table t (id integer primary key, updated_at text not null, v text)")
        db.executemany("insert into t values (?, '2024-01-01 00:00:00', 'x')", [(k,) for k in keys])
    assert ingest(source, warehouse).ok
    gone = {keys[0], keys[1], keys[999], keys[-1]}
    with sqlite3.connect(source) as db:
        db.executemany("delete from t where id = ?", [(k,) for k in gone])
        db.execute("insert into t values (?, '2024-02-01 00:00:00', 'new')", (keys[-2] + 1,))
    report = ingest(source, warehouse, mode="incremental")
    table = report.tables[0]
    assert report.ok and table.deleted == len(gone) and table.inserted == 1
    assert table.reconciliation.status == "equal"
    left = {r[0] for r in rows(warehouse, "select id from raw.t")}
    assert left == (set(keys) - gone) | {keys[-2] + 1}


def test_an_integer_primary_key_that_is_not_the_rowid_may_hold_text(tmp_path):
    """INTEGER PRIMARY KEY DESC is an ordinary column (SQLite's quirk): its '0x1A' must not arrive as 26."""
    source = tmp_path / "desc.sqlite"
    with sqlite3.connect(source) as db:
        db.execute("create table d (id INTEGER PRIMARY KEY DESC, v text)")
        db.executemany("insert into d values (?, 'x')", [(i,) for i in range(1, 1001)])
        db.execute("insert into d values ('0x1A', 'text key')")
    report = ingest(source, tmp_path / "w.duckdb")
    assert report.ok and report.tables[0].reconciliation.status == "equal"
    assert rows(tmp_path / "w.duckdb", "select id from raw.d where v = 'text key'") == [("0x1A",)]

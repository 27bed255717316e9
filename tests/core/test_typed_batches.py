"""SQLite tables read as typed Arrow batches by the ADBC driver (``core.ingest.sqlite_typed``).

The driver types a column by its batch's values and converts the others (a REAL among integers
makes the column DOUBLE, a text makes it text, with numbers written as ``%e``): each case here
either lands exactly on the typed path or is declined to the rendered one, never converted.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading

import duckdb
import pytest

from desktop_app.core.ingest.adbc_sqlite import available
from desktop_app.core.ingest.run import run_ingest
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.source import open_source

pytestmark = pytest.mark.skipif(not available(), reason="the ADBC SQLite driver is a dependency: it must load")


def load(tmp_path, declared: str, values: list, name: str = "v"):
    source, warehouse = tmp_path / "s.sqlite", tmp_path / "w.duckdb"
    with sqlite3.connect(source) as db:
        db.execute(f'CREATE TABLE t (id INTEGER PRIMARY KEY, "{name}" {declared})')
        db.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values, 1)))
        stored = db.execute(f'SELECT "{name}" FROM t ORDER BY id').fetchall()
    with open_source(str(source)) as src, Warehouse(warehouse) as wh:
        report = run_ingest(src, wh)
    table = report.tables[0]
    assert report.ok and table.reconciliation.status == "equal", table.error
    with duckdb.connect(str(warehouse), read_only=True) as con:
        kind = con.execute("SELECT data_type FROM information_schema.columns WHERE table_name = 't' "
                           f"AND column_name = '{name}'").fetchall()[0][0]
        found = con.execute(f'SELECT "{name}" FROM raw.t ORDER BY id').fetchall()
    return table, kind, [v for (v,) in stored], [v for (v,) in found]


def test_the_driver_is_installed_with_the_app():
    assert available()


def test_text_after_many_nulls_stays_text(tmp_path, typed_tables):
    """The driver types a column by its first values: all NULL would make it INT64 and refuse the text.
    Each range's leading row decides instead (and never lands)."""
    values = [None] * 150_000 + ["late text", "2.5"]
    table, kind, stored, found = load(tmp_path, "TEXT", values)
    assert typed_tables == ["t"] and kind == "VARCHAR" and found == stored and len(found) == len(values)


def test_text_with_a_nul_inside_arrives_whole_on_the_typed_path(tmp_path, typed_tables):
    """The rendered path cuts such text at the NUL (SQLite's text functions stop there); the driver reads
    a value by its length."""
    values = ["a\x00b", "plain", "\x00", "end\x00"]
    table, kind, stored, found = load(tmp_path, "TEXT", values)
    assert typed_tables == ["t"] and kind == "VARCHAR" and found == stored == values


@pytest.mark.parametrize(("declared", "values", "landed", "example"), [
    ("INTEGER", [1, 2, 2.5, 4], "DOUBLE", "2.5"),
    ("INTEGER", [1, 2, "N/A", 4], "VARCHAR", "N/A"),
])
def test_a_column_of_other_values_widens_on_the_typed_path_and_says_so(tmp_path, typed_tables, declared, values, landed,
                                                                       example):
    table, kind, stored, found = load(tmp_path, declared, values)
    assert typed_tables == ["t"] and kind == landed
    assert any(note.startswith("v: loaded as") and example in note for note in table.notes), table.notes
    if landed == "DOUBLE":
        assert found == [float(v) for v in stored]
    else:  # the numbers as SQLite writes an integer, and the shortest text of a real
        assert found == [v if isinstance(v, str) else (str(v) if isinstance(v, int) else repr(v)) for v in stored]


@pytest.mark.parametrize(("declared", "values"), [
    ("NUMERIC", [0.5, 2**53 + 1, -(2**63), 7]),  # DOUBLE cannot hold them: the rendered path widens to text
    ("REAL", [1.5, "n/a", 2.0]),  # text, then as text the reals the driver would write as %e
    ("", ["a", 0.1 + 0.2, "b"]),  # a REAL among text: the driver would write 3.000000e-01
    ("BLOB", [b"\x00\x01", "text", None]),  # text in a BLOB column
])
def test_values_the_batches_would_carry_inexactly_are_declined_and_land_exactly(tmp_path, typed_tables, declared,
                                                                               values):
    table, kind, stored, found = load(tmp_path, declared, values)
    assert typed_tables == []
    for source_value, landed in zip(stored, found, strict=True):
        if isinstance(source_value, float):
            assert float(landed) == source_value
        elif isinstance(source_value, int) and kind == "VARCHAR":
            assert landed == str(source_value)
        elif isinstance(source_value, str) and kind == "BLOB":
            assert landed == source_value.encode()
        elif isinstance(source_value, bytes) and kind == "VARCHAR":  # the general path writes a blob in hex
            assert landed == source_value.hex()
        else:
            assert landed == source_value


def test_a_column_named_like_the_flag_is_loaded(tmp_path, typed_tables):
    table, kind, stored, found = load(tmp_path, "INTEGER", [1, None, 3], name="__flag")
    assert typed_tables == ["t"] and found == stored



def test_a_wal_database_is_read_typed_while_this_process_keeps_opening_it(tmp_path, typed_tables):
    """The driver's copy of SQLite beside Python's on a WAL file crashed the process (SIGBUS: a library
    that sees no other connection resets the shared memory the other has mapped). The driver now reads
    in reader processes only: here Python's connections to the same WAL file are opened, used and closed
    all through two loads, while an application writer keeps the WAL from being checkpointed away."""
    source, warehouse = tmp_path / "s.sqlite", tmp_path / "w.duckdb"
    writer = sqlite3.connect(source, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, n REAL)")
    stop = threading.Event()

    def come_and_go() -> None:  # what discovery, reconciliation and the window do to the same file
        while not stop.is_set():
            with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as reader:
                reader.execute("SELECT count(*), sum(n) FROM t").fetchall()

    try:
        for run in range(2):
            writer.executemany("INSERT INTO t (v, n) VALUES (?, ?)", [(f"v{i}", i / 4) for i in range(60_000)])
            churn = threading.Thread(target=come_and_go)
            churn.start()
            try:
                with open_source(str(source)) as src, Warehouse(warehouse) as wh:
                    report = run_ingest(src, wh)
            finally:
                stop.set()
                churn.join()
                stop.clear()
            assert report.ok and report.tables[0].reconciliation.status == "equal", report.tables[0].error
            assert typed_tables == ["t"] * (run + 1)
        expected = writer.execute("SELECT id, v, n FROM t ORDER BY id").fetchall()
    finally:
        writer.close()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT id, v, n FROM raw.t ORDER BY id").fetchall() == expected


def test_a_reader_process_that_dies_leaves_the_table_to_the_rendered_path(tmp_path, typed_tables, monkeypatch):
    """A reader process killed mid-load (out of memory, say) is an ArrowReadError, and the table is
    read the rendered way, whole and reconciled."""
    from desktop_app.core.ingest import adbc_process

    original = adbc_process.ProcessReader.query

    def dying(self, sql, batch_rows, stop=lambda: False):
        if "UNION ALL" in sql:
            self._worker.process.kill()
            self._worker.process.join()
        return original(self, sql, batch_rows, stop)

    monkeypatch.setattr(adbc_process.ProcessReader, "query", dying)
    table, kind, stored, found = load(tmp_path, "TEXT", [f"v{i}" for i in range(500)])
    assert typed_tables == [] and found == stored


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_result_over_shared_memory_outlives_the_readers_next_query_and_its_close(tmp_path):
    """Batches are arrays over the reader process's shared memory, not copies: they must stay readable
    after the child has dropped the block (asked again, closed), and release it without an error."""
    import gc

    from desktop_app.core.ingest.adbc_process import ProcessReader
    from desktop_app.core.ingest.adbc_sqlite import batches_stream

    path = tmp_path / "s.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE t (i INTEGER, s TEXT, b BLOB)")
        db.executemany("INSERT INTO t VALUES (?, ?, ?)",
                       [(n, None if n % 7 == 0 else f"text {n}", bytes([n % 256]) * (n % 5)) for n in range(5_000)])
        db.commit()
        expected = db.execute("SELECT i, s, b FROM t ORDER BY i").fetchall()
    reader = ProcessReader(f"file:{path}?mode=ro")
    first = reader.query("SELECT i, s, b FROM t ORDER BY i", 10_000)
    reader.query("SELECT 1", 2)  # the child drops the first block's name now
    reader.close()
    scan = duckdb.connect()
    scan.register("first", batches_stream(*first))
    got = scan.execute("SELECT i, s, b FROM first").fetchall()
    assert got == expected
    scan.close()
    del first
    gc.collect()  # the mapping closes with its last array: a BufferError here would be an unraisable warning


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_reader_writes_a_released_block_again_never_one_still_held_and_leaves_none_behind(tmp_path):
    """A block goes back to the reader process when its last array in this process is gone, and is
    written again for a later query (a new block costs page faults); one whose arrays are still held
    is never written over; and closing the reader leaves no block's name in /dev/shm."""
    import gc
    from pathlib import Path

    from desktop_app.core.ingest.adbc_process import ProcessReader
    from desktop_app.core.ingest.adbc_sqlite import batches_stream

    path = tmp_path / "s.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE t (i INTEGER, s TEXT)")
        db.executemany("INSERT INTO t VALUES (?, ?)", [(n, f"text {n}") for n in range(20_000)])
        db.commit()
    shm = Path("/dev/shm")
    before = set(shm.iterdir())
    reader = ProcessReader(f"file:{path}?mode=ro")

    def read(first: int):
        return reader.query(f"SELECT i, s FROM t WHERE i >= {first} AND i < {first + 5_000} ORDER BY i", 10_000)

    held = read(0)
    names = set()
    for first in range(5_000, 20_000, 5_000):  # same sizes as the held block: it would fit
        result = read(first)
        names |= set(shm.iterdir()) - before
        del result
        gc.collect()
    # the held block and one more, written three times; without reuse, a name per query
    assert len(names) <= 2
    scan = duckdb.connect()
    scan.register("held", batches_stream(*held))
    assert scan.execute("SELECT min(i), max(i), count(*), bool_and(s = 'text ' || i) FROM held").fetchall() == [
        (0, 4_999, 5_000, True)]
    scan.close()
    reader.close()
    del held
    gc.collect()
    assert set(shm.iterdir()) - before == set()


def test_a_killed_reader_leaves_no_block_behind(tmp_path):
    """A reader process killed (out of memory, say) cannot drop its blocks: the parent does, on stop."""
    from pathlib import Path

    from desktop_app.core.ingest.adbc_process import ProcessReader

    path = tmp_path / "s.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE t (i INTEGER)")
        db.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(1_000)])
        db.commit()
    shm = Path("/dev/shm")
    before = set(shm.iterdir())
    reader = ProcessReader(f"file:{path}?mode=ro")
    result = reader.query("SELECT i FROM t", 2_000)
    assert set(shm.iterdir()) - before  # the result's block
    reader._worker.process.kill()
    reader._worker.process.join()
    reader.close()  # the child is gone: its worker is stopped
    del result
    assert set(shm.iterdir()) - before == set()

"""Column kinds common in real schemas, each on the path it takes and exact (issue #18, item 3).

Each kind is loaded from a table of its own with awkward values; the test says which path it takes
(the SQLite fast path unless noted), what type it lands as, and that every value reads back as
the source holds it.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

import duckdb
import pytest

from desktop_app.core.ingest import table_job
from desktop_app.core.ingest.run import run_ingest
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.source import open_source

LONG_TEXT = ('{"note": "a, ' + "b'c\"d " * 30_000 + '"}')  # 210 KB of JSON-ish text with both quotes

KINDS = {
    # name: (declared type, values as inserted, warehouse type)
    "decimal_money": ("DECIMAL(15,2)", [1234.56, 0.1 + 0.2, 17, 99999999999.99, -0.01, 1e-7, None], "DOUBLE"),
    "numeric_mixed": ("NUMERIC", [12, "12.50", 2.5, -7, 123456789012, None], "DOUBLE"),
    # An integer DOUBLE cannot hold beside reals: text, which SQLite cannot render exactly for the real
    # (15 digits), so the exact general path loads it.
    "numeric_beyond_doubles": ("NUMERIC", [2**60 + 1, 3, 4.5], "VARCHAR"),
    "real_money": ("REAL", [19.99, 0.07, 1e15 + 0.5, 100, None], "DOUBLE"),
    "date_declared": ("DATE", ["2024-02-29", "1999-12-31", "0001-01-01", None], "DATE"),
    "datetime_declared": ("DATETIME", ["2024-02-29 23:59:59", "2000-01-01 00:00:00", None], "TIMESTAMP"),
    "fractional_t": ("DATETIME", ["2024-03-01T10:00:00.123456", "2024-03-01T10:00:01.000001", None], "TIMESTAMP"),
    "fractions_mixed": ("TIMESTAMP", ["2024-03-01 10:00:00.5", "2024-03-01 10:00:00", "2024-03-01 10:00:00.123456"],
                        "TIMESTAMP"),
    "wide_text": ("TEXT", [LONG_TEXT, "line\r\nbreak", "", "NULL", None, "é😀"], "VARCHAR"),
}


def _as_source(value, kind: str):
    """A warehouse value as the source's own value (text for dates and timestamps)."""
    if isinstance(value, datetime):
        text = value.isoformat(sep=" ")
        return text
    if isinstance(value, date):
        return value.isoformat()
    return value


GENERAL_PATH = {"numeric_beyond_doubles"}


@pytest.mark.parametrize("path", ["typed", "rendered"])
@pytest.mark.parametrize("name", list(KINDS))
def test_a_column_kind_lands_exactly_on_its_path(tmp_path, monkeypatch, typed_tables, name, path):
    """Typed Arrow batches where the ADBC driver is installed; the rendered CSV chunks otherwise."""
    monkeypatch.setattr(table_job, "TYPED_BATCHES", path == "typed")
    declared, values, expected_type = KINDS[name]
    source, warehouse = tmp_path / "k.sqlite", tmp_path / "w.duckdb"
    rows = [(i, values[i % len(values)]) for i in range(3000)]
    with sqlite3.connect(source) as db:
        db.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, v {declared})")
        db.executemany("INSERT INTO t VALUES (?, ?)", rows)
        stored = db.execute("SELECT id, v, typeof(v) FROM t ORDER BY id").fetchall()
    with open_source(str(source)) as src, Warehouse(warehouse) as wh:
        report = run_ingest(src, wh)
    table = report.tables[0]
    assert report.ok and table.reconciliation.status == "equal", table.error
    assert any("general path" in note for note in table.notes) is (name in GENERAL_PATH), table.notes
    assert typed_tables == (["t"] if path == "typed" and name not in GENERAL_PATH else [])
    with duckdb.connect(str(warehouse), read_only=True) as con:
        kind = con.execute("SELECT data_type FROM information_schema.columns WHERE table_name = 't' "
                           "AND column_name = 'v'").fetchall()[0][0]
        found = con.execute("SELECT id, v FROM raw.t ORDER BY id").fetchall()
    assert kind == expected_type
    for (i, value, storage), (j, landed) in zip(stored, found, strict=True):
        assert i == j
        if expected_type == "DOUBLE":
            assert landed == value and (value is None or float(value).hex() == landed.hex())
        elif expected_type == "VARCHAR" and storage in ("integer", "real"):
            assert landed == str(value) if storage == "integer" else float(landed) == value
        elif isinstance(landed, datetime):
            # The instant is the source text's, to the microsecond.
            assert landed == datetime.fromisoformat(value)
        else:
            assert _as_source(landed, expected_type) == value
    if name in GENERAL_PATH:
        assert any(note.startswith("v: loaded as text") for note in table.notes)  # widened, and said so

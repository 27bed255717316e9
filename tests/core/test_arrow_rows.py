"""Python rows → Arrow batches: every value survives, and a column's type comes from its values."""

import datetime as dt
import uuid
from decimal import Decimal

import duckdb
import pytest

from desktop_app.core.arrow_rows import rows_to_batch


def _load(columns, rows):
    """Load the batch into a DuckDB table of the batch's types, as the ingestion does."""
    batch = rows_to_batch(columns, rows)
    con = duckdb.connect()
    con.register("b", batch.data)
    spec = ", ".join(f'"{c}" {batch.types[c] or "VARCHAR"}' for c in columns)
    con.execute(f"CREATE TABLE t ({spec})")
    con.execute("INSERT INTO t BY NAME SELECT * FROM b")
    con.execute("INSERT INTO t BY NAME SELECT * FROM b")  # a registered batch can be scanned again
    return batch, con.execute("SELECT * FROM t").fetchall()[: len(rows)]


def test_clean_columns_keep_their_types_and_values():
    when = dt.datetime(2024, 2, 29, 13, 45, 1, 250000)
    aware = dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.UTC)
    key = uuid.UUID(int=7)
    rows = [(1, 1.5, "é", True, b"\x00\xff", Decimal("12.34"), when, dt.date(2024, 1, 2), dt.time(8, 30), aware, key),
            (None, None, None, None, None, None, None, None, None, None, None),
            (-(2**63), 2.0, "x", False, b"", Decimal("-0.01"), when, dt.date(1999, 12, 31), dt.time(0, 0), aware, key)]
    columns = ["i", "f", "s", "b", "blob", "d", "ts", "day", "t", "tz", "u"]
    batch, loaded = _load(columns, rows)
    assert batch.types == {"i": "BIGINT", "f": "DOUBLE", "s": "VARCHAR", "b": "BOOLEAN", "blob": "BLOB",
                           "d": "DECIMAL(4,2)", "ts": "TIMESTAMP", "day": "DATE", "t": "TIME", "tz": "TIMESTAMPTZ",
                           "u": "UUID"}
    assert batch.dirty == [] and batch.num_rows == 3
    assert loaded[0][:9] == rows[0][:9] and loaded[1] == rows[1] and loaded[2][:9] == rows[2][:9]
    assert loaded[0][9] == aware and loaded[0][10] == key


def test_mixed_values_become_text_with_an_example_and_nothing_is_coerced():
    rows = [(1, 2**70, True, 1, dt.date(2024, 1, 1)), (2, 5, 2, 2.5, dt.datetime(2024, 1, 1, 6)),
            ("n/a", None, None, None, None)]
    batch, loaded = _load(["mixed", "huge", "bool_int", "num", "when"], rows)
    assert batch.types == {"mixed": "VARCHAR", "huge": "VARCHAR", "bool_int": "VARCHAR", "num": "DOUBLE",
                           "when": "TIMESTAMP"}
    problems = {d.column: d for d in batch.dirty}
    assert problems["mixed"].example == "n/a" and problems["mixed"].reason == "mixed value types: int, str"
    assert problems["huge"].reason == "integer beyond 64 bits" and problems["huge"].example == str(2**70)
    assert problems["bool_int"].reason == "mixed value types: bool, int"  # True is not silently 1
    assert [r[0] for r in loaded] == ["1", "2", "n/a"] and loaded[0][1] == str(2**70)
    assert [r[2] for r in loaded] == ["True", "2", None]
    assert [r[3] for r in loaded] == [1.0, 2.5, None]


def test_all_null_column_has_no_type_evidence_and_empty_batches_work():
    batch = rows_to_batch(["a", "b"], [(None, 1), (None, 2)])
    assert batch.types == {"a": None, "b": "BIGINT"}
    empty = rows_to_batch(["a"], [])
    con = duckdb.connect()
    con.register("empty_batch", empty.data)
    assert empty.num_rows == 0 and con.execute("SELECT count(*) FROM empty_batch").fetchall() == [(0,)]


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("1" * 40)])
def test_decimals_duckdb_cannot_hold_stay_exact_as_text(value):
    batch, loaded = _load(["d"], [(value,), (Decimal("1.5"),)])
    assert batch.types == {"d": "VARCHAR"}
    assert loaded[0][0] == format(value, "f")

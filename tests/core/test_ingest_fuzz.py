"""Random tables of SQLite's loosest kind — any declared type, any value in any column, odd values
late — loaded through both paths, in full and incrementally after random changes and a new column; the independent
reconciliation (every value cast to its warehouse type and checked to survive the cast) must find
each load equal to the source."""

from __future__ import annotations

import random
import sqlite3

import pytest

from desktop_app.core.ingest import table_job as run_module
from desktop_app.core.ingest.reconcile import reconcile_table
from desktop_app.core.ingest.run import run_ingest
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.source import open_source

DECLARED = ["integer", "int", "bigint", "real", "double", "float", "numeric", "decimal(10,2)", "text", "varchar(20)",
            "blob", "", "datetime", "date", "boolean", "money"]
INTEGERS = [0, 1, -1, 2**31, 2**53 + 1, -(2**63), 2**63 - 1]
REALS = [0.5, -0.0, 1e-320, 1e300, 0.1 + 0.2, 1 / 3, 2.0]
TEXTS = ["", "x", "2024-01-01", "2024-01-01 10:00:00", "2024-01-01T10:00:00.123456", "007", "1e3", " 5", "0x1A",
         "NULL", "'", "a\r\nb", "é", "12.50", "true", "2024-13-01", "nan", "inf", "-0", "2024-01-01 24:00:00"]
BLOBS = [b"", b"\x00\x01", b"abc"]


def a_value(rng: random.Random, declared: str = ""):
    kind = rng.random()
    if kind >= 0.8 and declared in ("text", "varchar(20)"):
        kind = 0.6  # a blob in a TEXT column: a known gap of the fast path (docs/ingestion.md)
    if kind < 0.15:
        return None
    if kind < 0.35:
        return rng.choice([*INTEGERS, rng.randint(-10**6, 10**6)])
    if kind < 0.5:
        return rng.choice([*REALS, rng.uniform(-1e6, 1e6)])
    if kind < 0.8:
        return rng.choice(TEXTS)
    return rng.choice(BLOBS)


def random_table(path, seed: int) -> tuple[list[str], int]:
    """A table ``t`` (id, updated_at, c0…): its declared types and its row count."""
    rng = random.Random(seed)
    declared = [rng.choice(DECLARED) for _ in range(rng.randint(1, 6))]
    typical = [a_value(rng, d) for d in declared]  # each column mostly holds one value, sometimes another
    count = rng.choice((5, 50, 3000))
    rows = [(r, "2024-01-01 00:00:00", *(v if rng.random() < 0.9 else a_value(rng, d)
                                       for v, d in zip(typical, declared, strict=True))) for r in range(1, count)]
    with sqlite3.connect(path) as db:
        db.execute(f"create table t (id integer primary key, updated_at text, "
                   f"{', '.join(f'c{i} {d}' for i, d in enumerate(declared))})")
        db.executemany(f"insert into t values ({', '.join('?' * (len(declared) + 2))})", rows)
    return declared, count


def change_randomly(path, seed: int, declared: list[str], count: int) -> None:
    """Odd values written into a few rows (their watermark moves), one row deleted, one inserted."""
    rng = random.Random(seed + 10_000)
    with sqlite3.connect(path) as db:
        for row in rng.sample(range(1, count), min(count - 1, 3)):
            column = rng.randrange(len(declared))
            db.execute(f"update t set c{column} = ?, updated_at = '2024-02-01 00:00:00' where id = ?",
                       (a_value(rng, declared[column]), row))
        db.execute("delete from t where id = ?", (rng.randrange(1, count),))
        db.execute(f"insert into t values ({', '.join('?' * (len(declared) + 2))})",
                   (count + 5, "2024-02-01 00:00:00", *(a_value(rng, d) for d in declared)))


def load_and_reconcile(tmp_path, mode: str, context: tuple) -> None:
    """Load ``t`` from tmp_path/s.sqlite into tmp_path/w.duckdb and check it against the source."""
    with open_source(str(tmp_path / "s.sqlite")) as source, Warehouse(tmp_path / "w.duckdb") as warehouse:
        report = run_ingest(source, warehouse, mode=mode)
        table = report.tables[0]
        assert report.ok, (*context, table.error)
        result = reconcile_table(source, warehouse, "t")
        assert result.equal, (*context, result.detail, table.notes)


def add_random_column(path, seed: int, declared: list[str], count: int) -> str:
    """A column of a random declared type, filled in a few rows, and an odd value in an existing column
    (an integer beyond 2^53 among reals, say); returns the new column's declared type."""
    rng = random.Random(seed + 77)
    added = rng.choice(DECLARED)
    with sqlite3.connect(path) as db:
        db.execute(f"alter table t add column extra {added}")
        for row in rng.sample(range(1, count), min(count - 1, 5)):
            db.execute("update t set extra = ?, updated_at = '2024-03-01 00:00:00' where id = ?",
                       (a_value(rng, added), row))
        column = rng.randrange(len(declared))
        db.execute(f"update t set c{column} = ?, updated_at = '2024-03-01 00:00:00' where id = 1",
                   (a_value(rng, declared[column]),))
    return added


@pytest.mark.parametrize("seed", range(60))
@pytest.mark.parametrize("path", ["typed", "rendered", "arrow"])
def test_every_load_of_a_random_table_reconciles(tmp_path, monkeypatch, seed, path):
    """Typed Arrow batches, the rendered CSV chunks they fall back to, and the general Arrow path."""
    monkeypatch.setattr(run_module, "TYPED_BATCHES", path == "typed")
    loaded_random_table(tmp_path, monkeypatch, seed, path != "arrow")


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "arrow"])
def test_an_incremental_load_after_random_changes_reconciles(tmp_path, monkeypatch, seed, fast_path):
    declared, count = loaded_random_table(tmp_path, monkeypatch, seed, fast_path)
    change_randomly(tmp_path / "s.sqlite", seed, declared, count)
    load_and_reconcile(tmp_path, "incremental", (declared,))


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "arrow"])
def test_an_incremental_load_after_a_random_new_column_reconciles(tmp_path, monkeypatch, seed, fast_path):
    """Schema drift with odd values."""
    declared, count = loaded_random_table(tmp_path, monkeypatch, seed, fast_path)
    added = add_random_column(tmp_path / "s.sqlite", seed, declared, count)
    load_and_reconcile(tmp_path, "incremental", (declared, added))


def loaded_random_table(tmp_path, monkeypatch, seed: int, fast_path: bool):
    """A random table, loaded in full through the chosen path and reconciled: (declared types, rows)."""
    monkeypatch.setattr(run_module, "SQLITE_FAST_PATH", fast_path)
    declared, count = random_table(tmp_path / "s.sqlite", seed)
    load_and_reconcile(tmp_path, "full", (declared,))
    return declared, count

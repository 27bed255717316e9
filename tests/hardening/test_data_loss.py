"""Hardening: nothing lost, nothing corrupted (issue: staging names, workbook text, seed cancel)."""

from __future__ import annotations

import sqlite3

import duckdb
import pytest

from desktop_app.core.ingest import table_job as run_module
from desktop_app.core.ingest.run import run_ingest
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.source import open_source


def ingest(source_path, warehouse_path, **kwargs):
    with open_source(str(source_path)) as source, Warehouse(warehouse_path) as warehouse:
        return run_ingest(source, warehouse, **kwargs)


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_source_table_named_like_a_staging_table_is_never_dropped(tmp_path, monkeypatch, fast_path):
    """A user's ``t__loading`` was dropped by the next full load of ``t`` (the staging name collided),
    and loading both at once failed on a catalog conflict."""
    monkeypatch.setattr(run_module, "SQLITE_FAST_PATH", fast_path)
    source = tmp_path / "s.sqlite"
    with sqlite3.connect(source) as db:
        for name, n in (("t", 3), ("t__loading", 5), ("__stage_t", 7), ("__keys_t", 2)):
            db.execute(f'create table "{name}" (id integer primary key, v text)')
            db.executemany(f'insert into "{name}" values (?, ?)', [(i, f"{name}-{i}") for i in range(n)])
    warehouse = tmp_path / "w.duckdb"
    for mode in ("full", "full", "incremental"):
        report = ingest(source, warehouse, mode=mode)
        assert report.ok, [t.error for t in report.tables]
        report = ingest(source, warehouse, mode="full", tables=["t"])  # t alone must not touch t__loading
        assert report.ok
    with duckdb.connect(str(warehouse), read_only=True) as con:
        counts = dict(con.execute("select table_name, estimated_size from duckdb_tables() where schema_name = 'raw'"
                                  ).fetchall())
        assert set(counts) == {"t", "t__loading", "__stage_t", "__keys_t"}
        for name, n in (("t", 3), ("t__loading", 5), ("__stage_t", 7), ("__keys_t", 2)):
            assert con.execute(f'select count(*), min(v) from raw."{name}"').fetchall() == [(n, f"{name}-0")]


class CancelAt:
    """A report that cancels the run when it sees its ``n``-th progress event."""

    def __init__(self, token, n: int) -> None:
        self.token, self.n, self.seen = token, n, 0

    def __call__(self, progress) -> None:
        self.seen += 1
        if self.seen == self.n:
            self.token.cancel()


def test_a_cancel_at_any_moment_of_seed_force_keeps_the_previous_shop(tmp_path):
    """Ctrl+C late in ``seed --force`` (indexes, foreign-key check, WAL switch) was ignored and the
    previous shop replaced."""
    from desktop_app.core.errors import Cancelled
    from desktop_app.core.oltp.demo_shop import create_shop
    from desktop_app.core.progress import CancelToken

    shop = tmp_path / "shop.sqlite"
    create_shop(shop, scale=0.002, seed=1)
    before = shop.read_bytes()
    events = []
    create_shop(tmp_path / "count.sqlite", scale=0.002, seed=2, report=events.append)
    for n in range(1, len(events) + 1):
        token = CancelToken()
        try:
            create_shop(shop, scale=0.002, seed=2, force=True, report=CancelAt(token, n), cancel=token)
        except Cancelled:
            assert shop.read_bytes() == before, f"cancelled at event {n} of {len(events)} but the shop changed"
        else:
            assert n == len(events), f"a cancel at event {n} of {len(events)} was ignored"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["count.sqlite", "shop.sqlite"]


def test_files_a_killed_writer_left_are_cleaned_up_and_live_ones_kept(tmp_path):
    import subprocess
    import sys

    from desktop_app.core.leftovers import remove_stale, temp_name
    from desktop_app.core.oltp.demo_shop import create_shop

    target = tmp_path / "shop.sqlite"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = target.with_name(f".shop.sqlite.{int(gone.stdout)}.building")
    dead.write_text("half a shop")
    live = temp_name(target, "building")  # this process: still writing
    live.write_text("being written")
    unrelated = tmp_path / ".shop.sqlite.notes"
    unrelated.write_text("mine")
    assert remove_stale(target, "building") == [dead]
    assert live.exists() and unrelated.exists()
    live.unlink()
    dead.write_text("half a shop")
    create_shop(target, scale=0.002, seed=1)  # a real run cleans up first
    assert not dead.exists() and unrelated.exists()


def test_workbooks_follow_the_umask_and_keep_an_existing_files_mode(tmp_path):
    import os

    from desktop_app.core.excel.safety import atomic_target

    target = tmp_path / "report.xlsx"
    old = os.umask(0o022)
    try:
        with atomic_target(target) as temp:
            temp.write_bytes(b"one")
        assert target.stat().st_mode & 0o777 == 0o644
        os.chmod(target, 0o640)
        with atomic_target(target) as temp:
            temp.write_bytes(b"two")
        assert target.stat().st_mode & 0o777 == 0o640 and target.read_bytes() == b"two"
    finally:
        os.umask(old)
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]

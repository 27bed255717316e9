"""A killed ingest (SIGKILL, no chance to clean up) never corrupts the warehouse: the next run converges."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import duckdb
import pytest

from desktop_app.core.oltp.demo_shop import create_shop
from desktop_app.core.oltp.simulate import simulate_activity
from tests.core.test_ingest import assert_same_tables, ingest

TABLES = ("orders", "order_items", "payments", "customers")


@pytest.fixture(scope="module")
def big_shop(tmp_path_factory):
    path = tmp_path_factory.mktemp("crash") / "shop.sqlite"
    create_shop(path, scale=0.08, seed=3)  # ~80k order items: long enough to be killed mid-table
    return path


def ingest_command(shop, warehouse, mode):
    return [sys.executable, "-m", "desktop_app", "ingest", "--oltp", str(shop), "--warehouse", str(warehouse),
            "--mode", mode, "--tables", ",".join(TABLES)]


@pytest.mark.parametrize("delay", [0.4, 0.9, 1.6, 2.5])
def test_sigkill_at_any_point_then_the_next_run_converges(big_shop, tmp_path, delay):
    warehouse = tmp_path / "w.duckdb"
    first = subprocess.Popen(ingest_command(big_shop, warehouse, "full"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    time.sleep(delay)
    first.send_signal(signal.SIGKILL)
    first.wait()
    # Whatever committed is whole; whatever did not is gone. Every table present reconciles.
    if warehouse.exists():
        with duckdb.connect(str(warehouse)) as con:
            leftovers = con.execute("select table_name from information_schema.tables "
                                    "where table_schema = 'raw' and contains(table_name, '__loading')").fetchall()
            assert leftovers == []
    again = subprocess.run(ingest_command(big_shop, warehouse, "incremental"), capture_output=True, text=True)
    assert again.returncode == 0, again.stdout + again.stderr
    fresh = tmp_path / "fresh.duckdb"
    ingest(big_shop, fresh, tables=list(TABLES))
    assert_same_tables(warehouse, fresh, TABLES)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        statuses = [r[0] for r in con.execute("select status from _studio.runs order by run_id").fetchall()]
    assert statuses[-1] == "success" and "running" not in statuses


def test_sigkill_during_an_incremental_run(big_shop, tmp_path):
    import shutil

    shop = tmp_path / "shop.sqlite"
    shutil.copy(big_shop, shop)
    warehouse = tmp_path / "w.duckdb"
    ingest(shop, warehouse, tables=list(TABLES))
    simulate_activity(shop, orders=3000, updates=3000, deletes=100, seed=8)
    run = subprocess.Popen(ingest_command(shop, warehouse, "incremental"), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert ingest(shop, warehouse, mode="incremental", tables=list(TABLES)).ok
    fresh = tmp_path / "fresh.duckdb"
    ingest(shop, fresh, tables=list(TABLES))
    assert_same_tables(warehouse, fresh, TABLES)

"""The workspace's state, read from disk: what a relaunched window shows."""

from __future__ import annotations

import os

from desktop_app.core.excel.pipeline import run_excel
from desktop_app.core.ingest.run import run_ingest
from desktop_app.core.models.runner import run_command
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.simulate import simulate_activity
from desktop_app.core.oltp.source import open_source
from desktop_app.core.workspace_state import read_workspace_state
from desktop_app.paths import sql_project_dir


def test_state_follows_every_step_and_marks_what_is_stale(shop, tmp_path):
    warehouse, target, excel = tmp_path / "w.duckdb", tmp_path / "target", tmp_path / "excel"
    excel.mkdir()
    empty = read_workspace_state(warehouse, target, excel)
    assert empty.history.last_run is None and empty.last_build is None and not empty.raw_tables
    assert [s.exists for s in empty.stages] == [False, False, False] and not warehouse.exists()

    with open_source(str(shop)) as source, Warehouse(warehouse) as wh:
        report = run_ingest(source, wh)
    state = read_workspace_state(warehouse, target, excel)
    run = state.history.last_run
    assert run.run_id == report.run_id and run.status == "success" and len(run.tables) == 8
    assert run.rows_read == sum(t.rows_read for t in report.tables)
    assert state.raw_tables["orders"] == report.tables[[t.table for t in report.tables].index("orders")].rows_read
    assert state.last_build is None and not state.models_stale

    with Warehouse(warehouse) as wh:
        built = run_command("build", sql_project_dir(), wh, target_dir=target)
        run_excel(wh, excel)
    state = read_workspace_state(warehouse, target, excel)
    assert state.last_build.run.ok and len(state.last_build.run.results) == len(built.results)
    statuses = {r.name: r.status for r in state.last_build.run.results}
    assert statuses["fct_orders"] == "success" and "pass" in statuses.values()
    assert {"monthly_revenue_by_category", "fct_orders", "daily_revenue"} <= set(state.marts)
    assert all(n > 0 for n in state.marts.values())
    assert [s.exists for s in state.stages] == [True, True, True] and not any(s.stale for s in state.stages)
    assert state.stages[0].sheets["orders"] == state.raw_tables["orders"]
    assert not state.models_stale

    simulate_activity(shop, orders=5, updates=5, deletes=1, seed=1)
    os.utime(excel / "01_raw_export.xlsx", (1, 1))  # the clock of a fast machine may not have moved
    with open_source(str(shop)) as source, Warehouse(warehouse) as wh:
        run_ingest(source, wh, mode="incremental")
    state = read_workspace_state(warehouse, target, excel)
    assert state.models_stale == "the source was ingested after the last build"
    assert state.stages[0].stale and state.history.runs[0].mode == "incremental" and len(state.history.runs) == 2


def test_state_of_a_warehouse_that_cannot_be_read_says_why(tmp_path):
    bad = tmp_path / "w.duckdb"
    bad.write_text("not a database")
    state = read_workspace_state(bad, tmp_path / "target", tmp_path)
    assert "not a DuckDB database" in state.warehouse_error and state.history.last_run is None

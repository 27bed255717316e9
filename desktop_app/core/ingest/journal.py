"""What an ingestion writes to ``_studio``: runs, table loads, reconciliations and table state.

``core.ingest.history`` reads it back for the window. The table state (strategy, tracking column,
watermark, key and source columns) is written inside the table's own load transaction, so a load
and the watermark it reached commit together or not at all. History rows written after a failure
go through ``safe``: bookkeeping must never mask the error that matters.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import duckdb

from desktop_app.core.ingest.plan import TablePlan
from desktop_app.core.ingest.reconcile import Reconciliation
from desktop_app.core.ingest.results import TableResult
from desktop_app.core.ingest.watermark import display_watermark
from desktop_app.core.olap.warehouse import META_SCHEMA

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableState:
    """How a table was last loaded: what an incremental load continues from."""

    strategy: str
    tracking_column: str | None
    watermark: str | None  # encoded (core.ingest.watermark)
    key_columns: list[str]
    source_columns: list[str]


def start_run(cursor, source_label: str, mode: str) -> int:
    """A new run's id, recorded as running. DuckDB admits one writing process, so a run still marked
    running now was killed mid-way: it is marked interrupted first."""
    cursor.execute(f"UPDATE {META_SCHEMA}.runs SET status = 'interrupted' WHERE status = 'running'")
    run_id = cursor.execute(f"SELECT nextval('{META_SCHEMA}.run_ids')").fetchall()[0][0]
    cursor.execute(f"INSERT INTO {META_SCHEMA}.runs (run_id, started_at, finished_at, source, mode, status, error) "
                   "VALUES (?, now()::TIMESTAMP, NULL, ?, ?, 'running', NULL)", [run_id, source_label, mode])
    return run_id


def finish_run(cursor, run_id: int, status: str, error: str | None) -> None:
    safe(cursor, f"UPDATE {META_SCHEMA}.runs SET finished_at = now()::TIMESTAMP, status = ?, error = ? "
                 "WHERE run_id = ?", [status, error, run_id])


def load_state(cursor, table: str) -> TableState | None:
    rows = cursor.execute(f"SELECT strategy, tracking_column, watermark, key_columns, source_columns "
                          f"FROM {META_SCHEMA}.table_state WHERE table_name = ?", [table]).fetchall()
    if not rows:
        return None
    strategy, tracking, watermark, keys, columns = rows[0]
    return TableState(strategy, tracking, watermark, json.loads(keys or "[]"), json.loads(columns or "[]"))


def save_state(cursor, table: str, plan: TablePlan, watermark: str | None, columns: list[str], run_id: int) -> None:
    cursor.execute(f"DELETE FROM {META_SCHEMA}.table_state WHERE table_name = ?", [table])
    cursor.execute(f"INSERT INTO {META_SCHEMA}.table_state (table_name, strategy, tracking_column, watermark, "
                   "key_columns, source_columns, last_run_id, updated_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
                   [table, plan.strategy, plan.tracking_column, watermark, json.dumps(list(plan.key_columns)),
                    json.dumps(columns), run_id])


def record_reconciliation(cursor, run_id: int | None, recon: Reconciliation) -> None:
    cursor.execute(f"INSERT INTO {META_SCHEMA}.reconciliations (run_id, table_name, checked_at, scope, source_rows, "
                   "warehouse_rows, source_checksum, warehouse_checksum, status, detail) "
                   "VALUES (?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?)",
                   [run_id, recon.table, recon.scope, recon.source_rows, recon.warehouse_rows,
                    recon.source_checksum, recon.warehouse_checksum, recon.status, recon.detail])


def record_load(cursor, run_id: int, result: TableResult, started: float) -> None:
    result.seconds = result.seconds or time.perf_counter() - started
    safe(cursor, f"INSERT OR REPLACE INTO {META_SCHEMA}.table_loads (run_id, table_name, mode, strategy, rows_read, "
                 "rows_inserted, rows_updated, rows_deleted, seconds, watermark, status, error, notes) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
         [run_id, result.table, result.mode, result.strategy, result.rows_read, result.inserted, result.updated,
          result.deleted, result.seconds, display_watermark(result.watermark), result.status, result.error,
          "\n".join(result.notes) or None])


def safe(cursor, sql: str, params: list | None = None) -> None:
    """Bookkeeping that must not mask the real error (e.g. after an interrupt); a failure is logged."""
    try:
        cursor.execute(sql, params or [])
    except duckdb.InterruptException:
        pass
    except duckdb.Error as err:
        log.warning("Run history not written (%s): %s", sql.split("(")[0].strip(), err)

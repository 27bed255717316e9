"""Run an ingestion: plan each table, load it in its own transaction, reconcile, record history.

``run_ingest`` is the one entry point for the CLI, the GUI and tests. Tables are loaded one after
another; a table that fails is rolled back and recorded, and the others still load. Cancelling
rolls back the table in progress and stops. Every run and table load is written to ``_studio``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb
import sqlalchemy as sa

from desktop_app.core.errors import AppError, Cancelled, SourceError, WarehouseError
from desktop_app.core.ingest.extract import SourceReader, table_clause
from desktop_app.core.ingest.load import LoadStats, apply_deletes, load_full, load_incremental
from desktop_app.core.ingest.plan import TablePlan, plan_table
from desktop_app.core.ingest.reconcile import Reconciliation, reconcile_table
from desktop_app.core.ingest.types import declared_fallback
from desktop_app.core.olap.warehouse import META_SCHEMA, RAW_SCHEMA, Warehouse
from desktop_app.core.oltp.inspect import TableInfo, inspect_source, list_tables
from desktop_app.core.oltp.source import Source
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Progress, Report

MODES = ("full", "incremental")


@dataclass
class TableResult:
    table: str
    mode: str
    strategy: str
    status: str = "pending"  # success | failed | cancelled
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    seconds: float = 0.0
    watermark: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    dirty_columns: list[dict] = field(default_factory=list)
    reconciliation: dict | None = None

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0


@dataclass
class IngestReport:
    run_id: int
    source: str
    warehouse: str
    mode: str
    status: str
    seconds: float
    tables: list[TableResult]

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def to_dict(self) -> dict:
        return asdict(self)


def encode_watermark(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return json.dumps({"type": "datetime", "value": value.isoformat()})
    if isinstance(value, date):
        return json.dumps({"type": "date", "value": value.isoformat()})
    if isinstance(value, int | float | str):
        return json.dumps({"type": type(value).__name__, "value": value})
    return json.dumps({"type": "str", "value": str(value)})


def decode_watermark(text: str | None) -> Any:
    if text is None:
        return None
    data = json.loads(text)
    kind, value = data["type"], data["value"]
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    return value


def display_watermark(text: str | None) -> str | None:
    return None if text is None else str(decode_watermark(text))


def run_ingest(source: Source, warehouse: Warehouse, *, mode: str = "full", tables: list[str] | None = None,
               report: Report = NULL_REPORT, cancel: CancelToken = NEVER) -> IngestReport:
    if mode not in MODES:
        raise AppError(f"Unknown mode {mode!r}.", "Use full or incremental.")
    started = time.perf_counter()
    available = list_tables(source)
    chosen = available if not tables else tables
    unknown = [t for t in chosen if t not in available]
    if unknown:
        raise SourceError(f"No table {', '.join(map(repr, unknown))} in {source.label}.",
                          f"Known tables: {', '.join(available)}.")
    report(Progress("ingest", 0, None, "Inspecting the source"))
    info = inspect_source(source, tables=chosen, with_counts=True, cancel=cancel)
    cursor = warehouse.new_cursor()
    remove_hook = cancel.on_cancel(cursor.interrupt)
    # DuckDB admits one writing process, so a run still marked running now was killed mid-way.
    cursor.execute(f"UPDATE {META_SCHEMA}.runs SET status = 'interrupted' WHERE status = 'running'")
    run_id = cursor.execute(f"SELECT nextval('{META_SCHEMA}.run_ids')").fetchall()[0][0]
    cursor.execute(f"INSERT INTO {META_SCHEMA}.runs VALUES (?, now()::TIMESTAMP, NULL, ?, ?, 'running', NULL)",
                   [run_id, source.label, mode])
    results: list[TableResult] = []
    total_rows = sum(t.row_count or 0 for t in info.tables)
    progress = _RunProgress(report, total_rows)
    status = "success"
    try:
        for table in info.tables:
            cancel.raise_if_cancelled()
            result = _ingest_table(source, warehouse, cursor, run_id, table, mode, progress, cancel)
            results.append(result)
            if result.status != "success":
                status = "failed"
    except Cancelled:
        status = "cancelled"
        raise
    finally:
        remove_hook()
        error = "; ".join(f"{r.table}: {r.error}" for r in results if r.error) or None
        _safe(cursor, f"UPDATE {META_SCHEMA}.runs SET finished_at = now()::TIMESTAMP, status = ?, error = ? "
                      "WHERE run_id = ?", [status, error, run_id])
        cursor.close()
    return IngestReport(run_id, source.label, str(warehouse.path), mode, status, time.perf_counter() - started,
                        results)


class _RunProgress:
    def __init__(self, report: Report, total: int) -> None:
        self.report, self.total, self.done = report, total, 0
        self.started = time.perf_counter()

    def table(self, name: str, done: int, total: int | None, table_started: float) -> None:
        elapsed = max(time.perf_counter() - table_started, 1e-6)
        self.report(Progress("ingest", done, total, f"{done / elapsed:,.0f} rows/s", name))

    def overall(self, added: int) -> None:
        self.done += added
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        self.report(Progress("ingest", self.done, self.total or None, f"{self.done / elapsed:,.0f} rows/s", ""))


def _load_state(cursor, table: str) -> dict | None:
    row = cursor.execute(f"SELECT strategy, tracking_column, watermark, key_columns, source_columns "
                         f"FROM {META_SCHEMA}.table_state WHERE table_name = ?", [table]).fetchall()
    if not row:
        return None
    row = row[0]
    return {"strategy": row[0], "tracking_column": row[1], "watermark": row[2],
            "key_columns": json.loads(row[3] or "[]"), "source_columns": json.loads(row[4] or "[]")}


def _ingest_table(source: Source, warehouse: Warehouse, cursor: duckdb.DuckDBPyConnection, run_id: int,
                  info: TableInfo, mode: str, progress: _RunProgress, cancel: CancelToken) -> TableResult:
    plan = plan_table(info)
    state = _load_state(cursor, info.name)
    exists = warehouse.table_exists(RAW_SCHEMA, info.name)
    effective = mode
    notes = list(plan.notes)
    if mode == "incremental" and (plan.strategy == "full" or state is None or not exists
                                  or state["strategy"] != plan.strategy
                                  or state["tracking_column"] != plan.tracking_column):
        effective = "full"
        if plan.strategy != "full":
            notes.append("first load (or strategy changed): loaded in full")
    result = TableResult(info.name, effective, plan.label, notes=notes)
    source_columns = [c.name for c in info.columns]
    fallback = {c.name: declared_fallback(c.declared_type) for c in info.columns}
    if state:
        dropped = [c for c in state["source_columns"] if c not in source_columns]
        for name in dropped:
            result.notes.append(f"column {name} dropped in the source: kept in the warehouse")
    stats = LoadStats()
    started = time.perf_counter()
    table_expr = table_clause(info.name, source_columns)
    reader = SourceReader(source, cancel)
    done = 0

    def on_batch(n: int) -> None:
        nonlocal done
        done += n
        progress.table(info.name, done, expected, started)
        progress.overall(n)

    try:
        with reader.snapshot():
            tracking = table_expr.c[plan.tracking_column] if plan.tracking_column else None
            new_mark = reader.scalar(sa.select(sa.func.max(tracking))) if tracking is not None else None
            statement = sa.select(*table_expr.columns)
            if effective == "incremental" and state["watermark"] is not None:
                last = decode_watermark(state["watermark"])
                statement = statement.where(tracking >= last if plan.strategy == "watermark" else tracking > last)
            expected = reader.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
            progress.table(info.name, 0, expected, started)
            cursor.execute("BEGIN TRANSACTION")
            try:
                if effective == "full":
                    keep = {n: t for n, t in warehouse.columns(RAW_SCHEMA, info.name) if n not in source_columns} \
                        if exists else {}
                    load_full(cursor, info.name, reader.batches(statement), fallback, keep, stats, on_batch)
                else:
                    load_incremental(cursor, info.name, reader.batches(statement), plan.key_columns, fallback,
                                     stats, on_batch)
                    key_select = sa.select(*(table_expr.c[k] for k in plan.key_columns))
                    stats.deleted = apply_deletes(cursor, info.name, plan.key_columns, reader.batches(key_select))
                result.watermark = encode_watermark(new_mark)
                _save_state(cursor, info.name, plan, result.watermark, source_columns, run_id)
                cancel.raise_if_cancelled()  # the last moment a cancel can still undo this table
                cursor.execute("COMMIT")
            except BaseException:
                _safe(cursor, "ROLLBACK")
                raise
    except Cancelled:
        result.status, result.error = "cancelled", "cancelled by the user"
        _record_load(cursor, run_id, result, started)
        raise
    except duckdb.InterruptException:
        result.status, result.error = "cancelled", "cancelled by the user"
        _record_load(cursor, run_id, result, started)
        raise Cancelled() from None
    except (AppError, duckdb.Error, sa.exc.SQLAlchemyError) as err:
        result.status = "failed"
        result.error = err.user_message if isinstance(err, AppError) else str(err).splitlines()[0]
        _record_load(cursor, run_id, result, started)
        return result
    result.rows_read, result.inserted, result.updated, result.deleted = (stats.rows_read, stats.inserted,
                                                                         stats.updated, stats.deleted)
    result.notes.extend(stats.notes)
    result.dirty_columns = [{"column": d.column, "example": d.example, "reason": d.reason} for d in stats.dirty]
    result.notes.extend(f"{d.column}: loaded as text — {d.reason} (e.g. {d.example!r})" for d in stats.dirty)
    result.seconds = time.perf_counter() - started
    recon = _reconcile(source, warehouse, cursor, run_id, info, plan, effective, cancel)
    result.reconciliation = {"scope": recon.scope, "status": recon.status, "detail": recon.detail,
                             "source_rows": recon.source_rows, "warehouse_rows": recon.warehouse_rows}
    result.status = "success" if recon.equal else "failed"
    if not recon.equal:
        result.error = f"reconciliation failed: {recon.detail}"
    _record_load(cursor, run_id, result, started)
    return result


def _reconcile(source, warehouse, cursor, run_id, info, plan: TablePlan, mode, cancel) -> Reconciliation:
    if mode == "incremental" and plan.key_columns:
        columns = list(plan.key_columns) + ([plan.tracking_column] if plan.strategy == "watermark" else [])
        recon = reconcile_table(source, warehouse, info.name, columns=columns, scope="keys", cancel=cancel)
    else:
        source_columns = [c.name for c in info.columns]
        recon = reconcile_table(source, warehouse, info.name, columns=source_columns, scope="full", cancel=cancel)
    record_reconciliation(cursor, run_id, recon)
    return recon


def record_reconciliation(cursor, run_id: int | None, recon: Reconciliation) -> None:
    cursor.execute(f"INSERT INTO {META_SCHEMA}.reconciliations VALUES (?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?)",
                   [run_id, recon.table, recon.scope, recon.source_rows, recon.warehouse_rows,
                    recon.source_checksum, recon.warehouse_checksum, recon.status, recon.detail])


def _save_state(cursor, table: str, plan: TablePlan, watermark: str | None, columns: list[str], run_id: int) -> None:
    cursor.execute(f"DELETE FROM {META_SCHEMA}.table_state WHERE table_name = ?", [table])
    cursor.execute(f"INSERT INTO {META_SCHEMA}.table_state VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
                   [table, plan.strategy, plan.tracking_column, watermark, json.dumps(list(plan.key_columns)),
                    json.dumps(columns), run_id])


def _record_load(cursor, run_id: int, result: TableResult, started: float) -> None:
    result.seconds = result.seconds or time.perf_counter() - started
    _safe(cursor, f"INSERT OR REPLACE INTO {META_SCHEMA}.table_loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          [run_id, result.table, result.mode, result.strategy, result.rows_read, result.inserted, result.updated,
           result.deleted, result.seconds, display_watermark(result.watermark), result.status, result.error,
           "\n".join(result.notes) or None])


def _safe(cursor, sql: str, params: list | None = None) -> None:
    """Bookkeeping that must not mask the real error (e.g. after an interrupt)."""
    try:
        cursor.execute(sql, params or [])
    except duckdb.Error:
        pass


def open_for_ingest(warehouse_path) -> Warehouse:
    try:
        return Warehouse(warehouse_path)
    except WarehouseError:
        raise

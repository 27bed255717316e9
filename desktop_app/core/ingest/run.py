"""Run an ingestion: plan each table, load it in its own transaction, reconcile, record history.

``run_ingest`` is the one entry point for the CLI, the GUI and tests. Tables are loaded one after
another; a table that fails is rolled back and recorded, and the others still load. Cancelling
rolls back the table in progress and stops. Every run and table load is written to ``_studio``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb
import sqlalchemy as sa

from desktop_app.core.errors import AppError, Cancelled, SourceError
from desktop_app.core.identifiers import quote
from desktop_app.core.ingest.extract import SourceReader, table_clause
from desktop_app.core.ingest.load import LoadStats, NeedsFullReload, apply_deletes, load_full, load_incremental
from desktop_app.core.ingest.plan import TablePlan, changed_rows_clause, changed_rows_sql, plan_table
from desktop_app.core.ingest.reconcile import Reconciliation, reconcile_table
from desktop_app.core.ingest.sqlite_fast import Unsupported, open_snapshot
from desktop_app.core.ingest.sqlite_table import load_full_sqlite, load_incremental_sqlite
from desktop_app.core.ingest.types import declared_fallback
from desktop_app.core.olap.warehouse import META_SCHEMA, RAW_SCHEMA, Warehouse
from desktop_app.core.oltp.inspect import TableInfo, inspect_source, list_tables
from desktop_app.core.oltp.postgres import InfiniteDate, InfiniteDatetime
from desktop_app.core.oltp.source import Source, describe_db_error, diagnose_sqlite
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Progress, Report

log = logging.getLogger(__name__)

MODES = ("full", "incremental")
TABLES_IN_PARALLEL = 2
INGEST_MEMORY_MB = 192
MB_PER_COLUMN = 0.5  # measured: 2,000 columns need about 1 GB while two tables load
SQLITE_FAST_PATH = True  # tests switch it off to prove both paths load the same warehouse


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
    notes: list[str] = field(default_factory=list)  # about the run as a whole (tables gone from the source)

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def to_dict(self) -> dict:
        return asdict(self)


def encode_watermark(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, InfiniteDatetime | InfiniteDate):  # PostgreSQL's ±infinity: the word, which it reads back
        return json.dumps({"type": "str", "value": value.word})
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
    if tables is not None and not tables:
        raise AppError("No table was named.", "Name tables separated by commas, or leave --tables out to load all.")
    chosen = available if tables is None else list(tables)
    repeated = sorted({t for t in chosen if chosen.count(t) > 1})
    if repeated:
        raise AppError(f"Table {', '.join(map(repr, repeated))} is named more than once.", "Name each table once.")
    unknown = [t for t in chosen if t not in available]
    if unknown:
        raise SourceError(f"No table {', '.join(map(repr, unknown))} in {source.label}.",
                          f"Known tables: {', '.join(available)}.")
    report(Progress("ingest", 0, None, "Inspecting the source"))
    info = inspect_source(source, tables=chosen, with_counts=True, cancel=cancel)
    cursor = warehouse.new_cursor()
    # Bounded memory whatever the table's length (DuckDB spills to its temp folder beyond this). Its
    # width is another matter: DuckDB keeps a block per column of a table being written, so a table of
    # 2,000 columns failed with "Out of Memory" at 192 MB; the limit grows with the widest table.
    widest = max((len(t.columns) for t in info.tables), default=0)
    cursor.execute(f"SET memory_limit = '{int(max(INGEST_MEMORY_MB, widest * MB_PER_COLUMN))}MB'")
    # DuckDB admits one writing process, so a run still marked running now was killed mid-way.
    cursor.execute(f"UPDATE {META_SCHEMA}.runs SET status = 'interrupted' WHERE status = 'running'")
    run_id = cursor.execute(f"SELECT nextval('{META_SCHEMA}.run_ids')").fetchall()[0][0]
    cursor.execute(f"INSERT INTO {META_SCHEMA}.runs (run_id, started_at, finished_at, source, mode, status, error) "
                   "VALUES (?, now()::TIMESTAMP, NULL, ?, ?, 'running', NULL)",
                   [run_id, source.label, mode])
    total_rows = sum(t.row_count or 0 for t in info.tables)
    progress = _RunProgress(report, total_rows)
    status = "success"
    results: dict[str, TableResult] = {}

    def load(table: TableInfo) -> TableResult:
        own = warehouse.new_cursor()  # DuckDB cursors are per thread
        try:
            cancel.raise_if_cancelled()
            return _ingest_table(source, warehouse, own, run_id, table, mode, progress, cancel)
        finally:
            own.close()

    # Two tables at a time, largest first: each load is a SQLite reader plus a DuckDB writer, and
    # two of them keep both cores busy while one waits on a commit or a count.
    ordered = sorted(info.tables, key=lambda t: -(t.row_count or 0))
    try:
        with ThreadPoolExecutor(max_workers=TABLES_IN_PARALLEL, thread_name_prefix="ingest") as pool:
            futures = {pool.submit(load, table): table.name for table in ordered}
            cancelled = False
            for future in as_completed(futures):
                try:
                    result = future.result()
                except Cancelled:
                    cancelled = True
                    continue
                results[result.table] = result
                if result.status != "success":
                    status = "failed"
            if cancelled:
                raise Cancelled()
    except Cancelled:
        status = "cancelled"
        raise
    except BaseException:
        status = "failed"  # whatever stopped the run, it did not succeed
        raise
    finally:
        done = [results[t.name] for t in info.tables if t.name in results]
        error = "; ".join(f"{r.table}: {r.error}" for r in done if r.error) or None
        _safe(cursor, f"UPDATE {META_SCHEMA}.runs SET finished_at = now()::TIMESTAMP, status = ?, error = ? "
                      "WHERE run_id = ?", [status, error, run_id])
        cursor.close()
    gone = [t for t in warehouse.raw_tables() if t not in available] if tables is None else []
    notes = [f"{t}: in the warehouse but no longer in the source — kept as it was, no longer updated" for t in gone]
    return IngestReport(run_id, source.label, str(warehouse.path), mode, status, time.perf_counter() - started,
                        [results[t.name] for t in info.tables], notes)


class _RunProgress:
    """Per-table and overall progress; tables report from worker threads."""

    def __init__(self, report: Report, total: int) -> None:
        self.report, self.total, self.done = report, total, 0
        self.started = time.perf_counter()
        self.lock = threading.Lock()

    def table(self, name: str, done: int, total: int | None, table_started: float) -> None:
        elapsed = max(time.perf_counter() - table_started, 1e-6)
        self.report(Progress("ingest", done, total, f"{done / elapsed:,.0f} rows/s", name))

    def overall(self, added: int) -> None:
        with self.lock:
            self.done += added
            done = self.done
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        self.report(Progress("ingest", done, self.total or None, f"{done / elapsed:,.0f} rows/s", ""))


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
    started = time.perf_counter()
    done = 0
    expected: int | None = None

    def on_batch(n: int) -> None:
        nonlocal done
        done += n
        progress.table(info.name, done, expected, started)
        progress.overall(n)

    def set_expected(count: int) -> None:
        nonlocal expected
        expected = count
        progress.table(info.name, 0, expected, started)

    job = _TableJob(source, warehouse, cursor, run_id, info, plan, state, effective, exists, fallback,
                    source_columns, cancel, on_batch, set_expected)
    recon: Reconciliation | None = None

    def load_table():
        nonlocal done
        if source.spec.sqlite_path is not None and SQLITE_FAST_PATH:
            try:
                return job.run_fast()
            except Unsupported as why:
                progress.overall(-done)
                done = 0
                result.notes.append(f"loaded through the general path ({why})")
        return job.run_arrow()

    try:
        try:
            stats, recon, new_mark = load_table()
        except NeedsFullReload as why:  # the incremental load was rolled back
            progress.overall(-done)
            done = 0
            result.notes.append(str(why))
            job.mode = effective = result.mode = "full"
            stats, recon, new_mark = load_table()
        result.watermark = encode_watermark(new_mark)
    except Cancelled:
        result.status, result.error = "cancelled", "cancelled by the user"
        _record_load(cursor, run_id, result, started)
        raise
    except (duckdb.InterruptException, sqlite3.OperationalError) as err:
        if isinstance(err, sqlite3.OperationalError) and "interrupt" not in str(err):
            result.status, result.error = "failed", str(describe_db_error(err, source.spec))
            _record_load(cursor, run_id, result, started)
            return result
        result.status, result.error = "cancelled", "cancelled by the user"
        _record_load(cursor, run_id, result, started)
        raise Cancelled() from None
    except (AppError, duckdb.Error, sa.exc.SQLAlchemyError, sqlite3.Error, MemoryError) as err:
        result.status = "failed"
        if isinstance(err, sqlite3.Error | MemoryError) and source.spec.sqlite_path is not None:
            result.error = str(diagnose_sqlite(source.spec.sqlite_path, err))
        elif isinstance(err, MemoryError):
            result.error = "out of memory (close other programs, or load fewer tables at a time)"
        else:
            result.error = str(err) if isinstance(err, AppError) else str(err).splitlines()[0]  # what, what to do
        _record_load(cursor, run_id, result, started)
        return result
    except Exception as err:  # noqa: BLE001 - a bug fails its table (and so the run), never passes as success
        log.exception("Unexpected error loading %s", info.name)
        result.status = "failed"
        result.error = f"unexpected error: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        _record_load(cursor, run_id, result, started)
        return result
    result.rows_read, result.inserted, result.updated, result.deleted = (stats.rows_read, stats.inserted,
                                                                         stats.updated, stats.deleted)
    result.notes.extend(stats.notes)
    result.dirty_columns = [{"column": d.column, "example": d.example, "reason": d.reason} for d in stats.dirty]
    if not any(d.column in note for d in stats.dirty for note in stats.notes):
        result.notes.extend(f"{d.column}: loaded as text — {d.reason} (e.g. {d.example!r})" for d in stats.dirty)
    result.seconds = time.perf_counter() - started
    if recon is None:
        recon = _reconcile(source, warehouse, cursor, run_id, info, plan, effective, cancel)
    else:
        record_reconciliation(cursor, run_id, recon)
    result.reconciliation = {"scope": recon.scope, "status": recon.status, "detail": recon.detail,
                             "source_rows": recon.source_rows, "warehouse_rows": recon.warehouse_rows}
    result.status = "success" if recon.equal else "failed"
    if not recon.equal:
        result.error = f"reconciliation failed: {recon.detail}"
    _record_load(cursor, run_id, result, started)
    return result


class _TableJob:
    """One table's load through either path, each in its own snapshot and DuckDB transaction."""

    def __init__(self, source, warehouse, cursor, run_id, info, plan, state, mode, exists, fallback, columns,
                 cancel, on_batch, set_expected) -> None:
        self.source, self.warehouse, self.cursor, self.run_id = source, warehouse, cursor, run_id
        self.info, self.plan, self.state, self.mode, self.exists = info, plan, state, mode, exists
        self.fallback, self.columns, self.cancel = fallback, columns, cancel
        self.on_batch, self.set_expected = on_batch, set_expected

    def _kept_columns(self) -> dict[str, str]:
        if not self.exists:
            return {}
        return {n: t for n, t in self.warehouse.columns(RAW_SCHEMA, self.info.name) if n not in self.columns}

    def _last_mark(self):
        return decode_watermark(self.state["watermark"]) if self.mode == "incremental" else None

    @contextmanager
    def _transaction(self, new_mark):
        """The table's DuckDB transaction, committed with its state (watermark) when the body ends.

        Until then a cancel interrupts the running statement and everything is rolled back; once it
        has committed, the load stands, and a cancel must not cut off the run history recorded after it
        (it did: an interrupted reconciliation record escaped as a database error).
        """
        remove = self.cancel.on_cancel(self.cursor.interrupt)
        try:
            self.cursor.execute("BEGIN TRANSACTION")
            try:
                yield
                _save_state(self.cursor, self.info.name, self.plan, encode_watermark(new_mark), self.columns,
                            self.run_id)
                self.cancel.raise_if_cancelled()  # the last moment a cancel can still undo this table
                self.cursor.execute("COMMIT")
            except BaseException:
                _safe(self.cursor, "ROLLBACK")
                raise
        finally:
            remove()

    def run_fast(self):
        plan, table = self.plan, self.info.name
        db = open_snapshot(self.source.spec.sqlite_path)
        remove = self.cancel.on_cancel(db.interrupt)
        try:
            quoted = quote(table)
            tracking = quote(plan.tracking_column) if plan.tracking_column else None
            new_mark = db.execute(f"SELECT max({tracking}) FROM {quoted}").fetchone()[0] if tracking else None
            last = self._last_mark()
            if self.mode == "incremental" and last is not None:
                where, params = changed_rows_sql(plan, tracking, last)
                count = db.execute(f"SELECT count(*) FROM {quoted} WHERE {where}", params).fetchone()[0]
            else:
                count = db.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]
            self.set_expected(count)
            declared = {c.name: c.declared_type for c in self.info.columns}
            with self._transaction(new_mark):
                if self.mode == "full":
                    loaded = load_full_sqlite(db, self.cursor, table, self.columns, declared, self._kept_columns(),
                                              count, self.cancel, self.on_batch)
                else:
                    loaded = load_incremental_sqlite(db, self.cursor, table, self.columns, plan, last,
                                                     self.fallback, self.cancel, self.on_batch)
            return loaded.stats, loaded.reconciliation, new_mark
        finally:
            remove()
            db.close()

    def run_arrow(self):
        plan, table = self.plan, self.info.name
        stats = LoadStats()
        table_expr = table_clause(table, self.columns)
        reader = SourceReader(self.source, self.cancel)
        with reader.snapshot():
            tracking = table_expr.c[plan.tracking_column] if plan.tracking_column else None
            new_mark = reader.scalar(sa.select(sa.func.max(tracking))) if tracking is not None else None
            statement = sa.select(*table_expr.columns)
            last = self._last_mark()
            if self.mode == "incremental" and last is not None:
                statement = statement.where(changed_rows_clause(plan, tracking, last))
            self.set_expected(reader.scalar(sa.select(sa.func.count()).select_from(statement.subquery())))
            with self._transaction(new_mark):
                if self.mode == "full":
                    load_full(self.cursor, table, reader.batches(statement), self.fallback, self._kept_columns(),
                              stats, self.on_batch)
                else:
                    load_incremental(self.cursor, table, reader.batches(statement), plan.key_columns,
                                     self.fallback, stats, self.on_batch)
                    key_select = sa.select(*(table_expr.c[k] for k in plan.key_columns))
                    stats.deleted = apply_deletes(self.cursor, table, plan.key_columns, reader.batches(key_select))
        return stats, None, new_mark


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
    cursor.execute(f"INSERT INTO {META_SCHEMA}.reconciliations (run_id, table_name, checked_at, scope, source_rows, "
                   "warehouse_rows, source_checksum, warehouse_checksum, status, detail) "
                   "VALUES (?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?)",
                   [run_id, recon.table, recon.scope, recon.source_rows, recon.warehouse_rows,
                    recon.source_checksum, recon.warehouse_checksum, recon.status, recon.detail])


def _save_state(cursor, table: str, plan: TablePlan, watermark: str | None, columns: list[str], run_id: int) -> None:
    cursor.execute(f"DELETE FROM {META_SCHEMA}.table_state WHERE table_name = ?", [table])
    cursor.execute(f"INSERT INTO {META_SCHEMA}.table_state (table_name, strategy, tracking_column, watermark, "
                   "key_columns, source_columns, last_run_id, updated_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
                   [table, plan.strategy, plan.tracking_column, watermark, json.dumps(list(plan.key_columns)),
                    json.dumps(columns), run_id])


def _record_load(cursor, run_id: int, result: TableResult, started: float) -> None:
    result.seconds = result.seconds or time.perf_counter() - started
    _safe(cursor, f"INSERT OR REPLACE INTO {META_SCHEMA}.table_loads (run_id, table_name, mode, strategy, rows_read, "
                  "rows_inserted, rows_updated, rows_deleted, seconds, watermark, status, error, notes) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          [run_id, result.table, result.mode, result.strategy, result.rows_read, result.inserted, result.updated,
           result.deleted, result.seconds, display_watermark(result.watermark), result.status, result.error,
           "\n".join(result.notes) or None])


def _safe(cursor, sql: str, params: list | None = None) -> None:
    """Bookkeeping that must not mask the real error (e.g. after an interrupt); a failure is logged."""
    try:
        cursor.execute(sql, params or [])
    except duckdb.InterruptException:
        pass
    except duckdb.Error as err:
        log.warning("Run history not written (%s): %s", sql.split("(")[0].strip(), err)

"""Load one table: choose the mode, load it through the fast or the general path, reconcile, record.

Each table loads in its own DuckDB transaction over one snapshot of the source, committed together
with its state (the watermark it reached). A table that fails is rolled back and recorded with a
message that says what went wrong; the run goes on with the others. A cancel rolls back the table
in progress and stops the run.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import sqlalchemy as sa

from desktop_app.core.errors import AppError, Cancelled
from desktop_app.core.identifiers import quote
from desktop_app.core.ingest.adbc_process import reserve_readers
from desktop_app.core.ingest.declared_types import declared_fallback
from desktop_app.core.ingest.extract import SourceReader, table_clause
from desktop_app.core.ingest.journal import (
    TableState,
    load_state,
    record_load,
    record_reconciliation,
    safe,
    save_state,
)
from desktop_app.core.ingest.load import LoadStats, NeedsFullReload, apply_deletes, load_full, load_incremental
from desktop_app.core.ingest.look_back import DEFAULT_LOOK_BACK, below_open_writers
from desktop_app.core.ingest.plan import TablePlan, changed_rows_clause, changed_rows_sql, plan_table
from desktop_app.core.ingest.reconcile import Reconciliation, reconcile_table
from desktop_app.core.ingest.results import TableCheck, TableResult
from desktop_app.core.ingest.sqlite_fast import Unsupported
from desktop_app.core.ingest.sqlite_render import CHUNK_ROWS
from desktop_app.core.ingest.sqlite_snapshot import Snapshot
from desktop_app.core.ingest.sqlite_table import load_full_sqlite, load_incremental_sqlite
from desktop_app.core.ingest.watermark import decode_watermark, encode_watermark
from desktop_app.core.olap.warehouse import RAW_SCHEMA, Warehouse
from desktop_app.core.oltp.inspect import TableInfo
from desktop_app.core.oltp.source import Source, describe_db_error, diagnose_sqlite
from desktop_app.core.progress import CancelToken, Progress, Report

log = logging.getLogger(__name__)

SQLITE_FAST_PATH = True  # tests switch it off to prove both paths load the same warehouse
TYPED_BATCHES = True  # tests switch it off to prove the rendered path (its fallback) loads alike
# SQLite connections rendering one big table (one per core, up to four): the table no longer
# waits on one core while the other idles (sqlite_snapshot proves they share a snapshot).
READERS_PER_TABLE = max(1, min(4, os.cpu_count() or 1))


class RunProgress:
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


class _TableProgress:
    """One table's rows so far, reported per table and to the run's total; undone when a path restarts."""

    def __init__(self, run: RunProgress, table: str) -> None:
        self.run, self.table = run, table
        self.done, self.expected = 0, None
        self.started = time.perf_counter()

    def on_batch(self, rows: int) -> None:
        self.done += rows
        self.run.table(self.table, self.done, self.expected, self.started)
        self.run.overall(rows)

    def set_expected(self, count: int) -> None:
        self.expected = count
        self.run.table(self.table, 0, count, self.started)

    def restart(self) -> None:
        self.run.overall(-self.done)
        self.done = 0


@dataclass
class TableJob:
    """One table's load through either path, each in its own snapshot and DuckDB transaction."""

    source: Source
    warehouse: Warehouse
    cursor: duckdb.DuckDBPyConnection
    run_id: int
    info: TableInfo
    plan: TablePlan
    state: TableState | None
    mode: str  # full | incremental, as this load runs
    exists: bool  # the raw table is already in the warehouse
    cancel: CancelToken
    on_batch: Callable[[int], None]
    set_expected: Callable[[int], None]

    @property
    def columns(self) -> list[str]:
        return [c.name for c in self.info.columns]

    @property
    def fallback(self) -> dict[str, str]:
        return {c.name: declared_fallback(c.declared_type) for c in self.info.columns}

    def _kept_columns(self) -> dict[str, str]:
        if not self.exists:
            return {}
        return {n: t for n, t in self.warehouse.columns(RAW_SCHEMA, self.info.name) if n not in self.columns}

    def _last_mark(self):
        return decode_watermark(self.state.watermark) if self.mode == "incremental" else None

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
                save_state(self.cursor, self.info.name, self.plan, encode_watermark(new_mark), self.columns,
                           self.run_id)
                self.cancel.raise_if_cancelled()  # the last moment a cancel can still undo this table
                self.cursor.execute("COMMIT")
            except BaseException:
                safe(self.cursor, "ROLLBACK")
                raise
        finally:
            remove()

    def run_fast(self):
        """SQLite: rendered CSV chunks into DuckDB (``core.ingest.sqlite_fast``)."""
        plan, table = self.plan, self.info.name
        snapshot = Snapshot(self.source.spec.sqlite_path)
        db = snapshot.main
        remove = self.cancel.on_cancel(db.interrupt)
        try:
            tracking = quote(plan.tracking_column) if plan.tracking_column else None
            new_mark = db.execute(f"SELECT max({tracking}) FROM {quote(table)}").fetchone()[0] if tracking else None
            last = self._last_mark()
            if self.mode == "incremental" and last is not None:
                where, params = changed_rows_sql(plan, tracking, last)
                count = db.execute(f"SELECT count(*) FROM {quote(table)} WHERE {where}", params).fetchone()[0]
            else:
                count = db.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()[0]
            self.set_expected(count)
            declared = {c.name: c.declared_type for c in self.info.columns}
            with self._transaction(new_mark):
                if self.mode == "full":
                    # A table of more than a few chunks is rendered by more readers of the same snapshot.
                    wanted = READERS_PER_TABLE - 1 if count > 2 * CHUNK_ROWS else 0
                    siblings = [s for s in (snapshot.sibling() for _ in range(wanted)) if s is not None]
                    # Typed Arrow batches where the driver is there, one reader per core (core.ingest.sqlite_typed)
                    if TYPED_BATCHES:
                        reserve_readers(wanted + 1)
                    readers = [r for r in (snapshot.arrow_reader() for _ in range(wanted + 1) if TYPED_BATCHES)
                               if r is not None]
                    loaded = load_full_sqlite(db, self.cursor, table, self.columns, declared, self._kept_columns(),
                                              count, self.cancel, self.on_batch, siblings, readers)
                else:
                    loaded = load_incremental_sqlite(db, self.cursor, table, self.columns, plan, last,
                                                     self.fallback, self.cancel, self.on_batch)
            return loaded.stats, loaded.reconciliation, new_mark
        finally:
            remove()
            snapshot.close()

    def run_arrow(self):
        """Any SQLAlchemy source: Arrow batches from a server-side cursor (``core.ingest.load``)."""
        plan, table = self.plan, self.info.name
        stats = LoadStats()
        table_expr = table_clause(table, self.columns)
        reader = SourceReader(self.source, self.cancel)
        with reader.snapshot():
            tracking = table_expr.c[plan.tracking_column] if plan.tracking_column else None
            new_mark = reader.scalar(sa.select(sa.func.max(tracking))) if tracking is not None else None
            if plan.strategy == "watermark":
                new_mark = below_open_writers(new_mark, reader.open_writers_since())
            text_as = {c.name: c.read_as for c in self.info.columns if c.read_as}
            statement = sa.select(*(sa.cast(table_expr.c[name], sa.Text).label(name) if name in text_as
                                    else table_expr.c[name] for name in self.columns))
            last = self._last_mark()
            if self.mode == "incremental" and last is not None:
                statement = statement.where(changed_rows_clause(plan, tracking, last))
            self.set_expected(reader.scalar(sa.select(sa.func.count()).select_from(statement.subquery())))
            fallback = self.fallback
            with self._transaction(new_mark):
                if self.mode == "full":
                    load_full(self.cursor, table, reader.batches(statement, text_as=text_as), fallback,
                              self._kept_columns(), stats, self.on_batch)
                else:
                    load_incremental(self.cursor, table, reader.batches(statement, text_as=text_as),
                                     plan.key_columns, fallback, stats, self.on_batch)
                    key_select = sa.select(*(table_expr.c[k] for k in plan.key_columns))
                    stats.deleted = apply_deletes(self.cursor, table, plan.key_columns, reader.batches(key_select))
        return stats, None, new_mark


def ingest_table(source: Source, warehouse: Warehouse, cursor: duckdb.DuckDBPyConnection, run_id: int,
                 info: TableInfo, mode: str, progress: RunProgress, cancel: CancelToken,
                 look_back: int = DEFAULT_LOOK_BACK) -> TableResult:
    """Load, reconcile and record one table; raises only ``Cancelled``."""
    plan = plan_table(info, look_back)
    state = load_state(cursor, info.name)
    exists = warehouse.table_exists(RAW_SCHEMA, info.name)
    notes = list(plan.notes)
    effective = _effective_mode(mode, plan, state, exists, notes)
    result = TableResult(info.name, effective, plan.label, notes=notes)
    if state:
        result.notes += [f"column {name} dropped in the source: kept in the warehouse"
                         for name in state.source_columns if name not in {c.name for c in info.columns}]
    counter = _TableProgress(progress, info.name)
    job = TableJob(source, warehouse, cursor, run_id, info, plan, state, effective, exists, cancel,
                   counter.on_batch, counter.set_expected)
    try:
        stats, recon, new_mark = _load(job, result, counter)
        result.watermark = encode_watermark(new_mark)
    except Exception as err:  # every failure is the table's result; only a cancel stops the run
        result.status, result.error = _failure(err, source, info.name, cancel)
        record_load(cursor, run_id, result, counter.started)
        if result.status == "cancelled":
            raise err if isinstance(err, Cancelled) else Cancelled() from None
        return result
    _finish(job, result, stats, recon, counter.started)
    return result


def _effective_mode(mode: str, plan: TablePlan, state: TableState | None, exists: bool, notes: list[str]) -> str:
    """Incremental only continues a load of the same strategy; anything else starts again in full."""
    if mode == "incremental" and (plan.strategy == "full" or state is None or not exists
                                  or state.strategy != plan.strategy or state.tracking_column != plan.tracking_column):
        if plan.strategy != "full":
            notes.append("first load (or strategy changed): loaded in full")
        return "full"
    return mode


def _load(job: TableJob, result: TableResult, counter: _TableProgress):
    """The fast path where it applies, else (or when it says it cannot) the general one; an incremental
    load that finds it must start over is rolled back and done again in full."""

    def by_either_path():
        if job.source.spec.sqlite_path is not None and SQLITE_FAST_PATH:
            try:
                return job.run_fast()
            except Unsupported as why:
                counter.restart()
                result.notes.append(f"loaded through the general path ({why})")
        return job.run_arrow()

    try:
        return by_either_path()
    except NeedsFullReload as why:
        counter.restart()
        result.notes.append(str(why))
        job.mode = result.mode = "full"
        return by_either_path()


def _failure(err: Exception, source: Source, table: str, cancel: CancelToken) -> tuple[str, str]:
    """(status, message) for what stopped a table's load: cancelled, or failed with what to do. After a
    cancel, the error is its echo (a server says "canceling statement due to user request")."""
    sqlite_path = source.spec.sqlite_path
    if cancel.cancelled or isinstance(err, Cancelled | duckdb.InterruptException) or (
            isinstance(err, sqlite3.OperationalError) and "interrupt" in str(err)):
        return "cancelled", "cancelled by the user"
    if isinstance(err, sqlite3.OperationalError):
        return "failed", str(describe_db_error(err, source.spec))
    if isinstance(err, AppError):
        return "failed", str(err)
    if isinstance(err, sqlite3.Error | MemoryError) and sqlite_path is not None:
        return "failed", str(diagnose_sqlite(sqlite_path, err))
    if isinstance(err, MemoryError):
        return "failed", "out of memory (close other programs, or load fewer tables at a time)"
    if isinstance(err, duckdb.Error | sa.exc.SQLAlchemyError | sqlite3.Error):
        return "failed", str(err).splitlines()[0]
    log.exception("Unexpected error loading %s", table)  # a bug fails its table (and so the run), never passes
    return "failed", f"unexpected error: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"


def _finish(job: TableJob, result: TableResult, stats: LoadStats, recon: Reconciliation | None,
            started: float) -> None:
    result.rows_read, result.inserted, result.updated, result.deleted = (stats.rows_read, stats.inserted,
                                                                         stats.updated, stats.deleted)
    result.notes.extend(stats.notes)
    result.dirty_columns = list(stats.dirty)
    if not any(d.column in note for d in stats.dirty for note in stats.notes):
        result.notes.extend(f"{d.column}: loaded as text — {d.reason} (e.g. {d.example!r})" for d in stats.dirty)
    result.seconds = time.perf_counter() - started
    if recon is None:
        recon = _reconcile(job)
    else:
        record_reconciliation(job.cursor, job.run_id, recon)
    result.reconciliation = TableCheck(recon.scope, recon.status, recon.detail, recon.source_rows,
                                       recon.warehouse_rows)
    result.status = "success" if recon.equal else "failed"
    if not recon.equal:
        result.error = f"reconciliation failed: {recon.detail}"
    record_load(job.cursor, job.run_id, result, started)


def _reconcile(job: TableJob) -> Reconciliation:
    """The general path's check after the commit: keys (and stamps) after an incremental load, every
    column after a full one."""
    plan = job.plan
    if job.mode == "incremental" and plan.key_columns:
        columns = list(plan.key_columns) + ([plan.tracking_column] if plan.strategy == "watermark" else [])
        scope = "keys"
    else:
        columns, scope = job.columns, "full"
    recon = reconcile_table(job.source, job.warehouse, job.info.name, columns=columns, scope=scope, cancel=job.cancel)
    record_reconciliation(job.cursor, job.run_id, recon)
    return recon

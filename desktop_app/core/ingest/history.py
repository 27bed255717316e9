"""What the warehouse remembers of its ingestion runs (``_studio``), as dataclasses.

The window's Ingestion tab and Overview read this on launch, so a relaunch shows the last run
instead of an empty table; the CLI could print it. Only reads: the warehouse is opened by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from desktop_app.core.olap.warehouse import META_SCHEMA, Warehouse


@dataclass(frozen=True)
class TableLoad:
    run_id: int
    started_at: datetime | None
    table: str
    mode: str
    strategy: str
    rows_read: int | None
    inserted: int | None
    updated: int | None
    deleted: int | None
    seconds: float | None
    status: str
    error: str | None
    notes: str | None


@dataclass(frozen=True)
class ReconciliationRecord:
    run_id: int | None
    table: str
    checked_at: datetime
    scope: str
    source_rows: int | None
    warehouse_rows: int | None
    status: str
    detail: str | None


@dataclass(frozen=True)
class RunRecord:
    run_id: int
    started_at: datetime
    finished_at: datetime | None
    source: str
    mode: str
    status: str
    error: str | None
    tables: tuple[TableLoad, ...] = ()

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read or 0 for t in self.tables)

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class History:
    runs: tuple[RunRecord, ...]  # newest first, each with its table loads
    reconciliations: tuple[ReconciliationRecord, ...]  # newest first

    @property
    def last_run(self) -> RunRecord | None:
        return self.runs[0] if self.runs else None

    @property
    def loads(self) -> list[TableLoad]:
        return [load for run in self.runs for load in run.tables]


EMPTY = History((), ())


def read_history(warehouse: Warehouse, *, runs: int = 50, reconciliations: int = 200) -> History:
    """The newest ``runs`` runs with their table loads, and the newest reconciliations."""
    if not warehouse.table_exists(META_SCHEMA, "runs"):
        return EMPTY
    cursor = warehouse.new_cursor()
    try:
        run_rows = cursor.execute(
            f"SELECT run_id, started_at, finished_at, source, mode, status, error FROM {META_SCHEMA}.runs "
            "ORDER BY run_id DESC LIMIT ?", [runs]).fetchall()
        load_rows = cursor.execute(
            f"SELECT l.run_id, r.started_at, l.table_name, l.mode, l.strategy, l.rows_read, l.rows_inserted, "
            f"l.rows_updated, l.rows_deleted, l.seconds, l.status, l.error, l.notes "
            f"FROM {META_SCHEMA}.table_loads l JOIN {META_SCHEMA}.runs r USING (run_id) "
            f"WHERE l.run_id >= ? ORDER BY l.run_id DESC, l.table_name",
            [run_rows[-1][0] if run_rows else 0]).fetchall()
        recon_rows = cursor.execute(
            f"SELECT run_id, table_name, checked_at, scope, source_rows, warehouse_rows, status, detail "
            f"FROM {META_SCHEMA}.reconciliations ORDER BY checked_at DESC LIMIT ?", [reconciliations]).fetchall()
    finally:
        cursor.close()
    loads: dict[int, list[TableLoad]] = {}
    for row in load_rows:
        loads.setdefault(row[0], []).append(TableLoad(*row))
    return History(tuple(RunRecord(*row, tables=tuple(loads.get(row[0], ()))) for row in run_rows),
                   tuple(ReconciliationRecord(*row) for row in recon_rows))

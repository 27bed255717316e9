"""Write Arrow batches into the warehouse, one DuckDB transaction per table.

A full load builds the table beside the old one under a staging name no table can have, and swaps
it in; an incremental load stages the changed rows, upserts them by primary key and applies
deletes. Either way the table's ``_studio.table_state`` (its watermark) is written in the same
transaction, so a watermark only advances when its table's load commits, and a cancelled, failed
or killed load leaves the table exactly as it was.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb

from desktop_app.core.arrow_rows import EXACT_FLOAT_INT, Batch, DirtyColumn
from desktop_app.core.identifiers import qualified, quote
from desktop_app.core.ingest.temporal import iso_sql
from desktop_app.core.ingest.types import VARCHAR, widen
from desktop_app.core.olap.warehouse import RAW_SCHEMA

MERGE_COUNT_BATCH = 100_000  # rows of MERGE's per-row answer counted at a time (bounded memory)


class NeedsFullReload(Exception):  # a signal to the run, which reloads the table
    """An incremental load met a change that only a full reload keeps exact (the reason says which)."""


@dataclass
class LoadStats:
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    notes: list[str] = field(default_factory=list)
    dirty: list[DirtyColumn] = field(default_factory=list)


class BatchTable:
    """A DuckDB table fed with Arrow batches; widens a column when a batch needs it."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, name: str, fallback_types: dict[str, str],
                 types: dict[str, str] | None = None, temporary: bool = False) -> None:
        self.cursor = cursor
        self.name = name  # already qualified/quoted
        self.fallback = fallback_types
        self.types: dict[str, str | None] = dict(types or {})
        self.temporary = temporary
        self.created = types is not None
        self.dirty: dict[str, DirtyColumn] = {}
        self.widened: list[str] = []

    def append(self, batch: Batch) -> None:
        for problem in batch.dirty:
            self.dirty.setdefault(problem.column, problem)
        incoming = dict(batch.types)
        for name, kind in incoming.items():  # a declared DECIMAL(p,s) beats the precision of this batch
            declared = self.fallback.get(name, "")
            if kind and kind.startswith("DECIMAL") and declared.startswith("DECIMAL"):
                incoming[name] = declared
        if not self.created:
            for name, kind in incoming.items():
                self.types[name] = kind
            return self._create_and_insert(batch)
        self.cursor.register("__widening", batch.data)
        try:
            for name, kind in incoming.items():
                if name not in self.types:
                    self.types[name] = kind or self.fallback.get(name, VARCHAR)
                    self.cursor.execute(f"ALTER TABLE {self.name} ADD COLUMN {quote(name)} {self.types[name]}")
                else:
                    self.widen_for(name, kind, "__widening")
        finally:
            self.cursor.unregister("__widening")
        self._insert(batch)

    def widen_for(self, name: str, kind: str | None, incoming: str) -> None:
        """Widen column ``name`` to also hold the ``kind`` values of relation ``incoming`` (a batch, a stage).

        Integers and reals meet in DOUBLE, unless DOUBLE would round an integer of either side (beyond
        2^53): then in text, as they do within one batch (``core.arrow_rows``).
        """
        current = self.types[name]
        wider = widen(current, kind)
        if wider == "DOUBLE" and {current, kind} == {"BIGINT", "DOUBLE"}:
            integers = self.name if current == "BIGINT" else incoming
            if integers_round_as_double(self.cursor, integers, name):
                wider = VARCHAR
        if wider != current:
            self._alter(name, wider)

    def _alter(self, column: str, new_type: str) -> None:
        old = self.types[column]
        self.cursor.execute(f"ALTER TABLE {self.name} ALTER COLUMN {quote(column)} TYPE {new_type}")
        self.types[column] = new_type
        self.widened.append(f"{column}: {old} → {new_type}")

    def _create_and_insert(self, batch: Batch) -> None:
        columns = ", ".join(f"{quote(n)} {self.types[n] or self.fallback.get(n, VARCHAR)}" for n in self.types)
        temp = "TEMPORARY " if self.temporary else ""
        self.cursor.execute(f"CREATE {temp}TABLE {self.name} ({columns})")
        self.types = {n: t or self.fallback.get(n, VARCHAR) for n, t in self.types.items()}
        self.created = True
        self._insert(batch)

    def _insert(self, batch: Batch) -> None:
        self.cursor.register("__batch", batch.data)
        try:
            for _attempt in range(len(self.types) + 1):
                try:
                    self.cursor.execute(f"INSERT INTO {self.name} BY NAME SELECT * FROM __batch")
                    return
                except duckdb.ConversionException:
                    # A value the column's type cannot hold (text into a TIMESTAMP column): widen it.
                    column = self._failing_column(batch)
                    if column is None:
                        raise
                    self._alter(column, VARCHAR)
        finally:
            self.cursor.unregister("__batch")

    def _failing_column(self, batch: Batch) -> str | None:
        for name, kind in self.types.items():
            if kind == VARCHAR or name not in batch.types:
                continue
            bad = self.cursor.execute(
                f"SELECT count(*) FROM __batch WHERE {quote(name)} IS NOT NULL "
                f"AND TRY_CAST({quote(name)} AS {kind}) IS NULL").fetchall()[0][0]
            if bad:
                return name
        return None

    def promote_timestamps(self, notes: list[str]) -> None:
        """Text columns whose every value is an ISO date/timestamp become DATE/TIMESTAMP."""
        for name, kind in list(self.types.items()):
            if kind != VARCHAR or name in self.dirty:
                continue
            column = quote(name)
            total, iso, dates, example = self.cursor.execute(
                f"SELECT count({column}), count(*) FILTER {iso_sql(column, 'TIMESTAMP')}, "
                f"count(*) FILTER {iso_sql(column, 'DATE')}, "
                f"min({column}) FILTER (NOT {iso_sql(column, 'TIMESTAMP')}) FROM {self.name}").fetchall()[0]
            if not total:
                continue
            if iso == total:
                new_type = "DATE" if dates == total else "TIMESTAMP"
                self.cursor.execute(f"ALTER TABLE {self.name} ALTER COLUMN {column} TYPE {new_type} "
                                    f"USING CAST({column} AS {new_type})")
                self.types[name] = new_type
            elif iso >= total / 2:
                notes.append(f"{name}: kept as text — mixed date formats (e.g. {example!r})")


def staging_table(table: str) -> str:
    """The qualified name a full load of ``table`` builds under before the swap.

    It must never be a user's table: a fixed ``<table>__loading`` was, and the load of ``t`` dropped a
    source table named ``t__loading``. A random suffix, created (never dropped) inside the table's
    transaction, cannot meet one; a killed load leaves nothing behind, as the transaction never commits.
    """
    return qualified(RAW_SCHEMA, f"{table}__loading_{secrets.token_hex(8)}")


def load_full(cursor: duckdb.DuckDBPyConnection, table: str, batches: Iterable[Batch], fallback: dict[str, str],
              keep_columns: dict[str, str], stats: LoadStats, on_batch=lambda n: None) -> dict[str, str]:
    """Build the table beside the old one and swap it in (the caller owns the transaction)."""
    loading = staging_table(table)
    target = BatchTable(cursor, loading, fallback)
    for batch in batches:
        target.append(batch)
        stats.rows_read += batch.num_rows
        on_batch(batch.num_rows)
    if not target.created:  # an empty table: create it from the declared types
        columns = ", ".join(f"{quote(n)} {t}" for n, t in fallback.items())
        cursor.execute(f"CREATE TABLE {loading} ({columns})")
        target.types = dict(fallback)
    target.promote_timestamps(stats.notes)
    for name, kind in keep_columns.items():  # dropped in the source: kept, and said so
        if name not in target.types:
            cursor.execute(f"ALTER TABLE {loading} ADD COLUMN {quote(name)} {kind}")
            target.types[name] = kind
    stats.inserted = stats.rows_read
    stats.dirty = list(target.dirty.values())
    stats.notes.extend(f"widened {w}" for w in target.widened)
    cursor.execute(f"DROP TABLE IF EXISTS {qualified(RAW_SCHEMA, table)}")
    cursor.execute(f"ALTER TABLE {loading} RENAME TO {quote(table)}")
    return dict(target.types)


def load_incremental(cursor: duckdb.DuckDBPyConnection, table: str, batches: Iterable[Batch],
                     key_columns: tuple[str, ...], fallback: dict[str, str], stats: LoadStats,
                     on_batch=lambda n: None) -> dict[str, str]:
    """Upsert the changed rows by primary key (the caller owns the transaction)."""
    stage = BatchTable(cursor, quote(f"__stage_{table}"), fallback, temporary=True)
    cursor.execute(f"DROP TABLE IF EXISTS {stage.name}")
    for batch in batches:
        stage.append(batch)
        stats.rows_read += batch.num_rows
        on_batch(batch.num_rows)
    stats.dirty = list(stage.dirty.values())
    if not stage.created:
        return dict(table_types(cursor, table))
    return merge_stage(cursor, table, stage.name, stage.types, key_columns, fallback, stats)


def merge_stage(cursor: duckdb.DuckDBPyConnection, table: str, stage_name: str, stage_types: dict[str, str],
                key_columns: tuple[str, ...], fallback: dict[str, str], stats: LoadStats) -> dict[str, str]:
    """Apply a staged set of changed rows to ``raw.<table>``: drift, widening, then one MERGE that
    updates the rows that differ and inserts the new ones."""
    target_name = qualified(RAW_SCHEMA, table)
    target = BatchTable(cursor, target_name, fallback, types=dict(table_types(cursor, table)))
    for name, kind in stage_types.items():  # schema drift and widening, applied to the target
        if name not in target.types:
            cursor.execute(f"ALTER TABLE {target_name} ADD COLUMN {quote(name)} {kind}")
            target.types[name] = kind
            stats.notes.append(f"new column {name} ({kind}) added")
        elif target.types[name] in ("TIMESTAMP", "DATE") and kind == VARCHAR:
            # Text for a date/timestamp column is fine while it is ISO. Otherwise the column must become
            # text — but casting the values already loaded would write DuckDB's form of them, not the
            # source's ('2024-01-01T10:00' would come back as '2024-01-01 10:00:00'): reload instead.
            example = _first_not_fitting(cursor, stage_name, name, target.types[name])
            if example is not None:
                raise NeedsFullReload(f"{name}: a value that is not an ISO {target.types[name].lower()} arrived "
                                      f"(e.g. {example!r}); the table was reloaded in full so every value keeps "
                                      f"its source text")
        else:
            target.widen_for(name, kind, stage_name)
    stats.notes.extend(f"widened {w}" for w in target.widened)
    match = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in key_columns)
    # Rows re-read at the watermark boundary may be unchanged: only rows that differ count as updates.
    changed = " OR ".join(f"t.{quote(c)} IS DISTINCT FROM CAST(s.{quote(c)} AS {target.types[c]})"
                          for c in stage_types if c not in key_columns) or "false"
    # UPDATE + INSERT rather than DELETE + INSERT: columns the source no longer sends keep their values.
    # One MERGE joins the stage with the target once (separate counts, UPDATE and INSERT took four
    # passes over the target's keys); what it did comes back per row, counted batch by batch.
    assignments = ", ".join(f"{quote(c)} = s.{quote(c)}" for c in stage_types if c not in key_columns)
    when_changed = f"WHEN MATCHED AND ({changed}) THEN UPDATE SET {assignments} " if assignments else ""
    actions = cursor.execute(f"MERGE INTO {target_name} AS t USING {stage_name} AS s ON {match} {when_changed}"
                             f"WHEN NOT MATCHED THEN INSERT BY NAME RETURNING merge_action = 'INSERT'")
    stats.inserted = stats.updated = 0
    while rows := actions.fetchmany(MERGE_COUNT_BATCH):
        inserted = sum(row[0] for row in rows)
        stats.inserted += inserted
        stats.updated += len(rows) - inserted
    cursor.execute(f"DROP TABLE {stage_name}")
    return dict(target.types)


def integers_round_as_double(cursor, relation: str, column: str) -> bool:
    """Whether an integer of ``relation.column`` would change as a DOUBLE (beyond 2^53, most do)."""
    c = quote(column)
    changed = cursor.execute(f"SELECT count(*) FROM {relation} WHERE ({c} > {EXACT_FLOAT_INT} OR {c} < "
                             f"-{EXACT_FLOAT_INT}) AND TRY_CAST(CAST({c} AS DOUBLE) AS HUGEINT) IS DISTINCT FROM {c}"
                             ).fetchall()[0][0]
    return bool(changed)


def delete_missing(cursor: duckdb.DuckDBPyConnection, table: str, key_columns: tuple[str, ...],
                   keys_table: str) -> int:
    """Delete warehouse rows whose key is not in ``keys_table`` (every key the source has now)."""
    target_name = qualified(RAW_SCHEMA, table)
    match = " AND ".join(f"t.{quote(k)} = k.{quote(k)}" for k in key_columns)
    deleted = cursor.execute(f"DELETE FROM {target_name} t WHERE NOT EXISTS (SELECT 1 FROM {keys_table} k "
                             f"WHERE {match})").fetchall()  # DuckDB answers with the number of rows deleted
    return int(deleted[0][0]) if deleted else 0


def apply_deletes(cursor: duckdb.DuckDBPyConnection, table: str, key_columns: tuple[str, ...],
                  source_keys: Iterable[Batch]) -> int:
    """Delete warehouse rows whose key no longer exists in the source (the caller owns the transaction)."""
    types = dict(table_types(cursor, table))
    key_types = {k: types[k] for k in key_columns}
    keys = BatchTable(cursor, quote(f"__keys_{table}"), key_types, types=key_types, temporary=True)
    cursor.execute(f"DROP TABLE IF EXISTS {keys.name}")
    columns = ", ".join(f"{quote(k)} {types[k]}" for k in key_columns)
    cursor.execute(f"CREATE TEMPORARY TABLE {keys.name} ({columns})")
    for batch in source_keys:
        keys.append(batch)
    deleted = delete_missing(cursor, table, key_columns, keys.name)
    cursor.execute(f"DROP TABLE {keys.name}")
    return deleted


def _first_not_fitting(cursor, stage: str, column: str, kind: str) -> str | None:
    """A staged text value that is not an ISO date/timestamp DuckDB reads as ``kind``, if any."""
    c = quote(column)
    bad = cursor.execute(f"SELECT {c} FROM {stage} WHERE {c} IS NOT NULL AND NOT {iso_sql(c, kind)} LIMIT 1").fetchall()
    return bad[0][0] if bad else None


def table_types(cursor, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position", [RAW_SCHEMA, table]).fetchall()]

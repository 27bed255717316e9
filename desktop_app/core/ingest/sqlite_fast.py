"""The SQLite fast path: SQLite renders CSV chunks in C, DuckDB parses them in C, in parallel.

A per-row Python loop caps near 580k rows/s, below DuckDB's own sqlite scanner; so for SQLite
sources no row ever becomes a Python object. A reader thread asks SQLite for 100,000 rows at a
time as one CSV text (``group_concat(format('%Q,…'))``: strings quoted with ``'``, NULL bare,
reals with 17 significant digits, blobs in hex), writes it to a temporary file, and DuckDB's CSV
reader parses the previous chunk straight into the typed target table with one ``INSERT``.
``sqlite3`` releases the GIL while SQLite works, so the two halves use both cores. A whole table is
cut into row id ranges first, and more connections of the same snapshot (``sqlite_snapshot``)
render ranges alongside: rendering is most of the work, and one dominant table no longer leaves a
core idle. The chunks still reach DuckDB in row id order.

Types are optimistic: the declared type says BIGINT/DOUBLE/BLOB/VARCHAR, and the first rows of the
first chunk decide which text columns are ISO timestamps or dates. Every value is checked as it is
read (DuckDB's own parsers would quietly drop a zone offset, read '0x1A' as 26, round 2.5 into a
BIGINT). When a value does not fit (a text value in an INTEGER column after 150,000 clean rows, a
date in another format), DuckDB leaves its row out and the ``INSERT``'s count falls short of
SQLite's (a date lands as -infinity instead and the table is read again strictly, see
``sqlite_chunks.chunk_select``); the chunk is diagnosed, the offending column is pinned to a wider type with the
value as an example, and the table is read again from the start — inside the same snapshot, so
nothing is lost or doubled. What the chunk text cannot carry at all goes to the Arrow path.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from desktop_app.core.arrow_rows import DirtyColumn
from desktop_app.core.errors import Cancelled
from desktop_app.core.identifiers import quote
from desktop_app.core.ingest.adbc_sqlite import ArrowReader
from desktop_app.core.ingest.declared_types import numbers_possible
from desktop_app.core.ingest.reconcile import warehouse_checksum_of
from desktop_app.core.ingest.sqlite_chunks import Chunks, chunk_select, diagnose, screen_temporal, values_lost
from desktop_app.core.ingest.sqlite_render import (
    EXACT_INTEGER,
    ROW_ID_NAMES,
    Range,
    Unsupported,
    chunk_queries,
    chunk_ranges,
    order_key,
    rowid_alias,
)
from desktop_app.core.ingest.sqlite_typed import Declined, TypedLoad
from desktop_app.core.ingest.temporal import TEMPORAL
from desktop_app.core.progress import NEVER, CancelToken

__all__ = ["FastResult", "Unsupported", "load_into"]


@dataclass
class FastResult:
    types: dict[str, str]
    rows: int = 0
    checksum: int = 0
    dirty: list[DirtyColumn] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_into(db: sqlite3.Connection, cursor: duckdb.DuckDBPyConnection, table: str, columns: list[str],
              types: dict[str, str], target: str, *, where: str = "", params: tuple = (), temporary: bool = False,
              decide_timestamps: bool = True, siblings: Sequence[sqlite3.Connection] = (),
              arrow_readers: Sequence[ArrowReader] = (), cancel: CancelToken = NEVER,
              on_chunk=lambda n: None) -> FastResult:
    """Create ``target`` and fill it with the table's rows (restarting with wider types when needed).

    The caller holds the SQLite read transaction (one snapshot) and the DuckDB transaction;
    ``siblings`` are more connections in the same snapshot (``core.ingest.sqlite_snapshot``) that
    render ranges of a whole table alongside ``db``; ``arrow_readers`` read a whole table as typed
    Arrow batches instead (``core.ingest.sqlite_typed``), unless it declines the table.
    """
    load = _FastLoad(db, cursor, table, columns, dict(types), target, where, params, temporary, cancel, on_chunk)
    load.decide_timestamps = decide_timestamps
    load.siblings = list(siblings)
    load.arrow_readers = list(arrow_readers)
    return load.run()


class _Restart(Exception):  # control flow inside a load: read the table again
    def __init__(self, rows_so_far: int) -> None:
        super().__init__()
        self.rows_so_far = rows_so_far


class _Resume(Exception):  # control flow inside a load: columns widened in place, read on from a chunk
    def __init__(self, chunk: int, rows_so_far: int) -> None:
        super().__init__()
        self.chunk, self.rows_so_far = chunk, rows_so_far


# Widenings the rows already loaded can take in place, exactly as a fresh read would have typed them:
# those rows held only integers (or only dates), and their text is what DuckDB's cast writes.
IN_PLACE = {("BIGINT", "VARCHAR"), ("BIGINT", "DOUBLE"), ("DATE", "TIMESTAMP")}


class _FastLoad:
    """One table into ``target``: passes over the chunks until the column types settle."""

    def __init__(self, db, cursor, table, columns, types, target, where, params, temporary, cancel, on_chunk):
        self.db, self.cursor, self.table, self.columns, self.types = db, cursor, table, columns, types
        self.target, self.where, self.params, self.temporary = target, where, params, temporary
        self.cancel, self.on_chunk = cancel, on_chunk
        info = db.execute("SELECT name, type, pk FROM pragma_table_info(?)", (table,)).fetchall()
        self.rowid_alias = rowid_alias(db, table, info)
        self.order = order_key(db, table, info)  # the row id, or a WITHOUT ROWID table's primary key
        self.numbers_in_text = numbers_possible(info, columns)
        self.dirty: dict[str, DirtyColumn] = {}
        self.checks: dict[str, str] = {}  # how each DATE/TIMESTAMP column's values are checked (core.ingest.temporal)
        self.decide_timestamps, self.screened = True, False
        self.strict = False  # see chunk_select
        self.created = False
        self.siblings: list[sqlite3.Connection] = []
        self.arrow_readers: list[ArrowReader] = []
        self.ranges: list[Range] | None = None  # a whole table's chunks, cut once (chunk_ranges)

    def run(self) -> FastResult:
        if self.arrow_readers and not self.where and self.order[0] in ROW_ID_NAMES:
            declared = dict(self.types)
            try:
                return self._typed()
            except Declined as why:  # the rendered passes below load it, with their diagnoses
                self.on_chunk(-why.rows_so_far)
                self.types, self.checks, self.created = declared, {}, False
        start, rows_before = 0, 0
        with tempfile.TemporaryDirectory(prefix="oltp-olap-chunks-") as folder:
            for _attempt in range(2 * len(self.columns) + 2):
                self.cancel.raise_if_cancelled()
                try:
                    rows = self._one_pass(Path(folder), start, rows_before)
                except _Resume as resume:
                    start, rows_before = resume.chunk, resume.rows_so_far
                    continue
                except _Restart as restart:
                    self.on_chunk(-restart.rows_so_far)
                    start, rows_before = 0, 0
                    continue
                if not self.strict and self.created and values_lost(self.cursor, self.target, self.types):
                    self.strict = True  # a date that did not fit landed as -infinity: read again, finding which one
                    self.on_chunk(-rows)
                    start, rows_before = 0, 0
                    continue
                return self._result(rows)
        raise Unsupported("column types did not settle")

    def _typed(self) -> FastResult:
        """The whole table as typed Arrow batches (``sqlite_typed``); raises ``Declined``."""
        if self.ranges is None:
            self.ranges = chunk_ranges(self.db, self.table, self.order)

        def create(types: dict[str, str]) -> None:
            self.types = dict(types)
            self._create_target()

        typed = TypedLoad(self.db, self.arrow_readers, self.cursor, self.table, self.columns, dict(self.types),
                          self.target, self.order[0], self.rowid_alias, self.numbers_in_text, self.ranges,
                          create, self.cancel, self.on_chunk)
        typed.screen(self.decide_timestamps)
        rows = typed.run()
        self.types, self.checks, self.dirty = typed.types, typed.checks, typed.dirty
        return self._result(rows)

    def _create_target(self) -> None:
        self.cursor.execute(f"DROP TABLE IF EXISTS {self.target}")
        column_sql = ", ".join(f"{quote(c)} {self.types[c]}" for c in self.columns)
        self.cursor.execute(f"CREATE {'TEMPORARY ' if self.temporary else ''}TABLE {self.target} ({column_sql})")
        self.created = True

    def _one_pass(self, folder: Path, start: int = 0, rows: int = 0) -> int:
        """Every chunk from range ``start`` on into the target table (a new one from the first range);
        raises ``_Resume`` or ``_Restart`` when a column must widen first."""
        if start == 0:
            self.created = False
        queries = chunk_queries(self.table, self.columns, self.types, self.where, self.rowid_alias,
                                self.numbers_in_text, self.order)
        chunks = None
        try:
            if self.where and self.order[0] not in ROW_ID_NAMES:
                raise Unsupported("a WITHOUT ROWID table, read by a filter")
            if not self.where and self.ranges is None:
                self.ranges = chunk_ranges(self.db, self.table, self.order)
            ranges = None if self.where else self.ranges[start:]
            readers = [self.db, *self.siblings] if ranges and len(ranges) > 2 else [self.db]
            chunks = Chunks(readers, queries, self.params, folder, self.cancel, ranges)
            for index, path, count, controls, misplaced in chunks:
                self.cancel.raise_if_cancelled()
                if misplaced:
                    raise Unsupported("reals or blobs in a column of no declared type, or text in a BLOB column")
                if not self.screened:
                    # TIMESTAMP and VARCHAR columns render alike, so the first chunk can decide the
                    # types before the table exists: no chunk is read twice.
                    self.screened = True
                    new_types, self.checks = screen_temporal(path, self.columns, self.types, self.decide_timestamps)
                    self.types.update(new_types)
                if not self.created:
                    self._create_target()
                select = chunk_select(path, self.columns, self.types, self.checks, self.strict, controls)
                inserted = self.cursor.execute(f"INSERT INTO {self.target} {select}").fetchall()[0][0]
                if inserted != count:
                    before = dict(self.types)
                    self._widen(path, count - inserted)
                    if ranges is not None and self._widened_in_place(before, rows):
                        raise _Resume(start + index, rows)
                    raise _Restart(rows)
                rows += inserted
                self.on_chunk(inserted)
        except sqlite3.OperationalError as err:
            if "interrupt" in str(err):
                raise Cancelled() from None
            raise Unsupported(str(err)) from None
        except duckdb.InvalidInputException as err:
            # The CSV reader could not read back what SQLite rendered (a case this path does not know
            # yet): the caller rolls the table back and the exact Arrow path loads it.
            if "CSV" not in str(err):
                raise
            raise Unsupported(f"its rendered rows could not be read back: {str(err).splitlines()[0]}") from None
        finally:
            if chunks is not None:
                chunks.close()
        if not self.created:  # no rows at all: the declared types stand
            self._create_target()
        return rows

    def _widen(self, path: Path, missing: int) -> None:
        """A chunk fell short: pin each column that did not fit to a wider type, with an example."""
        widened = diagnose(self.cursor, path, self.columns, self.types, self.checks)
        if not widened:
            raise Unsupported(f"{missing} rows could not be read as CSV")
        for name, (new_type, check, example) in widened.items():
            if new_type != self.types[name]:
                reason = ("mixed date formats" if self.types[name] in TEMPORAL
                          else f"values that are not {self.types[name]}")
                self.dirty.setdefault(name, DirtyColumn(name, example, reason))
            self.types[name] = new_type
            self.checks[name] = check

    def _widened_in_place(self, before: dict[str, str], rows_so_far: int) -> bool:
        """Change the target's column types in place and drop the short chunk's rows, when that gives
        what reading the table again would; then the load reads on from that chunk.

        A dirty value late in a big table (text in an INTEGER column after 850,000 clean rows) made
        the whole table be read twice.
        """
        changed = {c: (before[c], kind) for c, kind in self.types.items() if kind != before[c]}
        if any(change not in IN_PLACE for change in changed.values()):
            return False
        for name, (old, new) in changed.items():
            if (old, new) == ("BIGINT", "DOUBLE"):  # DOUBLE holds the loaded integers exactly only to 2^53
                largest = self.cursor.execute(f"SELECT max(abs({quote(name)})) FROM {self.target}").fetchall()[0][0]
                if largest is not None and largest > EXACT_INTEGER:
                    return False
        # The short chunk's rows that did fit were appended last (DuckDB numbers appended rows in order).
        self.cursor.execute(f"DELETE FROM {self.target} WHERE rowid >= (SELECT rowid FROM {self.target} "
                            f"LIMIT 1 OFFSET {rows_so_far})")
        if self.cursor.execute(f"SELECT count(*) FROM {self.target}").fetchall()[0][0] != rows_so_far:
            return False
        for name, (_, new) in changed.items():
            self.cursor.execute(f"ALTER TABLE {self.target} ALTER COLUMN {quote(name)} TYPE {new}")
        return True

    def _result(self, rows: int) -> FastResult:
        # What landed, before anything else touches the table: the load's reconciliation compares it
        # with the finished table (and SQLite's own row count with both).
        checksum = int(warehouse_checksum_of(self.cursor, self.target, self.columns)[1])
        notes = [f"{name}: loaded as {self.types[name]} — {problem.reason} (e.g. {problem.example!r})"
                 for name, problem in self.dirty.items()]
        return FastResult(self.types, rows, checksum, list(self.dirty.values()), notes)

"""The SQLite fast path: SQLite renders CSV chunks in C, DuckDB parses them in C, in parallel.

A per-row Python loop caps near 580k rows/s, below DuckDB's own sqlite scanner; so for SQLite
sources no row ever becomes a Python object. A reader thread asks SQLite for 100,000 rows at a
time as one CSV text (``group_concat(format('%Q,…'))``: strings quoted with ``'``, NULL bare,
reals with 17 significant digits, blobs in hex), writes it to a temporary file, and DuckDB's CSV
reader parses the previous chunk straight into the typed target table. ``sqlite3`` releases the
GIL while SQLite works, so the two halves use both cores.

Types are optimistic: the declared type says BIGINT/DOUBLE/BLOB/VARCHAR, and the first chunk
decides which text columns are ISO timestamps or dates. When a later value does not fit (a text
value in an INTEGER column after 150,000 clean rows, a date in another format), DuckDB refuses
the chunk, the offending column is pinned to a wider type with the value as an example, and the
table is read again from the start — inside the same snapshot, so nothing is lost or doubled.
Every chunk's row count and ``Σ hash(row)`` (in the final types) are summed on the way, which is
what the load's reconciliation compares with the finished table.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from desktop_app.core.arrow_rows import DirtyColumn
from desktop_app.core.errors import Cancelled
from desktop_app.core.ingest.types import VARCHAR, widen
from desktop_app.core.olap.warehouse import quote
from desktop_app.core.progress import NEVER, CancelToken

CHUNK_ROWS = 100_000
ISO_PATTERN = r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?"
DATE_PATTERN = r"\d{4}-\d{2}-\d{2}"


class Unsupported(Exception):  # noqa: N818 - a signal to use the general path, not an error
    """This table's data cannot go through CSV chunks (e.g. invalid UTF-8); use the Arrow path."""


@dataclass
class FastResult:
    types: dict[str, str]
    rows: int = 0
    checksum: int = 0
    dirty: list[DirtyColumn] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _sqlite_quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def render_expression(columns: list[str], types: dict[str, str]) -> tuple[str, list[str]]:
    """The ``format()`` pattern and its arguments that render one row as a CSV line."""
    pattern, args = [], []
    for name in columns:
        column = _sqlite_quote(name)
        kind = types[name]
        if kind == "DOUBLE":
            pattern.append("%s")
            args.append(f"iif(typeof({column}) = 'real', printf('%!.17g', {column}), quote({column}))")
        elif kind == "BLOB":
            pattern.append("%s")
            args.append(f"iif({column} IS NULL, 'NULL', hex({column}))")
        else:
            pattern.append("%Q")
            args.append(column)
    return "format('" + ",".join(pattern) + "', " + ", ".join(args) + ")", args


def _csv_columns(columns: list[str], types: dict[str, str]) -> str:
    def csv_type(kind: str) -> str:
        return "VARCHAR" if kind in ("BLOB",) else kind

    inner = ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}': '{csv_type(types[c])}'" for c in columns)
    return "{" + inner + "}"


def _select_list(columns: list[str], types: dict[str, str]) -> str:
    return ", ".join(f"unhex({quote(c)}) AS {quote(c)}" if types[c] == "BLOB" else quote(c) for c in columns)


def _hash_expression(columns: list[str]) -> str:
    return f"coalesce(sum(hash({', '.join(quote(c) for c in columns)})::HUGEINT), 0)"


class _Chunks:
    """Reader thread: renders chunks of ``SELECT … WHERE rowid in range`` into CSV files."""

    def __init__(self, db: sqlite3.Connection, sql: str, params: tuple, folder: Path, cancel: CancelToken) -> None:
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.db, self.sql, self.params, self.folder, self.cancel = db, sql, params, folder, cancel
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sqlite-render", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            cursor = self.db.cursor()
            index = 0
            last = None
            while not self.stop.is_set():
                text, count, last = cursor.execute(self.sql, (*self.params, last, last)).fetchone()
                if not count:
                    break
                path = self.folder / f"chunk-{index % 4}.csv"
                with open(path, "w", encoding="utf-8", newline="") as handle:
                    handle.write(text)
                self._put((path, count))
                index += 1
                if count < CHUNK_ROWS:
                    break
            self._put(None)
        except BaseException as err:  # noqa: BLE001 - handed to the consumer, raised there
            self._put(err)

    def _put(self, item) -> None:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def __iter__(self):
        while True:
            item = self.queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


def chunk_query(table: str, columns: list[str], types: dict[str, str], where: str = "") -> str:
    """One chunk: up to CHUNK_ROWS rows after the last rowid, as (csv text, row count, last rowid)."""
    expression, _ = render_expression(columns, types)
    # The filter runs as a subquery so SQLite can answer it from an index (e.g. updated_at's) and
    # then seek the matching rows by rowid, instead of scanning the whole table in rowid order.
    condition = f"rowid IN (SELECT rowid FROM {_sqlite_quote(table)} WHERE {where}) AND " if where else ""
    return (f"SELECT group_concat(line, char(10)), count(*), max(rid) FROM ("
            f"SELECT rowid AS rid, {expression} AS line FROM {_sqlite_quote(table)} "
            f"WHERE {condition}(? IS NULL OR rowid > ?) ORDER BY rowid LIMIT {CHUNK_ROWS})")


def load_into(db: sqlite3.Connection, cursor: duckdb.DuckDBPyConnection, table: str, columns: list[str],
              types: dict[str, str], target: str, *, where: str = "", params: tuple = (), temporary: bool = False,
              decide_timestamps: bool = True, cancel: CancelToken = NEVER, on_chunk=lambda n: None) -> FastResult:
    """Create ``target`` and fill it with the table's rows (restarting with wider types when needed).

    The caller holds the SQLite read transaction (one snapshot) and the DuckDB transaction.
    """
    types = dict(types)
    dirty: dict[str, DirtyColumn] = {}
    notes: list[str] = []
    pending_timestamps = decide_timestamps
    with tempfile.TemporaryDirectory(prefix="oltp-olap-chunks-") as folder:
        for _attempt in range(2 * len(columns) + 2):
            cancel.raise_if_cancelled()
            result = FastResult(types=types)
            created = False
            chunks = _Chunks(db, chunk_query(table, columns, types, where), params, Path(folder), cancel)
            try:
                for path, count in chunks:
                    cancel.raise_if_cancelled()
                    if pending_timestamps:
                        # TIMESTAMP and VARCHAR columns render alike, so the first chunk can decide
                        # the types before the table exists: no chunk is read twice.
                        pending_timestamps = False
                        types.update(_decide_timestamps(cursor, path, columns, types))
                    if not created:
                        cursor.execute(f"DROP TABLE IF EXISTS {target}")
                        column_sql = ", ".join(f"{quote(c)} {types[c]}" for c in columns)
                        cursor.execute(f"CREATE {'TEMPORARY ' if temporary else ''}TABLE {target} ({column_sql})")
                        created = True
                    # ignore_errors: a value that does not fit drops its row instead of failing the
                    # statement (a failed statement would abort the whole DuckDB transaction); the
                    # row count against SQLite's tells us, and the chunk is diagnosed instead.
                    source = (f"read_csv('{path}', columns = {_csv_columns(columns, types)}, header = false, "
                              f"delim = ',', quote = '''', escape = '''', nullstr = 'NULL', "
                              f"allow_quoted_nulls = false, ignore_errors = true)")
                    cursor.execute(f"CREATE OR REPLACE TEMPORARY TABLE __chunk AS "
                                   f"SELECT {_select_list(columns, types)} FROM {source}")
                    parsed = cursor.execute("SELECT count(*) FROM __chunk").fetchall()[0][0]
                    if parsed != count:
                        widened = _diagnose(cursor, path, columns, types)
                        if not widened:
                            raise Unsupported(f"{count - parsed} rows could not be read as CSV")
                        for name, (new_type, example) in widened.items():
                            reason = ("mixed date formats" if types[name] in ("TIMESTAMP", "DATE")
                                      else f"values that are not {types[name]}")
                            dirty.setdefault(name, DirtyColumn(name, example, reason))
                            types[name] = new_type
                        raise _Restart()
                    rows, checksum = cursor.execute(
                        f"SELECT count(*), {_hash_expression(columns)} FROM __chunk").fetchall()[0]
                    cursor.execute(f"INSERT INTO {target} SELECT * FROM __chunk")
                    result.rows += rows
                    result.checksum += int(checksum)
                    on_chunk(rows)
            except _Restart:
                on_chunk(-result.rows)
                continue
            except sqlite3.OperationalError as err:
                if "interrupt" in str(err):
                    raise Cancelled() from None
                raise Unsupported(str(err)) from None
            finally:
                chunks.close()
                _drop_chunk(cursor)
            if not created:  # no rows at all: the declared types stand
                cursor.execute(f"DROP TABLE IF EXISTS {target}")
                column_sql = ", ".join(f"{quote(c)} {types[c]}" for c in columns)
                cursor.execute(f"CREATE {'TEMPORARY ' if temporary else ''}TABLE {target} ({column_sql})")
            result.dirty = list(dirty.values())
            for name, problem in dirty.items():
                notes.append(f"{name}: loaded as {types[name]} — {problem.reason} (e.g. {problem.example!r})")
            result.notes = notes
            return result
    raise Unsupported("column types did not settle")


class _Restart(Exception):  # noqa: N818 - control flow inside load_into
    pass


def _drop_chunk(cursor) -> None:
    try:
        cursor.execute("DROP TABLE IF EXISTS __chunk")
    except duckdb.Error:
        pass


def _as_text(path: Path, columns: list[str]) -> str:
    spec = "{" + ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for c in columns) + "}"
    return (f"read_csv('{path}', columns = {spec}, header = false, delim = ',', quote = '''', escape = '''', "
            f"nullstr = 'NULL', allow_quoted_nulls = false)")


def _decide_timestamps(cursor, path: Path, columns: list[str], types: dict[str, str]) -> dict[str, str]:
    """Text columns whose every value in the first chunk is an ISO date or timestamp.

    A cheap screen on the first lines keeps the full-chunk check to likely candidates.
    """
    candidates = [c for c in columns if types[c] == VARCHAR]
    for limit in (200, None):
        if not candidates:
            return {}
        checks = ", ".join(
            f"count({quote(c)}), count(*) FILTER (regexp_full_match({quote(c)}, '{ISO_PATTERN}') "
            f"AND TRY_CAST({quote(c)} AS TIMESTAMP) IS NOT NULL), "
            f"count(*) FILTER (regexp_full_match({quote(c)}, '{DATE_PATTERN}'))" for c in candidates)
        relation = _as_text(path, columns)
        if limit is not None:
            relation = f"(SELECT * FROM {relation} LIMIT {limit})"
        values = cursor.execute(f"SELECT {checks} FROM {relation}").fetchall()[0]
        results = {}
        for i, name in enumerate(candidates):
            total, iso, dates = values[3 * i: 3 * i + 3]
            if total and iso == total:
                results[name] = "DATE" if dates == total else "TIMESTAMP"
        candidates = list(results)
    return results


def _diagnose(cursor, path: Path, columns: list[str], types: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Which columns of a refused chunk do not fit their type, the type that would, and an example."""
    found = {}
    for name in columns:
        kind = types[name]
        if kind in (VARCHAR, "BLOB"):
            continue
        column = quote(name)
        bad = cursor.execute(f"SELECT {column} FROM {_as_text(path, columns)} WHERE {column} IS NOT NULL "
                             f"AND TRY_CAST({column} AS {kind}) IS NULL LIMIT 1").fetchall()
        if bad:
            example = bad[0][0]
            as_double = cursor.execute("SELECT TRY_CAST(? AS DOUBLE)", [example]).fetchall()[0][0]
            # A number in an INTEGER column that is not an integer is a REAL in SQLite (affinity converts
            # numeric text): DOUBLE holds it, and DOUBLE columns are rendered with 17 exact digits.
            new_type = widen(kind, "DOUBLE") if kind == "BIGINT" and as_double is not None else VARCHAR
            found[name] = (new_type, example[:80])
    return found


def open_snapshot(path: str | os.PathLike) -> sqlite3.Connection:
    """A read-only connection inside one read transaction (one consistent snapshot)."""
    from desktop_app.core.oltp.source import connect_sqlite_readonly

    db = connect_sqlite_readonly(Path(path))
    db.isolation_level = None
    db.execute("BEGIN")
    db.execute("SELECT count(*) FROM sqlite_master").fetchall()  # takes the snapshot now
    return db

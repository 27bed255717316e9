"""Read rendered chunks: a reader thread writes SQLite's CSV text to files, DuckDB reads them typed.

The reader thread (``Chunks``) runs SQLite's rendering queries and hands over one file per chunk;
``sqlite3`` releases the GIL while SQLite works, so it renders the next chunk while DuckDB parses
this one. ``chunk_select`` reads a file into the target types with every value checked;
``screen_temporal`` decides from the first rows which text columns hold dates or timestamps, and
``diagnose`` names the column (and an example value) that made a chunk fall short.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import threading
from pathlib import Path

from desktop_app.core.identifiers import literal, quote
from desktop_app.core.ingest.sqlite_render import (
    CHUNK_ROWS,
    EXACT_REAL_TEXT,
    HUGE_MARK,
    REAL_MARK,
    TEXT_MARK,
    ChunkQueries,
    Range,
    Unsupported,
    range_query,
)
from desktop_app.core.ingest.temporal import TEMPORAL, TemporalSql, check_for, decide, widen_temporal
from desktop_app.core.ingest.types import VARCHAR, widen
from desktop_app.core.progress import CancelToken

SCREEN_CHARACTERS = 256 * 1024  # the head of the first chunk that decides which text columns hold timestamps


def read_chunk(path: Path, column_types: dict[str, str], options: str = "") -> str:
    """read_csv of a chunk file as rendered by ``render_expression``: given column types, no sniffing.

    Rows end with a line feed (``group_concat(…, char(10))``); said so, because left to itself the
    reader takes a carriage return inside a quoted value (Windows line breaks in a note) for the end
    of a row and fails the table.
    """
    spec = ", ".join(f"{literal(c)}: '{kind}'" for c, kind in column_types.items())
    return (f"read_csv('{path}', columns = {{{spec}}}, header = false, delim = ',', quote = '''', escape = '''', "
            f"nullstr = 'NULL', allow_quoted_nulls = false, auto_detect = false, new_line = '\\n'{options})")


def _csv_types(columns: list[str], types: dict[str, str]) -> dict[str, str]:
    """read_csv's column types: blobs arrive as hex text, dates and timestamps as text to be checked."""
    return {c: VARCHAR if types[c] in (*TEMPORAL, "BLOB") else types[c] for c in columns}


LOST = "'-infinity'"  # stands in for a date/timestamp whose text failed its check (no text can pass as it)


def chunk_select(path: Path, columns: list[str], types: dict[str, str], checks: dict[str, str],
                  strict: bool, controls: bool = True) -> str:
    """``SELECT`` of a chunk file's rows in their target types.

    ignore_errors: a value that does not fit its CSV type drops its row instead of failing the
    statement (a failed statement would abort the whole DuckDB transaction); the row count tells us.
    A date/timestamp whose text fails its check lands as ``LOST`` (-infinity, which no text passes
    as), found by ``values_lost`` once the table is read; the table is then read again
    ``strict``ly, leaving such rows out like any other, so the chunk that holds one is found and
    diagnosed. (A ``WHERE`` on every chunk made each one a third slower; counting values in SQLite
    slowed its rendering by a tenth.) Without ``controls`` in the chunk, no value needs testing for
    them (half the check's cost).
    """
    temporal = TemporalSql(types, checks)
    source = read_chunk(path, _csv_types(columns, types), ", ignore_errors = true")

    def value(name: str) -> str:
        column, kind = quote(name), types[name]
        if kind in TEMPORAL and strict:
            return f"{temporal.parsed(name)} AS {column}"
        if kind in TEMPORAL:
            lost = f"{LOST}::{kind}"
            return (f"CASE WHEN {temporal.form(name, controls)} THEN coalesce({temporal.parsed(name)}, {lost}) "
                    f"WHEN {column} IS NOT NULL THEN {lost} END AS {column}")
        return f"unhex({column}) AS {column}" if kind == "BLOB" else column

    checked = " AND ".join(temporal.fits(c) for c in temporal.columns()) if strict else ""
    return f"SELECT {', '.join(value(c) for c in columns)} FROM {source}" + (f" WHERE {checked}" if checked else "")


def _has_control_characters(text: bytes, rows: int) -> bool:
    """Whether a rendered chunk holds a tab, vertical tab, form feed, carriage return or a line break
    inside a value (one byte search each, in C)."""
    return any(byte in text for byte in (b"\t", b"\v", b"\f", b"\r")) or text.count(b"\n") != rows - 1


def values_lost(cursor, target: str, types: dict[str, str]) -> bool:
    """Whether a date/timestamp of ``target`` landed as ``LOST``: its text failed its check."""
    names = [c for c, kind in types.items() if kind in TEMPORAL]
    if not names:
        return False
    lost = " OR ".join(f"{quote(c)} = {LOST}::{types[c]}" for c in names)
    return bool(cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {target} WHERE {lost})").fetchall()[0][0])


AHEAD = 3  # chunks rendered and waiting beyond one per reader: bounds memory and disk


class Chunks:
    """Reader threads render chunks into CSV files; iterating yields them in row id order as (index,
    path, row count, whether a value holds a control character, whether a value sits in a column of the
    other kind — see ``chunk_queries``).

    With ``ranges`` (a whole table, cut beforehand by ``chunk_ranges``) every connection renders:
    each reader takes the next range, so a big table is rendered on as many cores as there are
    connections in its snapshot, and the chunks still reach DuckDB in row id order (the table
    lands as one reader would have written it). Without, one reader follows the filter from the
    last row id it read (``queries``: the first chunk's query and the next ones').
    """

    ahead = AHEAD

    def __init__(self, connections: list[sqlite3.Connection], queries: ChunkQueries, params: tuple,
                 folder: Path, cancel: CancelToken, ranges: list[Range] | None = None) -> None:
        self.queries, self.params, self.folder, self.ranges = queries, params, folder, ranges
        self.permits = threading.Semaphore(self.ahead + len(connections))
        self.changed = threading.Condition()
        self.ready: dict[int, tuple] = {}
        self.total: int | None = None if ranges is None else len(ranges)  # known once the end is found
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.next_range = iter(range(len(ranges or ())))
        self.range_lock = threading.Lock()
        # The first connection is the caller's, which interrupts it on a cancel; the others are ours.
        self.removers = [cancel.on_cancel(c.interrupt) for c in connections[1:]]
        work = self._keyset if ranges is None else self._ranges
        self.threads = [threading.Thread(target=self._guarded, args=(work, c), name="sqlite-render", daemon=True)
                        for c in (connections[:1] if ranges is None else connections)]
        for thread in self.threads:
            thread.start()

    def _guarded(self, work, connection: sqlite3.Connection) -> None:
        try:
            work(connection.cursor())
        except BaseException as err:  # handed to the consumer, raised there
            with self.changed:
                self.error = self.error or err
                self.changed.notify_all()

    def _acquire(self) -> bool:
        while not self.stop.is_set():
            if self.permits.acquire(timeout=0.1):
                return True
        return False

    def _render(self, cursor, index: int, sql: str, params: tuple) -> tuple[int, object]:
        text, count, last, misplaced = cursor.execute(sql, params).fetchone()
        path = self.folder / f"chunk-{index}.csv"
        if count:
            with open(path, "wb") as handle:
                handle.write(text)
        with self.changed:
            self.ready[index] = (path, count, bool(count) and _has_control_characters(text, count), bool(misplaced))
            self.changed.notify_all()
        return count, last

    def _finish(self, total: int) -> None:
        with self.changed:
            self.total = total
            self.changed.notify_all()

    def _keyset(self, cursor) -> None:
        first, following = self.queries.first, self.queries.following
        index, last = 0, None
        while self._acquire():
            sql, params = (first, self.params) if last is None else (following, (*self.params, last))
            count, last = self._render(cursor, index, sql, params)
            index += 1
            if count < CHUNK_ROWS:
                self._finish(index)
                return

    def _ranges(self, cursor) -> None:
        while self._acquire():
            with self.range_lock:
                index = next(self.next_range, None)
            if index is None:
                self.permits.release()
                return
            self._read_range(cursor, index)

    def _read_range(self, cursor, index: int) -> None:
        sql, key = range_query(self.queries, self.ranges[index])
        self._render(cursor, index, sql, (*self.params, *key))

    def __iter__(self):
        index = 0
        while True:
            with self.changed:
                self.changed.wait_for(lambda at=index: at in self.ready or self.error is not None
                                      or (self.total is not None and at >= self.total))
                if self.error is not None:
                    raise self.error
                if index not in self.ready:
                    return
                item = self.ready.pop(index)
            try:
                if item[1]:
                    yield (index, *item)
            finally:
                self._discard(item)
                self.permits.release()
            index += 1

    def _discard(self, item: tuple) -> None:
        item[0].unlink(missing_ok=True)

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        for remove in self.removers:
            remove()


def _screen_rows(path: Path, columns: list[str]) -> list[list[str]]:
    """The first rows of a chunk file, parsed in Python (a bare NULL reads as the text 'NULL')."""
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:  # a screen: DuckDB judges the bytes
        head = handle.read(SCREEN_CHARACTERS)
        whole = not handle.read(1)
    rows = []
    reader = csv.reader(io.StringIO(head), delimiter=",", quotechar="'", doublequote=True)
    try:
        rows.extend(reader)
    except csv.Error:  # a value longer than the csv module's field limit (128 KiB): screen what came before
        whole = False
    if not whole:
        rows = rows[:-1]  # the last line may be cut short
    return [row for row in rows if len(row) == len(columns)]


def screen_temporal(path: Path, columns: list[str], types: dict[str, str],
                    decide_types: bool) -> tuple[dict[str, str], dict[str, str]]:
    """From the first rows: text columns that hold ISO dates or timestamps (when ``decide_types``),
    and how each DATE/TIMESTAMP column's values will be checked.

    A screen, not a proof: every chunk is read with those checks, and a value that fails one
    widens its column (``core.ingest.temporal.widen_temporal``).
    """
    rows = _screen_rows(path, columns)
    new_types, checks = {}, {}
    for index, name in enumerate(columns):
        values = [row[index] for row in rows if row[index] != "NULL"]
        kind = types[name]
        if kind == VARCHAR and decide_types:
            kind = decide(values) or VARCHAR
            if kind != VARCHAR:
                new_types[name] = kind
        if kind in TEMPORAL:
            checks[name] = check_for(kind, values)
    return new_types, checks


def diagnose(cursor, path: Path, columns: list[str], types: dict[str, str],
              checks: dict[str, str]) -> dict[str, tuple[str, str, str]]:
    """Which columns of a refused chunk do not fit, the (type, check) that would, and an example."""
    temporal = TemporalSql(types, checks)
    as_text = read_chunk(path, dict.fromkeys(columns, VARCHAR))
    found = {}
    for name in columns:
        kind = types[name]
        if kind in (VARCHAR, "BLOB"):
            continue
        column = quote(name)
        fits = temporal.fits(name) if kind in TEMPORAL else f"TRY_CAST({column} AS {kind}) IS NOT NULL"
        bad = cursor.execute(f"SELECT {column} FROM {as_text} WHERE {column} IS NOT NULL "
                             f"AND NOT {fits} LIMIT 1").fetchall()
        if not bad:
            continue
        example = bad[0][0]
        if kind in TEMPORAL:
            new_type, check = widen_temporal(kind, temporal.check(name), example)
        elif example.startswith(HUGE_MARK):
            raise Unsupported(f"{name} holds reals beyond {EXACT_REAL_TEXT:g}, which SQLite does not write exactly "
                              "as text")
        elif example.startswith(REAL_MARK):  # a REAL in a BIGINT column (SQLite kept it because it has a fraction)
            new_type, check, example = widen(kind, "DOUBLE"), "", example[1:]
        elif example.startswith(TEXT_MARK):  # text (or a blob) in a numeric column
            new_type, check, example = VARCHAR, "", example[1:]
        else:
            as_double = cursor.execute("SELECT TRY_CAST(? AS DOUBLE)", [example]).fetchall()[0][0]
            new_type, check = (widen(kind, "DOUBLE") if as_double is not None and kind == "BIGINT" else VARCHAR), ""
        found[name] = (new_type, check, example[:80])
    return found

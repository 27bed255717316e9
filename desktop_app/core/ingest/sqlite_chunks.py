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
import queue
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
    Unsupported,
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


class Chunks:
    """Reader thread: renders chunks of ``SELECT … WHERE rowid in range`` into CSV files; yields each
    file's path, its row count, whether any value in it holds a control character and whether a
    value sits in a column of the other kind (see ``chunk_queries``)."""

    def __init__(self, db: sqlite3.Connection, queries: tuple[str, str], params: tuple, folder: Path,
                 cancel: CancelToken) -> None:
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.db, self.queries, self.params, self.folder, self.cancel = db, queries, params, folder, cancel
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sqlite-render", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            cursor = self.db.cursor()
            index = 0
            last = None
            while not self.stop.is_set():
                first, following = self.queries
                sql, params = (first, self.params) if last is None else (following, (*self.params, last))
                text, count, last, misplaced = cursor.execute(sql, params).fetchone()
                if not count:
                    break
                path = self.folder / f"chunk-{index % 4}.csv"
                with open(path, "wb") as handle:
                    handle.write(text)
                self._put((path, count, _has_control_characters(text, count), bool(misplaced)))
                index += 1
                if count < CHUNK_ROWS:
                    break
            self._put(None)
        except BaseException as err:  # handed to the consumer, raised there
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

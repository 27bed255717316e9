"""The SQLite fast path: SQLite renders CSV chunks in C, DuckDB parses them in C, in parallel.

A per-row Python loop caps near 580k rows/s, below DuckDB's own sqlite scanner; so for SQLite
sources no row ever becomes a Python object. A reader thread asks SQLite for 100,000 rows at a
time as one CSV text (``group_concat(format('%Q,…'))``: strings quoted with ``'``, NULL bare,
reals with 17 significant digits, blobs in hex), writes it to a temporary file, and DuckDB's CSV
reader parses the previous chunk straight into the typed target table with one ``INSERT``.
``sqlite3`` releases the GIL while SQLite works, so the two halves use both cores.

Types are optimistic: the declared type says BIGINT/DOUBLE/BLOB/VARCHAR, and the first rows of the
first chunk decide which text columns are ISO timestamps or dates. Every value is checked as it is
read (DuckDB's own parsers would quietly drop a zone offset, read '0x1A' as 26, round 2.5 into a
BIGINT). When a value does not fit (a text value in an INTEGER column after 150,000 clean rows, a
date in another format), DuckDB leaves its row out and the ``INSERT``'s count falls short of
SQLite's (a date lands as -infinity instead and the table is read again strictly, see
``_chunk_select``); the chunk is diagnosed, the offending column is pinned to a wider type with the
value as an example, and the table is read again from the start — inside the same snapshot, so
nothing is lost or doubled. What the chunk text cannot carry at all goes to the Arrow path.
"""

from __future__ import annotations

import csv
import io
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
from desktop_app.core.identifiers import literal, quote
from desktop_app.core.ingest.reconcile import warehouse_checksum_of
from desktop_app.core.ingest.temporal import TEMPORAL, TemporalSql, check_for, decide, widen_temporal
from desktop_app.core.ingest.types import VARCHAR, widen
from desktop_app.core.progress import NEVER, CancelToken

CHUNK_ROWS = 100_000  # measured against 81,920 and 122,880 (a row group): no better
SCREEN_CHARACTERS = 256 * 1024  # the head of the first chunk that decides which text columns hold timestamps


class Unsupported(Exception):  # noqa: N818 - a signal to use the general path, not an error
    """This table's data cannot go through CSV chunks (e.g. invalid UTF-8); use the Arrow path."""


@dataclass
class FastResult:
    types: dict[str, str]
    rows: int = 0
    checksum: int = 0
    dirty: list[DirtyColumn] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


TEXT_MARK, REAL_MARK = "~", "^"  # prefixes no number has: DuckDB cannot read such a value as a number
HUGE_MARK = "!"  # a REAL too large for SQLite to write exactly (see render_expression)
EXACT_INTEGER = 2**53  # integers up to this magnitude are exact as DOUBLE; beyond, only some are
FORMAT_ARGS = 100  # values per format() call (SQLite's limit is 127 arguments)
EXACT_REAL_TEXT = 1e100  # below this magnitude SQLite 3.40's printf('%!.17g') gives every double back exactly


def render_expression(columns: list[str], types: dict[str, str], rowid_alias: str | None = None) -> str:
    """The ``format()`` call that renders one row as a CSV line.

    DuckDB reads numbers leniently — '0x1A' as 26, '1_000' as 1000, 'nan' as NaN, and a REAL 2.5 in
    a BIGINT column as 3 — so in numeric columns every value SQLite does not hold as that number
    is rendered with a mark: DuckDB refuses it, and the mark tells ``_diagnose`` what it was. The
    test is a comparison, not ``typeof()`` (a function call per value: +78 % render time against
    +28 %); the rowid alias, always an integer, is not tested at all. A DOUBLE column also marks
    an integer that DOUBLE would round (beyond 2^53) and a REAL beyond 1e100, which SQLite 3.40
    writes inexactly in about one case in a thousand (that table then takes the exact Arrow path).
    Text columns are written as they are; what cannot be (a REAL, a blob) is found by ``chunk_queries``.
    """
    pattern, args = [], []
    for name in columns:
        column = quote(name)
        kind = types[name]
        integer = f"{column} = CAST({column} AS INTEGER)"  # NULL for NULL, false for text, blobs and fractions
        mark = f"iif({column} = CAST({column} AS REAL), '{REAL_MARK}', '{TEXT_MARK}') || {column}"
        if kind == "BIGINT":
            pattern.append("%Q")
            args.append(column if name == rowid_alias else f"iif({integer}, {column}, {mark})")
        elif kind == "DOUBLE":
            pattern.append("%s")
            args.append(f"CASE WHEN typeof({column}) = 'real' THEN iif(abs({column}) < {EXACT_REAL_TEXT}, "
                        f"printf('%!.17g', {column}), quote('{HUGE_MARK}' || {column})) "
                        f"WHEN {integer} AND (abs({column}) <= {EXACT_INTEGER} OR {column} = CAST({column} AS REAL)) "
                        f"THEN {column} ELSE quote({mark}) END")
        elif kind == "BLOB":
            pattern.append("%s")
            args.append(f"iif({column} IS NULL, 'NULL', hex({column}))")
        else:
            pattern.append("%Q")
            args.append(column)
    # SQLite allows 127 arguments per function call (SQLITE_MAX_FUNCTION_ARG): a wide table's line is
    # several format() calls joined by commas.
    calls = [f"format('{','.join(pattern[i:i + FORMAT_ARGS])}', {', '.join(args[i:i + FORMAT_ARGS])})"
             for i in range(0, len(args), FORMAT_ARGS)]
    return " || ',' || ".join(calls)


def _misplaced(name: str, kind: str, numbers_possible: bool) -> str | None:
    """SQLite SQL: this value cannot go through the chunk's text as its column is typed (None: no test).

    Anything but a blob in a BLOB column (its text would become bytes), and in a text column whose
    affinity admits numbers (no declared type, DATETIME, a REAL column widened by a text value) a
    REAL — SQLite 3.40 writes 15 digits ('0.3' for 0.30000000000000004), and its 17-digit form is not
    the shortest one Python and DuckDB write — or a blob. A column declared TEXT is not tested: it
    converts numbers on insert, and testing every value for a blob cost a quarter of the rendering
    time of a table of text (a blob there loads as its bytes read as text; see the README).
    """
    column = quote(name)
    if kind == "BLOB":
        return f"{column} < x''"  # SQLite sorts numbers < text < blobs
    return f"{column} >= x'' OR typeof({column}) = 'real'" if numbers_possible else None


def affinity(declared: str) -> str:
    """SQLite's affinity for a declared type, by its own rules in its order: INTEGER, TEXT (stores no
    numbers: they are converted on insert), BLOB (none: no type, or BLOB), REAL, else NUMERIC."""
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in upper or not upper:
        return "BLOB"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def _read_chunk(path: Path, column_types: dict[str, str], options: str = "") -> str:
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


def _chunk_select(path: Path, columns: list[str], types: dict[str, str], checks: dict[str, str],
                  strict: bool, controls: bool = True) -> str:
    """``SELECT`` of a chunk file's rows in their target types.

    ignore_errors: a value that does not fit its CSV type drops its row instead of failing the
    statement (a failed statement would abort the whole DuckDB transaction); the row count tells us.
    A date/timestamp whose text fails its check lands as ``LOST`` (-infinity, which no text passes
    as), found by ``_values_lost`` once the table is read; the table is then read again
    ``strict``ly, leaving such rows out like any other, so the chunk that holds one is found and
    diagnosed. (A ``WHERE`` on every chunk made each one a third slower; counting values in SQLite
    slowed its rendering by a tenth.) Without ``controls`` in the chunk, no value needs testing for
    them (half the check's cost).
    """
    temporal = TemporalSql(types, checks)
    source = _read_chunk(path, _csv_types(columns, types), ", ignore_errors = true")

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


def _values_lost(cursor, target: str, types: dict[str, str]) -> bool:
    """Whether a date/timestamp of ``target`` landed as ``LOST``: its text failed its check."""
    names = [c for c, kind in types.items() if kind in TEMPORAL]
    if not names:
        return False
    lost = " OR ".join(f"{quote(c)} = {LOST}::{types[c]}" for c in names)
    return bool(cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {target} WHERE {lost})").fetchall()[0][0])


class _Chunks:
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


def chunk_queries(table: str, columns: list[str], types: dict[str, str], where: str = "",
                  rowid_alias: str | None = None, numbers_in_text: frozenset[str] = frozenset(),
                  rowid: str = "rowid") -> tuple[str, str]:
    """The first chunk's query and the next ones' (after the last rowid, one more parameter).

    Each returns (csv text, row count, last rowid, misplaced) for up to CHUNK_ROWS rows. The next
    ones say ``rowid > ?`` plainly so SQLite seeks straight to it; a form like ``? IS NULL OR rowid
    > ?`` would make it walk the table from the start for every chunk (quadratic in the table's size).
    ``rowid`` is the name of SQLite's row id that no column of the table hides (``row_id_name``).

    ``misplaced`` is 1 when a row holds a value its column cannot render exactly (see ``_misplaced``).
    Such a table is for the Arrow path, which sees each value's type and reports the column.
    """
    expression = render_expression(columns, types, rowid_alias)
    tests = [test for c in columns if types[c] in (VARCHAR, "BLOB", *TEMPORAL)
             and (test := _misplaced(c, types[c], c in numbers_in_text)) is not None]
    misplaced = ", (" + " OR ".join(f"({test})" for test in tests) + ") AS misplaced" if tests else ""
    # The filter runs as a subquery so SQLite can answer it from an index (e.g. updated_at's) and
    # then seek the matching rows by rowid, instead of scanning the whole table in rowid order.
    conditions = [f"{rowid} IN (SELECT {rowid} FROM {quote(table)} WHERE {where})"] if where else []

    def query(after: bool) -> str:
        clauses = conditions + ([f"{rowid} > ?"] if after else [])
        condition = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        # As a BLOB the text reaches Python as bytes and goes to the file as is: no decoding to str
        # and encoding back (≈ 0.2 s per 100 MB, holding the GIL).
        return (f"SELECT CAST(group_concat(line, char(10)) AS BLOB), count(*), max(rid), "
                f"{'max(misplaced)' if misplaced else '0'} FROM ("
                f"SELECT {rowid} AS rid, {expression} AS line{misplaced} FROM {quote(table)} "
                f"{condition}ORDER BY {rowid} LIMIT {CHUNK_ROWS})")
    return query(False), query(True)


def load_into(db: sqlite3.Connection, cursor: duckdb.DuckDBPyConnection, table: str, columns: list[str],
              types: dict[str, str], target: str, *, where: str = "", params: tuple = (), temporary: bool = False,
              decide_timestamps: bool = True, cancel: CancelToken = NEVER, on_chunk=lambda n: None) -> FastResult:
    """Create ``target`` and fill it with the table's rows (restarting with wider types when needed).

    The caller holds the SQLite read transaction (one snapshot) and the DuckDB transaction.
    """
    types = dict(types)
    info = db.execute("SELECT name, type, pk FROM pragma_table_info(?)", (table,)).fetchall()
    rowid_alias = _rowid_alias(db, table, info)
    rowid = row_id_name(name for name, _, _ in info)
    numbers_in_text = frozenset(name for name, declared, _ in info
                                if name in columns and affinity(declared) != "TEXT")
    dirty: dict[str, DirtyColumn] = {}
    notes: list[str] = []
    checks: dict[str, str] = {}  # how each DATE/TIMESTAMP column's values are checked (core.ingest.temporal)
    screened = False
    strict = False  # see _chunk_select

    def create_target() -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {target}")
        column_sql = ", ".join(f"{quote(c)} {types[c]}" for c in columns)
        cursor.execute(f"CREATE {'TEMPORARY ' if temporary else ''}TABLE {target} ({column_sql})")

    with tempfile.TemporaryDirectory(prefix="oltp-olap-chunks-") as folder:
        for _attempt in range(2 * len(columns) + 2):
            cancel.raise_if_cancelled()
            result = FastResult(types=types)
            created = False
            chunks = _Chunks(db, chunk_queries(table, columns, types, where, rowid_alias, numbers_in_text, rowid),
                             params, Path(folder), cancel)
            try:
                for path, count, controls, misplaced in chunks:
                    cancel.raise_if_cancelled()
                    if misplaced:
                        raise Unsupported("reals or blobs in a column of no declared type, or text in a BLOB column")
                    if not screened:
                        # TIMESTAMP and VARCHAR columns render alike, so the first chunk can decide
                        # the types before the table exists: no chunk is read twice.
                        screened = True
                        new_types, checks = screen_temporal(path, columns, types, decide_timestamps)
                        types.update(new_types)
                    if not created:
                        create_target()
                        created = True
                    select = _chunk_select(path, columns, types, checks, strict, controls)
                    inserted = cursor.execute(f"INSERT INTO {target} {select}").fetchall()[0][0]
                    if inserted != count:
                        widened = _diagnose(cursor, path, columns, types, checks)
                        if not widened:
                            raise Unsupported(f"{count - inserted} rows could not be read as CSV")
                        for name, (new_type, check, example) in widened.items():
                            if new_type != types[name]:
                                reason = ("mixed date formats" if types[name] in TEMPORAL
                                          else f"values that are not {types[name]}")
                                dirty.setdefault(name, DirtyColumn(name, example, reason))
                            types[name] = new_type
                            checks[name] = check
                        raise _Restart()
                    result.rows += inserted
                    on_chunk(inserted)
            except _Restart:
                on_chunk(-result.rows)
                continue
            except sqlite3.OperationalError as err:
                if "interrupt" in str(err):
                    raise Cancelled() from None
                if f"no such column: {rowid}" in str(err):  # chunks are cut by the row id
                    raise Unsupported("a WITHOUT ROWID table") from None
                raise Unsupported(str(err)) from None
            except duckdb.InvalidInputException as err:
                # The CSV reader could not read back what SQLite rendered (a case this path does not
                # know yet): the caller rolls the table back and the exact Arrow path loads it.
                if "CSV" not in str(err):
                    raise
                raise Unsupported(f"its rendered rows could not be read back: {str(err).splitlines()[0]}") from None
            finally:
                chunks.close()
            if not strict and created and _values_lost(cursor, target, types):
                strict = True  # a date that did not fit landed as -infinity: read again, finding which one
                on_chunk(-result.rows)
                continue
            if not created:  # no rows at all: the declared types stand
                create_target()
            # What landed, before anything else touches the table: the load's reconciliation
            # compares it with the finished table (and SQLite's own row count with both).
            result.checksum = int(warehouse_checksum_of(cursor, target, columns)[1])
            result.dirty = list(dirty.values())
            for name, problem in dirty.items():
                notes.append(f"{name}: loaded as {types[name]} — {problem.reason} (e.g. {problem.example!r})")
            result.notes = notes
            return result
    raise Unsupported("column types did not settle")


class _Restart(Exception):  # noqa: N818 - control flow inside load_into
    pass


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


def _diagnose(cursor, path: Path, columns: list[str], types: dict[str, str],
              checks: dict[str, str]) -> dict[str, tuple[str, str, str]]:
    """Which columns of a refused chunk do not fit, the (type, check) that would, and an example."""
    temporal = TemporalSql(types, checks)
    as_text = _read_chunk(path, dict.fromkeys(columns, VARCHAR))
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


def row_id_name(columns) -> str:
    """The name of SQLite's row id in a table with these columns: ``rowid``, unless a column of that name
    hides it (then the chunks would be cut by that column, and rows lost); then ``_rowid_`` or ``oid``."""
    taken = {c.lower() for c in columns}
    for name in ("rowid", "_rowid_", "oid"):
        if name not in taken:
            return name
    raise Unsupported("its columns rowid, _rowid_ and oid hide SQLite's row id")


def _rowid_alias(db, table: str, info: list[tuple[str, str, int]]) -> str | None:
    """The column that is the table's rowid, which holds only integers, if any (``info``: the table's
    (name, declared type, pk) from ``pragma_table_info``).

    A lone INTEGER PRIMARY KEY usually is one, but not always (``INTEGER PRIMARY KEY DESC`` is an
    ordinary column that may hold text), so SQLite's own plan for a lookup on it decides.
    """
    keys = [(name, kind) for name, kind, pk in info if pk]
    if len(keys) != 1 or keys[0][1].upper() != "INTEGER":
        return None
    plan = db.execute(f"EXPLAIN QUERY PLAN SELECT 1 FROM {quote(table)} "
                      f"WHERE {quote(keys[0][0])} = 1").fetchall()
    return keys[0][0] if any("INTEGER PRIMARY KEY" in row[-1] for row in plan) else None


def open_snapshot(path: str | os.PathLike) -> sqlite3.Connection:
    """A read-only connection inside one read transaction (one consistent snapshot)."""
    from desktop_app.core.oltp.source import connect_sqlite_readonly

    db = connect_sqlite_readonly(Path(path))
    db.isolation_level = None
    db.execute("BEGIN")
    db.execute("SELECT count(*) FROM sqlite_master").fetchall()  # takes the snapshot now
    return db

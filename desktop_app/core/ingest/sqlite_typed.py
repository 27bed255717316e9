"""A whole SQLite table into DuckDB as typed Arrow batches: no text in between, on every reader.

The rendered path (``sqlite_fast``) spends most of its time in SQLite's ``format()``; here each
reader (``adbc_sqlite.ArrowReader`` in a reader process of ``adbc_process``, one per core, all in
one snapshot) reads a row id range of CHUNK_ROWS rows into one Arrow batch, and DuckDB inserts the
batches in row id order, so the table lands as one reader would have written it.

Exactness is kept the same way as on the rendered path, with what Arrow adds:

* The driver types each column by the values of the batch, converting the others (a REAL in an
  INTEGER column would make it DOUBLE, a text would make it text, numbers then written ``%e``).
  Each range's query therefore starts with a row of the expected kinds (0, 0.5, '', x''), dropped
  in DuckDB, and a batch whose column arrived as another Arrow type than the target's says the
  column holds other values: it widens as on the rendered path (BIGINT to DOUBLE or VARCHAR,
  DOUBLE to VARCHAR, with an example in the note) and the table is read again.
* What the batch would carry inexactly is flagged per row in SQLite (``flag``): an integer beyond
  2^53 in a DOUBLE column, and the rendered path's misplaced values (a REAL in a text column whose
  affinity keeps numbers, anything but a blob in a BLOB column). Such a row, a date or timestamp
  failing its check, or anything else unforeseen declines the table (``Declined``): the rendered
  path loads it, with its diagnoses.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import duckdb

from desktop_app.core.arrow_rows import DirtyColumn
from desktop_app.core.errors import Cancelled
from desktop_app.core.identifiers import quote
from desktop_app.core.ingest.adbc_sqlite import ArrowReader, ArrowReadError, batches_stream
from desktop_app.core.ingest.sqlite_chunks import LOST, SCREEN_CHARACTERS, Chunks, screen_temporal, values_lost
from desktop_app.core.ingest.sqlite_render import (
    CHUNK_ROWS,
    EXACT_INTEGER,
    Range,
    Unsupported,
    misplaced_test,
    render_expression,
)
from desktop_app.core.ingest.temporal import TEMPORAL, TemporalSql
from desktop_app.core.ingest.types import VARCHAR
from desktop_app.core.progress import CancelToken

# The Arrow type (nanoarrow format string) each target type must arrive as, and the value of the
# leading row that makes the driver choose it.
ARROW_FORMAT = {"BIGINT": "l", "DOUBLE": "g", "BLOB": "z", VARCHAR: "u", "DATE": "u", "TIMESTAMP": "u"}
FIRST_VALUE = {"BIGINT": "0", "DOUBLE": "0.5", "BLOB": "x''"}
# What a column typed by its declaration widens to when its values arrive as another Arrow type.
WIDER = {("BIGINT", "g"): "DOUBLE", ("BIGINT", "u"): VARCHAR, ("DOUBLE", "u"): VARCHAR}
EXAMPLE_OF = {"g": "typeof({c}) = 'real'", "u": "typeof({c}) IN ('text', 'blob')"}
LEADING, FLAGGED = 2, 1  # values of the flag column
IN_PLACE = {("BIGINT", VARCHAR), ("BIGINT", "DOUBLE")}  # see TypedLoad._widened_in_place


class Declined(Exception):
    """This table is for the rendered path (a value the batches cannot carry exactly, a date that failed)."""

    def __init__(self, reason: str, rows_so_far: int = 0) -> None:
        super().__init__(reason)
        self.rows_so_far = rows_so_far


def flag_name(columns: list[str]) -> str:
    name = "__flag"
    while name.lower() in {c.lower() for c in columns}:
        name += "_"
    return name


def range_sql(table: str, columns: list[str], types: dict[str, str], rowid: str, rowid_alias: str | None,
              numbers_in_text: frozenset[str], chunk: Range) -> str:
    """SQLite SQL for one row id range: a leading row of the expected kinds, then the rows with a flag."""
    flag = flag_name(columns)
    tests = [test for c in columns if (test := _row_test(c, types[c], c == rowid_alias, c in numbers_in_text))]
    flagged = f"iif({' OR '.join(f'({t})' for t in tests)}, {FLAGGED}, 0)" if tests else "0"
    after, upto = chunk
    # Row ids are integers from chunk_ranges: written into the SQL (the driver binds Arrow arrays only).
    bounds = [f"{rowid} <= {int(upto[0])}"] + ([f"{rowid} > {int(after[0])}"] if after is not None else [])
    leading = ", ".join(f"{FIRST_VALUE.get(types[c], chr(39) * 2)} AS {quote(c)}" for c in columns)
    values = ", ".join(quote(c) for c in columns)
    return (f"SELECT {leading}, {LEADING} AS {flag} UNION ALL SELECT * FROM (SELECT {values}, {flagged} "
            f"FROM {quote(table)} WHERE {' AND '.join(bounds)} ORDER BY {rowid})")


def _row_test(name: str, kind: str, is_rowid: bool, numbers_possible: bool) -> str | None:
    """SQLite SQL: this row's value of the column would not arrive exactly (None: nothing to test)."""
    if kind == "DOUBLE":  # DOUBLE holds integers exactly only up to 2^53 (comparisons first: cheap;
        column = quote(name)  # not abs(), which raises on -2^63)
        return (f"CASE WHEN {column} > {EXACT_INTEGER} OR {column} < -{EXACT_INTEGER} "
                f"THEN typeof({column}) = 'integer' END")
    if kind == "BIGINT" or is_rowid:
        return None  # a REAL or a text changes the batch's Arrow type, which is checked
    return misplaced_test(name, kind, numbers_possible)


class ArrowChunks(Chunks):
    """``Chunks`` whose readers are ``ArrowReader``s: each item is (index, (schema, batches), rows, False, False)."""

    def __init__(self, readers: list[ArrowReader], make_sql, ranges: list[Range], cancel: CancelToken) -> None:
        self.make_sql, self.cancel = make_sql, cancel
        super().__init__([_Worker(r) for r in readers], None, (), Path(), cancel, ranges)

    def _read_range(self, reader: ArrowReader, index: int) -> None:
        stop = lambda: self.stop.is_set() or self.cancel.cancelled  # noqa: E731
        schema, batches = reader.query(self.make_sql(self.ranges[index]), CHUNK_ROWS + 1, stop)
        with self.changed:
            self.ready[index] = ((schema, batches), sum(b.length for b in batches), False, False)
            self.changed.notify_all()

    ahead = 1  # a batch of a wide table is tens of MB: one waiting beyond one per reader

    def _discard(self, item: tuple) -> None:
        item[0][1].clear()


class _Worker:  # what Chunks expects of a connection
    def __init__(self, reader: ArrowReader) -> None:
        self.reader = reader

    def cursor(self) -> ArrowReader:
        return self.reader

    def interrupt(self) -> None:  # a cancel is seen between batches (see ArrowChunks)
        pass


class TypedLoad:
    """The typed passes over one table: widening a column when its batches say so, else declining."""

    def __init__(self, db: sqlite3.Connection, readers: list[ArrowReader], cursor: duckdb.DuckDBPyConnection,
                 table: str, columns: list[str], types: dict[str, str], target: str, rowid: str,
                 rowid_alias: str | None, numbers_in_text: frozenset[str], ranges: list[Range],
                 create_target, cancel: CancelToken, on_chunk) -> None:
        self.db, self.readers, self.cursor, self.table, self.columns = db, readers, cursor, table, columns
        self.types, self.target, self.rowid, self.rowid_alias = types, target, rowid, rowid_alias
        self.numbers_in_text, self.ranges, self.create_target = numbers_in_text, ranges, create_target
        self.cancel, self.on_chunk = cancel, on_chunk
        self.checks: dict[str, str] = {}
        self.dirty: dict[str, DirtyColumn] = {}

    def screen(self, decide_timestamps: bool) -> None:
        """Decide date/timestamp columns from the head of the table's text columns rendered as the
        rendered path's first chunk renders them (``screen_temporal``), so both paths type a table alike."""
        text = [c for c in self.columns if self.types[c] in (VARCHAR, *TEMPORAL)]
        if not text:
            return
        text_types = {c: self.types[c] for c in text}
        expression = render_expression(text, text_types)
        with tempfile.TemporaryDirectory(prefix="oltp-olap-screen-") as folder:
            path = Path(folder) / "head.csv"
            for limit in (2_000, CHUNK_ROWS):  # enough rows for the screen's characters
                head, count = self.db.execute(
                    f"SELECT CAST(group_concat(line, char(10)) AS BLOB), count(*) FROM (SELECT {expression} AS line "
                    f"FROM {quote(self.table)} ORDER BY {self.rowid} LIMIT {limit})").fetchone()
                if len(head or b"") >= SCREEN_CHARACTERS or count < limit:
                    break
            path.write_bytes(head or b"")
            new_types, self.checks = screen_temporal(path, text, text_types, decide_timestamps)
        self.types.update(new_types)

    def run(self) -> int:
        start = 0
        for _attempt in range(len(self.columns) + 1):
            self.cancel.raise_if_cancelled()
            if start == 0:
                self.rows = 0
                self.create_target(self.types)
            start = self._one_pass(start)
            if start is None:
                return self.rows
        raise Declined("column types did not settle")

    def _one_pass(self, start: int) -> int | None:
        """The ranges from ``start`` on into the target; when a column must widen first, the range to
        read on from (0: the table again, into a new target)."""
        temporal = TemporalSql(self.types, self.checks)
        flag = flag_name(self.columns)
        select = ", ".join(self._value(c, temporal) for c in self.columns)
        expected = [ARROW_FORMAT[self.types[c]] for c in self.columns] + ["l"]
        sql = lambda chunk: range_sql(self.table, self.columns, self.types, self.rowid,  # noqa: E731
                                      self.rowid_alias, self.numbers_in_text, chunk)
        chunks = ArrowChunks(self.readers, sql, self.ranges[start:], self.cancel)
        try:
            for index, (schema, batches), count, _, _ in chunks:
                self.cancel.raise_if_cancelled()
                formats = [schema.child(i).format for i in range(schema.n_children)]
                if formats != expected:
                    name, before = self._widen(formats, expected)
                    if self._widened_in_place(name, before):
                        return start + index
                    self.on_chunk(-self.rows)
                    return 0
                self.cursor.register("__typed_chunk", batches_stream(schema, batches))
                try:
                    inserted = self.cursor.execute(f"INSERT INTO {self.target} SELECT {select} FROM __typed_chunk "
                                                   f"WHERE {quote(flag)} = 0").fetchall()[0][0]
                finally:
                    try:
                        self.cursor.unregister("__typed_chunk")
                    except duckdb.Error:  # the insert failed and aborted the transaction: that error is raised
                        pass
                if inserted != count - 1:
                    raise Declined("a value the Arrow batches cannot carry exactly", self.rows)
                self.rows += inserted
                self.on_chunk(inserted)
        except ArrowReadError as err:
            raise Declined(str(err).splitlines()[0], self.rows) from None
        except duckdb.InvalidInputException as err:  # e.g. text that is not UTF-8: the transaction is aborted
            raise Unsupported(f"its rows could not be read as Arrow: {str(err).splitlines()[0]}") from None
        except Cancelled:
            raise
        finally:
            chunks.close()
        if values_lost(self.cursor, self.target, self.types):
            raise Declined("a date or timestamp that did not fit its check", self.rows)
        return None

    def _value(self, name: str, temporal: TemporalSql) -> str:
        column, kind = quote(name), self.types[name]
        if kind not in TEMPORAL:
            return column
        lost = f"{LOST}::{kind}"
        return (f"CASE WHEN {temporal.form(name)} THEN coalesce({temporal.parsed(name)}, {lost}) "
                f"WHEN {column} IS NOT NULL THEN {lost} END AS {column}")

    def _widen(self, formats: list[str], expected: list[str]) -> tuple[str, str]:
        """Pin the first column that arrived as another Arrow type to the wider type, with an example:
        (its name, its type before)."""
        for name, got, wanted in zip(self.columns, formats, expected, strict=False):
            if got == wanted:
                continue
            kind = self.types[name]
            wider = WIDER.get((kind, got))
            if wider is None:
                raise Declined(f"{name} arrived as Arrow type {got!r}, not {wanted!r}", self.rows)
            condition = EXAMPLE_OF[got].format(c=quote(name))
            found = self.db.execute(f"SELECT {quote(name)} FROM {quote(self.table)} WHERE {condition} "
                                    f"LIMIT 1").fetchone()
            example = "" if found is None else _example_text(found[0])
            self.dirty.setdefault(name, DirtyColumn(name, example, f"values that are not {kind}"))
            self.types[name] = wider
            return name, kind
        raise Declined("the batches' columns did not match the table's", self.rows)

    def _widened_in_place(self, name: str, before: str) -> bool:
        """Change the loaded rows' column type in place when that gives what reading them again would:
        integers as text are SQLite's text of them, and as DOUBLE exact up to 2^53. A dirty value late in
        a big table then costs its range, not the table twice."""
        if (before, self.types[name]) not in IN_PLACE:
            return False
        column = quote(name)
        if self.types[name] == "DOUBLE":
            largest = self.cursor.execute(f"SELECT max(abs({column})) FROM {self.target}").fetchall()[0][0]
            if largest is not None and largest > EXACT_INTEGER:
                return False
        self.cursor.execute(f"ALTER TABLE {self.target} ALTER COLUMN {column} TYPE {self.types[name]}")
        return True


def _example_text(value) -> str:
    if isinstance(value, bytes):
        return value.hex()[:80]
    return (repr(value) if isinstance(value, float) else str(value))[:80]



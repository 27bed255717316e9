"""SQL that makes SQLite render a table's rows as CSV text, exactly, a chunk at a time.

``render_expression`` is one ``format()`` call per row that quotes text, writes reals with 17
significant digits and blobs in hex, and marks every value DuckDB's lenient number parser would
misread; ``chunk_queries`` wraps it into the per-chunk ``SELECT`` cut by SQLite's row id
(``chunk_ranges`` cuts a whole table beforehand, for several readers). What the
text cannot carry exactly is flagged (``misplaced``) so the table takes the exact Arrow path.
"""

from __future__ import annotations

from typing import NamedTuple

from desktop_app.core.identifiers import quote
from desktop_app.core.ingest.temporal import TEMPORAL
from desktop_app.core.ingest.types import VARCHAR

CHUNK_ROWS = 100_000  # measured against 81,920 and 122,880 (a row group): no better


class Unsupported(Exception):  # a signal to use the general path, not an error
    """This table's data cannot go through CSV chunks (e.g. invalid UTF-8); use the Arrow path."""


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


def misplaced_test(name: str, kind: str, numbers_possible: bool) -> str | None:
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
    # One typeof() call, not a comparison and a call: 0.08 s against 0.15 s per 100,000 rows of TPC-H's
    # lineitem (three DATE columns), where the whole render takes 0.8 s.
    return f"typeof({column}) IN ('real', 'blob')" if numbers_possible else None


class ChunkQueries(NamedTuple):
    first: str  # the first chunk (the filter's parameters)
    following: str  # the next ones, after the last row id read (one more parameter)
    opening: str  # a whole table's first range: key <= upper bound (see ``chunk_ranges``)
    bounded: str  # its next ranges: lower bound < key <= upper bound


def _key(names: list[str]) -> str:
    """A key as SQLite compares it: one column, or a row value ``(a, b)`` (ordered like ``ORDER BY a, b``)."""
    return names[0] if len(names) == 1 else f"({', '.join(names)})"


def _marks(names: list[str]) -> str:
    return _key(["?"] * len(names))


def chunk_queries(table: str, columns: list[str], types: dict[str, str], where: str = "",
                  rowid_alias: str | None = None, numbers_in_text: frozenset[str] = frozenset(),
                  order: tuple[str, ...] = ("rowid",)) -> ChunkQueries:
    """The queries that render a chunk: each returns (csv text, row count, last rowid, misplaced) for
    up to CHUNK_ROWS rows.

    ``order`` is what cuts the table: SQLite's row id, by the name no column hides (``row_id_name``),
    or a WITHOUT ROWID table's primary key columns (quoted), walked in its own b-tree's order. The
    following ones say ``rowid > ?`` plainly so SQLite seeks straight to it; a form like ``? IS NULL
    OR rowid > ?`` would make it walk the table from the start for every chunk (quadratic in the
    table's size). (A filtered read follows the row id; a WITHOUT ROWID table is not read that way.)

    ``misplaced`` is 1 when a row holds a value its column cannot render exactly (see ``misplaced_test``).
    Such a table is for the Arrow path, which sees each value's type and reports the column.
    """
    expression = render_expression(columns, types, rowid_alias)
    tests = [test for c in columns if types[c] in (VARCHAR, "BLOB", *TEMPORAL)
             and (test := misplaced_test(c, types[c], c in numbers_in_text)) is not None]
    misplaced = ", (" + " OR ".join(f"({test})" for test in tests) + ") AS misplaced" if tests else ""
    key, marks, rowid = _key(list(order)), _marks(list(order)), order[0]
    # The filter runs as a subquery so SQLite can answer it from an index (e.g. updated_at's) and
    # then seek the matching rows by rowid, instead of scanning the whole table in rowid order.
    conditions = [f"{rowid} IN (SELECT {rowid} FROM {quote(table)} WHERE {where})"] if where else []

    def query(*more: str) -> str:
        clauses = conditions + list(more)
        condition = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        # As a BLOB the text reaches Python as bytes and goes to the file as is: no decoding to str
        # and encoding back (≈ 0.2 s per 100 MB, holding the GIL).
        return (f"SELECT CAST(group_concat(line, char(10)) AS BLOB), count(*), max(rid), "
                f"{'max(misplaced)' if misplaced else '0'} FROM ("
                f"SELECT {rowid} AS rid, {expression} AS line{misplaced} FROM {quote(table)} "
                f"{condition}ORDER BY {', '.join(order)} LIMIT {CHUNK_ROWS})")
    return ChunkQueries(query(), query(f"{rowid} > ?"), query(f"{key} <= {marks}"),
                        query(f"{key} > {marks}", f"{key} <= {marks}"))


Range = tuple[tuple | None, tuple]  # (the key before the range, or None for the first; its last key)


def chunk_ranges(db, table: str, order: tuple[str, ...] = ("rowid",)) -> list[Range]:
    """The whole table cut by its key into ranges of CHUNK_ROWS rows each (the last may hold fewer).

    Each boundary is a seek and a walk of CHUNK_ROWS entries of the key's b-tree, reading no
    values: about 0.03 s per 2M rows, which lets every reader of a snapshot take the next range
    without waiting for the one before.
    """
    source, names = quote(table), ", ".join(order)
    key, marks = _key(list(order)), _marks(list(order))
    last = db.execute(f"SELECT {names} FROM {source} ORDER BY {', '.join(f'{c} DESC' for c in order)} "
                      f"LIMIT 1").fetchone()
    ranges: list[Range] = []
    after = None
    while last is not None:
        condition, params = (f"WHERE {key} > {marks} ", after) if after is not None else ("", ())
        end = db.execute(f"SELECT {names} FROM {source} {condition}ORDER BY {names} "
                         f"LIMIT 1 OFFSET {CHUNK_ROWS - 1}", params).fetchone()
        if end is None or end == last:
            ranges.append((after, last))
            break
        ranges.append((after, end))
        after = end
    return ranges


def range_query(queries: ChunkQueries, chunk_range: Range) -> tuple[str, tuple]:
    """The query and key parameters (after the filter's) that render one range of ``chunk_ranges``."""
    after, upto = chunk_range
    return (queries.opening, tuple(upto)) if after is None else (queries.bounded, (*after, *upto))


def order_key(db, table: str, info: list[tuple[str, str, int]]) -> tuple[str, ...]:
    """What cuts the table into chunks: SQLite's row id (by a name no column hides), or, for a WITHOUT
    ROWID table, its primary key columns in key order (quoted)."""
    without_rowid = db.execute("SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?",
                               (table,)).fetchone()
    if without_rowid and without_rowid[0]:
        return tuple(quote(name) for name, _, pk in sorted(info, key=lambda c: c[2]) if pk)
    return (row_id_name(name for name, _, _ in info),)


ROW_ID_NAMES = ("rowid", "_rowid_", "oid")


def row_id_name(columns) -> str:
    """The name of SQLite's row id in a table with these columns: ``rowid``, unless a column of that name
    hides it (then the chunks would be cut by that column, and rows lost); then ``_rowid_`` or ``oid``."""
    taken = {c.lower() for c in columns}
    for name in ROW_ID_NAMES:
        if name not in taken:
            return name
    raise Unsupported("its columns rowid, _rowid_ and oid hide SQLite's row id")


def rowid_alias(db, table: str, info: list[tuple[str, str, int]]) -> str | None:
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

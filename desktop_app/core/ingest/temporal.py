"""Text columns that become DATE or TIMESTAMP on the SQLite fast path, without losing a thing.

SQLite keeps dates as text. A column becomes TIMESTAMP (or DATE) when its values are ISO dates or
timestamps without a zone, to the microsecond (``ISO_PATTERN``). DuckDB's own text parser is
more lenient than that: it quietly drops a ``+02`` offset, truncates nanoseconds and reads
'2024-01-01 10:00' into a DATE. So every value is checked as it is read, in one of three ways,
cheapest first:

- ``strptime`` with the one exact format the column's first rows share (e.g. ``%Y-%m-%dT%H:%M:%S``):
  for the most common format, DuckDB's CSV reader parses it natively (``timestampformat``), which is
  even faster than its lenient parser; other formats go through ``try_strptime``;
- ``date`` / ``iso``: ``iso_sql``, the ISO pattern (a regular expression, ≈ 3× slower) and a cast,
  for DATE columns and for TIMESTAMP columns whose values mix forms, e.g. with and without
  fractional seconds. The Arrow path and the incremental merge use ``iso_sql`` too.

A value that fails its check leaves its row out; the load sees the count fall short, and
``widen_temporal`` decides what the column needs. One leniency remains on the ``strptime`` path:
like PostgreSQL, DuckDB reads the words 'infinity', '-infinity' and 'epoch' as timestamps; in a
column whose first rows are all ISO timestamps such a word is taken at that meaning.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

from desktop_app.core.ingest.types import VARCHAR
from desktop_app.core.olap.warehouse import quote

TEMPORAL = ("TIMESTAMP", "DATE")
ISO, DATE = "iso", "date"
ISO_PATTERN = r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?"
DATE_PATTERN = r"\d{4}-\d{2}-\d{2}"

_ISO = re.compile(ISO_PATTERN)
_DATE = re.compile(DATE_PATTERN)
_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}(?P<sep>[ T])\d{2}:\d{2}(?P<seconds>:\d{2}(?P<fraction>\.\d{6})?)?")


def iso_sql(column: str, kind: str) -> str:
    """DuckDB SQL: the text in ``column`` (quoted already) is an ISO date (``kind`` DATE) or date/timestamp
    (TIMESTAMP) that DuckDB reads as ``kind`` without changing it."""
    pattern = DATE_PATTERN if kind == "DATE" else ISO_PATTERN
    return f"(regexp_full_match({column}, '{pattern}') AND TRY_CAST({column} AS {kind}) IS NOT NULL)"


def is_iso(text: str) -> bool:
    """An ISO date or timestamp (no zone, at most microseconds) that names a real moment."""
    if not _ISO.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def decide(values: list[str]) -> str | None:
    """DATE, TIMESTAMP or None for a text column, from its first non-null values."""
    if not values or not all(is_iso(v) for v in values):
        return None
    return "DATE" if all(_DATE.fullmatch(v) for v in values) else "TIMESTAMP"


def check_for(kind: str, values: list[str]) -> str:
    """How to check a DATE/TIMESTAMP column's values: a strptime format they all share, else a pattern."""
    if kind == "DATE":
        return DATE
    formats = {_format(v) for v in values}
    if len(formats) == 1 and None not in formats:
        return formats.pop()
    return ISO


def _format(text: str) -> str | None:
    shape = _SHAPE.fullmatch(text)
    if not shape:
        return None
    seconds = ":%S" + (".%f" if shape["fraction"] else "") if shape["seconds"] else ""
    return f"%Y-%m-%d{shape['sep']}%H:%M{seconds}"


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class TemporalSql:
    """The SQL that reads and checks a chunk's DATE/TIMESTAMP columns, given each one's check."""

    def __init__(self, types: dict[str, str], checks: dict[str, str]) -> None:
        self.types, self.checks = types, checks
        formats = Counter(checks[c] for c, kind in types.items()
                          if kind == "TIMESTAMP" and checks.get(c, ISO) not in (ISO, DATE))
        # One format per file for read_csv's native parsing: the one most columns share.
        self.native_format = formats.most_common(1)[0][0] if formats else None

    def native(self, name: str) -> bool:
        return self.types[name] == "TIMESTAMP" and self.check(name) == self.native_format

    def check(self, name: str) -> str:
        return self.checks.get(name, DATE if self.types[name] == "DATE" else ISO)

    def csv_type(self, name: str) -> str:
        """The type read_csv reads the column as."""
        return "TIMESTAMP" if self.native(name) else VARCHAR

    def value(self, name: str) -> str:
        """The column's value in the target's type (NULL where the check below fails)."""
        column, check = quote(name), self.check(name)
        if self.native(name):
            return column
        if check in (ISO, DATE):
            return f"TRY_CAST({column} AS {self.types[name]})"
        return f"try_strptime({column}, {_text(check)})"

    def fits(self, name: str) -> str:
        """True where the column's text (as read by ``csv_type``) may become its type."""
        column, check, kind = quote(name), self.check(name), self.types[name]
        if self.native(name):
            return "true"  # read_csv already refused what the format does not match
        if check in (ISO, DATE):
            condition = iso_sql(column, kind)
        else:
            condition = f"try_strptime({column}, {_text(check)}) IS NOT NULL"
        return f"({column} IS NULL OR {condition})"

    def text_fits(self, name: str) -> str:
        """``fits`` for the column read as plain text (what diagnosing a refused chunk reads)."""
        if self.native(name):
            return f"({quote(name)} IS NULL OR try_strptime({quote(name)}, {_text(self.check(name))}) IS NOT NULL)"
        return self.fits(name)

    def row_filter(self) -> str:
        checks = [self.fits(c) for c, kind in self.types.items() if kind in TEMPORAL and not self.native(c)]
        return f" WHERE {' AND '.join(checks)}" if checks else ""

    def csv_options(self) -> str:
        return f", timestampformat = {_text(self.native_format)}" if self.native_format else ""


def widen_temporal(kind: str, check: str, example: str) -> tuple[str, str]:
    """The (type, check) a DATE/TIMESTAMP column needs after ``example`` failed its check."""
    if is_iso(example):
        if kind == "TIMESTAMP" or not _DATE.fullmatch(example):
            return "TIMESTAMP", ISO  # another ISO form: keep the type, check the pattern instead
        return "DATE", DATE
    return VARCHAR, ISO

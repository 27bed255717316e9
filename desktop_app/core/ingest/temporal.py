"""Text columns that become DATE or TIMESTAMP on the SQLite fast path, without losing a thing.

SQLite keeps dates as text. A column becomes TIMESTAMP (or DATE) when its values are ISO dates or
timestamps without a zone, to the microsecond (``ISO_PATTERN``). DuckDB's own text parser is
more lenient than that: it quietly drops a ``+02`` offset, truncates nanoseconds and reads
'2024-01-01 10:00' into a DATE. So every value is checked as it is read, in one of three ways,
cheapest first:

- ``strptime`` with the one exact format the column's first rows share (e.g. ``%Y-%m-%dT%H:%M:%S``),
  and the parsed value written back with ``strftime`` must be the text itself: strptime alone
  skips white space (' 2024-01-01 10:00:00', '2024-1-1 10:00:00') and, like PostgreSQL, reads the
  words 'epoch' and 'infinity'. (DuckDB's CSV reader parses such a format natively, a little
  faster, but just as leniently and without the text to check against: not used.)
- ``date`` / ``iso``: the ISO pattern (a regular expression) and a cast, for DATE columns and for
  TIMESTAMP columns whose values mix forms, e.g. with and without fractional seconds. The Arrow
  path and the incremental merge use the same test (``iso_sql``).

A value that fails its check leaves its row out; the load sees the count fall short, and
``widen_temporal`` decides what the column needs.
"""

from __future__ import annotations

import re
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
    """The SQL that parses and checks a chunk's DATE/TIMESTAMP columns (read as text), given each one's check."""

    def __init__(self, types: dict[str, str], checks: dict[str, str]) -> None:
        self.types, self.checks = types, checks

    def columns(self) -> list[str]:
        return [c for c, kind in self.types.items() if kind in TEMPORAL]

    def check(self, name: str) -> str:
        return self.checks.get(name, DATE if self.types[name] == "DATE" else ISO)

    def parsed(self, name: str) -> str:
        """The column's text in the target type (NULL where it does not parse at all)."""
        column, check = quote(name), self.check(name)
        if check in (ISO, DATE):
            return f"TRY_CAST({column} AS {self.types[name]})"
        return f"try_strptime({column}, {_text(check)})"

    def fits(self, name: str, parsed: str | None = None) -> str:
        """True where the column's text may become its type unchanged; ``parsed`` is ``parsed(name)``
        or a column already holding it.

        Parsing alone is not enough: strptime skips white space (' 2024-01-01 10:00:00', '2024-1-1
        10:00:00' in a 19-character field) and reads the words epoch and infinity. A format check
        therefore also asks that the parsed value, written back in the same format, is the text.
        """
        column, check, kind = quote(name), self.check(name), self.types[name]
        parsed = parsed or self.parsed(name)
        if check in (ISO, DATE):
            exact = f"regexp_full_match({column}, '{DATE_PATTERN if kind == 'DATE' else ISO_PATTERN}')"
        else:
            exact = f"strftime({parsed}, {_text(check)}) = {column} AND isfinite({parsed})"
        return f"({column} IS NULL OR ({parsed} IS NOT NULL AND {exact}))"


def widen_temporal(kind: str, check: str, example: str) -> tuple[str, str]:
    """The (type, check) a DATE/TIMESTAMP column needs after ``example`` failed its check."""
    if is_iso(example):
        if kind == "TIMESTAMP" or not _DATE.fullmatch(example):
            return "TIMESTAMP", ISO  # another ISO form: keep the type, check the pattern instead
        return "DATE", DATE
    return VARCHAR, ISO

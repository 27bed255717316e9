"""PostgreSQL values Python's drivers would refuse or reshape, read so the warehouse gets them as stored.

psycopg parses ``json``/``jsonb`` into Python objects — a column of objects, arrays and strings then
arrives as Python's repr ("{'a': 1}"), not JSON — turns ranges into objects that print as Python
values, and refuses the timestamps and dates 'infinity' and '-infinity' ("timestamp too large"),
failing the whole table. Registered on each connection: JSON and ranges stay their text; an
infinite timestamp or date becomes an ``Infinite…`` value, a datetime/date that writes itself as
the word, which DuckDB reads back as its own infinity.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

INFINITY_WORDS = {b"infinity": "infinity", b"-infinity": "-infinity"}
# Read as PostgreSQL writes them: JSON as JSON, ranges as '[1,5)' (psycopg's Range objects would print
# as Python values, '(None, 11)' for PostgreSQL's '(,11)').
RANGES = ("int4range", "int8range", "numrange", "daterange", "tsrange", "tstzrange")
TEXT_TYPES = ("json", "jsonb", *RANGES, *(name.replace("range", "multirange") for name in RANGES))


class InfiniteDatetime(dt.datetime):
    """PostgreSQL's ±infinity timestamp: compares as datetime.max/min, writes itself as the word."""

    word: str

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:  # same signature
        return self.word


class InfiniteDate(dt.date):
    """PostgreSQL's ±infinity date."""

    word: str

    def isoformat(self) -> str:
        return self.word


def infinite_datetime(word: str, aware: bool) -> InfiniteDatetime:
    edge = dt.datetime.max if word == "infinity" else dt.datetime.min
    value = InfiniteDatetime(edge.year, edge.month, edge.day, edge.hour, edge.minute, edge.second, edge.microsecond,
                             tzinfo=dt.UTC if aware else None)
    value.word = word
    return value


def infinite_date(word: str) -> InfiniteDate:
    edge = dt.date.max if word == "infinity" else dt.date.min
    value = InfiniteDate(edge.year, edge.month, edge.day)
    value.word = word
    return value


def register_loaders(connection: Any) -> None:
    """Make a psycopg connection read JSON as text and ±infinity timestamps and dates as ``Infinite…``."""
    from psycopg.types.datetime import DateLoader, TimestampLoader, TimestamptzLoader
    from psycopg.types.string import TextLoader

    def with_infinity(base: type, make) -> type:
        class Loader(base):
            def load(self, data):
                word = INFINITY_WORDS.get(bytes(data))
                return make(word) if word else super().load(data)
        return Loader

    adapters = connection.adapters
    for name in TEXT_TYPES:
        adapters.register_loader(name, TextLoader)
    adapters.register_loader("timestamp", with_infinity(TimestampLoader, lambda w: infinite_datetime(w, False)))
    adapters.register_loader("timestamptz", with_infinity(TimestamptzLoader, lambda w: infinite_datetime(w, True)))
    adapters.register_loader("date", with_infinity(DateLoader, infinite_date))

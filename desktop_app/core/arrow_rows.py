"""Python rows → Arrow record batches that DuckDB scans without a copy, never losing a value.

Database drivers and spreadsheet readers hand us Python objects; DuckDB wants columns. We build
each column with nanoarrow (a 3 MB C library — pyarrow would add 100 MB to the bundle for the
same few calls) after deciding its type from the *set of Python types* in that column, so nothing
is coerced: a column of ints is BIGINT, ints and floats together are DOUBLE, and anything that
does not share one type (an INTEGER column holding a few text values, integers beyond 64 bits,
bytes among text) becomes text, with the first offending value kept as an example for the run
report. Decimals and date/time values travel as ISO text and are cast by DuckDB into the column's
declared type on insert, so they keep every digit.

The batch is a struct array exposing ``__arrow_c_stream__``; DuckDB can register and scan it any
number of times.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import nanoarrow as na

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
EXACT_FLOAT_INT = 2**53
BYTES_KINDS = frozenset({bytes, bytearray, memoryview})


@dataclass
class DirtyColumn:
    """A column whose values did not share one type; loaded as text so no value is lost."""

    column: str
    example: str
    reason: str


@dataclass
class Batch:
    """One Arrow record batch plus what the values told us about each column's type.

    ``types`` maps each column to the DuckDB type its values need, or None when every value in
    this batch was NULL (no evidence yet).
    """

    data: Any
    columns: list[str]
    types: dict[str, str | None]
    num_rows: int
    dirty: list[DirtyColumn] = field(default_factory=list)


def as_text(value: Any) -> str:
    """A value as text, the way it reads in the source (hex for bytes, repr for floats)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict | list):  # JSON, as for a column of nested values
        return json.dumps(value, default=str)
    return str(value)


def _text(values: Sequence[Any]) -> Any:
    return na.c_array(_texts(values), na.string())


def _texts(values: Sequence[Any]) -> list[str | None]:
    """``as_text`` of each value; for a column of one plain date/time type, that type's own isoformat
    straight away (``as_text``'s type tests cost more than the formatting: 8.5 s of the Excel road's
    44 s went to them)."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds == {dt.datetime}:
        return [None if v is None else v.isoformat(" ") for v in values]
    if kinds == {dt.date} or kinds == {dt.time}:
        return [None if v is None else v.isoformat() for v in values]
    if kinds == {str}:
        return list(values)
    return [None if v is None else as_text(v) for v in values]


def _decimal_type(values: Sequence[Any]) -> str | None:
    """DECIMAL(p,s) wide enough for every value, or None when one cannot be a DuckDB decimal."""
    scale, integer_digits = 0, 1
    for value in values:
        if value is None:
            continue
        sign, digits, exponent = value.as_tuple()
        if not isinstance(exponent, int):  # NaN or Infinity
            return None
        scale = max(scale, -exponent)
        integer_digits = max(integer_digits, len(digits) + exponent)
    precision = integer_digits + scale
    return f"DECIMAL({precision},{scale})" if precision <= 38 else None


def _timedelta_text(value: dt.timedelta) -> str:
    return f"{value // dt.timedelta(microseconds=1)} microseconds"


def column_array(name: str, values: Sequence[Any], blank_is_null: bool = False
                 ) -> tuple[Any, str | None, DirtyColumn | None]:
    """(Arrow array, DuckDB type, problem) for one column's values.

    ``blank_is_null`` reads empty strings as NULL: a spreadsheet's empty cell, not a value.
    """
    kinds = _kinds(values)
    if blank_is_null and str in kinds and "" in values:
        values = [None if v == "" else v for v in values]
        kinds = _kinds(values)
    kinds.discard(type(None))
    if not kinds:
        return _text(values), None, None
    if kinds <= BYTES_KINDS:  # bytes, bytearray and memoryview alike are one BLOB column
        return na.c_array([None if v is None else bytes(v) for v in values], na.binary()), "BLOB", None
    if len(kinds) == 1:
        kind = next(iter(kinds))
        built = _single_kind(kind, values)
        if built is not None:
            return built
        if kind is int:
            return _dirty(name, values, "integer beyond 64 bits")
        if kind in (dict, list):
            text = [None if v is None else json.dumps(v, default=str) for v in values]
            return _dirty(name, values, "nested values", na.c_array(text, na.string()))
        if kind is Decimal and all(v is None or v.is_finite() for v in values):  # e.g. MySQL's DECIMAL(65,30)
            return _dirty(name, values, "decimal wider than DuckDB's 38 digits")
        return _text(values), "VARCHAR", None  # NaN/Infinity decimals and other scalars: exact as text
    if kinds == {int, float}:
        if all(-EXACT_FLOAT_INT <= v <= EXACT_FLOAT_INT for v in values if type(v) is int):
            return na.c_array([None if v is None else float(v) for v in values], na.float64()), "DOUBLE", None
    if kinds == {dt.date, dt.datetime}:
        return _text(values), "TIMESTAMP", None
    names = ", ".join(sorted(k.__name__ for k in kinds))
    return _dirty(name, values, f"mixed value types: {names}")


# The types ``_kind`` returns unchanged: a column holding only these is classified by ``type`` alone,
# in C (a Python call per value took 7.9 s of the Excel road's 44 s).
_PLAIN_KINDS = frozenset({type(None), int, float, str, bool, bytes, bytearray, memoryview, Decimal, dt.datetime,
                          dt.date, dt.time, dt.timedelta, uuid.UUID, dict, list})


def _kinds(values: Sequence[Any]) -> set[type]:
    """The set of ``_kind`` of the values."""
    kinds = set(map(type, values))
    return kinds if kinds <= _PLAIN_KINDS else set(map(_kind, values))


def _kind(value: Any) -> type:
    """A value's type for deciding its column's, a date/time subclass (PostgreSQL's ±infinity, see
    ``core.oltp.postgres``) counting as its base type: such a value writes itself as text DuckDB reads."""
    kind = type(value)
    if kind not in (dt.datetime, dt.date) and isinstance(value, dt.date):
        return dt.datetime if isinstance(value, dt.datetime) else dt.date
    return kind


def _single_kind(kind: type, values: Sequence[Any]) -> tuple[Any, str, None] | None:
    """The array for a column whose values all share one Python type; None when it does not fit."""
    if kind is int:
        try:
            return na.c_array(values, na.int64()), "BIGINT", None
        except (ValueError, OverflowError):
            return None
    if kind is float:
        return na.c_array(values, na.float64()), "DOUBLE", None
    if kind is str:
        return na.c_array(values, na.string()), "VARCHAR", None
    if kind is bool:
        return na.c_array(values, na.bool_()), "BOOLEAN", None
    if kind is Decimal:
        decimal = _decimal_type(values)
        return (_text(values), decimal, None) if decimal else None
    if kind is dt.datetime:
        aware = {v.tzinfo is not None for v in values if v is not None}
        if len(aware) == 1:
            return _text(values), "TIMESTAMPTZ" if aware.pop() else "TIMESTAMP", None
        return None
    if kind is dt.date:
        return _text(values), "DATE", None
    if kind is dt.time:
        if all(v.tzinfo is None for v in values if v is not None):
            return _text(values), "TIME", None
        return None
    if kind is dt.timedelta:
        return na.c_array([None if v is None else _timedelta_text(v) for v in values], na.string()), "INTERVAL", None
    if kind is uuid.UUID:
        return _text(values), "UUID", None
    return None


def _dirty(name: str, values: Sequence[Any], reason: str, array: Any = None):
    """A text column with, as its example, the odd one out: the first value not of the column's most
    common type ('nan' among reals, not the first real) or beyond 64 bits."""
    present = [v for v in values if v is not None]
    usual = Counter(map(_kind, present)).most_common(1)[0][0]
    odd = (v for v in present if _kind(v) is not usual or type(v) is int and not INT64_MIN <= v <= INT64_MAX
           or isinstance(v, Decimal) and len(v.as_tuple().digits) > 38)
    example = next(odd, present[0])
    return (array if array is not None else _text(values)), "VARCHAR", DirtyColumn(name, as_text(example)[:80], reason)


def rows_to_batch(columns: Sequence[str], rows: Sequence[Sequence[Any]], blank_is_null: bool = False,
                  text_as: dict[str, str] | None = None) -> Batch:
    """Transpose rows into typed Arrow columns and wrap them as one record batch. ``text_as``: columns
    read as the source's text, with the DuckDB type that text is cast to."""
    transposed = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    return columns_to_batch(columns, transposed, blank_is_null, text_as)


def columns_to_batch(columns: Sequence[str], values: Sequence[Sequence[Any]], blank_is_null: bool = False,
                     text_as: dict[str, str] | None = None) -> Batch:
    """Typed Arrow columns from one sequence of values per column, wrapped as one record batch."""
    arrays, types, dirty = [], {}, []
    for name, column_values in zip(columns, values, strict=True):
        if text_as and name in text_as:
            arrays.append(na.c_array(list(column_values), na.string()))
            types[name] = text_as[name] if any(v is not None for v in column_values) else None
            continue
        array, kind, problem = column_array(name, column_values, blank_is_null)
        arrays.append(array)
        types[name] = kind
        if problem:
            dirty.append(problem)
    length = len(values[0]) if values else 0
    schema = na.struct({name: array.schema for name, array in zip(columns, arrays, strict=True)})
    data = na.Array(na.c_array_from_buffers(schema, length, [None], children=arrays))
    return Batch(data, list(columns), types, length, dirty)

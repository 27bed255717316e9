"""Stream a source table as Arrow record batches, never losing a row to SQLite's dynamic typing.

Each batch is built column by column with ``pyarrow.array``. When a column's values do not fit one
Arrow type (an INTEGER column with a few text values, integers beyond 64 bits, bytes among
text), that column of that batch becomes text instead, and the first offending value is kept
as an example for the run report. SQLite tables are read through the raw ``sqlite3`` cursor (no
per-row SQLAlchemy objects), other dialects through SQLAlchemy with server-side streaming. All
reads of one table happen inside one read transaction, so they see one consistent snapshot even
while the shop keeps writing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.sql import quoted_name

from desktop_app.core.oltp.source import Source, translated_errors
from desktop_app.core.progress import NEVER, CancelToken

BATCH_ROWS = 100_000


@dataclass
class DirtyColumn:
    """A column whose values did not share one type; loaded as text so no value is lost."""

    column: str
    example: str
    reason: str


@dataclass
class Batch:
    data: pa.RecordBatch
    dirty: list[DirtyColumn] = field(default_factory=list)


def table_clause(table: str, columns: Sequence[str]) -> sa.TableClause:
    """A table expression whose every identifier is quoted, whatever the dialect thinks is reserved."""
    return sa.table(quoted_name(table, True), *(sa.column(quoted_name(c, True)) for c in columns))


def _as_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def column_array(name: str, values: Sequence[Any]) -> tuple[pa.Array, DirtyColumn | None]:
    """An Arrow array for one column; falls back to text (and says why) when types are mixed."""
    try:
        array = pa.array(values)
        if not (pa.types.is_struct(array.type) or pa.types.is_list(array.type)):
            return array, None
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as err:
        reason = "integer beyond 64 bits" if "overflow" in str(err).lower() or isinstance(err, OverflowError) \
            else "mixed value types"
    else:
        reason = "nested values"
    kinds = {type(v) for v in values if v is not None}
    example = next((v for v in values if v is not None and type(v) is not int), None)
    if example is None:
        example = next(v for v in values if v is not None)
    if reason == "mixed value types":
        reason = "mixed value types: " + ", ".join(sorted(k.__name__ for k in kinds))
    text = pa.array([None if v is None else _as_text(v) for v in values], pa.string())
    return text, DirtyColumn(name, _as_text(example)[:80], reason)


def rows_to_batch(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Batch:
    arrays, dirty = [], []
    transposed = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    for name, values in zip(columns, transposed, strict=True):
        array, problem = column_array(name, values)
        arrays.append(array)
        if problem:
            dirty.append(problem)
    return Batch(pa.RecordBatch.from_arrays(arrays, names=list(columns)), dirty)


class SourceReader:
    """Reads one table's rows in batches within one snapshot (a read transaction)."""

    def __init__(self, source: Source, cancel: CancelToken = NEVER) -> None:
        self.source = source
        self.cancel = cancel
        self._connection: sa.Connection | None = None

    @contextmanager
    def snapshot(self):
        with translated_errors(self.source.spec), self.source.engine.connect() as connection:
            self._connection = connection
            raw = connection.connection.dbapi_connection
            remove = self.cancel.on_cancel(getattr(raw, "interrupt", lambda: None)) if self.source.dialect == "sqlite" \
                else (lambda: None)
            try:
                if self.source.dialect == "sqlite":
                    connection.exec_driver_sql("BEGIN")  # one read transaction = one WAL snapshot
                else:
                    connection.begin()
                    if self.source.dialect == "postgresql":
                        connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                yield self
            finally:
                remove()
                self._connection = None

    def scalar(self, statement: sa.Executable) -> Any:
        with translated_errors(self.source.spec):
            return self._connection.execute(statement).scalar()

    def batches(self, statement: sa.Select, batch_rows: int = BATCH_ROWS) -> Iterator[Batch]:
        """Execute ``statement`` and yield its rows as Arrow batches."""
        columns = [c.name for c in statement.selected_columns]
        with translated_errors(self.source.spec):
            if self.source.dialect == "sqlite":
                compiled = statement.compile(dialect=self.source.engine.dialect)
                params = tuple(compiled.params[name] for name in compiled.positiontup or ())
                cursor = self._connection.connection.dbapi_connection.cursor()
                cursor.execute(str(compiled), params)
                fetch = cursor.fetchmany
            else:
                result = self._connection.execution_options(stream_results=True, max_row_buffer=batch_rows
                                                            ).execute(statement)
                fetch = result.fetchmany
            while True:
                self.cancel.raise_if_cancelled()
                rows = fetch(batch_rows)
                if not rows:
                    return
                yield rows_to_batch(columns, rows)
                if len(rows) < batch_rows:
                    return

"""Stream a source table as Arrow record batches, never losing a row to SQLite's dynamic typing.

Each batch is built by ``core.arrow_rows``: when a column's values do not share one type (an
INTEGER column with a few text values, integers beyond 64 bits, bytes among text), that column of
that batch becomes text instead, and the first offending value is kept as an example for the run
report. SQLite tables are read through the raw ``sqlite3`` cursor (no
per-row SQLAlchemy objects), other dialects through SQLAlchemy with server-side streaming. All
reads of one table happen inside one read transaction, so they see one consistent snapshot even
while the shop keeps writing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import quoted_name

from desktop_app.core.arrow_rows import Batch, rows_to_batch
from desktop_app.core.oltp.source import Source, translated_errors
from desktop_app.core.progress import NEVER, CancelToken

BATCH_ROWS = 100_000


def table_clause(table: str, columns: Sequence[str]) -> sa.TableClause:
    """A table expression whose every identifier is quoted, whatever the dialect thinks is reserved."""
    return sa.table(quoted_name(table, True), *(sa.column(quoted_name(c, True)) for c in columns))


class SourceReader:
    """Reads one table's rows in batches within one snapshot (a read transaction)."""

    def __init__(self, source: Source, cancel: CancelToken = NEVER) -> None:
        self.source = source
        self.cancel = cancel
        self._connection: sa.Connection | None = None

    @contextmanager
    def snapshot(self):
        rules = self.source.rules
        with translated_errors(self.source.spec), self.source.engine.connect() as connection:
            self._connection = connection
            remove = self.cancel.on_cancel(rules.interrupter(connection))
            try:
                rules.begin_snapshot(connection)
                yield self
            finally:
                remove()
                self._connection = None

    def open_writers_since(self) -> tuple[Any, Any] | None:
        with translated_errors(self.source.spec):
            return self.source.rules.open_writers_since(self._connection)

    def scalar(self, statement: sa.Executable) -> Any:
        with translated_errors(self.source.spec):
            return self._connection.execute(statement).scalar()

    def batches(self, statement: sa.Select, batch_rows: int = BATCH_ROWS,
                text_as: dict[str, str] | None = None) -> Iterator[Batch]:
        """Execute ``statement`` and yield its rows as Arrow batches (``text_as``: see ``rows_to_batch``)."""
        columns = [c.name for c in statement.selected_columns]
        with translated_errors(self.source.spec):
            if self.source.rules.raw_cursor:
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
                yield rows_to_batch(columns, rows, text_as=text_as)
                if len(rows) < batch_rows:
                    return

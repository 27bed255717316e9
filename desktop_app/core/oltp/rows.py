"""``RowSource``: a streaming, Qt-free cursor over a table for paged previews.

Sorting and filtering are done by the database (``ORDER BY`` / a bound ``LIKE``), so a preview
of a ten-million-row table costs one page of I/O, whatever the sort.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from desktop_app.core.oltp.source import Source, translated_errors
from desktop_app.core.paged_rows import PagedRows


class RowSource(PagedRows):
    """Rows of one table fetched a page at a time. Call ``close()`` (or use ``with``) when done."""

    def __init__(self, source: Source, table: str, *, order_by: str | None = None, descending: bool = False,
                 contains: str | None = None, with_total: bool = True, owns_source: bool = False) -> None:
        super().__init__()
        self._source = source
        self._owns_source = owns_source  # close the source (its engine) with the rows
        with translated_errors(source.spec):
            reflected = sa.Table(table, sa.MetaData(), autoload_with=source.engine)
            self.columns: list[str] = [c.name for c in reflected.columns]
            statement = sa.select(reflected)
            where = None
            if contains:
                pattern = "%" + contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                where = sa.or_(*(sa.cast(c, sa.String).like(pattern, escape="\\") for c in reflected.columns))
                statement = statement.where(where)
            if order_by is not None:
                column = reflected.columns[order_by]
                statement = statement.order_by(column.desc() if descending else column.asc())
            self.total: int | None = None
            self._connection = source.engine.connect()
            try:
                if with_total:
                    count = sa.select(sa.func.count()).select_from(reflected)
                    if where is not None:
                        count = count.where(where)
                    self.total = int(self._connection.execute(count).scalar_one())
                self._result = self._connection.execution_options(stream_results=True).execute(statement)
            except BaseException:
                self._connection.close()
                raise

    def _next_rows(self, n: int) -> list[Sequence[Any]]:
        with translated_errors(self._source.spec):
            return [tuple(row) for row in self._result.fetchmany(n)]

    def close(self) -> None:
        try:
            self._result.close()
        finally:
            self._connection.close()
            if self._owns_source:
                self._source.close()

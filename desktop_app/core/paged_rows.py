"""``PagedRows``: what every preview pages through, whatever holds the rows.

A source table (``core.oltp.rows.RowSource``) and a warehouse query (``core.olap.query.QueryRows``)
both stream their rows; the window's lazy table model asks either for the next page, and learns
from ``exhausted`` when there are no more. Subclasses say how to get the next rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class PagedRows:
    columns: list[str]
    total: int | None = None  # all the rows, when it was asked for

    def __init__(self) -> None:
        self.fetched = 0
        self.exhausted = False

    def fetch(self, n: int) -> list[Sequence[Any]]:
        """The next ``n`` rows (fewer at the end; an empty list once exhausted)."""
        if self.exhausted:
            return []
        rows = self._next_rows(n)
        self.fetched += len(rows)
        if len(rows) < n:
            self.exhausted = True
        return rows

    def _next_rows(self, n: int) -> list[Sequence[Any]]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

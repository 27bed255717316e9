"""A table model over a core ``RowSource`` that fetches rows in batches on a worker lane.

``canFetchMore``/``fetchMore`` queue the next batch; ``data()`` is O(1) with one formatter per
column; NULL shows greyed. Sorting asks the database for a new ordered source (never a proxy over
a lazy model). At most ``MAX_ROWS`` rows are held; the status says "showing first N of M".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from desktop_app.services.jobs import ErrorInfo, Job, JobRunner

log = logging.getLogger(__name__)

BATCH = 2_000
MAX_ROWS = 200_000
GREY = QBrush(QColor(150, 150, 150))


def _format(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:,}"  # every digit Python needs to read the value back, with separators
    if isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, datetime | date):
        return value.isoformat(" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)[:32].hex() + ("…" if len(bytes(value)) > 32 else "")
    return str(value)


class LazyTableModel(QAbstractTableModel):
    errorOccurred = Signal(object)
    statusChanged = Signal(str)

    def __init__(self, runner: JobRunner, parent=None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.columns: list[str] = []
        self.rows: list[tuple] = []
        self.total: int | None = None
        self._source = None
        self._opener: Callable | None = None
        self._loading = False
        self._exhausted = True
        self._generation = 0
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._opening: Job | None = None

    # -- feeding ------------------------------------------------------------------------------------
    def open(self, opener: Callable) -> None:
        """Show the rows of ``opener(order_by=…, descending=…)``, a function returning a RowSource."""
        self._opener = opener
        self._sort = None
        self._reopen()

    def _reopen(self) -> None:
        self._generation += 1
        generation = self._generation
        old = self._source
        self._source = None
        self.beginResetModel()
        self.rows, self.total, self._exhausted, self._loading = [], None, True, True
        self.endResetModel()
        order_by = None
        descending = False
        if self._sort is not None and self.columns:
            order_by = self.columns[self._sort[0]]
            descending = self._sort[1] == Qt.SortOrder.DescendingOrder
        opener = self._opener

        def open_and_fetch(*, report, cancel):
            if old is not None:
                old.close()
            source = opener(order_by=order_by, descending=descending, cancel=cancel)
            return source, source.fetch(BATCH)

        if self._opening is not None:
            self._opening.cancel()
        job = Job(open_and_fetch, title="Open preview")
        job.on_success(lambda result: self._opened(generation, result)).on_failure(
            lambda info: self._failed(generation, info))
        job.on_cancelled(lambda: self._stopped(generation))
        self._opening = job
        self.runner.submit(job, lane="preview")

    def cancel(self) -> None:
        """Stop opening (a long query): the model stays empty and says so."""
        if self._opening is not None:
            self._opening.cancel()

    def _close_later(self, source) -> None:
        job = Job(lambda *, report, cancel: source.close(), title="Close preview")
        job.on_failure(lambda info: log.warning("Closing a preview failed: %s", info.details))
        self.runner.submit(job, lane="preview")

    def _opened(self, generation: int, result) -> None:
        source, rows = result
        if generation != self._generation:  # a newer request won: drop this stale answer
            self._close_later(source)
            return
        self._opening = None
        self._source = source
        self.beginResetModel()
        self.columns = list(source.columns)
        self.rows = rows
        self.total = source.total
        self._exhausted = source.exhausted
        self._loading = False
        self.endResetModel()
        self._announce()

    def _failed(self, generation: int, info: ErrorInfo) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._opening = None
        self.statusChanged.emit("")
        self.errorOccurred.emit(info)

    def _stopped(self, generation: int) -> None:
        if generation == self._generation:
            self._loading = False
            self._opening = None
            self.statusChanged.emit("Cancelled")

    def _announce(self) -> None:
        if self._exhausted and (self.total is None or self.total == len(self.rows)):
            self.statusChanged.emit(f"{len(self.rows):,} row{'s' if len(self.rows) != 1 else ''}")
            return
        total = f" of {self.total:,}" if self.total is not None else ""
        self.statusChanged.emit(f"Showing first {len(self.rows):,}{total} rows")

    def canFetchMore(self, parent: QModelIndex = QModelIndex()) -> bool:  # noqa: B008 - Qt API
        return not parent.isValid() and not self._exhausted and not self._loading and len(self.rows) < MAX_ROWS

    def fetchMore(self, parent: QModelIndex = QModelIndex()) -> None:  # noqa: B008 - Qt API
        if not self.canFetchMore(parent) or self._source is None:
            return
        self._loading = True
        generation, source = self._generation, self._source
        job = Job(lambda *, report, cancel: source.fetch(BATCH), title="Fetch rows")
        job.on_success(lambda rows: self._append(generation, rows)).on_failure(
            lambda info: self._failed(generation, info))
        self.runner.submit(job, lane="preview")

    def _append(self, generation: int, rows: list[tuple]) -> None:
        if generation != self._generation:
            return
        self._loading = False
        if rows:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(rows) - 1)
            self.rows.extend(rows)
            self.endInsertRows()
        self._exhausted = self._source is None or self._source.exhausted
        self._announce()

    def close(self) -> None:
        self._generation += 1
        source, self._source = self._source, None
        if source is not None:
            self._close_later(source)

    def clear(self) -> None:
        """Show nothing (closing what was shown)."""
        self.close()
        self.beginResetModel()
        self.columns, self.rows, self.total, self._exhausted, self._loading = [], [], None, True, False
        self.endResetModel()
        self.statusChanged.emit("")

    def release(self) -> None:
        """Close the open source at once: for shutdown, after the runner's threads have stopped."""
        self._generation += 1
        source, self._source = self._source, None
        if source is not None:
            source.close()

    # -- Qt model API -------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        value = self.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _format(value)
        if role == Qt.ItemDataRole.ForegroundRole and value is None:
            return GREY
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, int | float | Decimal):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            if orientation == Qt.Orientation.Horizontal and section < len(self.columns):
                return self.columns[section]
            if orientation == Qt.Orientation.Vertical:
                return str(section + 1)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if self._opener is None or column >= len(self.columns):
            return
        self._sort = (column, order)
        self._reopen()

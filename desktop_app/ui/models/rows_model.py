"""A read-only table model over rows already fetched by a job: O(1) to build, formatting on demand.

Filling a QTableWidget creates one item object per cell on the GUI thread (tens of thousands for a
preview); this model creates none."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt


class RowsModel(QAbstractTableModel):
    def __init__(self, header: Sequence[str], rows: Sequence[Sequence], format_cell: Callable = str,
                 parent=None) -> None:
        super().__init__(parent)
        self.header, self.rows, self.format_cell = list(header), rows, format_cell

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(self.header)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and index.isValid():
            row = self.rows[index.row()]
            return self.format_cell(row[index.column()] if index.column() < len(row) else None)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.header[section] if section < len(self.header) else None
        return str(section + 1)

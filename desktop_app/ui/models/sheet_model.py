"""A workbook sheet as a spreadsheet shows it: column letters, row numbers, each cell in its number
format, numbers right-aligned, bold where the workbook is bold (the header row)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QFont

if TYPE_CHECKING:
    from desktop_app.core.excel.read import SheetPreview

RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


class SheetModel(QAbstractTableModel):
    def __init__(self, preview: SheetPreview, parent=None) -> None:
        super().__init__(parent)
        self.preview = preview
        self._bold = QFont()
        self._bold.setBold(True)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(self.preview.texts)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else self.preview.width

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        texts = self.preview.texts[row]
        if column >= len(texts):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return texts[column]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if self.preview.numeric[row][column] else LEFT
        if role == Qt.ItemDataRole.FontRole and self.preview.bold[row][column]:
            return self._bold
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            letters = self.preview.letters
            return letters[section] if section < len(letters) else ""
        return str(section + 1)

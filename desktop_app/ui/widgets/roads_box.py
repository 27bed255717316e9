"""The two-roads table: every figure of the Excel report beside the marts' value, differences first,
with *Reconcile the two roads* and *Where does this come from?* for the selected figure."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from desktop_app.ui import palette

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class RoadsBox(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.roads = QTableWidget()
        self.roads.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.roads.verticalHeader().hide()
        self.reconcile_button = QPushButton("Reconcile the two roads")
        self.reconcile_button.setToolTip("Compare the Excel final report with the marts, figure by figure")
        self.origin_button = QPushButton("Where does this come from?")
        self.origin_button.setToolTip("The selected figure's path down to the OLTP columns, on both roads "
                                      "(or double-click the figure)")
        row = QHBoxLayout()
        row.addWidget(self.reconcile_button)
        row.addWidget(self.origin_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.roads)

    def selected_figure(self) -> str | None:
        row = self.roads.currentRow()
        item = self.roads.item(row, 0) if row >= 0 else None
        return item.text() if item is not None else None

    def show_checks(self, checks) -> int:
        """Fill the table; returns how many figures are equal."""
        self.roads.clear()
        self.roads.setColumnCount(4)
        self.roads.setHorizontalHeaderLabels(["Figure", "Excel report", "Model marts", "Status"])
        ordered = sorted(checks, key=lambda c: (c.equal, c.figure))
        self.roads.setRowCount(len(ordered))
        for r, check in enumerate(ordered):
            for c, text in enumerate((check.figure, *check.shown(), check.status)):
                item = QTableWidgetItem(text)
                if c in (1, 2):
                    item.setTextAlignment(RIGHT)
                if c == 3:
                    item.setForeground(palette.brush(check.status))
                self.roads.setItem(r, c, item)
        self.roads.resizeColumnsToContents()
        self.roads.horizontalHeader().setStretchLastSection(True)
        return sum(c.equal for c in checks)

"""The Query tab: a read-only SQL console on the warehouse — the first thing an analyst does after a
load is look at the data. Run (Ctrl+Enter) pages the result into a lazy grid; Cancel stops a long
query; Copy puts the selected cells on the clipboard as tab-separated text; Export CSV… writes the
whole result. Statements that would change the warehouse are refused by name (``core.olap.query``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app.services.jobs import Job
from desktop_app.services.settings import Settings
from desktop_app.services.studio import Studio
from desktop_app.ui.error_dialog import present_error
from desktop_app.ui.icons import icon
from desktop_app.ui.models.lazy_table_model import LazyTableModel
from desktop_app.ui.widgets.message_bar import MessageBar

EXAMPLE = """-- A read-only console on the warehouse. Ctrl+Enter runs the statement.
select department, sum(revenue) as revenue
from main_marts.monthly_revenue_by_category
group by all
order by revenue desc
"""


class ConsoleTab(QWidget):
    def __init__(self, studio: Studio, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.settings = settings
        self.sql_text = ""
        self.editor = QPlainTextEdit()
        self.editor.setFont(QFont("monospace"))
        self.editor.setPlainText(EXAMPLE)
        self.editor.setToolTip("SELECT, DESCRIBE, SHOW, SUMMARIZE … — one statement; Ctrl+Enter runs it")
        self.run_button = QPushButton(icon("run"), "Run")
        self.run_button.setToolTip("Run the statement (Ctrl+Enter)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the selected cells (all shown rows if none) as tab-separated text")
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Write the whole result to a CSV file")
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.copy_button.clicked.connect(self.copy)
        self.export_button.clicked.connect(self._on_export_clicked)
        for shortcut in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(shortcut), self.editor, activated=self.run)
        self.model = LazyTableModel(studio.runner, self)
        self.model.errorOccurred.connect(self._on_error)
        self.model.statusChanged.connect(self._on_status)
        self.grid = QTableView()
        self.grid.setModel(self.model)
        self.grid.verticalHeader().setDefaultSectionSize(22)
        self.grid.horizontalHeader().setDefaultSectionSize(140)
        self.status = QLabel()
        self.message = MessageBar()
        buttons = QHBoxLayout()
        for button in (self.run_button, self.cancel_button, self.copy_button, self.export_button):
            buttons.addWidget(button)
        buttons.addWidget(self.status, 1)
        results = QWidget()
        results_layout = QVBoxLayout(results)
        results_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.addLayout(buttons)
        results_layout.addWidget(self.message)
        results_layout.addWidget(self.grid, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.editor)
        self.splitter.addWidget(results)
        self.splitter.setSizes([200, 500])
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)

    def _statement(self) -> str:
        selected = self.editor.textCursor().selectedText().replace("\u2029", "\n")
        return (selected or self.editor.toPlainText()).strip()

    def run(self) -> None:
        sql = self._statement()
        if not sql:
            self.message.show_message("Type a statement first, e.g. SELECT * FROM raw.orders.", "warn")
            return
        self.sql_text = sql
        self.message.clear()
        self.status.setText("Running …")
        self.cancel_button.setEnabled(True)
        self.model.open(self.studio.console_opener(sql))

    def cancel(self) -> None:
        self.model.cancel()

    def _on_status(self, text: str) -> None:
        self.cancel_button.setEnabled(False)
        self.status.setText(text)

    def _on_error(self, info) -> None:
        self.cancel_button.setEnabled(False)
        self.status.setText("Failed")
        present_error(self, info, self.message)

    def copy(self) -> str:
        rows = sorted({i.row() for i in self.grid.selectionModel().selectedIndexes()}) \
            if self.grid.selectionModel() else []
        columns = sorted({i.column() for i in self.grid.selectionModel().selectedIndexes()}) \
            if self.grid.selectionModel() else []
        if not rows:
            rows, columns = list(range(self.model.rowCount())), list(range(self.model.columnCount()))
            header = ["\t".join(self.model.columns[c] for c in columns)]
        else:
            header = []
        lines = header + ["\t".join(self.model.data(self.model.index(r, c)) or "" for c in columns) for r in rows]
        text = "\n".join(lines)
        QApplication.clipboard().setText(text)
        self.status.setText(f"Copied {len(rows):,} rows")
        return text

    def _on_export_clicked(self) -> None:
        if not self.sql_text:
            self.message.show_message("Run a statement first.", "warn")
            return
        folder = self.settings.get("folders/save") or str(Path.home())
        path, _ = QFileDialog.getSaveFileName(self, "Export the result as CSV", str(Path(folder) / "result.csv"),
                                              "CSV file (*.csv)")
        if path:
            self.settings.set("folders/save", str(Path(path).parent))
            self.export(Path(path))

    def export(self, path: Path) -> Job:
        job = self.studio.export_csv(self.studio.console_opener(self.sql_text), path)
        job.on_success(lambda result: self.message.show_message(f"Wrote {result[1]:,} rows to {result[0]}", "ok"))
        job.on_failure(lambda info: present_error(self, info, self.message))
        return job

"""The Source tab: the OLTP source's tables with row counts, the selected table's columns and keys,
and a preview of its first rows. Every query runs in a job; the widgets only show results."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.oltp.inspect import SourceInfo, TableInfo, inspect_source
from desktop_app.core.oltp.rows import RowSource
from desktop_app.core.oltp.source import open_source
from desktop_app.services.jobs import ErrorInfo, Job, JobRunner

PREVIEW_ROWS = 500


def load_source_info(location: str, *, report, cancel) -> SourceInfo:
    with open_source(location) as source:
        return inspect_source(source, report=report, cancel=cancel)


def load_preview(location: str, table: str, *, report, cancel) -> tuple[list[str], list[tuple], int | None]:
    with open_source(location) as source, RowSource(source, table) as rows:
        return rows.columns, rows.fetch(PREVIEW_ROWS), rows.total


class SourceTab(QWidget):
    errorOccurred = Signal(object)  # noqa: N815 - Qt signal naming

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.location: str | None = None
        self.info: SourceInfo | None = None
        self.heading = QLabel("No source yet.")
        self.tables = QTreeWidget()
        self.tables.setHeaderLabels(["Table", "Rows"])
        self.tables.setRootIsDecorated(False)
        self.tables.setToolTip("Tables of the OLTP source; select one to see its schema and rows")
        self.tables.currentItemChanged.connect(self._on_tables_current_changed)
        self.columns = QTreeWidget()
        self.columns.setHeaderLabels(["Column", "Type", "Nullable", "Default", "Key"])
        self.columns.setRootIsDecorated(False)
        self.preview = QTableWidget()
        self.preview.verticalHeader().setDefaultSectionSize(22)
        self.preview_label = QLabel()
        detail = QTabWidget()
        detail.addTab(self.columns, "Schema")
        preview_box = QWidget()
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.addWidget(self.preview_label)
        preview_layout.addWidget(self.preview)
        detail.addTab(preview_box, "Preview")
        self.splitter = QSplitter()
        self.splitter.addWidget(self.tables)
        self.splitter.addWidget(detail)
        self.splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.splitter, 1)  # the tables get the height, not the one-line heading

    def set_source(self, location: str) -> Job:
        self.location = location
        self.heading.setText(f"Loading {location} …")
        job = Job(load_source_info, location, title="Inspect source")
        job.on_success(self._show_info).on_failure(self._on_job_failed)
        return self.runner.submit(job)

    def _show_info(self, info: SourceInfo) -> None:
        self.info = info
        self.heading.setText(f"<b>{info.label}</b> ({info.dialect}) — {len(info.tables)} tables")
        self.tables.clear()
        for table in info.tables:
            item = QTreeWidgetItem([table.name, f"{table.row_count:,}"])
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
            item.setData(0, Qt.ItemDataRole.UserRole, table.name)
            self.tables.addTopLevelItem(item)
        self.tables.resizeColumnToContents(0)
        if info.tables:
            self.tables.setCurrentItem(self.tables.topLevelItem(0))

    def _on_tables_current_changed(self, current: QTreeWidgetItem | None, _previous) -> None:
        if current is None or self.info is None or self.location is None:
            return
        table = self.info.table(current.data(0, Qt.ItemDataRole.UserRole))
        self._show_columns(table)
        job = Job(load_preview, self.location, table.name, title=f"Preview {table.name}")
        job.on_success(self._show_preview).on_failure(self._on_job_failed)
        self.runner.submit(job)

    def _show_columns(self, table: TableInfo) -> None:
        self.columns.clear()
        fk_of = {c: f"→ {fk.referred_table}.{fk.referred_columns[i]}"
                 for fk in table.foreign_keys for i, c in enumerate(fk.columns)}
        for col in table.columns:
            key = " ".join(filter(None, ["PK" if col.primary_key else "", fk_of.get(col.name, "")]))
            self.columns.addTopLevelItem(QTreeWidgetItem(
                [col.name, col.declared_type, "yes" if col.nullable else "no", col.default or "", key]))
        for i in range(5):
            self.columns.resizeColumnToContents(i)

    def _show_preview(self, result: tuple[list[str], list[tuple], int | None]) -> None:
        columns, rows, total = result
        self.preview.clear()
        self.preview.setColumnCount(len(columns))
        self.preview.setHorizontalHeaderLabels(columns)
        self.preview.setRowCount(len(rows))
        grey = QBrush(QColor(140, 140, 140))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                item = QTableWidgetItem("NULL" if value is None else str(value))
                if value is None:
                    item.setForeground(grey)
                self.preview.setItem(r, c, item)
        shown = f"first {len(rows):,} of {total:,} rows" if total is not None else f"{len(rows):,} rows"
        self.preview_label.setText(f"Showing {shown}")

    def _on_job_failed(self, info: ErrorInfo) -> None:
        self.heading.setText(f"<span style='color:#b00'>{info.error}</span>")
        self.errorOccurred.emit(info)

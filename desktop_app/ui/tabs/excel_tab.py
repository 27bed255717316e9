"""The Excel tab: the three stages as steps (run one or all) with status, time, rows and path; a
preview of each workbook (one sub-tab per sheet); the Steps sheet as a readable list; Save As…
through a file dialog; Open in the system's spreadsheet app."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.excel.stages import FINAL_REPORT, INTERMEDIATE, RAW_EXPORT, StageResult
from desktop_app.services.jobs import ErrorInfo, Job
from desktop_app.services.studio import Studio
from desktop_app.ui.models.rows_model import RowsModel
from desktop_app.ui.widgets.message_bar import MessageBar

STAGES = (("raw", "1. Raw export", RAW_EXPORT), ("intermediate", "2. Intermediate", INTERMEDIATE),
          ("final", "3. Final report", FINAL_REPORT))


class ExcelTab(QWidget):
    errorOccurred = Signal(object)  # noqa: N815
    finished = Signal(object)

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.stages = QTreeWidget()
        self.stages.setHeaderLabels(["Stage", "Status", "Seconds", "Rows", "File"])
        self.stages.setRootIsDecorated(False)
        for key, label, filename in STAGES:
            item = QTreeWidgetItem([label, "not run", "", "", filename])
            item.setData(0, Qt.ItemDataRole.UserRole, key)
            self.stages.addTopLevelItem(item)
        self.stages.currentItemChanged.connect(lambda current, _p: self.preview_stage())
        self.run_one = QPushButton("Run stage")
        self.run_one.setToolTip("Run the selected stage from the previous stage's workbook")
        self.run_all = QPushButton("Run all stages")
        self.save_as = QPushButton("Save As…")
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Open the workbook in your spreadsheet application")
        self.run_one.clicked.connect(lambda: self.run(self._selected_stage()))
        self.run_all.clicked.connect(lambda: self.run("all"))
        self.save_as.clicked.connect(self._on_save_as_clicked)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.message = MessageBar()
        bar = QHBoxLayout()
        for widget in (self.run_all, self.run_one, self.save_as, self.open_button):
            bar.addWidget(widget)
        bar.addWidget(self.message, 1)
        self.sheets = QTabWidget()
        self.steps = QTreeWidget()
        self.steps.setHeaderLabels(["Step", "Rows in", "Rows out", "What it does"])
        self.steps.setRootIsDecorated(False)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.stages)
        left.addWidget(self.steps)
        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.sheets)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        self.stages.setCurrentItem(self.stages.topLevelItem(0))

    def _selected_stage(self) -> str:
        item = self.stages.currentItem() or self.stages.topLevelItem(0)
        return item.data(0, Qt.ItemDataRole.UserRole)

    def _path(self, stage: str) -> Path:
        return self.studio.workspace.excel_dir / dict((k, f) for k, _, f in STAGES)[stage]

    def run(self, stage: str) -> Job:
        self.message.show_message(f"Running {'all stages' if stage == 'all' else stage} …")
        for button in (self.run_one, self.run_all):
            button.setEnabled(False)
        job = self.studio.excel(stage)
        job.on_success(self.show_results).on_failure(self._on_failed)
        job.on_finished(lambda: [b.setEnabled(True) for b in (self.run_one, self.run_all)])
        return job

    def show_results(self, results: list[StageResult]) -> None:
        for result in results:
            for i in range(self.stages.topLevelItemCount()):
                item = self.stages.topLevelItem(i)
                if item.data(0, Qt.ItemDataRole.UserRole) == result.stage:
                    item.setText(1, "done")
                    item.setText(2, f"{result.seconds:.1f}")
                    item.setText(3, f"{sum(result.rows.values()):,}")
                    item.setText(4, str(result.path))
            if result.steps:
                self.steps.clear()
                for step in result.steps:
                    self.steps.addTopLevelItem(QTreeWidgetItem([step["step"], f"{step['rows_in']:,}",
                                                                f"{step['rows_out']:,}", step["description"]]))
                self.steps.resizeColumnToContents(0)
        self.message.show_message(f"Wrote {', '.join(r.path.name for r in results)}", "ok")
        self.preview_stage()
        self.finished.emit(results)

    def preview_stage(self) -> None:
        path = self._path(self._selected_stage())
        self.sheets.clear()
        if not path.exists():
            return
        job = self.studio.sheets_of(path)
        job.on_success(lambda names: self._add_sheet_tabs(path, names)).on_failure(self._on_failed)

    def _add_sheet_tabs(self, path: Path, names: list[str]) -> None:
        self.sheets.clear()
        for name in names:
            table = QTableView()
            table.verticalHeader().setDefaultSectionSize(22)
            self.sheets.addTab(table, name)
            job = self.studio.preview_sheet(path, name)
            job.on_success(lambda data, table=table: _fill(table, data)).on_failure(self._on_failed)

    def _on_save_as_clicked(self) -> None:
        source = self._path(self._selected_stage())
        if not source.exists():
            self.message.show_message("Run this stage first.", "warn")
            return
        settings = QSettings()
        folder = settings.value("folders/save", str(Path.home()))
        target, _ = QFileDialog.getSaveFileName(self, "Save workbook as", str(Path(folder) / source.name),
                                                "Excel workbook (*.xlsx)")
        if target:
            self.save_copy(source, Path(target))
            settings.setValue("folders/save", str(Path(target).parent))

    def save_copy(self, source: Path, target: Path) -> Job:
        def copy(*, report, cancel):
            from desktop_app.core.excel.safety import atomic_target

            with atomic_target(target) as temp:
                shutil.copyfile(source, temp)
            return target

        job = self.studio.runner.submit(Job(copy, title="Save workbook"), lane="writer")
        job.on_success(lambda path: self.message.show_message(f"Saved {path}", "ok")).on_failure(self._on_failed)
        return job

    def _on_open_clicked(self) -> None:
        path = self._path(self._selected_stage())
        if not path.exists():
            self.message.show_message("Run this stage first.", "warn")
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            self.message.show_message(f"No spreadsheet application opened {path}; open it by hand.", "warn")

    def _on_failed(self, info: ErrorInfo) -> None:
        self.message.show_error(info.error)
        self.errorOccurred.emit(info)


def _fill(table: QTableView, data) -> None:
    header, rows, total = data
    table.setModel(RowsModel(header, rows, _cell_text, table))
    table.setToolTip(f"Showing {len(rows):,} of {total:,} rows" if total is not None else f"Showing {len(rows):,} rows")


def _cell_text(value) -> str:
    """Spreadsheet readers give every number as a float: show whole ones as integers."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)

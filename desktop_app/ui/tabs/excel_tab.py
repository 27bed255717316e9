"""The Excel tab: the three stages as steps (run one or all) with status, when each was written, rows
and file — read from the workbooks on disk, with a mark when one is stale; progress of a run; the
intermediate stage's steps; a preview of each workbook as a spreadsheet shows it (one sub-tab per
sheet); Save As… through a file dialog; Open in the system's spreadsheet app."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontMetrics
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

from desktop_app.core.excel.stages import STAGES, StageResult, stage_named
from desktop_app.services.jobs import Job, JobSlot
from desktop_app.services.settings import Settings
from desktop_app.services.studio import Studio
from desktop_app.ui import palette
from desktop_app.ui.error_dialog import present_error
from desktop_app.ui.icons import icon
from desktop_app.ui.models.sheet_model import SheetModel
from desktop_app.ui.widgets.job_progress import JobProgress
from desktop_app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:  # types only: importing the reader would load openpyxl and DuckDB at start-up
    from desktop_app.core.excel.read import SheetPreview
    from desktop_app.core.workspace_state import WorkspaceState

STAGE_ROWS = tuple((s.key, f"{number}. {s.label}", s.file_name) for number, s in enumerate(STAGES, 1))
FIGURE_SHEETS = ("Summary", "Monthly revenue", "Top customers", "Top products")  # the report's figures
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
MAX_COLUMN_WIDTH = 320


class ExcelTab(QWidget):
    finished = Signal(object)
    originRequested = Signal(str)  # a report sheet's figures: where do they come from?

    def __init__(self, studio: Studio, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.settings = settings
        self.previews = JobSlot(studio.runner, self)
        self.job: Job | None = None
        self.stages = QTreeWidget()
        self.stages.setHeaderLabels(["Stage", "Status", "Written", "Rows", "File"])
        self.stages.setRootIsDecorated(False)
        for key, label, filename in STAGE_ROWS:
            item = QTreeWidgetItem([label, "not run", "", "", filename])
            item.setData(0, Qt.ItemDataRole.UserRole, key)
            item.setTextAlignment(3, RIGHT)
            self.stages.addTopLevelItem(item)
        self.stages.currentItemChanged.connect(lambda current, _p: self.preview_stage())
        self.run_one = QPushButton("Run stage")
        self.run_one.setToolTip("Run the selected stage from the previous stage's workbook")
        self.run_all = QPushButton(icon("run"), "Run all stages")
        self.run_all.setToolTip("Raw export → intermediate → final report")
        self.save_as = QPushButton(icon("save"), "Save As…")
        self.open_button = QPushButton(icon("open"), "Open")
        self.open_button.setToolTip("Open the workbook in your spreadsheet application")
        self.origin_button = QPushButton("Where does this come from?")
        self.origin_button.setToolTip("The path of this report sheet's figures down to the OLTP columns "
                                      "(Models → Lineage)")
        self.origin_button.clicked.connect(lambda: self.originRequested.emit(self._current_sheet()))
        self.run_one.clicked.connect(lambda: self.run(self._selected_stage()))
        self.run_all.clicked.connect(lambda: self.run("all"))
        self.save_as.clicked.connect(self._on_save_as_clicked)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.progress = JobProgress()
        self.message = MessageBar()
        bar = QHBoxLayout()
        for widget in (self.run_all, self.run_one, self.save_as, self.open_button, self.origin_button):
            bar.addWidget(widget)
        bar.addWidget(self.progress, 1)
        self.sheets = QTabWidget()
        self.sheets.currentChanged.connect(lambda _i: self.origin_button.setEnabled(
            self._selected_stage() == "final" and self._current_sheet() in FIGURE_SHEETS))
        self.origin_button.setEnabled(False)
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
        self.splitter.setSizes([420, 900])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.splitter, 1)
        self.stages.setCurrentItem(self.stages.topLevelItem(0))

    def _current_sheet(self) -> str:
        return self.sheets.tabText(self.sheets.currentIndex()) if self.sheets.count() else ""

    def _selected_stage(self) -> str:
        item = self.stages.currentItem() or self.stages.topLevelItem(0)
        return item.data(0, Qt.ItemDataRole.UserRole)

    def _item(self, stage: str) -> QTreeWidgetItem:
        return next(self.stages.topLevelItem(i) for i in range(self.stages.topLevelItemCount())
                    if self.stages.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) == stage)

    def _path(self, stage: str) -> Path:
        return self.studio.excel_dir / stage_named(stage).file_name

    # -- running ------------------------------------------------------------------------------------
    def run(self, stage: str) -> Job:
        for button in (self.run_one, self.run_all):
            button.setEnabled(False)
        self.message.clear()
        job = self.studio.excel(stage)
        self.job = job
        title = "Writing all three workbooks" if stage == "all" else f"Excel stage: {stage}"
        self.progress.track(job, title, finish_text=lambda results: (
            f"Wrote {', '.join(r.path.name for r in results)}", "ok"))
        for key in (("raw", "intermediate", "final") if stage == "all" else (stage,)):
            self._item(key).setText(1, "queued")
            self._item(key).setForeground(1, palette.brush("running"))
        job.on_progress(self._on_progress).on_success(self.show_results)
        job.on_failure(lambda info: present_error(self, info, self.message))
        job.on_finished(self._on_finished)
        return job

    def _on_progress(self, progress) -> None:
        stage = {"raw export": "raw", "intermediate": "intermediate", "final report": "final"}.get(progress.target)
        if stage:
            self._item(stage).setText(1, "running")

    def _on_finished(self) -> None:
        self.job = None
        for button in (self.run_one, self.run_all):
            button.setEnabled(True)

    def show_results(self, results: list[StageResult]) -> None:
        for result in results:
            if result.steps:
                self._show_steps([(s.step, s.rows_in, s.rows_out, s.description) for s in result.steps])
        every = [note for r in results for note in r.notes]
        notes = [note for note in every if not note.startswith("read ")]  # how a stage read its input: routine
        slow = [note for note in every if note.startswith("read ") and "cell by cell" in note]
        if notes:
            self.message.show_message(" · ".join(notes + slow), "warn")
        elif slow:  # why this run took longer: the workbook was edited since it was written
            self.message.show_message(" · ".join(slow), "info")
        self.finished.emit(results)

    def _show_steps(self, steps: list[tuple]) -> None:
        self.steps.clear()
        for name, rows_in, rows_out, description in steps:
            item = QTreeWidgetItem([str(name), f"{int(rows_in):,}", f"{int(rows_out):,}", str(description)])
            item.setTextAlignment(1, RIGHT)
            item.setTextAlignment(2, RIGHT)
            item.setToolTip(3, str(description))
            self.steps.addTopLevelItem(item)
        self.steps.resizeColumnToContents(0)

    # -- what is on disk ----------------------------------------------------------------------------
    def show_state(self, state: WorkspaceState) -> None:
        for stage in state.stages:
            item = self._item(stage.stage)
            if self.job is not None and item.text(1) in ("queued", "running"):
                continue
            if not stage.exists:
                status = "not run"
            else:
                status = "stale" if stage.stale else "done"
            item.setText(1, status)
            item.setForeground(1, palette.brush(status))
            item.setText(2, datetime.fromtimestamp(stage.modified).strftime("%Y-%m-%d %H:%M") if stage.exists else "")
            item.setText(3, f"{sum(stage.sheets.values()):,}" if stage.sheets else "")
            item.setText(4, str(stage.path) if stage.exists else stage.path.name)
            tip = f"{stage.label}: {stage.stale}" if stage.stale else ""
            tip += ("\n" if tip else "") + "\n".join(f"{sheet}: {rows:,} rows" for sheet, rows in stage.sheets.items())
            for column in range(5):
                item.setToolTip(column, tip)
        for column in range(4):
            self.stages.resizeColumnToContents(column)
        intermediate = next((s for s in state.stages if s.stage == "intermediate"), None)
        if self.steps.topLevelItemCount() == 0 and intermediate is not None and intermediate.exists:
            job = self.studio.preview_sheet(intermediate.path, "Steps")
            job.on_success(self._show_steps_sheet).on_failure(lambda info: None)
        self.preview_stage()

    def _show_steps_sheet(self, preview: SheetPreview) -> None:
        rows = [r for r in preview.texts[1:] if len(r) >= 4]
        self._show_steps([(r[0], r[2].replace(",", "") or 0, r[3].replace(",", "") or 0, r[1]) for r in rows])

    # -- previews -----------------------------------------------------------------------------------
    def preview_stage(self) -> None:
        path = self._path(self._selected_stage())
        if not path.exists():
            self.previews.cancel()
            self.sheets.clear()
            return
        self.previews.start(self.studio.sheets_of(path), on_success=lambda names: self._add_sheet_tabs(path, names),
                            on_failure=lambda info: present_error(self, info, self.message))

    def _add_sheet_tabs(self, path: Path, names: list[str]) -> None:
        current = self.sheets.tabText(self.sheets.currentIndex()) if self.sheets.count() else None
        self.sheets.clear()
        for name in names:
            table = QTableView()
            table.verticalHeader().setDefaultSectionSize(22)
            table.setAlternatingRowColors(True)
            index = self.sheets.addTab(table, name)
            if name == current:
                self.sheets.setCurrentIndex(index)
            job = self.studio.preview_sheet(path, name)
            job.on_success(lambda data, table=table: _fill(table, data))
            job.on_failure(lambda info: present_error(self, info, self.message))

    def _on_save_as_clicked(self) -> None:
        source = self._path(self._selected_stage())
        if not source.exists():
            self.message.show_message("Run this stage first.", "warn")
            return
        folder = self.settings.get("folders/save") or str(Path.home())
        target, _ = QFileDialog.getSaveFileName(self, "Save workbook as", str(Path(folder) / source.name),
                                                "Excel workbook (*.xlsx)")
        if target:
            self.save_copy(source, Path(target))
            self.settings.set("folders/save", str(Path(target).parent))

    def save_copy(self, source: Path, target: Path) -> Job:
        job = self.studio.copy_file(source, target)
        job.on_success(lambda path: self.message.show_message(f"Saved {path}", "ok"))
        job.on_failure(lambda info: present_error(self, info, self.message))
        return job

    def _on_open_clicked(self) -> None:
        path = self._path(self._selected_stage())
        if not path.exists():
            self.message.show_message("Run this stage first.", "warn")
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            self.message.show_message(f"No spreadsheet application opened {path}; open it by hand.", "warn")


def _fill(table: QTableView, preview: SheetPreview) -> None:
    table.setModel(SheetModel(preview, table))
    header = table.horizontalHeader()
    # Widths from the character counts the worker measured (sizing to contents here stalled the window).
    bold = table.font()
    bold.setBold(True)
    char = QFontMetrics(bold).horizontalAdvance("0") + 0.5
    for column, chars in enumerate(preview.column_chars):
        header.resizeSection(column, min(MAX_COLUMN_WIDTH, max(48, int(chars * char) + 16)))
    shown = len(preview.texts)
    table.setToolTip(f"Showing the first {shown:,} of {preview.total_rows:,} rows" if preview.total_rows
                     and preview.total_rows > shown else f"All {shown:,} rows")

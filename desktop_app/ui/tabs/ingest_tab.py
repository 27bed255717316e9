"""The Ingestion tab: full or incremental, table selection, Start and Cancel; overall progress (rows,
rows/s, time left) and a bar per table; each table's change-tracking strategy, status and
reconciliation; notes on drift and dirty columns; the run history and reconciliations from the
warehouse. On launch it shows the warehouse's last run, not an empty table.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.progress import Progress
from desktop_app.services.jobs import Job
from desktop_app.services.studio import SourceView, Studio
from desktop_app.ui import palette
from desktop_app.ui.error_dialog import present_error
from desktop_app.ui.icons import icon
from desktop_app.ui.widgets.job_progress import JobProgress
from desktop_app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    from desktop_app.core.ingest.history import History, TableLoad
    from desktop_app.core.ingest.results import IngestReport
    from desktop_app.core.workspace_state import WorkspaceState
    from desktop_app.services.settings import Settings

COLUMNS = ["Table", "Strategy", "Progress", "Rows/s", "Status", "Read", "Inserted", "Updated", "Deleted",
           "Reconciliation"]
NUMBER_COLUMNS = (3, 5, 6, 7, 8)
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else ""


def number(value) -> str:
    return "" if value is None else f"{value:,}"


@dataclass(frozen=True)
class HistoryColumn:
    header: str
    value: Callable[[object], object]
    kind: str = "text"  # text | number | status (coloured by the palette)


LOAD_COLUMNS = (
    HistoryColumn("Run", lambda t: t.run_id, "number"), HistoryColumn("Started", lambda t: when(t.started_at)),
    HistoryColumn("Table", lambda t: t.table), HistoryColumn("Mode", lambda t: t.mode),
    HistoryColumn("Strategy", lambda t: t.strategy), HistoryColumn("Read", lambda t: t.rows_read, "number"),
    HistoryColumn("Inserted", lambda t: t.inserted, "number"), HistoryColumn("Updated", lambda t: t.updated, "number"),
    HistoryColumn("Deleted", lambda t: t.deleted, "number"),
    HistoryColumn("Seconds", lambda t: None if t.seconds is None else round(t.seconds, 2), "number"),
    HistoryColumn("Status", lambda t: t.status, "status"), HistoryColumn("Error", lambda t: t.error or ""),
)
RECONCILIATION_COLUMNS = (
    HistoryColumn("Run", lambda r: r.run_id, "number"), HistoryColumn("Checked", lambda r: when(r.checked_at)),
    HistoryColumn("Table", lambda r: r.table), HistoryColumn("Scope", lambda r: r.scope),
    HistoryColumn("Source rows", lambda r: r.source_rows, "number"),
    HistoryColumn("Warehouse rows", lambda r: r.warehouse_rows, "number"),
    HistoryColumn("Status", lambda r: r.status, "status"), HistoryColumn("Detail", lambda r: r.detail or ""),
)


class IngestTab(QWidget):
    finished = Signal(object)  # IngestReport

    def __init__(self, studio: Studio, settings: Settings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.settings = settings
        self.plans: dict = {}  # table -> TablePlan, as the source view gave them
        self.job: Job | None = None
        self.run_started = 0.0
        self.mode = QComboBox()
        self.mode.addItem("Incremental", "incremental")
        self.mode.addItem("Full refresh", "full")
        self.mode.setToolTip("Incremental reads only what changed (per-table strategy); full reloads everything")
        self.start = QPushButton(icon("run"), "Start")
        self.start.setToolTip("Load the checked tables into the warehouse's raw schema")
        self.start.clicked.connect(self.start_ingest)
        self.progress = JobProgress()
        self.message = MessageBar()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Mode"))
        bar.addWidget(self.mode)
        bar.addWidget(self._look_back_box())
        bar.addWidget(self.start)
        bar.addWidget(self.progress, 1)
        self.tables = QTreeWidget()
        self.tables.setHeaderLabels(COLUMNS)
        self.tables.setRootIsDecorated(False)
        self.tables.setToolTip("Check the tables to load; each row shows how it is kept in step")
        self.tables.header().setStretchLastSection(True)
        self.bars: dict[str, QProgressBar] = {}
        self.notes = QPlainTextEdit(readOnly=True)
        self.history = QTableWidget()
        self.reconciliation = QTableWidget()
        for table in (self.history, self.reconciliation):
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            table.verticalHeader().hide()
            table.setAlternatingRowColors(True)
        details = QTabWidget()
        details.addTab(self.notes, "Notes")
        details.addTab(self.reconciliation, "Reconciliation")
        details.addTab(self.history, "History")
        self.details = details
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.tables)
        self.splitter.addWidget(details)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.splitter, 1)
        self._last_history: History | None = None

    def _look_back_box(self) -> QSpinBox:
        """Minutes an incremental watermark load re-reads before its mark (kept in the settings file)."""
        self.look_back = QSpinBox()
        self.look_back.setRange(0, 24 * 60)
        self.look_back.setSuffix(" min look-back")
        self.look_back.setToolTip("Incremental loads re-read this window before each table's watermark, so a row "
                                  "whose transaction committed after the last load read the table is not missed. "
                                  "Rows re-read unchanged are neither counted nor rewritten.")
        seconds = self.settings.get("ingest/look_back_seconds") if self.settings else 300
        self.look_back.setValue(int(seconds) // 60)
        self.studio.look_back = int(seconds)
        self.look_back.valueChanged.connect(self._on_look_back_changed)
        return self.look_back

    def _on_look_back_changed(self, minutes: int) -> None:
        self.studio.look_back = minutes * 60
        if self.settings is not None:
            self.settings.set("ingest/look_back_seconds", minutes * 60)
        for row in range(self.tables.topLevelItemCount()):  # the strategy column says the window
            item = self.tables.topLevelItem(row)
            plan = self.plans.get(item.text(0))
            if plan is not None and plan.strategy == "watermark":
                item.setText(1, dataclasses.replace(plan, look_back=minutes * 60).label)

    # -- table list ---------------------------------------------------------------------------------
    def set_source_view(self, view: SourceView) -> None:
        if self.job is not None:  # never rebuild the list under a running load
            return
        checked = set(self.checked_tables()) if self.tables.topLevelItemCount() else None
        self.tables.clear()
        self.bars.clear()
        self.plans = dict(view.plans)
        for table in view.info.tables:
            plan = view.plans[table.name]
            item = QTreeWidgetItem([table.name, plan.label, "", "", "", "", "", "", "", ""])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked if checked is None or table.name in checked
                               else Qt.CheckState.Unchecked)
            item.setToolTip(1, "\n".join(plan.notes) or "rows changed since the last run, by this column")
            for column in NUMBER_COLUMNS:
                item.setTextAlignment(column, RIGHT)
            self.tables.addTopLevelItem(item)
            bar = QProgressBar()
            bar.setMaximumHeight(16)
            bar.setTextVisible(False)
            self.tables.setItemWidget(item, 2, bar)
            self.bars[table.name] = bar
        for i in (0, 1):
            self.tables.resizeColumnToContents(i)
        self.tables.setColumnWidth(2, 140)
        for i in range(3, 9):
            self.tables.setColumnWidth(i, 86)
        if self._last_history is not None:
            self._show_last_run(self._last_history)

    def checked_tables(self) -> list[str]:
        items = [self.tables.topLevelItem(i) for i in range(self.tables.topLevelItemCount())]
        return [i.text(0) for i in items if i.checkState(0) == Qt.CheckState.Checked]

    def _item(self, table: str) -> QTreeWidgetItem | None:
        for i in range(self.tables.topLevelItemCount()):
            if self.tables.topLevelItem(i).text(0) == table:
                return self.tables.topLevelItem(i)
        return None

    def _set_status(self, item: QTreeWidgetItem, status: str) -> None:
        item.setText(4, status)
        item.setForeground(4, palette.brush(status))

    # -- running ------------------------------------------------------------------------------------
    def start_ingest(self) -> Job | None:
        tables = self.checked_tables()
        if not tables:
            self.message.show_message("Check at least one table to load.", "warn")
            return None
        self.message.show_message(f"Loading {len(tables)} tables ({self.mode.currentText().lower()}) …")
        for name, bar in self.bars.items():
            bar.setValue(0)
            item = self._item(name)
            for column in range(3, 10):
                item.setText(column, "")
            self._set_status(item, "queued" if name in tables else "")
        self.run_started = time.monotonic()
        self.job = self.studio.ingest(self.mode.currentData(), tables)
        self.progress.track(self.job, "Ingestion", describe=self._describe_overall, finish_text=self._finish_text)
        self.job.on_progress(self._on_table_progress).on_success(self.show_report)
        self.job.on_failure(lambda info: present_error(self, info, self.message))
        self.job.on_cancelled(self._on_cancelled)
        self.job.on_finished(self._on_finished)
        self.start.setEnabled(False)
        return self.job

    def cancel_ingest(self) -> None:
        self.progress.cancel()

    def _describe_overall(self, progress: Progress):
        if progress.target:
            return None  # a table's own progress: its row shows it
        if progress.total is None:
            return None, progress.message
        fraction = progress.fraction or 0.0
        elapsed = time.monotonic() - self.run_started
        eta = f" · about {elapsed / fraction - elapsed:,.0f} s left" if 0.02 < fraction < 1 else ""
        return fraction, f"{progress.done:,.0f} of {progress.total:,.0f} rows · {progress.message}{eta}"

    def _finish_text(self, report: IngestReport) -> tuple[str, str]:
        rows = sum(t.rows_read for t in report.tables)
        if report.ok:
            return f"Run {report.run_id}: {rows:,} rows read, every table reconciled", "ok"
        failed = [t.table for t in report.tables if t.status != "success"]
        return f"Run {report.run_id}: {report.status} — {', '.join(failed)} failed (see the red rows)", "error"

    def _on_table_progress(self, progress: Progress) -> None:
        if not progress.target:
            return
        bar, item = self.bars.get(progress.target), self._item(progress.target)
        if bar is None or item is None:
            return
        if progress.fraction is not None:
            bar.setValue(int(progress.fraction * 100))
        item.setText(3, progress.message.removesuffix(" rows/s"))
        self._set_status(item, "loading")

    def show_report(self, report: IngestReport) -> None:
        for result in report.tables:
            item = self._item(result.table)
            if item is None:
                continue
            self.bars[result.table].setValue(100 if result.status == "success" else self.bars[result.table].value())
            recon = result.reconciliation
            values = {3: f"{result.rows_per_second:,.0f}", 5: f"{result.rows_read:,}",
                      6: f"{result.inserted:,}", 7: f"{result.updated:,}", 8: f"{result.deleted:,}",
                      9: (f"{'✓ pass' if recon.status == 'equal' else '✗ FAIL'} — {recon.detail or ''}"
                          if recon else (result.error or ""))}
            for column, text in values.items():
                item.setText(column, text)
            item.setToolTip(9, item.text(9))
            item.setForeground(9, palette.brush(recon.status if recon else result.status))
            self._set_status(item, result.status)
            item.setText(1, result.strategy)
        notes = list(report.notes) + [f"{t.table}: {note}" for t in report.tables for note in t.notes]
        notes += [f"{t.table}: ERROR {t.error}" for t in report.tables if t.error]
        self.notes.setPlainText("\n".join(notes) or "No notes: no drift, no dirty columns.")
        self.message.clear()  # the progress line keeps the run's end state
        self.finished.emit(report)

    def _on_cancelled(self) -> None:
        self.message.show_message("Cancelled: tables finished before the cancel were kept; the one in progress "
                                  "was rolled back.", "warn")
        for name in self.bars:
            item = self._item(name)
            if item.text(4) in ("queued", "loading"):
                self._set_status(item, "cancelled")

    def _on_finished(self) -> None:
        self.start.setEnabled(True)
        self.job = None

    # -- what the warehouse remembers ---------------------------------------------------------------
    def show_state(self, state: WorkspaceState) -> None:
        history = state.history
        self._last_history = history
        self._fill(self.history, LOAD_COLUMNS, history.loads)
        self._fill(self.reconciliation, RECONCILIATION_COLUMNS, history.reconciliations)
        if self.job is None:
            self._show_last_run(history)

    def _show_last_run(self, history: History) -> None:
        """Each table's row as the last run left it (on launch, and after a run)."""
        run = history.last_run
        if run is None:
            if not self.message.text():
                self.message.show_message("Nothing ingested yet: press Start to copy the source into the warehouse.")
            return
        loads: dict[str, TableLoad] = {t.table: t for t in run.tables}
        reconciled = {r.table: r for r in history.reconciliations if r.run_id == run.run_id}
        for name, load in loads.items():
            item = self._item(name)
            if item is None:
                continue
            self.bars[name].setValue(100 if load.status == "success" else 0)
            for column, value in ((5, load.rows_read), (6, load.inserted), (7, load.updated), (8, load.deleted)):
                item.setText(column, number(value))
            if load.seconds and load.rows_read:
                item.setText(3, f"{load.rows_read / load.seconds:,.0f}")
            self._set_status(item, load.status)
            recon = reconciled.get(name)
            if recon is not None:
                item.setText(9, f"{'✓ pass' if recon.status == 'equal' else '✗ FAIL'} — {recon.detail or ''}")
                item.setForeground(9, palette.brush(recon.status))
            elif load.error:
                item.setText(9, load.error)
                item.setForeground(9, palette.brush("error"))
        if not self.notes.toPlainText():
            notes = [f"{t.table}: {line}" for t in run.tables for line in (t.notes or "").splitlines()]
            self.notes.setPlainText("\n".join(notes) or "No notes: no drift, no dirty columns.")
        if self.progress.state == "idle" and (not self.message.text() or self.message.kind in ("info", "ok")):
            finished = f", finished {when(run.finished_at)}" if run.finished_at else ""
            self.message.show_message(f"Last run {run.run_id} ({run.mode}): {run.status}, {run.rows_read:,} rows read"
                                      f"{finished}", "ok" if run.status == "success" else "warn")

    @staticmethod
    def _fill(widget: QTableWidget, columns: tuple[HistoryColumn, ...], records) -> None:
        widget.setSortingEnabled(False)
        widget.clear()
        widget.setColumnCount(len(columns))
        widget.setHorizontalHeaderLabels([c.header for c in columns])
        widget.setRowCount(len(records))
        for r, record in enumerate(records):
            for c, column in enumerate(columns):
                value = column.value(record)
                text = "" if value is None else (f"{value:,}" if isinstance(value, int) and c > 0 else str(value))
                item = QTableWidgetItem(text)
                if column.kind == "number":
                    item.setTextAlignment(RIGHT)
                elif column.kind == "status":
                    item.setForeground(palette.brush(str(value)))
                widget.setItem(r, c, item)
        widget.resizeColumnsToContents()
        header = widget.horizontalHeader()
        header.setStretchLastSection(True)
        for c in range(len(columns) - 1):
            if header.sectionSize(c) > 260:
                header.resizeSection(c, 260)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

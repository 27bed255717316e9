"""The Ingestion tab: full or incremental, table selection, Start and Cancel; a progress bar per
table and overall with rows/s and ETA; each table's change-tracking strategy; reconciliation
pass/fail; notes on schema drift and dirty columns; run history from the warehouse."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
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
from desktop_app.services.jobs import ErrorInfo, Job
from desktop_app.services.studio import Studio
from desktop_app.ui.status_colours import GREEN, RED
from desktop_app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    from desktop_app.core.ingest.run import IngestReport
    from desktop_app.core.oltp.inspect import SourceInfo

COLUMNS = ["Table", "Strategy", "Progress", "Rows/s", "Status", "Read", "Inserted", "Updated", "Deleted",
           "Reconciliation"]


class IngestTab(QWidget):
    errorOccurred = Signal(object)  # noqa: N815
    finished = Signal(object)  # IngestReport

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.job: Job | None = None
        self.mode = QComboBox()
        self.mode.addItem("Incremental", "incremental")
        self.mode.addItem("Full refresh", "full")
        self.mode.setToolTip("Incremental reads only what changed (per-table strategy); full reloads everything")
        self.start = QPushButton("Start")
        self.start.setToolTip("Load the checked tables into the warehouse's raw schema")
        self.cancel = QPushButton("Cancel")
        self.cancel.setEnabled(False)
        self.start.clicked.connect(self.start_ingest)
        self.cancel.clicked.connect(self.cancel_ingest)
        self.overall = QProgressBar()
        self.overall_label = QLabel("")
        self.message = MessageBar()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Mode"))
        bar.addWidget(self.mode)
        bar.addWidget(self.start)
        bar.addWidget(self.cancel)
        bar.addWidget(self.overall, 1)
        bar.addWidget(self.overall_label)
        self.tables = QTreeWidget()
        self.tables.setHeaderLabels(COLUMNS)
        self.tables.setRootIsDecorated(False)
        self.tables.setToolTip("Check the tables to load; each row shows how it is kept in step")
        self.bars: dict[str, QProgressBar] = {}
        self.started_at: dict[str, float] = {}
        self.notes = QPlainTextEdit(readOnly=True)
        self.history = QTableWidget()
        self.reconciliation = QTableWidget()
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

    # -- table list ---------------------------------------------------------------------------------
    def set_source_info(self, info: SourceInfo) -> None:
        from desktop_app.core.ingest.plan import plan_table

        if self.job is not None:  # never rebuild the list under a running load
            return
        self.tables.clear()
        self.bars.clear()
        for table in info.tables:
            plan = plan_table(table)
            item = QTreeWidgetItem([table.name, plan.label, "", "", "", "", "", "", "", ""])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked)
            item.setToolTip(1, "\n".join(plan.notes) or "rows changed since the last run, by this column")
            self.tables.addTopLevelItem(item)
            bar = QProgressBar()
            bar.setMaximumHeight(16)
            bar.setTextVisible(False)
            self.tables.setItemWidget(item, 2, bar)
            self.bars[table.name] = bar
        for i in (0, 1):
            self.tables.resizeColumnToContents(i)
        self.tables.setColumnWidth(2, 160)
        self.refresh_history()

    def checked_tables(self) -> list[str]:
        items = [self.tables.topLevelItem(i) for i in range(self.tables.topLevelItemCount())]
        return [i.text(0) for i in items if i.checkState(0) == Qt.CheckState.Checked]

    def _item(self, table: str) -> QTreeWidgetItem | None:
        for i in range(self.tables.topLevelItemCount()):
            if self.tables.topLevelItem(i).text(0) == table:
                return self.tables.topLevelItem(i)
        return None

    # -- running ------------------------------------------------------------------------------------
    def start_ingest(self) -> Job | None:
        tables = self.checked_tables()
        if not tables:
            self.message.show_message("Check at least one table to load.", "warn")
            return None
        self.message.show_message(f"Loading {len(tables)} tables ({self.mode.currentText().lower()}) …")
        for bar in self.bars.values():
            bar.setValue(0)
        self.started_at.clear()
        self.run_started = time.monotonic()
        self.job = self.studio.ingest(self.mode.currentData(), tables)
        self.job.on_progress(self._on_progress).on_success(self.show_report).on_failure(self._on_failed)
        self.job.signals.cancelled.connect(self._on_cancelled)
        self.job.on_finished(self._on_finished)
        self.start.setEnabled(False)
        self.cancel.setEnabled(True)
        return self.job

    def cancel_ingest(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.message.show_message("Cancelling … the table in progress is rolled back.")

    def _on_progress(self, progress: Progress) -> None:
        if not progress.target:
            fraction = progress.fraction or 0
            self.overall.setValue(int(fraction * 100))
            elapsed = time.monotonic() - self.run_started
            eta = f", about {elapsed / fraction - elapsed:.0f} s left" if 0.02 < fraction < 1 else ""
            self.overall_label.setText(f"{progress.done:,.0f} of {progress.total or 0:,.0f} rows · "
                                       f"{progress.message}{eta}")
            return
        bar, item = self.bars.get(progress.target), self._item(progress.target)
        if bar is None or item is None:
            return
        if progress.fraction is not None:
            bar.setValue(int(progress.fraction * 100))
        item.setText(3, progress.message)
        item.setText(4, "loading")

    def show_report(self, report: IngestReport) -> None:
        for result in report.tables:
            item = self._item(result.table)
            if item is None:
                continue
            self.bars[result.table].setValue(100)
            recon = result.reconciliation or {}
            values = {3: f"{result.rows_per_second:,.0f}", 4: result.status, 5: f"{result.rows_read:,}",
                      6: f"{result.inserted:,}", 7: f"{result.updated:,}", 8: f"{result.deleted:,}",
                      9: f"{'✓ pass' if recon.get('status') == 'equal' else '✗ FAIL'} — {recon.get('detail', '')}"
                      if recon else (result.error or "")}
            for column, text in values.items():
                item.setText(column, text)
            item.setForeground(9, GREEN if recon.get("status") == "equal" else RED)
            item.setForeground(4, GREEN if result.status == "success" else RED)
            item.setText(1, result.strategy)
        notes = [f"{t.table}: {note}" for t in report.tables for note in t.notes]
        notes += [f"{t.table}: ERROR {t.error}" for t in report.tables if t.error]
        self.notes.setPlainText("\n".join(notes) or "No notes: no drift, no dirty columns.")
        kind = "ok" if report.ok else "error"
        rows = sum(t.rows_read for t in report.tables)
        self.message.show_message(f"Run {report.run_id}: {report.status} — {rows:,} rows read in "
                                  f"{report.seconds:.1f} s; every table reconciled" if report.ok else
                                  f"Run {report.run_id}: {report.status} — see the red rows", kind)
        self.overall.setValue(100)
        self.refresh_history()
        self.finished.emit(report)

    def _on_failed(self, info: ErrorInfo) -> None:
        self.message.show_error(info.error)
        self.errorOccurred.emit(info)

    def _on_cancelled(self) -> None:
        self.message.show_message("Cancelled: tables finished before the cancel were kept; the one in progress "
                                  "was rolled back.", "warn")
        self.refresh_history()

    def _on_finished(self) -> None:
        self.start.setEnabled(True)
        self.cancel.setEnabled(False)
        self.job = None

    # -- history ------------------------------------------------------------------------------------
    def refresh_history(self) -> None:
        job = self.studio.history()
        job.on_success(self._show_history).on_failure(lambda info: self.message.show_error(info.error))

    def _show_history(self, data) -> None:
        loads, recon = data
        _fill(self.history, ["Run", "Started", "Table", "Mode", "Strategy", "Read", "Inserted", "Updated",
                             "Deleted", "Seconds", "Status", "Error"], loads, status_column=10)
        _fill(self.reconciliation, ["Run", "Table", "Scope", "Source rows", "Warehouse rows", "Status", "Detail"],
              recon, status_column=5)


def _fill(widget: QTableWidget, headers: list[str], rows: list, status_column: int) -> None:
    widget.clear()
    widget.setColumnCount(len(headers))
    widget.setHorizontalHeaderLabels(headers)
    widget.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem("" if value is None else (f"{value:,}" if isinstance(value, int) and c > 0
                                                              else str(value)))
            if c == status_column:
                item.setForeground(GREEN if value in ("success", "equal") else RED)
            widget.setItem(r, c, item)
    widget.resizeColumnsToContents()

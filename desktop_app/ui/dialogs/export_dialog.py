"""Export for BI…: choose the relations (the marts are checked), a format and a folder (remembered), then
watch the export with Cancel and open the folder when it is done. A relation not built yet is shown
but cannot be chosen; Tableau extracts say how to get Tableau's Hyper API when it is missing.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from desktop_app.services.jobs import Job
from desktop_app.services.settings import Settings
from desktop_app.services.studio import Studio, tableau_available
from desktop_app.ui.error_dialog import present_error
from desktop_app.ui.widgets.job_progress import JobProgress
from desktop_app.ui.widgets.message_bar import MessageBar

FORMATS = (("parquet", "Parquet (one file per relation; Power BI, DuckDB, pandas, Spark)"),
           ("csv", "CSV (one file per relation; Excel and anything else)"),
           ("hyper", "Tableau extract (.hyper with a .tds data source)"),
           ("duckdb", "One DuckDB file (opens in DuckDB 1.x clients, DBeaver, …)"))


class ExportDialog(QDialog):
    def __init__(self, studio: Studio, settings: Settings, parent=None) -> None:
        super().__init__(parent)
        self.studio, self.settings = studio, settings
        self.job: Job | None = None
        self.setWindowTitle("Export for BI")
        self.resize(640, 560)
        self.relations = QListWidget()
        self.relations.setToolTip("The project's marts are checked; relations not built yet cannot be chosen")
        self.format = QComboBox()
        for key, label in FORMATS:
            self.format.addItem(label, key)
        if not tableau_available():
            index = self.format.findData("hyper")
            self.format.setItemText(index, "Tableau extract — needs Tableau's Hyper API: uv sync --extra tableau")
            self.format.model().item(index).setEnabled(False)
        remembered = self.format.findData(settings.get("export/format"))
        if remembered >= 0 and self.format.model().item(remembered).isEnabled():
            self.format.setCurrentIndex(remembered)
        self.folder = QLineEdit(settings.get("export/folder") or str(Path.home() / "oltp-olap-export"))
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._on_choose_clicked)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(choose)
        self.with_pipeline = QCheckBox("Also export here at the end of Run everything")
        self.with_pipeline.setChecked(settings.get("export/with_run_everything"))
        self.progress = JobProgress()
        self.message = MessageBar()
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(lambda: self.start())
        self.open_folder = QPushButton("Open folder")
        self.open_folder.setEnabled(False)
        self.open_folder.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(self.folder.text())))
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Folder", folder_row)
        form.addRow("", self.with_pipeline)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.export_button, self.open_folder, close):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.relations, 1)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        job = studio.export_candidates()
        job.on_success(self._show_candidates).on_failure(lambda info: present_error(self, info, self.message))

    def _show_candidates(self, candidates) -> None:
        self.relations.clear()
        for candidate in candidates:
            label = candidate.name + ("" if candidate.built else " — not built yet")
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, candidate.name)
            item.setToolTip(candidate.relation)
            flags = item.flags() | Qt.ItemFlag.ItemIsUserCheckable
            if not candidate.built:
                flags &= ~Qt.ItemFlag.ItemIsEnabled
            item.setFlags(flags)
            item.setCheckState(Qt.CheckState.Checked if candidate.is_mart and candidate.built
                               else Qt.CheckState.Unchecked)
            self.relations.addItem(item)
        if not any(c.built for c in candidates):
            self.message.show_message("Nothing is built yet: build the models first.", "warn")

    def chosen(self) -> list[str]:
        items = [self.relations.item(i) for i in range(self.relations.count())]
        return [i.data(Qt.ItemDataRole.UserRole) for i in items if i.checkState() == Qt.CheckState.Checked]

    def _on_choose_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to folder", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def start(self) -> Job | None:
        chosen = self.chosen()
        if not chosen:
            self.message.show_message("Check at least one relation to export.", "warn")
            return None
        folder, fmt = Path(self.folder.text().strip()).expanduser(), self.format.currentData()
        self.settings.set("export/folder", str(folder))
        self.settings.set("export/format", fmt)
        self.settings.set("export/with_run_everything", self.with_pipeline.isChecked())
        self.message.clear()
        self.export_button.setEnabled(False)
        self.open_folder.setEnabled(False)
        self.job = self.studio.export(folder, fmt, chosen)
        self.progress.track(self.job, "Exporting", finish_text=lambda result: (
            f"Exported {len(result.files)} relation(s) as {result.format}, {sum(f.rows for f in result.files):,} "
            f"rows, to {result.folder}", "ok"))
        self.job.on_success(self._on_done).on_failure(lambda info: present_error(self, info, self.message))
        self.job.on_finished(lambda: self.export_button.setEnabled(True))
        return self.job

    def _on_done(self, result) -> None:
        self.open_folder.setEnabled(True)
        if result.notes:
            self.message.show_message(" · ".join(result.notes), "warn")

    def reject(self) -> None:
        if self.job is not None and self.progress.state == "running":
            self.progress.cancel()
        super().reject()

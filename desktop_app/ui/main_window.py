"""The main window: tabs, menus, status bar; it wires the services to the tabs and owns the runner."""

from __future__ import annotations

import gc
import platform

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QTabWidget,
)

from desktop_app import APP_NAME, __version__
from desktop_app.core.errors import Cancelled, SourceError
from desktop_app.core.progress import Progress
from desktop_app.paths import Workspace
from desktop_app.services.jobs import ErrorInfo, Job, JobRunner
from desktop_app.services.studio import Studio
from desktop_app.ui.error_dialog import show_error
from desktop_app.ui.tabs.excel_tab import ExcelTab
from desktop_app.ui.tabs.ingest_tab import IngestTab
from desktop_app.ui.tabs.models_tab import ModelsTab
from desktop_app.ui.tabs.source_tab import SourceTab

FIRST_LAUNCH_SCALE = 0.02
BUSY_DELAY_MS = 500
MAX_RECENT = 8


class MainWindow(QMainWindow):
    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self.runner = JobRunner(self)
        self.studio = Studio(workspace, self.runner, self)
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.resize(1280, 820)
        self.tabs = QTabWidget()
        self.source_tab = SourceTab(self.studio)
        self.ingest_tab = IngestTab(self.studio)
        self.excel_tab = ExcelTab(self.studio)
        self.models_tab = ModelsTab(self.studio)
        for tab, title, tip in ((self.source_tab, "Source", "The OLTP database: tables, schema, rows"),
                                (self.ingest_tab, "Ingestion", "Copy the source into the DuckDB warehouse"),
                                (self.excel_tab, "Excel", "The Excel road: raw export → intermediate → report"),
                                (self.models_tab, "Models", "The in-database road: dbt-style models")):
            index = self.tabs.addTab(tab, title)
            self.tabs.setTabToolTip(index, tip)
            tab.errorOccurred.connect(self._on_tab_error)
        self.source_tab.infoLoaded.connect(self.ingest_tab.set_source_info)
        self.ingest_tab.finished.connect(lambda _r: self.models_tab.refresh())
        self.setCentralWidget(self.tabs)
        self.status_source = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.hide()
        self.statusBar().addWidget(self.status_source, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self._busy_timer = QTimer(self, singleShot=True, interval=BUSY_DELAY_MS)
        self._busy_timer.timeout.connect(self._show_busy)
        self._build_menus()
        self.studio.sourceChanged.connect(self._on_studio_source_changed)
        self._restore_settings()

    # -- menus --------------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open SQLite file…", self._on_open_triggered, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Open database &URL…", self._on_open_url_triggered, "Ctrl+Shift+O")
        self._action(file_menu, "Use the &demo shop", lambda: self.open_source(str(self.workspace.demo_shop)))
        self.recent_menu = file_menu.addMenu("&Recent sources")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        run_menu = self.menuBar().addMenu("&Run")
        self.run_all_action = self._action(run_menu, "Run &everything", self.run_everything, "Ctrl+R")
        self.run_all_action.setToolTip("Ingest → build models → Excel stages → reconcile the two roads")
        self._action(run_menu, "&Ingest", lambda: self.ingest_tab.start_ingest())
        self._action(run_menu, "&Build models", lambda: self.models_tab.build())
        self._action(run_menu, "E&xcel stages", lambda: self.excel_tab.run("all"))
        self.cancel_action = self._action(run_menu, "&Cancel", self.cancel_jobs, Qt.Key.Key_Escape)
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&About", self._on_about_triggered)

    def _action(self, menu, text, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)
        return action

    # -- start-up -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Show the workspace's source, creating the demo shop first if there is none."""
        # Everything built so far (modules, widgets) lives as long as the window: move it out of the
        # garbage collector's reach, so its full passes — which hold the GIL, freezing the window —
        # only walk what the jobs create.
        gc.freeze()
        shop = self.workspace.demo_shop
        if shop.exists():
            self.open_source(self.studio.source if self.studio.source else str(shop))
            return
        self.status_source.setText(f"Creating the demo shop in {shop} …")
        job = self.studio.create_demo_shop(FIRST_LAUNCH_SCALE)
        self.track(job)
        job.on_success(lambda _r: self.open_source(str(shop))).on_failure(self._on_job_failed)

    def open_source(self, location: str) -> None:
        from desktop_app.core.oltp.source import parse_source

        try:
            spec = parse_source(location)
        except SourceError as error:
            self.source_tab.message.show_error(error)
            return
        self._remember_source(location if spec.url is None else spec.label)
        self.studio.set_source(location)
        self.models_tab.refresh()

    def _on_studio_source_changed(self, location: str) -> None:
        from desktop_app.core.oltp.source import parse_source

        label = parse_source(location).label
        self.status_source.setText(f"Source: {label}   ·   Warehouse: {self.studio.warehouse_path}")

    # -- jobs and progress --------------------------------------------------------------------------
    def track(self, job: Job) -> Job:
        """Show a job's progress in the status bar (only if it runs longer than half a second)."""
        self._busy_timer.start()
        job.on_progress(self._on_job_progressed)
        job.on_finished(self._on_job_finished)
        return job

    def _show_busy(self) -> None:
        self.progress.show()

    def _on_job_progressed(self, progress: Progress) -> None:
        if progress.fraction is not None:
            self.progress.setValue(int(progress.fraction * 100))
        self.progress.setFormat(f"{progress.target or progress.stage}: %p%")

    def _on_job_finished(self) -> None:
        self._busy_timer.stop()
        self.progress.hide()

    def run_everything(self) -> Job:
        self.statusBar().showMessage("Running everything: ingest → models → Excel → reconciliation …")
        job = self.track(self.studio.run_everything())
        job.on_success(self._on_pipeline_done).on_failure(self._on_job_failed)
        job.signals.cancelled.connect(lambda: self.statusBar().showMessage("Cancelled", 5000))
        return job

    def _on_pipeline_done(self, result) -> None:
        if result.ingest:
            self.ingest_tab.show_report(result.ingest)
        if result.models:
            self.models_tab.show_run(result.models)
        if result.excel:
            self.excel_tab.show_results(result.excel)
        if result.roads:
            self.models_tab.show_roads(result.roads)
        self.statusBar().showMessage(" · ".join(result.summary()), 15000)

    def cancel_jobs(self) -> None:
        if self.runner.live_jobs:
            self.runner.cancel_all()
            self.statusBar().showMessage("Cancelling …", 3000)

    def _on_job_failed(self, info: ErrorInfo) -> None:
        show_error(self, info)

    def _on_tab_error(self, info: ErrorInfo) -> None:
        # Fixable problems are already shown inline in the tab; only the unexpected get a dialog.
        from desktop_app.core.errors import AppError

        if not isinstance(info.error, AppError | Cancelled):
            show_error(self, info)

    # -- opening sources ----------------------------------------------------------------------------
    def _on_open_triggered(self) -> None:
        settings = QSettings()
        folder = settings.value("folders/open", str(self.workspace.root))
        path, _ = QFileDialog.getOpenFileName(self, "Open SQLite database", folder,
                                              "SQLite databases (*.sqlite *.sqlite3 *.db);;All files (*)")
        if path:
            settings.setValue("folders/open", str(path.rsplit("/", 1)[0]))
            self.open_source(path)

    def _on_open_url_triggered(self) -> None:
        url, ok = QInputDialog.getText(self, "Open database URL",
                                       "SQLAlchemy URL, e.g. postgresql+psycopg://user:password@host/db\n"
                                       "(the password is used for this session only, never stored)",
                                       QLineEdit.EchoMode.Normal)
        if ok and url.strip():
            self.open_source(url.strip())

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls() and event.mimeData().urls()[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.open_source(event.mimeData().urls()[0].toLocalFile())

    def _remember_source(self, label: str) -> None:
        """Recent sources hold file paths and password-free URLs only."""
        settings = QSettings()
        recent = [r for r in (settings.value("sources/recent") or []) if r != label]
        recent = [label, *recent][:MAX_RECENT]
        settings.setValue("sources/recent", recent)
        self.recent_menu.clear()
        for entry in recent:
            action = self.recent_menu.addAction(entry)
            action.triggered.connect(lambda _checked=False, e=entry: self.open_source(e))

    # -- settings and closing -----------------------------------------------------------------------
    def _restore_settings(self) -> None:
        settings = QSettings()
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        for name, splitter in self._splitters().items():
            state = settings.value(f"splitters/{name}")
            if state is not None:
                splitter.restoreState(state)
        recent = settings.value("sources/recent") or []
        for entry in recent:
            action = self.recent_menu.addAction(entry)
            action.triggered.connect(lambda _checked=False, e=entry: self.open_source(e))

    def _splitters(self) -> dict:
        return {"source": self.source_tab.splitter, "ingest": self.ingest_tab.splitter,
                "excel": self.excel_tab.splitter, "models": self.models_tab.splitter}

    def _on_about_triggered(self) -> None:
        import duckdb
        import PySide6
        import sqlalchemy

        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<b>{APP_NAME}</b> {__version__}<br>Python {platform.python_version()}, "
                          f"Qt/PySide6 {PySide6.__version__}, DuckDB {duckdb.__version__}, "
                          f"SQLAlchemy {sqlalchemy.__version__}<br>Workspace: {self.workspace.root}")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.runner.live_jobs:
            answer = QMessageBox.question(self, "Work in progress",
                                          "A job is still running. Cancel it and quit?")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.runner.shutdown()
        self.source_tab.model.release()
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        for name, splitter in self._splitters().items():
            settings.setValue(f"splitters/{name}", splitter.saveState())
        super().closeEvent(event)

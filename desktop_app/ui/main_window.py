"""The main window: tabs, menus, status bar; it wires services to tabs and owns the job runner."""

from __future__ import annotations

import platform

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QProgressBar, QTabWidget

from desktop_app import APP_NAME, __version__
from desktop_app.core.oltp.demo_shop import create_shop
from desktop_app.core.progress import Progress
from desktop_app.paths import Workspace
from desktop_app.services.jobs import ErrorInfo, Job, JobRunner
from desktop_app.ui.error_dialog import show_error
from desktop_app.ui.tabs.source_tab import SourceTab

FIRST_LAUNCH_SCALE = 0.02


class MainWindow(QMainWindow):
    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self.runner = JobRunner(self)
        self.setWindowTitle(APP_NAME)
        self.resize(1200, 780)
        self.tabs = QTabWidget()
        self.source_tab = SourceTab(self.runner)
        self.source_tab.errorOccurred.connect(lambda info: show_error(self, info))
        self.tabs.addTab(self.source_tab, "Source")
        self.setCentralWidget(self.tabs)
        self.status_source = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(240)
        self.progress.hide()
        self.statusBar().addWidget(self.status_source, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self._build_menus()
        settings = QSettings()
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_action = QAction("&Open SQLite file…", self, shortcut=QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self._on_open_triggered)
        file_menu.addAction(open_action)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About", self)
        about.triggered.connect(self._on_about_triggered)
        help_menu.addAction(about)

    def start(self) -> None:
        """Show the workspace's source, creating the demo shop first if there is none."""
        shop = self.workspace.demo_shop
        if shop.exists():
            self.open_source(str(shop))
            return
        self.status_source.setText(f"Creating the demo shop in {shop} …")
        self.progress.show()
        job = Job(create_shop, shop, scale=FIRST_LAUNCH_SCALE, title="Create demo shop")
        job.on_progress(self._on_job_progressed).on_success(lambda _r: self.open_source(str(shop)))
        job.on_failure(self._on_job_failed).on_finished(self.progress.hide)
        self.runner.submit(job, lane="writer")

    def open_source(self, location: str) -> None:
        self.status_source.setText(f"Source: {location}   Warehouse: {self.workspace.warehouse}")
        self.source_tab.set_source(location)

    def _on_open_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open SQLite database", str(self.workspace.root),
                                              "SQLite databases (*.sqlite *.sqlite3 *.db);;All files (*)")
        if path:
            self.open_source(path)

    def _on_job_progressed(self, progress: Progress) -> None:
        if progress.fraction is not None:
            self.progress.setValue(int(progress.fraction * 100))
        self.progress.setFormat(progress.message or "%p%")

    def _on_job_failed(self, info: ErrorInfo) -> None:
        show_error(self, info)

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
        QSettings().setValue("window/geometry", self.saveGeometry())
        super().closeEvent(event)

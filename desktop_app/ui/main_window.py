"""The main window: tabs, menus, status bar; it wires the services to the tabs and owns the runner.

What every tab shows comes from the workspace's state on disk, read on launch and again after every
writer job (``Studio.warehouseChanged``), so a relaunch shows what was done before, and two windows
or a CLI run never disagree with what the window says.
"""

from __future__ import annotations

import gc
import logging
import platform
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QTabWidget

from desktop_app import APP_NAME, __version__
from desktop_app.core.progress import Progress
from desktop_app.paths import Workspace, sql_project_dir
from desktop_app.services.jobs import ErrorInfo, Job, JobRunner, JobSlot
from desktop_app.services.settings import Settings, default_settings_path
from desktop_app.services.studio import SourceView, Studio
from desktop_app.ui.dialogs.url_dialog import UrlDialog
from desktop_app.ui.error_dialog import present_error
from desktop_app.ui.icons import icon
from desktop_app.ui.tabs.console_tab import ConsoleTab
from desktop_app.ui.tabs.excel_tab import ExcelTab
from desktop_app.ui.tabs.ingest_tab import IngestTab
from desktop_app.ui.tabs.models_tab import ModelsTab
from desktop_app.ui.tabs.overview_tab import OverviewTab
from desktop_app.ui.tabs.source_tab import SourceTab
from desktop_app.ui.widgets.elided_label import ElidedLabel
from desktop_app.ui.widgets.job_progress import JobProgress
from desktop_app.ui.window_session import WindowSession

log = logging.getLogger(__name__)

FIRST_LAUNCH_SCALE = 0.02
OPENS = {"source": ("source", None), "ingest": ("ingest", None), "raw": ("console", None),
         "models": ("models", 0), "marts": ("models", 3), "charts": ("models", 4),
         "excel_raw": ("excel", "raw"), "excel_intermediate": ("excel", "intermediate"),
         "excel_final": ("excel", "final"), "exports": ("export", None)}


class MainWindow(QMainWindow):
    def __init__(self, workspace: Workspace, settings: Settings | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.settings = settings or Settings(default_settings_path())
        self.runner = JobRunner(self)
        self.runner.unhandledFailure.connect(self._on_unhandled_failure)
        self.studio = Studio(workspace, self.runner, self)
        self.state = None
        self.state_slot = JobSlot(self.runner, self)
        self.opening = JobSlot(self.runner, self)
        self.pipeline: Job | None = None
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.resize(1400, 880)
        self.tabs = QTabWidget()
        self.overview_tab = OverviewTab()
        self.source_tab = SourceTab(self.studio)
        self.ingest_tab = IngestTab(self.studio, self.settings)
        self.excel_tab = ExcelTab(self.studio, self.settings)
        self.models_tab = ModelsTab(self.studio)
        self.console_tab = ConsoleTab(self.studio, self.settings)
        for tab, title, tip in (
                (self.overview_tab, "Overview", "The whole data flow, what is done and what is stale"),
                (self.source_tab, "Source", "The OLTP database: tables, schema, rows"),
                (self.ingest_tab, "Ingestion", "Copy the source into the DuckDB warehouse"),
                (self.excel_tab, "Excel", "The Excel road: raw export → intermediate → report"),
                (self.models_tab, "Models", "The in-database road: dbt-style models"),
                (self.console_tab, "Query", "A read-only SQL console on the warehouse")):
            index = self.tabs.addTab(tab, title)
            self.tabs.setTabToolTip(index, tip)
        self.source_tab.viewLoaded.connect(self._on_source_view_loaded)
        self.overview_tab.openRequested.connect(self.open_box)
        self.overview_tab.run_button.clicked.connect(lambda: self.run_everything())
        self.models_tab.export_button.clicked.connect(lambda: self.open_export_dialog())
        self.excel_tab.originRequested.connect(lambda figure: (  # Excel's *Where does this come from?*
            self.tabs.setCurrentWidget(self.models_tab), self.models_tab.show_figure_origin(figure)))
        self.studio.warehouseChanged.connect(self.refresh_state)
        self.setCentralWidget(self.tabs)
        self.status_source = ElidedLabel(mode=Qt.TextElideMode.ElideMiddle)
        self.status_progress = JobProgress()
        self.status_progress.setMaximumWidth(700)
        self.status_progress.label.setMinimumWidth(160)
        self.statusBar().addWidget(self.status_source, 1)
        self.statusBar().addPermanentWidget(self.status_progress)
        self._build_menus()
        self.studio.sourceChanged.connect(lambda _location: self._show_where())
        self.session = WindowSession(self)
        self.session.restore_layout()
        self._fill_recent_menus()
        self.session.restore_session()
        self._show_where()

    # -- menus --------------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open SQLite file…", self._on_open_triggered, QKeySequence.StandardKey.Open,
                     "open")
        self._action(file_menu, "Open database &URL…", lambda: self.open_url_dialog(), "Ctrl+Shift+O", "database")
        self._action(file_menu, "Use the &demo shop", lambda: self.open_source(str(self.workspace.demo_shop)))
        self.recent_menu = file_menu.addMenu("&Recent sources")
        file_menu.addSeparator()
        self._action(file_menu, "Open model &project…", self._on_open_project_triggered, None, "folder")
        self.recent_projects_menu = file_menu.addMenu("Recent pro&jects")
        self._action(file_menu, "Open &warehouse…", self._on_open_warehouse_triggered)
        self.recent_warehouses_menu = file_menu.addMenu("Recent ware&houses")
        self._action(file_menu, "Use the workspace's project and warehouse", self.use_workspace_defaults)
        file_menu.addSeparator()
        self._action(file_menu, "Export for &BI…", lambda: self.open_export_dialog(), "Ctrl+E", "save")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        run_menu = self.menuBar().addMenu("&Run")
        self.run_all_action = self._action(run_menu, "Run &everything", self.run_everything, "Ctrl+R", "run")
        self.run_all_action.setToolTip("Ingest → build models → Excel stages → reconcile the two roads")
        self._action(run_menu, "&Ingest", lambda: self.ingest_tab.start_ingest())
        self._action(run_menu, "&Build models", lambda: self.models_tab.build())
        self._action(run_menu, "E&xcel stages", lambda: self.excel_tab.run("all"))
        self.cancel_action = self._action(run_menu, "&Cancel", self.cancel_jobs, Qt.Key.Key_Escape, "cancel")
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&About", self._on_about_triggered)

    def _action(self, menu, text, slot, shortcut=None, icon_name: str | None = None) -> QAction:
        action = QAction(icon(icon_name), text, self) if icon_name else QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)
        return action

    def _fill_recent(self, menu, key: str, opener) -> None:
        menu.clear()
        entries = self.settings.get(key)
        for entry in entries:
            action = menu.addAction(entry)
            action.triggered.connect(lambda _checked=False, e=entry: opener(e))
        menu.setEnabled(bool(entries))

    def _fill_recent_menus(self) -> None:
        self._fill_recent(self.recent_menu, "sources/recent", self.open_recent_source)
        self._fill_recent(self.recent_projects_menu, "projects/recent", lambda e: self.open_project(Path(e)))
        self._fill_recent(self.recent_warehouses_menu, "warehouses/recent", lambda e: self.open_warehouse(Path(e)))

    # -- start-up -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Show the workspace's source (creating the demo shop first if there is none) and its state."""
        # Everything built so far (modules, widgets) lives as long as the window: move it out of the
        # garbage collector's reach, so its full passes — which hold the GIL, freezing the window —
        # only walk what the jobs create.
        gc.freeze()
        self.refresh_state()
        self.models_tab.refresh()
        shop = self.workspace.demo_shop
        if self.studio.source != str(shop) or shop.exists():
            self.open_source(self.studio.source)
            return
        job = self.studio.create_demo_shop(FIRST_LAUNCH_SCALE)
        self.source_tab.progress.track(job, "Creating the demo shop (first launch)", finish_text=lambda r: (
            f"Demo shop created: {r.total_rows:,} rows at scale {r.scale:g}", "ok"))
        job.on_success(lambda _r: self.open_source(str(shop)))
        job.on_failure(lambda info: present_error(self, info, self.source_tab.message))

    def refresh_state(self) -> Job:
        """Read the workspace's state again; every tab shows it."""
        return self.state_slot.start(self.studio.state(), on_success=self._show_state,
                                     on_failure=lambda info: present_error(self, info))

    def _show_state(self, state) -> None:
        self.state = state
        self.overview_tab.show_state(state)
        self.ingest_tab.show_state(state)
        self.excel_tab.show_state(state)
        self.models_tab.show_state(state)

    # -- opening sources ----------------------------------------------------------------------------
    def open_source(self, location: str) -> Job:
        """Open ``location`` and switch to it only once it answered; a failure keeps the current source."""
        job = self.studio.inspect(location)
        self.source_tab.heading.setText(f"Opening {location if '://' not in location else 'the database'} …")

        def opened(view: SourceView) -> None:
            self.settings.remember("sources/recent", view.info.label)
            self._fill_recent_menus()
            self.studio.set_source(location)
            self.source_tab.show_view(view)

        def failed(info: ErrorInfo) -> None:
            self.source_tab.heading.setText(f"{self.studio.source_label}" if self.source_tab.view else
                                            "No source open")
            present_error(self, info, self.source_tab.message)
            if self.source_tab.view is None:
                self.overview_tab.show_source(None, str(info.error))
            self.tabs.setCurrentWidget(self.source_tab)

        return self.opening.start(job, on_success=opened, on_failure=failed)

    def open_recent_source(self, entry: str) -> None:
        if "***" in entry:  # remembered without its password: ask for it
            self.open_url_dialog(entry)
        else:
            self.open_source(entry)

    def open_url_dialog(self, prefill: str = "") -> UrlDialog:
        dialog = UrlDialog(self, prefill)
        dialog.accepted.connect(lambda: self.open_source(dialog.location()))
        dialog.open()
        return dialog

    def _on_source_view_loaded(self, view: SourceView) -> None:
        self.ingest_tab.set_source_view(view)
        self.overview_tab.show_source(view)

    def _on_open_triggered(self) -> None:
        folder = self.settings.get("folders/open") or str(self.workspace.root)
        path, _ = QFileDialog.getOpenFileName(self, "Open SQLite database", folder,
                                              "SQLite databases (*.sqlite *.sqlite3 *.db);;All files (*)")
        if path:
            self.settings.set("folders/open", str(Path(path).parent))
            self.open_source(path)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and event.mimeData().urls()[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        self.open_source(event.mimeData().urls()[0].toLocalFile())

    # -- your own project and warehouse -------------------------------------------------------------
    def _on_open_project_triggered(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a dbt-style model project (the folder with "
                                                        "dbt_project.yml)", self.settings.get("folders/open"))
        if folder:
            self.open_project(Path(folder))

    def open_project(self, folder: Path) -> None:
        if not (folder / "dbt_project.yml").is_file():
            self.models_tab.message.show_message(f"{folder} has no dbt_project.yml: it is not a dbt project.",
                                                 "error")
            self.settings.forget("projects/recent", str(folder))
            self._fill_recent_menus()
            self.tabs.setCurrentWidget(self.models_tab)
            return
        self.settings.remember("projects/recent", str(folder))
        self._fill_recent_menus()
        self.studio.set_project(folder)
        self.models_tab.results = {}
        self.models_tab.refresh()
        self._show_where()
        self.tabs.setCurrentWidget(self.models_tab)

    def _on_open_warehouse_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a DuckDB warehouse", self.settings.get("folders/open"),
                                              "DuckDB files (*.duckdb *.db);;All files (*)")
        if path:
            self.open_warehouse(Path(path))

    def open_warehouse(self, path: Path) -> None:
        if not path.is_file():
            self.overview_tab.summary.show_message(f"No warehouse at {path}.", "error")
            self.settings.forget("warehouses/recent", str(path))
            self._fill_recent_menus()
            return
        self.settings.remember("warehouses/recent", str(path))
        self._fill_recent_menus()
        self.studio.set_warehouse(path)
        self.models_tab.results = {}
        self.models_tab.refresh()
        self._show_where()

    def use_workspace_defaults(self) -> None:
        self.studio.warehouse_path = self.workspace.warehouse
        self.studio.set_project(sql_project_dir())
        self.models_tab.refresh()
        self._show_where()

    def _show_where(self) -> None:
        text = (f"Source: {self.studio.source_label}   ·   Warehouse: {self.studio.warehouse_path}   ·   "
                f"Project: {self.studio.project_dir}")
        self.status_source.setText(text)
        self.status_source.setToolTip(text.replace("   ·   ", "\n"))

    # -- running everything -------------------------------------------------------------------------
    def open_export_dialog(self):
        from desktop_app.ui.dialogs.export_dialog import ExportDialog

        dialog = ExportDialog(self.studio, self.settings, self)
        dialog.finished.connect(lambda _result: self.refresh_state())
        dialog.open()
        return dialog

    def run_everything(self) -> Job | None:
        if self.pipeline is not None:
            return self.pipeline
        export_dir = None
        if self.settings.get("export/with_run_everything") and self.settings.get("export/folder"):
            export_dir = Path(self.settings.get("export/folder"))
        job = self.studio.run_everything(export_dir=export_dir, export_format=self.settings.get("export/format"))
        self.pipeline = job
        self.overview_tab.run_button.setEnabled(False)
        self.run_all_action.setEnabled(False)
        self.overview_tab.summary.clear()
        for progress in (self.overview_tab.progress, self.status_progress):
            progress.track(job, "Run everything", finish_text=self._pipeline_finish_text)
        job.on_progress(self._on_pipeline_progress).on_success(self._on_pipeline_done)
        job.on_failure(self._on_pipeline_failed)
        job.on_finished(self._on_pipeline_finished)
        return job

    def _on_pipeline_progress(self, progress: Progress) -> None:
        self.overview_tab.set_running(progress.target)

    @staticmethod
    def _pipeline_finish_text(result) -> tuple[str, str]:
        if result.ok:
            equal = sum(c.equal for c in result.roads)
            return f"Everything ran: {equal} of {len(result.roads)} figures equal on both roads", "ok"
        return "Run everything stopped: " + (result.summary() or ["nothing ran"])[-1], "error"

    def _on_pipeline_done(self, result) -> None:
        if result.ingest:
            self.ingest_tab.show_report(result.ingest)
        if result.models:
            self.models_tab.show_run(result.models)
        if result.excel:
            self.excel_tab.show_results(result.excel)
        if result.roads:
            self.models_tab.show_roads(result.roads)
        self.overview_tab.show_summary(result.summary(), result.ok)

    def _on_pipeline_failed(self, info: ErrorInfo) -> None:
        present_error(self, info, self.overview_tab.summary)

    def _on_pipeline_finished(self) -> None:
        self.pipeline = None
        self.overview_tab.set_running(None)
        self.overview_tab.run_button.setEnabled(True)
        self.run_all_action.setEnabled(True)

    def cancel_jobs(self) -> None:
        if self.runner.live_jobs:
            self.runner.cancel_all()
            self.statusBar().showMessage("Cancelling …", 3000)

    def open_box(self, key: str) -> None:
        """Open the tab behind an overview box (and the view or stage inside it)."""
        tab, inner = OPENS.get(key, ("overview", None))
        if tab == "export":
            self.open_export_dialog()
            return
        widget = {"source": self.source_tab, "ingest": self.ingest_tab, "excel": self.excel_tab,
                  "models": self.models_tab, "console": self.console_tab}[tab]
        self.tabs.setCurrentWidget(widget)
        if tab == "models" and inner is not None:
            self.models_tab.views.setCurrentIndex(inner)
        elif tab == "excel" and inner is not None:
            self.excel_tab.stages.setCurrentItem(self.excel_tab._item(inner))
        elif tab == "console" and key == "raw":
            self.console_tab.editor.setPlainText("-- The raw layer: every table the ingestion loaded\n"
                                                 "select table_name, estimated_size as rows, column_count\n"
                                                 "from duckdb_tables() where schema_name = 'raw' order by 1\n")
            self.console_tab.run()

    def _on_unhandled_failure(self, job: Job, info: ErrorInfo) -> None:
        log.error("Job %r failed with no handler: %s", job.title, info.details)
        present_error(self, info)

    # -- about and closing ---------------------------------------------------------------------------
    def _on_about_triggered(self) -> None:
        import duckdb
        import PySide6
        import sqlalchemy

        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<b>{APP_NAME}</b> {__version__}<br>Python {platform.python_version()}, "
                          f"Qt/PySide6 {PySide6.__version__}, DuckDB {duckdb.__version__}, "
                          f"SQLAlchemy {sqlalchemy.__version__}<br>Workspace: {self.workspace.root}<br>"
                          f"Settings: {self.settings.path}")

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.runner.writing:
            titles = ", ".join(job.title for job in self.runner.writing)
            answer = QMessageBox.question(self, "Work in progress",
                                          f"Still running: {titles}. Cancel it (what it was writing is rolled "
                                          "back) and quit?")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.runner.shutdown()
        for model in (self.source_tab.model, self.models_tab.result_model, self.console_tab.model):
            model.release()
        self.session.save()
        super().closeEvent(event)


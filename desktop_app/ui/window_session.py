"""What the main window remembers between launches, and only what the user did.

The layout (geometry, tab, splitters) and the session (source, project, warehouse, export folder)
go to the settings file when the window closes and come back when it opens; each path only if it
is still there. A source URL is stored in its redacted form, so a password is never written down —
and such a source is not reopened, since it could not connect without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.paths import sql_project_dir

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow

TABS = ("overview", "source", "ingest", "excel", "models", "console")


class WindowSession:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.settings = window.settings
        self.studio = window.studio

    def splitters(self) -> dict:
        w = self.window
        return {"source": w.source_tab.splitter, "ingest": w.ingest_tab.splitter, "excel": w.excel_tab.splitter,
                "models": w.models_tab.splitter, "console": w.console_tab.splitter}

    def restore_layout(self) -> None:
        geometry = self.settings.get("window/geometry")
        if geometry is not None:
            self.window.restoreGeometry(geometry)
        for name, splitter in self.splitters().items():
            state = self.settings.get(f"splitters/{name}")
            if state is not None:
                splitter.restoreState(state)
        tab = self.settings.get("window/tab")
        if tab in TABS:
            self.window.tabs.setCurrentIndex(TABS.index(tab))

    def restore_session(self) -> None:
        """Reopen the source (unless it needs a password), the project and the warehouse of last time."""
        if self.settings.get("export/folder"):
            self.studio.export_dir = Path(self.settings.get("export/folder"))
        source = self.settings.get("session/source")
        if source and "***" not in source and ("://" in source or Path(source).is_file()):
            self.studio.source = source
        project = self.settings.get("session/project")
        if project and (Path(project) / "dbt_project.yml").is_file():
            self.studio.project_dir = Path(project)
        warehouse = self.settings.get("session/warehouse")
        if warehouse and Path(warehouse).is_file():
            self.studio.warehouse_path = Path(warehouse)

    def save(self) -> None:
        studio, settings = self.studio, self.settings
        source = studio.source_label if "://" in studio.source else studio.source
        settings.set("session/source", source)
        own_project = studio.project_dir == sql_project_dir()
        settings.set("session/project", "" if own_project else str(studio.project_dir))
        own_warehouse = studio.warehouse_path == self.window.workspace.warehouse
        settings.set("session/warehouse", "" if own_warehouse else str(studio.warehouse_path))
        settings.set("window/geometry", self.window.saveGeometry())
        settings.set("window/tab", TABS[self.window.tabs.currentIndex()])
        for name, splitter in self.splitters().items():
            settings.set(f"splitters/{name}", splitter.saveState())
        settings.sync()

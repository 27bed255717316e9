"""The only module that knows where bundled files and the user's workspace live.

From source, ``resources/`` and ``sql/`` sit next to the ``desktop_app`` package; in a
PyInstaller bundle they sit under ``sys._MEIPASS``. The workspace (the demo shop, the warehouse,
workbooks, logs) is in the platform's per-user data folder, never next to the executable.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_DIR_NAME = "oltp-olap"


def bundle_root() -> Path:
    """The folder holding ``resources/`` and ``sql/``: the repository, or the frozen bundle."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    return Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    return bundle_root() / "resources"


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def sql_project_dir() -> Path:
    """The bundled dbt-style project."""
    return bundle_root() / "sql"


def user_data_dir() -> Path:
    """The per-user application data folder, following each platform's convention."""
    if sys.platform.startswith("win"):
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / APP_DIR_NAME


def default_workspace() -> Path:
    """The workspace folder: ``$OLTP_OLAP_WORKSPACE`` if set, else the user data folder."""
    override = os.environ.get("OLTP_OLAP_WORKSPACE")
    return Path(override).expanduser() if override else user_data_dir() / "workspace"


class Workspace:
    """Well-known file names inside one workspace folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def demo_shop(self) -> Path:
        return self.root / "demo_shop.sqlite"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def excel_dir(self) -> Path:
        return self.root / "excel"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    def ensure(self) -> Workspace:
        for folder in (self.root, self.excel_dir, self.logs_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self

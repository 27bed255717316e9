"""The window's settings: one declarative spec (key, type, default, doc) over one INI file.

Why a file of our own instead of ``QSettings()``'s defaults: the default location is global to the
process, so a self-test, a benchmark or a test that opened a window wrote its temporary paths into
the user's real settings. Here every ``Settings`` names its file: the user's own
(``default_settings_path()``) only where the user launches the window.

Why typed reads: an INI file cannot tell a one-element list from a string, so QSettings handed back
``'/tmp/shop.sqlite'`` and the recent-sources menu split it into letters. Every value is read back
with its declared type.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 8


@dataclass(frozen=True)
class Setting:
    key: str
    type: type
    default: Any
    doc: str


SPEC = {s.key: s for s in (
    Setting("sources/recent", list, [], "recently opened sources: file paths and password-free URLs"),
    Setting("projects/recent", list, [], "recently opened dbt-style model projects (folders)"),
    Setting("warehouses/recent", list, [], "recently opened DuckDB warehouse files"),
    Setting("session/source", str, "", "the source open when the window closed (reopened on launch)"),
    Setting("session/project", str, "", "the model project open when the window closed; empty: the bundled one"),
    Setting("session/warehouse", str, "", "the warehouse open when the window closed; empty: the workspace's"),
    Setting("folders/open", str, "", "the folder the Open dialogs start in"),
    Setting("folders/save", str, "", "the folder Save As… starts in"),
    Setting("export/folder", str, "", "the folder exports for BI tools go to (remembered)"),
    Setting("export/format", str, "parquet", "the format of those exports"),
    Setting("export/with_run_everything", bool, False, "Run everything ends with that export"),
    Setting("ingest/look_back_seconds", int, 300, "incremental watermark loads re-read this window before the mark"),
    Setting("window/geometry", QByteArray, None, "the main window's size and position"),
    Setting("window/tab", str, "", "the tab shown last"),
    Setting("splitters/source", QByteArray, None, "Source tab splitter"),
    Setting("splitters/ingest", QByteArray, None, "Ingestion tab splitter"),
    Setting("splitters/excel", QByteArray, None, "Excel tab splitter"),
    Setting("splitters/models", QByteArray, None, "Models tab splitter"),
    Setting("splitters/console", QByteArray, None, "Query tab splitter"),
)}


def default_settings_path() -> Path:
    """The user's own settings file, in the platform's per-user configuration folder."""
    if sys.platform.startswith("win"):
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Preferences"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "oltp-olap" / "oltp-olap.ini"


class Settings:
    """Typed access to one settings file; unknown keys are a programming error."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._store = QSettings(str(self.path), QSettings.Format.IniFormat)

    def get(self, key: str) -> Any:
        spec = SPEC[key]
        if spec.type is QByteArray:
            value = self._store.value(key)
            return value if isinstance(value, QByteArray) else spec.default
        if spec.type is list:
            return [str(v) for v in self._store.value(key, [], type=list) if str(v)]
        return self._store.value(key, spec.default, type=spec.type)

    def set(self, key: str, value: Any) -> None:
        SPEC[key]  # noqa: B018 - a KeyError for an undeclared key
        self._store.setValue(key, value)

    def remember(self, key: str, entry: str) -> list[str]:
        """Put ``entry`` first in the recent list ``key`` (no duplicates, at most ``MAX_RECENT``)."""
        recent = [entry, *(e for e in self.get(key) if e != entry)][:MAX_RECENT]
        self.set(key, recent)
        return recent

    def forget(self, key: str, entry: str) -> list[str]:
        recent = [e for e in self.get(key) if e != entry]
        self.set(key, recent)
        return recent

    def sync(self) -> None:
        self._store.sync()

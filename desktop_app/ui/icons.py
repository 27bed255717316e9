"""Icons for the actions a user scans for (run, cancel, open, save, build), from the platform's own
style: they match the desktop, cost nothing in the bundle, and need no icon font (qtawesome would add
a dependency and fonts for a handful of glyphs)."""

from __future__ import annotations

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle

_NAMES = {
    "run": QStyle.StandardPixmap.SP_MediaPlay,
    "cancel": QStyle.StandardPixmap.SP_BrowserStop,
    "open": QStyle.StandardPixmap.SP_DialogOpenButton,
    "save": QStyle.StandardPixmap.SP_DialogSaveButton,
    "build": QStyle.StandardPixmap.SP_BrowserReload,
    "folder": QStyle.StandardPixmap.SP_DirOpenIcon,
    "database": QStyle.StandardPixmap.SP_DriveHDIcon,
    "copy": QStyle.StandardPixmap.SP_FileDialogContentsView,
}


def icon(name: str) -> QIcon:
    return QApplication.style().standardIcon(_NAMES[name])

"""The one place an error becomes words in the window.

``present_error`` decides where: a cancel is never an error (the caller shows "Cancelled" where
the work was); an ``AppError`` — a problem the user can fix — goes inline into the tab's message
bar when there is one, else into a dialog with its hint; anything else is "Unexpected error" in a
dialog with details to copy, and is logged.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from desktop_app.core.errors import AppError, Cancelled
from desktop_app.services.jobs import ErrorInfo

log = logging.getLogger(__name__)


def present_error(parent: QWidget | None, info: ErrorInfo | BaseException, bar=None) -> None:
    error = info.error if isinstance(info, ErrorInfo) else info
    details = info.details if isinstance(info, ErrorInfo) else repr(info)
    if isinstance(error, Cancelled):
        return
    if isinstance(error, AppError):
        log.info("%s", error)
        if bar is not None:
            bar.show_error(error)
            return
    elif bar is not None:
        bar.show_error(error)
    show_dialog(parent, error, details)


def show_dialog(parent: QWidget | None, error: BaseException, details: str) -> QMessageBox:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    if isinstance(error, AppError):
        box.setWindowTitle("Cannot continue")
        box.setText(error.user_message)
        box.setInformativeText(error.hint)
    else:
        log.error("Unexpected error: %s", details)
        box.setWindowTitle("Unexpected error")
        box.setText(f"Something went wrong: {error}")
        box.setInformativeText("The details are in the log; Copy details puts them on the clipboard.")
        box.setDetailedText(details)
        copy = box.addButton("Copy details", QMessageBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QApplication.clipboard().setText(details))
    box.addButton(QMessageBox.StandardButton.Close)
    box.open()
    return box

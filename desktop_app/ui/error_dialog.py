"""The one place an error becomes words in the window: an ``AppError`` shows its message and hint,
a cancel is a status word, anything else is "Unexpected error" with details to copy."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from desktop_app.core.errors import AppError, Cancelled
from desktop_app.services.jobs import ErrorInfo

log = logging.getLogger(__name__)


def show_error(parent: QWidget | None, info: ErrorInfo | BaseException) -> None:
    error = info.error if isinstance(info, ErrorInfo) else info
    details = info.details if isinstance(info, ErrorInfo) else repr(info)
    if isinstance(error, Cancelled):
        return
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
        box.setDetailedText(details)
        copy = box.addButton("Copy details", QMessageBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QApplication.clipboard().setText(details))
    box.addButton(QMessageBox.StandardButton.Close)
    box.open()

"""An inline message line for fixable problems and results (no dialog needed)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel


class MessageBar(QLabel):
    STYLES = {"info": "", "ok": "color: #1a7f37;", "warn": "color: #9a6700;", "error": "color: #cf222e;"}

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(self.textInteractionFlags())

    def show_message(self, text: str, kind: str = "info") -> None:
        self.setStyleSheet(self.STYLES.get(kind, ""))
        self.setText(text)

    def show_error(self, error: BaseException) -> None:
        from desktop_app.core.errors import AppError

        if isinstance(error, AppError):
            self.show_message(f"{error.user_message} {error.hint}".strip(), "error")
        else:
            self.show_message(f"Unexpected error: {error}", "error")

"""An inline message line for results and fixable problems (no dialog needed).

It never widens the window: the text is elided to the width the layout gives it (a refused
connection's message made the window 1774 px wide on a 1600 px screen), the whole text is in the
tooltip, and *Copy* puts it on the clipboard. A message stays until the next one replaces it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QHBoxLayout, QSizePolicy, QToolButton, QWidget

from desktop_app.ui import palette
from desktop_app.ui.widgets.elided_label import ElidedLabel


class MessageBar(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._text = ""
        self.kind = "info"
        self.label = ElidedLabel()
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QToolButton(text="Copy")
        self.copy_button.setToolTip("Copy the whole message")
        self.copy_button.setAutoRaise(True)
        self.copy_button.clicked.connect(lambda: QApplication.clipboard().setText(self._text))
        self.copy_button.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.copy_button)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def text(self) -> str:
        return self._text

    def show_message(self, text: str, kind: str = "info") -> None:
        self._text, self.kind = " ".join(text.split()) if "\n" not in text else text.replace("\n", " · "), kind
        self.label.setStyleSheet(palette.css(kind))
        self.label.setText(self._text)
        self.label.setToolTip(text)
        self.copy_button.setVisible(kind == "error" and bool(text))

    def show_error(self, error: BaseException) -> None:
        from desktop_app.core.errors import AppError

        if isinstance(error, AppError):
            self.show_message(f"{error.user_message} {error.hint}".strip(), "error")
        else:
            self.show_message(f"Unexpected error: {error}", "error")

    def clear(self) -> None:
        self.show_message("")

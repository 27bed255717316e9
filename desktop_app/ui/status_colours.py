"""The colours every tab uses for a status: green for success/pass/equal, amber for warn/skipped, red otherwise."""

from __future__ import annotations

from PySide6.QtGui import QBrush, QColor

GREEN, AMBER, RED = QBrush(QColor("#1a7f37")), QBrush(QColor("#9a6700")), QBrush(QColor("#cf222e"))
STATUS_BRUSH = {"success": GREEN, "pass": GREEN, "equal": GREEN, "warn": AMBER, "skipped": AMBER,
                "error": RED, "fail": RED, "failed": RED, "different": RED, "cancelled": AMBER}

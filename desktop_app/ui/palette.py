"""The one status palette of the app: every tab, the graph, the charts and the overview use it.

A status word maps to a kind (ok, warn, error, running, idle) and a kind to one colour, chosen to
read on both the light and the dark palette.
"""

from __future__ import annotations

from PySide6.QtGui import QBrush, QColor

COLOURS = {"ok": "#1a7f37", "warn": "#9a6700", "error": "#cf222e", "running": "#0969da", "idle": "#6e7781"}
FILLS = {"ok": "#2da44e", "warn": "#bf8700", "error": "#cf222e", "running": "#0969da", "idle": "#8c959f"}
KINDS = {
    "success": "ok", "pass": "ok", "equal": "ok", "done": "ok", "ok": "ok",
    "warn": "warn", "skipped": "warn", "cancelled": "warn", "stale": "warn", "interrupted": "warn",
    "error": "error", "fail": "error", "failed": "error", "different": "error",
    "running": "running", "loading": "running",
}
# Kinds of nodes that are not results: sources and seeds in the graph, series in charts.
SOURCE, SEED = "#0969da", "#8250df"
SERIES = ["#0969da", "#cf222e", "#2da44e", "#8250df", "#bf8700", "#1b7c83", "#e16f24", "#6e7781"]


def kind_of(status: str | None) -> str:
    return KINDS.get((status or "").lower(), "idle")


def colour(status: str | None) -> QColor:
    return QColor(COLOURS[kind_of(status)])


def fill(status: str | None) -> QColor:
    return QColor(FILLS[kind_of(status)])


def brush(status: str | None) -> QBrush:
    return QBrush(colour(status))


def css(kind: str) -> str:
    return f"color: {COLOURS[kind]};" if kind in COLOURS and kind != "idle" else ""

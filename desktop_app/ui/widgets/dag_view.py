"""The model graph: sources, seeds and models laid out in layers by depth, coloured by status."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSimpleTextItem, QGraphicsView

STATUS_COLOURS = {"success": "#2da44e", "pass": "#2da44e", "error": "#cf222e", "fail": "#cf222e",
                  "skipped": "#bf8700", "warn": "#bf8700", None: "#8c959f"}
KIND_COLOURS = {"source": "#0969da", "seed": "#8250df"}
NODE_W, NODE_H, GAP_X, GAP_Y = 170, 26, 60, 10


class DagView(QGraphicsView):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setToolTip("Sources (blue), seeds (purple) and models, coloured by their last status")

    def show_graph(self, nodes: list[dict], statuses: dict[str, str]) -> None:
        scene = self.scene()
        scene.clear()
        shown = {n["unique_id"]: n for n in nodes if n["resource_type"] in ("model", "seed")}
        for node in list(shown.values()):
            for parent in node["depends_on"]:
                if parent.startswith("source.") and parent not in shown:
                    shown[parent] = {"unique_id": parent, "name": parent.split(".", 2)[2], "resource_type": "source",
                                     "depends_on": []}
        depth: dict[str, int] = {}

        def level(uid: str) -> int:
            if uid not in depth:
                parents = [p for p in shown[uid]["depends_on"] if p in shown]
                depth[uid] = 1 + max((level(p) for p in parents), default=-1)
            return depth[uid]

        columns: dict[int, list[str]] = {}
        for uid in shown:
            columns.setdefault(level(uid), []).append(uid)
        position = {}
        for col, uids in columns.items():
            for row, uid in enumerate(sorted(uids, key=lambda u: shown[u]["name"])):
                position[uid] = QPointF(col * (NODE_W + GAP_X), row * (NODE_H + GAP_Y))
        edge_pen = QPen(QColor("#8c959f"), 1)
        for uid, node in shown.items():
            for parent in node["depends_on"]:
                if parent in position:
                    start = position[parent] + QPointF(NODE_W, NODE_H / 2)
                    end = position[uid] + QPointF(0, NODE_H / 2)
                    scene.addLine(start.x(), start.y(), end.x(), end.y(), edge_pen)
        for uid, node in shown.items():
            kind = node["resource_type"]
            colour = KIND_COLOURS.get(kind) if kind != "model" or uid not in statuses else None
            colour = colour or STATUS_COLOURS.get(statuses.get(uid), STATUS_COLOURS[None])
            rect = scene.addRect(QRectF(position[uid], position[uid] + QPointF(NODE_W, NODE_H)),
                                 QPen(Qt.PenStyle.NoPen), QBrush(QColor(colour)))
            rect.setToolTip(f"{node['name']} ({node.get('materialized', kind)}) — {statuses.get(uid, 'not run')}")
            label = QGraphicsSimpleTextItem(node["name"][:24])
            label.setBrush(QBrush(QColor("white")))
            label.setPos(position[uid] + QPointF(6, 5))
            scene.addItem(label)
        self.setSceneRect(scene.itemsBoundingRect().adjusted(-10, -10, 10, 10))

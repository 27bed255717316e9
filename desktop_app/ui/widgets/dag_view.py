"""The model graph: sources, seeds and models laid out in layers by depth, with arrows from each
node to the nodes built from it, coloured by the last run's status (a model whose data test failed
is red too), drawn by materialization (a table solid, a view dashed, an incremental model with a
double edge, an ephemeral one hollow). Wheel or the buttons zoom, dragging pans, *Fit* shows all;
clicking a node selects its model, double-clicking expands it to its columns (the Lineage view).
A legend explains the colours and edges.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFontMetrics, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.ui import palette

NODE_H, GAP_X, GAP_Y, MIN_W, MAX_W, PAD = 30, 70, 14, 120, 260, 8
EDGE = QColor("#8c959f")


class _Node(QGraphicsRectItem):
    def __init__(self, uid: str, rect: QRectF, view: DagView) -> None:
        super().__init__(rect)
        self.uid, self.view = uid, view
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAcceptHoverEvents(True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)

    def mousePressEvent(self, event) -> None:
        self.view.select(self.uid)
        self.view.nodeClicked.emit(self.uid)
        event.accept()

    def mouseDoubleClickEvent(self, event) -> None:
        self.view.nodeExpanded.emit(self.uid)
        event.accept()


class DagView(QGraphicsView):
    nodeClicked = Signal(str)  # a node's unique id
    nodeExpanded = Signal(str)  # double-click: show the node's columns (column lineage)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.nodes: dict[str, _Node] = {}
        self.selected: str | None = None
        self.auto_fit = True  # until the user zooms: the whole graph, whatever the view's size

    # -- drawing ------------------------------------------------------------------------------------
    def show_graph(self, nodes, statuses: dict[str, str], notes: dict[str, str] | None = None) -> None:
        """``nodes``: ModelNode-like objects; ``statuses``: unique id -> last status; ``notes``: tooltip lines."""
        notes = notes or {}
        self.scene().clear()
        self.nodes.clear()
        shown = {n.unique_id: n for n in nodes if n.resource_type in ("model", "seed", "snapshot")}
        parents = {uid: list(node.depends_on) for uid, node in shown.items()}
        for uid in list(shown):
            for parent in parents[uid]:
                if parent.startswith("source.") and parent not in parents:
                    parents[parent] = []
        metrics = QFontMetrics(self.font())
        name_of = {uid: shown[uid].name if uid in shown else uid.split(".", 2)[2] for uid in parents}
        position = self._layout(parents, name_of, metrics)
        for uid, ps in parents.items():
            for parent in ps:
                if parent in position:
                    self._arrow(position[parent], position[uid])
        for uid, rect in position.items():
            self._draw_node(uid, rect, shown.get(uid), name_of[uid], statuses.get(uid), notes.get(uid), metrics)
        self.setSceneRect(self.scene().itemsBoundingRect().adjusted(-20, -20, 20, 20))
        if self.selected in self.nodes:
            self.select(self.selected)
        if self.auto_fit:
            self.fit()

    @staticmethod
    def _layout(parents: dict[str, list[str]], name_of: dict[str, str], metrics: QFontMetrics) -> dict[str, QRectF]:
        """Columns by depth (sources first), rows by name; each column as wide as its longest name."""
        depth: dict[str, int] = {}

        def level(uid: str) -> int:
            if uid not in depth:
                depth[uid] = 1 + max((level(p) for p in parents[uid] if p in parents), default=-1)
            return depth[uid]

        columns: dict[int, list[str]] = {}
        for uid in parents:
            columns.setdefault(level(uid), []).append(uid)
        widths = {col: min(MAX_W, max(MIN_W, *(metrics.horizontalAdvance(name_of[u]) + 2 * PAD + 4 for u in uids)))
                  for col, uids in columns.items()}
        x, position = 0.0, {}
        for col in sorted(columns):
            for row, uid in enumerate(sorted(columns[col], key=lambda u: name_of[u])):
                position[uid] = QRectF(x, row * (NODE_H + GAP_Y), widths[col], NODE_H)
            x += widths[col] + GAP_X
        return position

    def _draw_node(self, uid: str, rect: QRectF, node, label: str, status: str | None, note: str | None,
                   metrics: QFontMetrics) -> None:
        kind = node.resource_type if node else "source"
        materialized = node.materialized if node else "source"
        if kind == "source":
            colour = QColor(palette.SOURCE)
        elif kind == "seed":
            colour = QColor(palette.SEED) if status in (None, "success") else palette.fill(status)
        else:
            colour = palette.fill(status)
        item = _Node(uid, rect, self)
        self._style(item, colour, materialized)
        shown_label = metrics.elidedText(label, Qt.TextElideMode.ElideMiddle, int(rect.width() - 2 * PAD))
        tip = f"{label}\n{kind}{'' if kind == 'source' else ', ' + materialized} — {status or 'not run'}"
        if note:
            tip += f"\n{note}"
        item.setToolTip(tip + "\ndouble-click: its columns and their lineage")
        self.scene().addItem(item)
        text = QGraphicsSimpleTextItem(shown_label, item)
        text.setBrush(QBrush(QColor("white") if materialized != "ephemeral" else colour.darker(140)))
        text.setPos(rect.x() + PAD, rect.y() + (NODE_H - metrics.height()) / 2)
        text.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.nodes[uid] = item

    @staticmethod
    def _style(item: QGraphicsRectItem, colour: QColor, materialized: str) -> None:
        pen = QPen(colour.darker(150), 1.5)
        brush = QBrush(colour)
        if materialized == "view":
            pen.setStyle(Qt.PenStyle.DashLine)
            pen.setWidthF(2)
        elif materialized == "incremental":
            pen = QPen(colour.darker(180), 3.5)
        elif materialized == "ephemeral":
            pen = QPen(colour, 2, Qt.PenStyle.DotLine)
            brush = QBrush(QColor(colour.red(), colour.green(), colour.blue(), 40))
        elif materialized == "snapshot":  # history kept: a double-weight dash-dot border
            pen = QPen(colour.darker(180), 3, Qt.PenStyle.DashDotLine)
        item.setPen(pen)
        item.setBrush(brush)

    def _arrow(self, start: QRectF, end: QRectF) -> None:
        a = QPointF(start.right(), start.center().y())
        b = QPointF(end.left() - 2, end.center().y())
        path = QPainterPath(a)
        bend = max(20.0, (b.x() - a.x()) / 2)
        path.cubicTo(a + QPointF(bend, 0), b - QPointF(bend, 0), b)
        line = QGraphicsPathItem(path)
        line.setPen(QPen(EDGE, 1.2))
        line.setZValue(-1)
        self.scene().addItem(line)
        angle = math.atan2(0, 1)
        size = 7
        head = QPolygonF([b, b - QPointF(size * math.cos(angle - 0.45), size * math.sin(angle - 0.45)),
                          b - QPointF(size * math.cos(angle + 0.45), size * math.sin(angle + 0.45))])
        self.scene().addPolygon(head, QPen(EDGE), QBrush(EDGE)).setZValue(-1)

    # -- selection and view -------------------------------------------------------------------------
    def select(self, uid: str | None) -> None:
        self.selected = uid
        for node_uid, item in self.nodes.items():
            item.setSelected(node_uid == uid)
            item.setZValue(1 if node_uid == uid else 0)
            pen = item.pen()
            if node_uid == uid:
                outline = QPen(QColor("#1f2328"), 3)
                item.setData(0, pen)
                item.setPen(outline)
            elif item.data(0) is not None:
                item.setPen(item.data(0))
                item.setData(0, None)
        if uid in self.nodes and not self.auto_fit:
            self.ensureVisible(self.nodes[uid], 40, 40)

    def fit(self) -> None:
        """Show the whole graph (and keep doing so as the view resizes, until the user zooms)."""
        self.auto_fit = True
        if self.scene().items():
            self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
            if self.transform().m11() > 1.0:  # never blow a small graph up beyond its natural size
                self.resetTransform()

    def zoom(self, factor: float) -> None:
        scale = self.transform().m11() * factor
        if 0.15 <= scale <= 4:
            self.auto_fit = False
            self.scale(factor, factor)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.auto_fit:
            self.fit()

    def wheelEvent(self, event) -> None:
        self.zoom(1.15 if event.angleDelta().y() > 0 else 1 / 1.15)
        event.accept()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.auto_fit:
            self.fit()


def legend_html() -> str:
    def chip(colour: str, text: str, style: str = "solid") -> str:
        return (f"<span style='border:2px {style} {colour}; background:{colour}; color:white'>&nbsp;{text}&nbsp;"
                "</span>")

    return ("&nbsp;".join([chip(palette.SOURCE, "source"), chip(palette.SEED, "seed"),
                           chip(palette.FILLS["ok"], "built / passed"), chip(palette.FILLS["error"], "failed"),
                           chip(palette.FILLS["warn"], "skipped / warned"), chip(palette.FILLS["idle"], "not run")])
            + "&nbsp;&nbsp; edge: table solid · <i>view dashed</i> · <b>incremental thick</b> · ephemeral dotted, "
              "hollow · snapshot dash-dot")


class GraphPanel(QWidget):
    """The graph with its tools (zoom, fit) and legend."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.view = DagView()
        self.legend = QLabel(legend_html())
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        tools = QHBoxLayout()
        for text, tip, slot in (("Fit", "Show the whole graph", self.view.fit),
                                ("+", "Zoom in (or the mouse wheel)", lambda: self.view.zoom(1.25)),
                                ("−", "Zoom out", lambda: self.view.zoom(0.8))):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.setMaximumWidth(48)
            button.clicked.connect(slot)
            tools.addWidget(button)
        tools.addWidget(self.legend, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(tools)
        layout.addWidget(self.view, 1)

"""The data flow as a live map (Tableau Prep's flow canvas is the model): the OLTP source, the
ingestion, the raw layer, then the two roads — the Excel road's three workbooks and the model
project with its marts and charts — and the exports. Each box shows its status (coloured), its last
run, row counts and freshness, and opens its tab on click.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
)

from desktop_app.ui import palette

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 214, 96, 40, 44, 10

# key: (column, row) on the canvas
LAYOUT = {
    "source": (0, 0), "ingest": (1, 0), "raw": (2, 0),
    "models": (3, 0), "marts": (4, 0), "charts": (5, 0),
    "excel_raw": (3, 1), "excel_intermediate": (4, 1), "excel_final": (5, 1),
    "exports": (5, 2),
}
EDGES = [("source", "ingest"), ("ingest", "raw"), ("raw", "models"), ("models", "marts"), ("marts", "charts"),
         ("raw", "excel_raw"), ("excel_raw", "excel_intermediate"), ("excel_intermediate", "excel_final"),
         ("marts", "exports")]
CHECKS = [("excel_final", "marts")]  # the two-roads reconciliation, drawn dotted


@dataclass
class BoxState:
    title: str
    status: str = "not run"  # a palette status word, shown on the box
    lines: list[str] = field(default_factory=list)
    shown: bool = True
    kind: str | None = None  # the palette kind, when the status text is not a status word


class _Box(QGraphicsRectItem):
    def __init__(self, key: str, rect: QRectF, owner: FlowMap) -> None:
        super().__init__(rect)
        self.key, self.owner = key, owner
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)

    def mousePressEvent(self, event) -> None:
        self.owner.boxClicked.emit(self.key)
        event.accept()


class FlowMap(QGraphicsView):
    boxClicked = Signal(str)  # a LAYOUT key

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.boxes: dict[str, _Box] = {}
        self.states: dict[str, BoxState] = {}

    def set_boxes(self, states: dict[str, BoxState]) -> None:
        self.states = states
        scene = self.scene()
        scene.clear()
        self.boxes.clear()
        rects = {key: QRectF(col * (BOX_W + GAP_X), row * (BOX_H + GAP_Y), BOX_W, BOX_H)
                 for key, (col, row) in LAYOUT.items() if states.get(key, BoxState(key)).shown}
        for a, b in EDGES:
            if a in rects and b in rects:
                self._edge(rects[a], rects[b], dotted=False)
        for a, b in CHECKS:
            if a in rects and b in rects:
                self._edge(rects[a], rects[b], dotted=True)
        title_font = QFont(self.font())
        title_font.setBold(True)
        metrics = QFontMetrics(self.font())
        for key, rect in rects.items():
            state = states.get(key, BoxState(key))
            kind = state.kind or palette.kind_of(state.status)
            box = _Box(key, rect, self)
            box.setPen(QPen(QColor(palette.FILLS[kind]), 2.5))
            box.setBrush(QBrush(self.palette().base().color()))
            box.setToolTip("\n".join([state.title, state.status, *state.lines, "Click to open its tab"]))
            scene.addItem(box)
            band = QGraphicsRectItem(QRectF(rect.x(), rect.y(), 6, rect.height()), box)
            band.setBrush(QBrush(QColor(palette.FILLS[kind])))
            band.setPen(QPen(Qt.PenStyle.NoPen))
            y = rect.y() + PAD - 2
            title = QGraphicsSimpleTextItem(state.title, box)
            title.setFont(title_font)
            title.setBrush(QBrush(self.palette().text().color()))
            title.setPos(rect.x() + PAD + 4, y)
            y += metrics.height() + 2
            status = QGraphicsSimpleTextItem(metrics.elidedText(state.status, Qt.TextElideMode.ElideRight,
                                                                BOX_W - 2 * PAD - 4), box)
            status.setBrush(QBrush(QColor(palette.COLOURS[kind]) if kind != "idle" else self.palette().text()))
            status.setPos(rect.x() + PAD + 4, y)
            for line in state.lines[:3]:
                y += metrics.height()
                text = QGraphicsSimpleTextItem(metrics.elidedText(line, Qt.TextElideMode.ElideRight,
                                                                  BOX_W - 2 * PAD - 4), box)
                text.setBrush(QBrush(QColor("#6e7781")))
                text.setPos(rect.x() + PAD + 4, y)
            for child in box.childItems():
                child.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            self.boxes[key] = box
        self.setSceneRect(scene.itemsBoundingRect().adjusted(-16, -16, 16, 16))
        self.fit()

    def _edge(self, a: QRectF, b: QRectF, dotted: bool) -> None:
        if dotted:  # from the report up to the marts: the check, both ways
            start, end = QPointF(a.center().x(), a.top()), QPointF(b.center().x(), b.bottom() + 2)
        elif abs(a.center().y() - b.center().y()) < 1:
            start, end = QPointF(a.right(), a.center().y()), QPointF(b.left() - 2, b.center().y())
        else:
            start, end = QPointF(a.center().x(), a.bottom()), QPointF(b.left() - 2, b.center().y())
        path = QPainterPath(start)
        if dotted or abs(a.center().y() - b.center().y()) < 1:
            path.lineTo(end)
        else:
            path.cubicTo(QPointF(start.x(), end.y()), QPointF(start.x(), end.y()), end)
        line = QGraphicsPathItem(path)
        line.setPen(QPen(QColor("#8c959f"), 1.6, Qt.PenStyle.DotLine if dotted else Qt.PenStyle.SolidLine))
        line.setZValue(-1)
        if dotted:
            line.setToolTip("The two roads check: every figure of the report against the marts")
        self.scene().addItem(line)
        if not dotted:
            size = 8
            head = QPolygonF([end, end - QPointF(size, size / 2), end - QPointF(size, -size / 2)])
            self.scene().addPolygon(head, QPen(QColor("#8c959f")), QBrush(QColor("#8c959f"))).setZValue(-1)

    def fit(self) -> None:
        if self.scene().items():
            self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
            if self.transform().m11() > 1.4:
                self.resetTransform()
                self.scale(1.4, 1.4)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit()

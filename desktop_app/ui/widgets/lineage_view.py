"""Column lineage, drawn: relations as boxes listing their columns, edges between columns.

Focused on one relation it shows that relation expanded to all its columns and, one hop away, the
columns that feed it and those it feeds — so it opens fast however large the project. Clicking a
column shows that column's whole path upstream and downstream across models, the column
highlighted, value edges (copy, transform, aggregate) solid and filter/join edges dotted; the
side panel (``LineagePanel``) shows its expressions and the compiled SQL line.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.lineage.graph import ColumnNode, Edge, LineageGraph
from desktop_app.ui import palette

ROW_H, HEAD_H, MIN_BOX_W, MAX_BOX_W, GAP_X, GAP_Y, PAD = 20, 24, 160, 360, 90, 18, 6
MIN_SCALE = 0.75  # smaller and the column names cannot be read
MAX_PATH_COLUMNS = 400  # a larger path is cut to the hops nearest the column, and says so
LAYER_COLOURS = {"oltp": "#1b7c83", "raw": palette.SOURCE, "model": "#2da44e", "seed": palette.SEED,
                 "excel": "#e16f24", "export": "#6e7781"}
DIRECT_PEN, INDIRECT_PEN, HIGHLIGHT = QColor("#57606a"), QColor("#8c959f"), QColor("#cf222e")


class _ColumnRow(QGraphicsRectItem):
    def __init__(self, node: ColumnNode, rect: QRectF, view: LineageView) -> None:
        super().__init__(rect)
        self.node, self.view = node, view
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setToolTip(f"{node.id}\nclick: its whole path")

    def mousePressEvent(self, event) -> None:
        self.view.columnClicked.emit(self.node.id)
        event.accept()


class LineageView(QGraphicsView):
    columnClicked = Signal(str)  # a column's node id

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.graph: LineageGraph | None = None
        self.rows: dict[str, _ColumnRow] = {}
        self.edges: list[tuple[Edge, QGraphicsPathItem]] = []
        self.focus: str | None = None  # the column whose path is shown, if any
        self.cut_to_hops: int | None = None

    # -- what to show ---------------------------------------------------------------------------------
    def show_relation(self, graph: LineageGraph, relation: str) -> None:
        """``relation`` with all its columns, and one hop of columns each way."""
        self.graph, self.focus, self.cut_to_hops = graph, None, None
        own = [n.id for n in graph.columns_of(relation)]
        ids, edges = set(own), []
        for node_id in own:
            for edge in graph.inputs(node_id) + graph.outputs(node_id):
                ids |= {edge.source, edge.target}
                edges.append(edge)
        self._draw(ids, edges, anchor=relation)

    def show_column(self, graph: LineageGraph, node_id: str) -> None:
        """The column's whole path upstream and downstream (cut to the nearest hops if very large)."""
        self.graph, self.focus, self.cut_to_hops = graph, node_id, None
        hops = None
        while True:
            up_ids, up_edges = graph.reachable(node_id, "upstream", hops)
            down_ids, down_edges = graph.reachable(node_id, "downstream", hops)
            if len(up_ids | down_ids) <= MAX_PATH_COLUMNS or hops == 1:
                break
            hops = 6 if hops is None else hops - 1
            self.cut_to_hops = hops
        self._draw(up_ids | down_ids, up_edges + down_edges, anchor=graph.nodes[node_id].relation)
        self._highlight(node_id, up_edges + down_edges)

    # -- drawing --------------------------------------------------------------------------------------
    def _draw(self, ids: set[str], edges: list[Edge], anchor: str) -> None:
        self.scene().clear()
        self.rows.clear()
        self.edges.clear()
        graph = self.graph
        relations: dict[str, list[ColumnNode]] = {}
        for node_id in sorted(ids):
            node = graph.nodes.get(node_id)
            if node is not None:
                relations.setdefault(node.relation, []).append(node)
        depth = _relation_depths(relations, edges, graph, anchor)
        columns: dict[int, list[str]] = {}
        for relation in relations:
            columns.setdefault(depth[relation], []).append(relation)
        metrics = QFontMetrics(self.font())
        widths = {relation: _box_width(relation, nodes, metrics) for relation, nodes in relations.items()}
        x = 0.0
        for level in sorted(columns):
            y = 0.0
            for relation in sorted(columns[level]):
                y += self._box(relation, relations[relation], QPointF(x, y), widths[relation], metrics,
                               relation == anchor) + GAP_Y
            x += max(widths[r] for r in columns[level]) + GAP_X
        for edge in edges:
            if edge.source in self.rows and edge.target in self.rows:
                self.edges.append((edge, self._edge(edge)))
        self.setSceneRect(self.scene().itemsBoundingRect().adjusted(-20, -20, 20, 20))
        self.fit(anchor)

    def fit(self, anchor: str | None = None) -> None:
        """All of it when the text stays readable; else readable, centred on the anchor (the view scrolls)."""
        self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
        scale = self.transform().m11()
        if scale > 1.0 or scale < MIN_SCALE:
            self.resetTransform()
            self.scale(min(1.0, max(scale, MIN_SCALE)), min(1.0, max(scale, MIN_SCALE)))
            centre = self.rows.get(self.focus) if self.focus else next(
                (r for r in self.rows.values() if r.node.relation == anchor), None)
            if centre is not None:
                self.centerOn(centre)

    def zoom(self, factor: float) -> None:
        if 0.15 <= self.transform().m11() * factor <= 4:
            self.scale(factor, factor)

    def _box(self, relation: str, nodes: list[ColumnNode], top_left: QPointF, box_w: float, metrics: QFontMetrics,
             anchor: bool) -> float:
        layer = nodes[0].layer
        colour = QColor(LAYER_COLOURS.get(layer, "#6e7781"))
        height = HEAD_H + ROW_H * len(nodes)
        box = QGraphicsRectItem(QRectF(top_left, QPointF(top_left.x() + box_w, top_left.y() + height)))
        box.setPen(QPen(colour.darker(130), 3 if anchor else 1.5))
        box.setBrush(QBrush(QColor("white")))
        self.scene().addItem(box)
        head = QGraphicsRectItem(QRectF(top_left.x(), top_left.y(), box_w, HEAD_H), box)
        head.setBrush(QBrush(colour))
        head.setPen(QPen(Qt.PenStyle.NoPen))
        title = QGraphicsSimpleTextItem(metrics.elidedText(f"{relation}  · {layer}", Qt.TextElideMode.ElideMiddle,
                                                           box_w - 2 * PAD), head)
        title.setBrush(QBrush(QColor("white")))
        title.setPos(top_left.x() + PAD, top_left.y() + (HEAD_H - metrics.height()) / 2)
        bold = QFont(self.font())
        for index, node in enumerate(nodes):
            rect = QRectF(top_left.x(), top_left.y() + HEAD_H + index * ROW_H, box_w, ROW_H)
            row = _ColumnRow(node, rect, self)
            row.setPen(QPen(QColor("#d0d7de"), 0.5))
            row.setBrush(QBrush(QColor("white")))
            self.scene().addItem(row)
            text = QGraphicsSimpleTextItem(metrics.elidedText(node.column, Qt.TextElideMode.ElideRight,
                                                              box_w - 2 * PAD), row)
            text.setFont(bold)
            text.setPos(rect.x() + PAD, rect.y() + (ROW_H - metrics.height()) / 2)
            text.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            self.rows[node.id] = row
        return height

    def _edge(self, edge: Edge) -> QGraphicsPathItem:
        start, end = self.rows[edge.source].rect(), self.rows[edge.target].rect()
        a = QPointF(start.right(), start.center().y())
        b = QPointF(end.left(), end.center().y())
        if b.x() <= a.x():  # the same column of boxes (a snapshot's own columns): loop round the side
            a, b = QPointF(start.left(), start.center().y()), QPointF(end.left(), end.center().y())
            bend = QPointF(-40, 0)
            path = QPainterPath(a)
            path.cubicTo(a + bend, b + bend, b)
        else:
            path = QPainterPath(a)
            half = (b.x() - a.x()) / 2
            path.cubicTo(a + QPointF(half, 0), b - QPointF(half, 0), b)
        item = QGraphicsPathItem(path)
        item.setPen(_pen(edge, highlighted=False))
        item.setZValue(-1)
        item.setToolTip(f"{edge.kind}: {edge.source} → {edge.target}" + (f"\n{edge.expression}"
                                                                          if edge.expression else ""))
        self.scene().addItem(item)
        return item

    def _highlight(self, node_id: str, path_edges: list[Edge]) -> None:
        on_path = set(path_edges)
        for edge, item in self.edges:
            item.setPen(_pen(edge, highlighted=edge in on_path))
            item.setZValue(0 if edge in on_path else -1)
        row = self.rows.get(node_id)
        if row is not None:
            row.setBrush(QBrush(QColor("#fff8c5")))
            row.setPen(QPen(HIGHLIGHT, 2))
            row.setZValue(1)
            self.centerOn(row)

    def wheelEvent(self, event) -> None:
        self.zoom(1.15 if event.angleDelta().y() > 0 else 1 / 1.15)
        event.accept()


def _box_width(relation: str, nodes: list[ColumnNode], metrics: QFontMetrics) -> float:
    widest = max([metrics.horizontalAdvance(f"{relation}  · {nodes[0].layer}"),
                  *(metrics.horizontalAdvance(n.column) for n in nodes)])
    return float(min(MAX_BOX_W, max(MIN_BOX_W, widest + 3 * PAD)))


def _pen(edge: Edge, highlighted: bool) -> QPen:
    colour = HIGHLIGHT if highlighted else (DIRECT_PEN if edge.direct else INDIRECT_PEN)
    pen = QPen(colour, 2.2 if highlighted else 1.2)
    if not edge.direct:
        pen.setStyle(Qt.PenStyle.DotLine)
    return pen


def _relation_depths(relations: dict[str, list[ColumnNode]], edges: list[Edge], graph: LineageGraph,
                     anchor: str) -> dict[str, int]:
    """Each relation's column in the drawing: 0 for the anchor, negative upstream, positive downstream."""
    of = {node.id: relation for relation, nodes in relations.items() for node in nodes}
    depth = {anchor: 0}
    changed = True
    rounds = 0
    while changed and rounds < len(relations) + 2:
        changed, rounds = False, rounds + 1
        for edge in edges:
            source, target = of.get(edge.source), of.get(edge.target)
            if source is None or target is None or source == target:
                continue
            if target in depth and (source not in depth or depth[source] > depth[target] - 1) and \
                    depth[target] <= 0:
                depth[source] = depth[target] - 1
                changed = True
            if source in depth and (target not in depth or depth[target] < depth[source] + 1) and \
                    depth[source] >= 0:
                depth[target] = depth[source] + 1
                changed = True
    for relation in relations:
        depth.setdefault(relation, 0)
    return depth


class LineagePanel(QWidget):
    """The drawing, a line saying what is shown, and the side panel of the chosen column."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.view = LineageView()
        self.caption = QLabel("Double-click a model in the graph (or pick one in the list) to see its columns.")
        self.caption.setWordWrap(True)
        self.details = QPlainTextEdit(readOnly=True)
        self.details.setFont(QFont("monospace"))
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.details.setPlaceholderText("Click a column: its inputs with their expressions, what it feeds, and "
                                        "the line of compiled SQL that defines it.")
        split = QSplitter()
        split.addWidget(self.view)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        split.setSizes([640, 360])
        self.view.setMinimumWidth(240)
        self.details.setMinimumWidth(200)
        tools = QHBoxLayout()
        tools.addWidget(self.caption, 1)
        for text, tip, slot in (("Fit", "Show all of it (as far as it stays readable)", lambda: self.view.fit()),
                                ("+", "Zoom in (or the mouse wheel)", lambda: self.view.zoom(1.25)),
                                ("−", "Zoom out", lambda: self.view.zoom(0.8))):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.setMaximumWidth(48)
            button.clicked.connect(slot)
            tools.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(tools)
        layout.addWidget(split, 1)
        self.view.columnClicked.connect(self.show_column)

    def show_relation(self, graph: LineageGraph, relation: str) -> None:
        info = graph.relations.get(relation)
        self.view.show_relation(graph, relation)
        if info is not None and info.note:
            self.caption.setText(f"{relation}: {info.note}")
        else:
            self.caption.setText(f"{relation}: its columns, with one hop each way. Click a column for its whole "
                                 "path — value edges solid, filter and join edges dotted.")
        self.details.clear()

    def show_column(self, node_id: str, graph: LineageGraph | None = None) -> None:
        graph = graph or self.view.graph
        if graph is None or node_id not in graph.nodes:
            return
        self.view.show_column(graph, node_id)
        cut = f" (the {self.view.cut_to_hops} nearest hops each way: the whole path is larger)" \
            if self.view.cut_to_hops else ""
        self.caption.setText(f"{node_id}: where it comes from and what it feeds{cut}.")
        self.details.setPlainText(describe(graph, node_id))


def describe(graph: LineageGraph, node_id: str) -> str:
    """The side panel's text: the column, its inputs with expressions, what it feeds, its SQL line."""
    node = graph.nodes[node_id]
    lines = [node_id, f"layer: {node.layer}    relation: {node.relation}", "", "Inputs:"]
    lines += [f"  {e.kind:<9} {e.source}" + (f"\n            {e.expression}" if e.expression else "")
              for e in graph.inputs(node_id)] or ["  (none: it starts here)"]
    lines += ["", "Feeds:"]
    lines += [f"  {e.kind:<9} {e.target}" for e in graph.outputs(node_id)] or ["  (nothing downstream)"]
    info = graph.relations.get(node.relation)
    if info is not None and info.sql and node.line:
        sql_lines = info.sql.splitlines()
        start = max(0, node.line - 3)
        shown = [f"{'>' if i + 1 == node.line else ' '} {i + 1:4d}  {text}"
                 for i, text in enumerate(sql_lines[start:node.line + 2], start)]
        lines += ["", f"Compiled SQL of {node.relation}, line {node.line}:", *shown]
    return "\n".join(lines)

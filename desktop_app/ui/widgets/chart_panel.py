"""Charts of the marts a manager can read: axis titles with units, thousands separators, names on
the top-N bars, values on hover, the legend beside the plot (never over the data), an empty state
that says what to do, a stale mark when the last build failed, and *Save…* as PNG or SVG.

pyqtgraph plots are created once and fed with ``setData``; pyqtgraph itself is imported on first
show, keeping it off the start-up path.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from desktop_app.ui import palette

EMPTY_TEXT = ("No charts yet: the marts they show do not exist.\n"
              "Build the models (Models → Build models, or Run everything) first.")


def _money(value: float) -> str:
    return f"{value:,.2f} €"


class ChartBox(QWidget):
    """One chart with its title, a Save… button and (optionally) a legend beside the plot."""

    saveRequested = Signal(object)

    def __init__(self, title: str, parent=None) -> None:
        super().__init__(parent)
        self.title = QLabel(f"<b>{title}</b>")
        self.save = QPushButton("Save…")
        self.save.setToolTip("Save this chart as PNG or SVG")
        self.save.clicked.connect(lambda: self.saveRequested.emit(self))
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.legend.hide()
        self.plot = None
        self.body = QHBoxLayout()
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.save)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addLayout(self.body, 1)

    def set_plot(self, plot) -> None:
        self.plot = plot
        self.body.addWidget(plot, 1)
        self.body.addWidget(self.legend)


class ChartPanel(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plots = None
        self.pending = None
        self.data = None
        self.boxes: dict[str, ChartBox] = {}
        self.stale = QLabel()
        self.stale.setWordWrap(True)
        self.stale.setStyleSheet(palette.css("warn"))
        self.stale.hide()
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("font-size: 14px; color: #6e7781;")
        self.grid_widget = QWidget()
        self.grid = QGridLayout(self.grid_widget)
        self.stack = QStackedLayout()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.grid_widget)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stale)
        layout.addLayout(self.stack, 1)

    # -- state --------------------------------------------------------------------------------------
    def set_stale(self, reason: str) -> None:
        """Mark the charts as not showing the latest data (a failed build), or clear the mark."""
        self.stale.setText(f"⚠ Stale: {reason}" if reason else "")
        self.stale.setVisible(bool(reason))

    def set_empty(self) -> None:
        self.data = None
        self.pending = None
        self.stack.setCurrentWidget(self.empty)

    @property
    def has_data(self) -> bool:
        return self.data is not None

    def set_data(self, data: dict) -> None:
        """``data``: monthly {department: (x, y)}, daily (x, y), products and customers [(name, value)]."""
        self.data = data
        self.stack.setCurrentWidget(self.grid_widget)
        if self.plots is None:
            self.pending = data
            if self.isVisible():
                self._ensure_plots()
            return
        self._apply(data)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.pending is not None:
            self._ensure_plots()

    # -- plots --------------------------------------------------------------------------------------
    def _ensure_plots(self) -> None:
        if self.plots is None:
            import pyqtgraph as pg

            self.pg = pg
            pg.setConfigOptions(antialias=True, background="w", foreground="k")
            self.plots = self._create_plots(pg)
        if self.pending is not None:
            data, self.pending = self.pending, None
            self._apply(data)

    def _create_plots(self, pg) -> dict:
        class MoneyAxis(pg.AxisItem):
            def tickStrings(self, values, scale, spacing):  # pyqtgraph API
                return [f"{v:,.0f}" for v in values]

        def box(key: str, title: str, row: int, col: int) -> ChartBox:
            chart = ChartBox(title)
            chart.saveRequested.connect(self._save)
            self.boxes[key] = chart
            self.grid.addWidget(chart, row, col)
            return chart

        plots: dict = {"monthly_curves": {}}
        monthly = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(), "left": MoneyAxis("left")})
        monthly.setLabel("left", "Revenue (€)")
        monthly.setLabel("bottom", "Month")
        box("monthly", "Monthly revenue by department", 0, 0).set_plot(monthly)
        daily = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(), "left": MoneyAxis("left")})
        daily.setLabel("left", "Revenue (€)")
        daily.setLabel("bottom", "Day")
        daily.setDownsampling(auto=True, mode="peak")
        daily.setClipToView(True)
        plots["daily"] = daily.plot([], [], pen=pg.mkPen(palette.SERIES[0], width=1))
        box("daily", "Daily revenue", 0, 1).set_plot(daily)
        for key, title, colour, row in (("products", "Top 10 products by revenue", palette.SERIES[2], 1),
                                        ("customers", "Top 10 customers by lifetime revenue", palette.SERIES[3], 1)):
            widget = pg.PlotWidget(axisItems={"bottom": MoneyAxis("bottom")})
            widget.setLabel("bottom", "Revenue (€)")
            widget.getAxis("left").setStyle(showValues=False)
            widget.getAxis("left").setWidth(8)
            bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brush=colour, pen=pg.mkPen(None))
            widget.addItem(bars)
            widget.setMouseEnabled(x=False, y=False)
            plots[key] = (widget, bars, [])
            box(key, title, row, 0 if key == "products" else 1).set_plot(widget)
        plots["monthly"] = monthly
        plots["monthly_plot"] = monthly
        for widget in (monthly, daily, plots["products"][0], plots["customers"][0]):
            widget.showGrid(x=True, y=True, alpha=0.2)
        self.hover = {}
        for key, widget in (("monthly", monthly), ("daily", daily), ("products", plots["products"][0]),
                            ("customers", plots["customers"][0])):
            label = pg.TextItem(anchor=(0, 1), color="#1f2328", fill=pg.mkBrush(255, 255, 255, 230),
                                border=pg.mkPen("#8c959f"))
            label.setZValue(10)
            label.hide()
            widget.addItem(label, ignoreBounds=True)
            self.hover[key] = label
            widget.scene().sigMouseMoved.connect(lambda pos, key=key, widget=widget: self._on_hover(key, widget, pos))
        return plots

    def _apply(self, data: dict) -> None:
        pg = self.pg
        curves = self.plots["monthly_curves"]
        legend = []
        for i, (department, (x, y)) in enumerate(sorted(data["monthly"].items())):
            colour = palette.SERIES[i % len(palette.SERIES)]
            if department not in curves:
                curves[department] = self.plots["monthly"].plot([], [], name=department, symbol="o", symbolSize=4,
                                                                pen=pg.mkPen(colour, width=2), symbolBrush=colour)
            curves[department].setData(x, y)
            legend.append(f"<span style='color:{colour}'>■</span>&nbsp;{department}")
        self.boxes["monthly"].legend.setText("<br>".join(legend))
        self.boxes["monthly"].legend.setVisible(bool(legend))
        self.plots["daily"].setData(*data["daily"])
        for key in ("products", "customers"):
            widget, bars, labels = self.plots[key]
            for label in labels:
                widget.removeItem(label)
            labels.clear()
            items = list(reversed(data[key]))
            bars.setOpts(x0=[0] * len(items), y=list(range(len(items))), width=[v for _, v in items], height=0.7)
            widest = max((v for _, v in items), default=1) or 1
            for i, (name, value) in enumerate(items):
                text = pg.TextItem(f"{name} · {_money(value)}", color="#1f2328", anchor=(0, 0.5))
                text.setPos(widest * 0.01, i)
                widget.addItem(text)
                labels.append(text)
            widget.setYRange(-0.6, max(len(items) - 0.4, 0.4), padding=0)
            widget.setXRange(0, widest * 1.02, padding=0)

    def _on_hover(self, key: str, widget, pos) -> None:
        label = self.hover[key]
        data = self.data
        view = widget.getPlotItem().vb
        if data is None or not widget.sceneBoundingRect().contains(pos):
            label.hide()
            return
        point = view.mapSceneToView(pos)
        text = ""
        if key in ("products", "customers"):
            items = list(reversed(data[key]))
            index = round(point.y())
            if 0 <= index < len(items) and abs(point.y() - index) < 0.4:
                name, value = items[index]
                text = f"{name}\n{_money(value)}"
        else:
            series = data["monthly"].items() if key == "monthly" else [("", data["daily"])]
            best = None
            for name, (xs, ys) in series:
                for x, y in zip(xs, ys, strict=True):
                    distance = abs(x - point.x())
                    if best is None or distance < best[0] or (distance == best[0] and abs(y - point.y()) < best[3]):
                        best = (distance, name, x, abs(y - point.y()), y)
            if best is not None:
                _, name, x, _, y = best
                day = datetime.fromtimestamp(x)
                when = f"{day:%b %Y}" if key == "monthly" else f"{day:%a %d %b %Y}"
                text = f"{when}{' · ' + name if name else ''}\n{_money(y)}"
        if text:
            label.setText(text)
            label.setPos(point.x(), point.y())
            label.show()
        else:
            label.hide()

    # -- saving -------------------------------------------------------------------------------------
    def _save(self, chart: ChartBox) -> None:
        name = chart.title.text().replace("<b>", "").replace("</b>", "").lower().replace(" ", "_")
        path, _ = QFileDialog.getSaveFileName(self, "Save chart", str(Path.home() / f"{name}.png"),
                                              "PNG image (*.png);;SVG drawing (*.svg)")
        if path:
            self.save_chart(chart, Path(path))

    def save_chart(self, chart: ChartBox, path: Path) -> Path:
        """Write the chart with its title and legend as PNG, or as SVG (vector: Qt's SVG generator; the
        exporter pyqtgraph ships cannot read the paths Qt 6.12 writes). Written to a temporary name and
        renamed, like every file the app writes."""
        import os

        from PySide6.QtGui import QPainter

        from desktop_app.core.leftovers import temp_name

        svg = path.suffix.lower() == ".svg"
        if not svg and path.suffix.lower() != ".png":
            path = path.with_suffix(".png")
        temp = temp_name(path, "tmp")
        try:
            if svg:
                from PySide6.QtSvg import QSvgGenerator

                generator = QSvgGenerator()
                generator.setFileName(str(temp))
                generator.setSize(chart.size())
                generator.setViewBox(chart.rect())
                generator.setTitle(chart.title.text().replace("<b>", "").replace("</b>", ""))
                painter = QPainter(generator)
                try:
                    chart.render(painter, QPoint())
                finally:
                    painter.end()
            elif not chart.grab().save(str(temp), "PNG"):
                raise OSError(f"cannot write {path}")
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)
        return path

"""pyqtgraph charts of the marts, created once and fed with ``setData`` (pyqtgraph is imported on
first show, keeping it off the start-up path)."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QWidget

PALETTE = ["#0969da", "#cf222e", "#2da44e", "#8250df", "#bf8700", "#1b7c83", "#e16f24", "#6e7781"]


class ChartPanel(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.layout_ = QGridLayout(self)
        self.plots = None
        self.pending = None

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._ensure_plots()
        if self.pending is not None:
            self._apply(self.pending)
            self.pending = None
        super().showEvent(event)

    def _ensure_plots(self) -> None:
        if self.plots is not None:
            return
        import pyqtgraph as pg

        pg.setConfigOptions(antialias=True, background="w", foreground="k")
        monthly = pg.PlotWidget(title="Monthly revenue by department", axisItems={"bottom": pg.DateAxisItem()})
        monthly.addLegend(offset=(5, 5))
        daily = pg.PlotWidget(title="Daily revenue", axisItems={"bottom": pg.DateAxisItem()})
        daily_curve = daily.plot([], [], pen=pg.mkPen(PALETTE[0], width=1))
        daily.setDownsampling(auto=True, mode="peak")
        daily.setClipToView(True)
        products = pg.PlotWidget(title="Top products by revenue")
        customers = pg.PlotWidget(title="Top customers by revenue")
        product_bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brush=PALETTE[2])
        customer_bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brush=PALETTE[3])
        products.addItem(product_bars)
        customers.addItem(customer_bars)
        for widget in (monthly, daily, products, customers):
            widget.showGrid(x=True, y=True, alpha=0.2)
        self.layout_.addWidget(monthly, 0, 0)
        self.layout_.addWidget(daily, 0, 1)
        self.layout_.addWidget(products, 1, 0)
        self.layout_.addWidget(customers, 1, 1)
        self.pg = pg
        self.plots = {"monthly": monthly, "monthly_curves": {}, "daily": daily_curve, "products": (products,
                      product_bars), "customers": (customers, customer_bars)}

    def set_data(self, data: dict) -> None:
        """``data``: monthly {department: (x, y)}, daily (x, y), products [(name, value)], customers [...]."""
        if self.plots is None:
            self.pending = data
            return
        self._apply(data)

    def _apply(self, data: dict) -> None:
        pg = self.pg
        curves = self.plots["monthly_curves"]
        for i, (department, (x, y)) in enumerate(sorted(data["monthly"].items())):
            if department not in curves:
                curves[department] = self.plots["monthly"].plot([], [], name=department, symbol="o", symbolSize=4,
                                                                pen=pg.mkPen(PALETTE[i % len(PALETTE)], width=2),
                                                                symbolBrush=PALETTE[i % len(PALETTE)])
            curves[department].setData(x, y)
        self.plots["daily"].setData(*data["daily"])
        for key in ("products", "customers"):
            widget, bars = self.plots[key]
            items = list(reversed(data[key]))
            bars.setOpts(x0=[0] * len(items), y=list(range(len(items))), width=[v for _, v in items], height=0.7)
            widget.getAxis("left").setTicks([[(i, name[:22]) for i, (name, _) in enumerate(items)]])

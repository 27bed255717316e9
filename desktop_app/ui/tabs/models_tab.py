"""The Models tab: the DAG coloured by status, the model list (materialization, status, time, rows),
compiled SQL, data-test results, a preview of the selected model's relation, charts of the marts,
and the two-roads reconciliation (Excel report vs marts, per figure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.services.jobs import ErrorInfo, Job
from desktop_app.services.studio import Studio
from desktop_app.ui.models.rows_model import RowsModel
from desktop_app.ui.status_colours import GREEN, RED, STATUS_BRUSH
from desktop_app.ui.widgets.chart_panel import ChartPanel
from desktop_app.ui.widgets.dag_view import DagView
from desktop_app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    from desktop_app.core.models.runner import RunResult


class ModelsTab(QWidget):
    errorOccurred = Signal(object)  # noqa: N815
    built = Signal(object)

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.nodes: list[dict] = []
        self.results: dict[str, object] = {}
        self.build_button = QPushButton("Build models")
        self.build_button.setToolTip("Seed, run and test the dbt project in the warehouse (dbt build)")
        self.full_refresh = QCheckBox("Full refresh")
        self.build_button.clicked.connect(lambda: self.build())
        self.message = MessageBar()
        bar = QHBoxLayout()
        bar.addWidget(self.build_button)
        bar.addWidget(self.full_refresh)
        bar.addWidget(self.message, 1)
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["Model", "Materialized", "Status", "Seconds", "Rows"])
        self.list.setRootIsDecorated(False)
        self.list.currentItemChanged.connect(self._on_list_current_changed)
        self.dag = DagView()
        self.sql = QPlainTextEdit(readOnly=True)
        self.sql.setFont(QFont("monospace"))
        self.tests = QTreeWidget()
        self.tests.setHeaderLabels(["Test", "Status", "Failures", "Message"])
        self.tests.setRootIsDecorated(False)
        self.result = QTableView()
        self.charts = ChartPanel()
        self.roads = QTableWidget()
        self.roads_button = QPushButton("Reconcile the two roads")
        self.roads_button.setToolTip("Compare the Excel final report with the marts, figure by figure")
        self.roads_button.clicked.connect(lambda: self.reconcile_roads())
        roads_box = QWidget()
        roads_layout = QVBoxLayout(roads_box)
        roads_layout.addWidget(self.roads_button)
        roads_layout.addWidget(self.roads)
        self.views = QTabWidget()
        for widget, title in ((self.dag, "Graph"), (self.sql, "Compiled SQL"), (self.tests, "Data tests"),
                              (self.result, "Result"), (self.charts, "Charts"), (roads_box, "Two roads")):
            self.views.addTab(widget, title)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.list)
        self.splitter.addWidget(self.views)
        self.splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)

    # -- parse and build ----------------------------------------------------------------------------
    def refresh(self) -> Job:
        job = self.studio.parse_models()
        job.on_success(self._show_nodes).on_failure(self._on_failed)
        return job

    def _show_nodes(self, nodes: list[dict]) -> None:
        self.nodes = nodes
        self._fill_list()
        self.dag.show_graph(nodes, {uid: r.status for uid, r in self.results.items()})

    def _fill_list(self) -> None:
        current = self.list.currentItem().text(0) if self.list.currentItem() else None
        self.list.clear()
        for node in sorted(self.nodes, key=lambda n: (n["resource_type"] != "seed", n["name"])):
            if node["resource_type"] not in ("model", "seed"):
                continue
            result = self.results.get(node["unique_id"])
            item = QTreeWidgetItem([node["name"], node["materialized"], result.status if result else "",
                                    f"{result.execution_time:.2f}" if result else "",
                                    "" if not result or result.rows_affected is None else f"{result.rows_affected:,}"])
            item.setData(0, Qt.ItemDataRole.UserRole, node["unique_id"])
            if result:
                item.setForeground(2, STATUS_BRUSH.get(result.status, GREEN))
            self.list.addTopLevelItem(item)
            if node["name"] == current:
                self.list.setCurrentItem(item)
        for i in range(5):
            self.list.resizeColumnToContents(i)

    def build(self) -> Job:
        self.build_button.setEnabled(False)
        self.message.show_message("Building …")
        job = self.studio.build(self.full_refresh.isChecked())
        job.on_success(self.show_run).on_failure(self._on_failed)
        job.on_finished(lambda: self.build_button.setEnabled(True))
        return job

    def show_run(self, run: RunResult) -> None:
        self.results = {r.unique_id: r for r in run.results}
        self._fill_list()
        self.dag.show_graph(self.nodes, {uid: r.status for uid, r in self.results.items()})
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run.counts().items()))
        self.message.show_message(f"Build {'succeeded' if run.ok else 'FAILED'} in {run.elapsed:.2f} s: {counts}",
                                  "ok" if run.ok else "error")
        self.tests.clear()
        for r in run.results:
            if r.resource_type == "test":
                item = QTreeWidgetItem([r.name, r.status, "" if r.failures is None else str(r.failures), r.message])
                item.setForeground(1, STATUS_BRUSH.get(r.status, GREEN))
                self.tests.addTopLevelItem(item)
        self.tests.resizeColumnToContents(0)
        self.refresh()
        if run.ok:
            self.load_charts()
        self.built.emit(run)

    def _on_list_current_changed(self, current, _previous) -> None:
        if current is None:
            return
        uid = current.data(0, Qt.ItemDataRole.UserRole)
        node = next((n for n in self.nodes if n["unique_id"] == uid), None)
        result = self.results.get(uid)
        self.sql.setPlainText(result.compiled_code if result and result.compiled_code else (node or {}).get(
            "raw_code", ""))
        if node and node.get("relation") and result and result.status == "success":
            job = self.studio.query(f"select * from {node['relation']}")  # noqa: S608 - a quoted relation name
            job.on_success(self._show_result).on_failure(lambda info: self.message.show_error(info.error))

    def _show_result(self, data) -> None:
        columns, rows = data
        self.result.setModel(RowsModel(columns, rows, lambda v: "NULL" if v is None else str(v), self.result))

    # -- charts -------------------------------------------------------------------------------------
    def load_charts(self) -> Job:
        job = self.studio.chart_data()
        job.on_success(self.charts.set_data).on_failure(self._on_failed)
        return job

    # -- two roads ----------------------------------------------------------------------------------
    def reconcile_roads(self) -> Job:
        job = self.studio.roads()
        job.on_success(self.show_roads).on_failure(self._on_failed)
        return job

    def show_roads(self, checks) -> None:
        self.roads.clear()
        self.roads.setColumnCount(4)
        self.roads.setHorizontalHeaderLabels(["Figure", "Excel report", "Model marts", "Status"])
        ordered = sorted(checks, key=lambda c: (c.equal, c.figure))
        self.roads.setRowCount(len(ordered))
        for r, check in enumerate(ordered):
            for c, text in enumerate((check.figure, *check.shown(), check.status)):
                item = QTableWidgetItem(text)
                if c in (1, 2):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 3:
                    item.setForeground(GREEN if check.equal else RED)
                self.roads.setItem(r, c, item)
        self.roads.resizeColumnsToContents()
        equal = sum(c.equal for c in checks)
        self.message.show_message(f"Two roads: {equal} of {len(checks)} figures equal",
                                  "ok" if equal == len(checks) else "error")

    def _on_failed(self, info: ErrorInfo) -> None:
        self.message.show_error(info.error)
        self.errorOccurred.emit(info)


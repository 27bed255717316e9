"""The Models tab: the model graph coloured by status, the model list (materialization, status, time,
rows, tests) with failures first, the selected model's compiled SQL, its data tests (with *Show
failing rows*), a lazy preview of its relation, charts of the marts, and the two-roads
reconciliation (Excel report vs marts, per figure). On launch it shows the last run's artefacts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.services.jobs import Job, JobSlot
from desktop_app.services.studio import ModelNode, Studio
from desktop_app.ui import palette
from desktop_app.ui.error_dialog import present_error
from desktop_app.ui.icons import icon
from desktop_app.ui.models.lazy_table_model import LazyTableModel
from desktop_app.ui.tabs.lineage_tab import LineageTab
from desktop_app.ui.widgets.chart_panel import ChartPanel
from desktop_app.ui.widgets.dag_view import GraphPanel
from desktop_app.ui.widgets.elided_label import ElidedLabel
from desktop_app.ui.widgets.job_progress import JobProgress
from desktop_app.ui.widgets.message_bar import MessageBar
from desktop_app.ui.widgets.roads_box import RoadsBox

if TYPE_CHECKING:
    from desktop_app.core.models.results import NodeResult, RunResult
    from desktop_app.core.workspace_state import WorkspaceState

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
FAILING = ("error", "fail")
FAILING_ROWS_LIMIT = 500


class ModelsTab(QWidget):
    built = Signal(object)

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.nodes: list[ModelNode] = []
        self.results: dict[str, NodeResult] = {}
        self.parsing = JobSlot(studio.runner, self)
        self.charting = JobSlot(studio.runner, self)
        self.progress = JobProgress()
        self.message = MessageBar()
        self.project_label = ElidedLabel(mode=Qt.TextElideMode.ElideMiddle)
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["Model", "Materialized", "Status", "Seconds", "Rows", "Tests"])
        self.list.setRootIsDecorated(False)
        self.list.currentItemChanged.connect(self._on_list_current_changed)
        self.graph = GraphPanel()
        self.dag = self.graph.view
        self.dag.nodeClicked.connect(self.select_model)
        self.dag.nodeExpanded.connect(self.show_lineage)
        self.lineage = LineageTab(studio, self.message)
        self.sql = QPlainTextEdit(readOnly=True)
        self.sql.setFont(QFont("monospace"))
        self.sql.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.charts = ChartPanel()
        self.views = QTabWidget()
        for widget, title in ((self.graph, "Graph"), (self.sql, "Compiled SQL"), (self._tests_box(), "Data tests"),
                              (self._result_box(), "Result"), (self.charts, "Charts"),
                              (self._roads_box(), "Two roads"), (self.lineage, "Lineage")):
            self.views.addTab(widget, title)
        self.views.currentChanged.connect(lambda _i: self._lineage_follows_selection())
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.project_label)
        left_layout.addWidget(self.list)
        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.views)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([540, 860])
        layout = QVBoxLayout(self)
        layout.addLayout(self._toolbar())
        layout.addWidget(self.message)
        layout.addWidget(self.splitter, 1)

    def _toolbar(self) -> QHBoxLayout:
        self.build_button = QPushButton(icon("build"), "Build models")
        self.build_button.setToolTip("Seed, run and test the dbt project in the warehouse (dbt build)")
        self.build_button.clicked.connect(lambda: self.build())
        self.full_refresh = QCheckBox("Full refresh")
        self.full_refresh.setToolTip("Rebuild incremental models from scratch")
        self.export_button = QPushButton(icon("save"), "Export for BI…")
        self.export_button.setToolTip("Parquet, CSV, Tableau extracts or one DuckDB file of the marts (Ctrl+E)")
        bar = QHBoxLayout()
        bar.addWidget(self.build_button)
        bar.addWidget(self.full_refresh)
        bar.addWidget(self.export_button)
        bar.addWidget(self.progress, 1)
        return bar

    def _tests_box(self) -> QWidget:
        self.tests = QTreeWidget()
        self.tests.setHeaderLabels(["Test", "Status", "Failures", "Message"])
        self.tests.setRootIsDecorated(False)
        self.tests.itemDoubleClicked.connect(lambda item, _c: self.show_failing_rows(item))
        self.failing_rows_button = QPushButton("Show failing rows")
        self.failing_rows_button.setToolTip(f"Run the selected failing test's SQL and show up to "
                                            f"{FAILING_ROWS_LIMIT} of the rows it returns")
        self.failing_rows_button.clicked.connect(lambda: self.show_failing_rows(self.tests.currentItem()))
        self.tests.currentItemChanged.connect(lambda current, _p: self.failing_rows_button.setEnabled(
            current is not None and current.text(1) in FAILING))
        self.failing_rows_button.setEnabled(False)
        box = QWidget()
        layout = QVBoxLayout(box)
        row = QHBoxLayout()
        self.tests_label = QLabel("All data tests")
        row.addWidget(self.tests_label, 1)
        row.addWidget(self.failing_rows_button)
        layout.addLayout(row)
        layout.addWidget(self.tests)
        return box

    def _result_box(self) -> QWidget:
        self.result_model = LazyTableModel(self.studio.runner, self)
        self.result_model.errorOccurred.connect(lambda info: present_error(self, info, self.message))
        self.result = QTableView()
        self.result.setModel(self.result_model)
        self.result.setSortingEnabled(True)
        self.result.verticalHeader().setDefaultSectionSize(22)
        self.result.horizontalHeader().setDefaultSectionSize(130)
        self.result_label = ElidedLabel()
        self.result_model.statusChanged.connect(lambda text: self.result_label.setText(
            f"{self._result_title} — {text}" if text else self._result_title))
        self._result_title = ""
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.addWidget(self.result_label)
        layout.addWidget(self.result)
        return box

    def _roads_box(self) -> QWidget:
        self.roads_box = RoadsBox()
        self.roads, self.roads_button, self.origin_button = (self.roads_box.roads, self.roads_box.reconcile_button,
                                                              self.roads_box.origin_button)
        self.roads_button.clicked.connect(lambda: self.reconcile_roads())
        self.origin_button.clicked.connect(lambda: self.show_figure_origin())
        self.roads.itemDoubleClicked.connect(lambda _item: self.show_figure_origin())
        return self.roads_box

    # -- parse and build ----------------------------------------------------------------------------
    def refresh(self) -> Job:
        self.project_label.setText(f"Project: {self.studio.project_dir}")
        self.lineage.invalidate()
        return self.parsing.start(self.studio.parse_models(), on_success=self._show_nodes,
                                  on_failure=lambda info: present_error(self, info, self.message))

    def _show_nodes(self, nodes: list[ModelNode]) -> None:
        self.nodes = nodes
        self._redraw()

    def _tests_of(self) -> dict[str, list[NodeResult]]:
        attached = {n.unique_id: n.attached_node for n in self.nodes if n.resource_type in ("test", "unit_test")}
        tests: dict[str, list[NodeResult]] = {}
        for result in self.results.values():
            if result.resource_type in ("test", "unit_test"):
                owner = attached.get(result.unique_id)
                tests.setdefault(owner or "", []).append(result)
        return tests

    def _statuses(self) -> tuple[dict[str, str], dict[str, str]]:
        """Each node's status for the graph (a model whose test failed is failing too) and a note."""
        statuses = {uid: r.status for uid, r in self.results.items()}
        notes = {}
        for owner, tests in self._tests_of().items():
            failing = [t for t in tests if t.status in FAILING]
            warned = [t for t in tests if t.status == "warn"]
            if failing and statuses.get(owner) == "success":
                statuses[owner] = "fail"
            if failing or warned:
                notes[owner] = f"{len(failing)} test(s) failing, {len(warned)} warning"
            elif tests:
                notes[owner] = f"{len(tests)} test(s) passed"
        return statuses, notes

    def _redraw(self) -> None:
        statuses, notes = self._statuses()
        self._fill_list(statuses)
        self.dag.show_graph(self.nodes, statuses, notes)
        self._fill_tests(self._selected_uid())

    def _fill_list(self, statuses: dict[str, str]) -> None:
        current = self._selected_uid()
        tests = self._tests_of()
        self.list.clear()
        shown = [n for n in self.nodes if n.resource_type in ("model", "seed", "snapshot")]
        shown.sort(key=lambda n: (statuses.get(n.unique_id) not in FAILING, n.resource_type != "seed", n.name))
        for node in shown:
            result = self.results.get(node.unique_id)
            own = tests.get(node.unique_id, [])
            failing = sum(t.status in FAILING for t in own)
            status = statuses.get(node.unique_id, "")
            if not status and node.materialized == "ephemeral" and self.results:
                shown_status = "inlined"  # like dbt: an ephemeral model is built inside the models using it
            else:
                shown_status = status or "not run"
            item = QTreeWidgetItem([
                node.name, node.materialized, shown_status,
                f"{result.execution_time:.2f}" if result else "",
                "" if not result or result.rows_affected is None else f"{result.rows_affected:,}",
                (f"{failing} of {len(own)} failing" if failing else f"{len(own)} passed") if own else ""])
            item.setData(0, Qt.ItemDataRole.UserRole, node.unique_id)
            item.setForeground(2, palette.brush(status or "idle"))
            if failing:
                item.setForeground(5, palette.brush("fail"))
            for column in (3, 4):
                item.setTextAlignment(column, RIGHT)
            self.list.addTopLevelItem(item)
            if node.unique_id == current:
                self.list.setCurrentItem(item)
        for i in range(6):
            self.list.resizeColumnToContents(i)

    def build(self) -> Job:
        self.build_button.setEnabled(False)
        self.message.clear()
        job = self.studio.build(self.full_refresh.isChecked())
        self.progress.track(job, "Building the models", finish_text=self._finish_text)
        job.on_success(self.show_run).on_failure(lambda info: present_error(self, info, self.message))
        job.on_finished(lambda: self.build_button.setEnabled(True))
        return job

    @staticmethod
    def _finish_text(run: RunResult) -> tuple[str, str]:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run.counts().items()))
        return (f"Build {'succeeded' if run.ok else 'FAILED'}: {counts}", "ok" if run.ok else "error")

    def show_run(self, run: RunResult) -> None:
        self.results = {r.unique_id: r for r in run.results}
        self.lineage.invalidate()
        self._redraw()
        self.charts.set_stale("" if run.ok else "the last build failed; the charts show the marts as they were "
                                                "before it")
        if run.ok or not self.charts.has_data:
            self.load_charts()
        self.built.emit(run)

    def show_state(self, state: WorkspaceState) -> None:
        """The last run's artefacts and the marts, as they are on disk (on launch and after any writer)."""
        last = state.last_build
        if last is not None and self.progress.state != "running":
            self.results = {r.unique_id: r for r in last.run.results}
            self._redraw()
            self.charts.set_stale("" if last.run.ok else "the last build failed; the charts show the marts "
                                                         "as they were before it")
            if self.progress.state == "idle":
                counts = ", ".join(f"{k} {v}" for k, v in sorted(last.run.counts().items()))
                when = last.finished_at.astimezone().strftime("%Y-%m-%d %H:%M")
                stale = f" — stale: {state.models_stale}" if state.models_stale else ""
                self.message.show_message(f"Last build {when}: {counts}{stale}",
                                          "warn" if state.models_stale or not last.run.ok else "ok")
        elif last is None and self.progress.state == "idle":
            self.message.show_message("Not built yet: press Build models (after an ingestion) to build the marts.")
        if state.marts:
            self.load_charts()
        else:
            self.charts.set_empty()

    # -- selection ----------------------------------------------------------------------------------
    def _selected_uid(self) -> str | None:
        item = self.list.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item else None

    def select_model(self, uid: str) -> None:
        """Select a node's model (from the graph): its SQL, tests and rows."""
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == uid:
                self.list.setCurrentItem(item)
                return
        node = next((n for n in self.nodes if n.unique_id == uid), None)
        if node is not None:  # a source: show what it is
            self.sql.setPlainText(f"-- source {node.name}")

    def _on_list_current_changed(self, current, _previous) -> None:
        if current is None:
            return
        uid = current.data(0, Qt.ItemDataRole.UserRole)
        self.dag.select(uid)
        node = next((n for n in self.nodes if n.unique_id == uid), None)
        result = self.results.get(uid)
        self.sql.setPlainText(result.compiled_code if result and result.compiled_code
                              else (node.raw_code if node else ""))
        self._fill_tests(uid)
        self._lineage_follows_selection()
        if node and node.relation and result and result.status in ("success", "fail"):
            self._result_title = f"{node.name} ({node.relation})"
            self.result_model.open(self.studio.relation_opener(node.relation))
        else:
            self._result_title = f"{node.name if node else ''}: not built"
            self.result_label.setText(self._result_title)
            self.result_model.clear()

    def _fill_tests(self, uid: str | None) -> None:
        tests = self._tests_of()
        chosen = tests.get(uid, []) if uid else [t for ts in tests.values() for t in ts]
        self.tests_label.setText(f"Data tests of {self.results[uid].name if uid in self.results else uid}"
                                 if uid else "All data tests")
        self.tests.clear()
        for r in sorted(chosen, key=lambda r: (r.status not in FAILING, r.status != "warn", r.name)):
            item = QTreeWidgetItem([r.name, r.status, "" if r.failures is None else f"{r.failures:,}", r.message])
            item.setData(0, Qt.ItemDataRole.UserRole, r.unique_id)
            item.setForeground(1, palette.brush(r.status))
            item.setTextAlignment(2, RIGHT)
            item.setToolTip(3, r.message)
            self.tests.addTopLevelItem(item)
        self.tests.resizeColumnToContents(0)
        self.tests.resizeColumnToContents(1)
        self.failing_rows_button.setEnabled(False)

    def show_failing_rows(self, item: QTreeWidgetItem | None) -> None:
        """A failing test's rows: its compiled SQL (what dbt stores as failures), limited, in Result."""
        if item is None:
            return
        result = self.results.get(item.data(0, Qt.ItemDataRole.UserRole))
        if result is None or not result.compiled_code:
            self.message.show_message("This test has no compiled SQL to run (build first).", "warn")
            return
        self._result_title = f"Failing rows of {result.name} (up to {FAILING_ROWS_LIMIT})"
        sql = f"SELECT * FROM ({result.compiled_code}) AS failing_rows LIMIT {FAILING_ROWS_LIMIT}"  # noqa: S608
        self.result_model.open(self.studio.failing_rows_opener(sql))
        self.views.setCurrentIndex(3)

    # -- lineage ------------------------------------------------------------------------------------
    def show_lineage(self, uid: str) -> Job | None:
        """A node expanded to its columns, in the Lineage view (computed off the GUI thread once per build)."""
        node = next((n for n in self.nodes if n.unique_id == uid), None)
        name = node.name if node else f"raw.{uid.rsplit('.', 1)[-1]}"
        self.views.setCurrentWidget(self.lineage)
        return self.lineage.show_relation(name)

    def _lineage_follows_selection(self) -> None:
        uid = self._selected_uid()
        if self.views.currentWidget() is self.lineage and uid and self.lineage.graph is not None:
            self.show_lineage(uid)

    def show_figure_origin(self, figure: str | None = None) -> Job | None:
        """*Where does this come from?*: a figure's (or report sheet's) path down to OLTP, in Lineage."""
        figure = figure or self.roads_box.selected_figure()
        if not figure:
            self.message.show_message("Select a figure in the table first.", "warn")
            return None
        self.views.setCurrentWidget(self.lineage)
        return self.lineage.show_figure(figure)

    # -- charts -------------------------------------------------------------------------------------
    def load_charts(self) -> Job:
        return self.charting.start(self.studio.chart_data(), on_success=self.charts.set_data,
                                   on_failure=lambda info: self.charts.set_empty())

    # -- two roads ----------------------------------------------------------------------------------
    def reconcile_roads(self) -> Job:
        job = self.studio.roads()
        job.on_success(self.show_roads).on_failure(lambda info: present_error(self, info, self.message))
        return job

    def show_roads(self, checks) -> None:
        equal = self.roads_box.show_checks(checks)
        self.message.show_message(f"Two roads: {equal} of {len(checks)} figures equal",
                                  "ok" if equal == len(checks) else "error")

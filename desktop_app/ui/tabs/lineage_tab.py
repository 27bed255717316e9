"""The Models tab's *Lineage* view: loads the project's column lineage off the GUI thread, once per
build, and shows a relation's columns, a column's path, or a report figure's path down to OLTP."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop_app.core.lineage.graph import LineageGraph
from desktop_app.services.jobs import Job, JobSlot
from desktop_app.services.studio import Studio
from desktop_app.ui.error_dialog import present_error
from desktop_app.ui.widgets.job_progress import JobProgress
from desktop_app.ui.widgets.lineage_view import LineagePanel
from desktop_app.ui.widgets.message_bar import MessageBar


class LineageTab(QWidget):
    def __init__(self, studio: Studio, message: MessageBar, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio, self.message = studio, message
        self.graph: LineageGraph | None = None
        self.loading = JobSlot(studio.runner, self)
        self.progress = JobProgress()
        self.panel = LineagePanel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.panel, 1)
        self._waiting: list[Callable[[LineageGraph], None]] = []

    def invalidate(self) -> None:
        """The project or the warehouse changed: trace again when next asked."""
        self.graph = None

    def with_graph(self, then: Callable[[LineageGraph], None]) -> Job | None:
        """Call ``then`` with the lineage graph, computing it on a worker thread first if needed."""
        if self.graph is not None:
            then(self.graph)
            return None
        self._waiting.append(then)
        if self.loading.busy:
            return self.loading.job
        job = self.studio.lineage()
        self.progress.track(job, "Tracing column lineage",
                            finish_text=lambda g: (f"Column lineage: {len(g.nodes):,} columns, {len(g.edges):,} "
                                                   "edges", "ok"))
        return self.loading.start(job, on_success=self._loaded, on_failure=self._failed,
                                  on_cancelled=self._waiting.clear)

    def _loaded(self, graph: LineageGraph) -> None:
        self.graph = graph
        waiting, self._waiting = self._waiting, []
        for then in waiting:
            then(graph)

    def _failed(self, info) -> None:
        self._waiting.clear()
        present_error(self, info, self.message)

    def show_relation(self, name: str) -> Job | None:
        def show(graph: LineageGraph) -> None:
            if graph.columns_of(name):
                self.panel.show_relation(graph, name)
                return
            info = graph.relations.get(name)
            why = info.note if info is not None and info.note else "it is not built, or not in the project"
            self.panel.caption.setText(f"{name}: no columns traced ({why}).")

        return self.with_graph(show)

    def show_figure(self, figure: str) -> Job | None:
        """*Where does this come from?* for a two-roads figure: its path on the Excel road, down to OLTP."""
        target = self.studio.figure_target(figure)
        if target is None:
            self.panel.caption.setText(f"{figure}: not a figure the lineage knows.")
            return None
        excel, model = target

        def show(graph: LineageGraph) -> None:
            node = excel if excel in graph.nodes else model
            if node not in graph.nodes:
                self.panel.caption.setText(f"{figure}: no lineage yet (ingest the shop and build the models).")
                return
            self.panel.show_column(node, graph)
            self.panel.details.appendPlainText(f"\nThe same figure on the model road: {model}")

        return self.with_graph(show)

"""The Overview tab, shown first: the whole data flow as a live map built from the workspace's state,
one button that runs everything, what to press on a first launch, and the last run's summary (it
stays here; the status bar's copy used to be cut off and gone after 15 seconds)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_app.core.shop_marts import CHART_MARTS
from desktop_app.ui.icons import icon
from desktop_app.ui.widgets.flow_map import BoxState, FlowMap
from desktop_app.ui.widgets.job_progress import JobProgress
from desktop_app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    from desktop_app.core.workspace_state import WorkspaceState
    from desktop_app.services.studio import SourceView

FIRST_LAUNCH = ("Welcome. The demo shop on the left is a real SQLite database of a web shop. Press Run everything "
                "(Ctrl+R) to copy it into the DuckDB warehouse, build the models, write the three Excel workbooks "
                "and check that both roads give the same figures — then click any box to look inside.")
PIPELINE_ORDER = ("ingest", "raw", "models", "marts", "charts", "excel_raw", "excel_intermediate", "excel_final",
                  "exports")
RUNNING_STEP = {"export": "exports", "ingest": "ingest", "models": "models", "raw export": "excel_raw",
                "intermediate": "excel_intermediate", "final report": "excel_final", "excel": "excel_raw",
                "roads": "excel_final"}


def _when(seconds: float | None) -> str:
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M") if seconds else ""


class OverviewTab(QWidget):
    openRequested = Signal(str)  # a flow-map key: the window opens its tab

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state: WorkspaceState | None = None
        self.view: SourceView | None = None
        self.source_error = ""
        self.running: str | None = None
        self.passed: set[str] = set()  # steps of the running pipeline already done (read from disk after it)
        self.heading = QLabel("<b>Data flow</b> — OLTP source → DuckDB warehouse → two roads to the same figures")
        self.run_button = QPushButton(icon("run"), "Run everything")
        self.run_button.setToolTip("Ingest → build the models → the three Excel stages → reconcile the two roads "
                                   "(Ctrl+R)")
        self.progress = JobProgress()
        self.hint = QLabel(FIRST_LAUNCH)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("background: #ddf4ff; color: #0a3069; padding: 8px; border-radius: 4px;")
        self.hint.hide()
        self.summary = MessageBar()
        self.map = FlowMap()
        self.map.boxClicked.connect(self.openRequested.emit)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.run_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addWidget(self.map, 1)
        self._redraw()

    # -- inputs -------------------------------------------------------------------------------------
    def show_state(self, state: WorkspaceState) -> None:
        self.state = state
        self.hint.setVisible(state.history.last_run is None and state.last_build is None
                             and not any(s.exists for s in state.stages))
        self._redraw()

    def show_source(self, view: SourceView | None, error: str = "") -> None:
        self.view, self.source_error = view, error
        self._redraw()

    def set_running(self, step: str | None) -> None:
        """The box of the pipeline step running now (``Progress.target`` of Run everything), or None when
        it ended. The steps before it in the flow are marked done for this run."""
        key = RUNNING_STEP.get(step or "", None) if step else None
        if step is None:
            self.passed.clear()
        elif key in PIPELINE_ORDER:
            self.hint.hide()
            self.passed = set(PIPELINE_ORDER[:PIPELINE_ORDER.index(key)])  # the order Run everything runs in
        if key != self.running:
            self.running = key
            self._redraw()

    def show_summary(self, lines: list[str], ok: bool) -> None:
        self.summary.show_message(" · ".join(lines), "ok" if ok else "error")
        self.summary.setToolTip("\n".join(lines))

    # -- boxes --------------------------------------------------------------------------------------
    def _redraw(self) -> None:
        boxes = self.boxes()
        for key in self.passed:
            boxes[key].status, boxes[key].kind = "done in this run", "ok"
        if self.running in boxes:
            boxes[self.running].status, boxes[self.running].kind = "running …", "running"
        self.map.set_boxes(boxes)

    def boxes(self) -> dict[str, BoxState]:
        """Every box of the flow map as the source and the workspace state describe it."""
        state = self.state
        boxes = {key: BoxState(title) for key, title in (
            ("source", "OLTP source"), ("ingest", "Ingestion"), ("raw", "Raw layer (DuckDB)"),
            ("models", "Model project"), ("marts", "Marts"), ("charts", "Charts"),
            ("excel_raw", "1 · Raw export"), ("excel_intermediate", "2 · Intermediate"),
            ("excel_final", "3 · Final report"), ("exports", "Exports for BI"))}
        boxes["exports"].shown = bool(state and state.export)
        self._source_box(boxes["source"])
        if state is None:
            return boxes
        self._warehouse_boxes(state, boxes["ingest"], boxes["raw"])
        self._model_boxes(state, boxes["models"], boxes["marts"], boxes["charts"])
        if state.export:
            self._export_box(state, boxes["exports"])
        for stage in state.stages:
            box = boxes[f"excel_{stage.stage}"]
            if stage.exists:
                box.status = "stale" if stage.stale else "done"
                box.lines = [f"written {_when(stage.modified)}"]
                if stage.sheets:
                    box.lines.append(f"{sum(stage.sheets.values()):,} rows in {len(stage.sheets)} sheets")
                if stage.stale:
                    box.lines.insert(0, stage.stale)
        return boxes

    def _source_box(self, box: BoxState) -> None:
        view = self.view
        if view is not None:
            rows = sum(t.row_count or 0 for t in view.info.tables)
            box.status, box.kind = f"{len(view.info.tables)} tables, {rows:,} rows", "ok"
            box.lines = [view.info.label.rsplit("/", 1)[-1], view.info.dialect
                         + (f", demo shop at scale {view.demo_scale:g}" if view.demo_scale else "")]
        elif self.source_error:
            box.status, box.lines = "failed: cannot be read", [self.source_error]

    @staticmethod
    def _warehouse_boxes(state: WorkspaceState, ingest: BoxState, raw: BoxState) -> None:
        if state.warehouse_error:
            raw.status, raw.lines = "failed: cannot be read", [state.warehouse_error]
        run = state.history.last_run
        if run is not None:
            ingest.status = run.status
            finished = _when(run.finished_at.timestamp()) if run.finished_at else "unfinished"
            took = f" in {run.seconds:.1f} s" if run.seconds else ""
            ingest.lines = [f"run {run.run_id}, {run.mode}, {finished}", f"{run.rows_read:,} rows read{took}"]
            different = {r.table for r in state.history.reconciliations if r.run_id == run.run_id
                         and r.status != "equal"}
            ingest.lines.append(f"reconciliation: {len(different)} table(s) different" if different
                                else "every table reconciled")
        if state.raw_tables:
            raw.status, raw.kind = f"{len(state.raw_tables)} tables loaded", "ok"
            raw.lines = [f"{sum(state.raw_tables.values()):,} rows", state.warehouse.name]

    @staticmethod
    def _model_boxes(state: WorkspaceState, models: BoxState, marts: BoxState, charts: BoxState) -> None:
        build = state.last_build
        if build is not None:
            counts = build.run.counts()
            failing = counts.get("error", 0) + counts.get("fail", 0)
            models.status = ("stale" if state.models_stale else "success") if not failing else "failed"
            models.lines = [f"built {_when(state.built_at)}", ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))]
            if state.models_stale:
                models.lines.insert(0, state.models_stale)
        if state.marts:
            marts.status = "stale" if state.models_stale else "success"
            biggest = sorted(state.marts.items(), key=lambda kv: -kv[1])[:2]
            marts.lines = [f"{len(state.marts)} marts"] + [f"{name}: {rows:,} rows" for name, rows in biggest]
            charts.status = "success" if CHART_MARTS <= set(state.marts) else "not run"
            charts.lines = ["revenue by month and day,", "top products and customers"]

    @staticmethod
    def _export_box(state: WorkspaceState, box: BoxState) -> None:
        export = state.export
        when = datetime.fromisoformat(export["exported_at"]).astimezone().strftime("%Y-%m-%d %H:%M")
        box.status = "stale" if state.export_stale else "done"
        box.lines = [f"{len(export['files'])} relation(s) as {export['format']}", f"exported {when}"]
        if state.export_stale:
            box.lines.insert(0, state.export_stale)

    def box_text(self, key: str) -> str:
        """What a box says (for tests and accessibility)."""
        state = self.map.states.get(key)
        return "\n".join([state.title, state.status, *state.lines]) if state else ""


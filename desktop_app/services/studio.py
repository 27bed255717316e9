"""One facade over the core for the window: every method returns a started ``Job``.

Widgets ask, the service runs the work on a worker lane and answers by signal. Writers (seeding,
simulating, ingesting, building, the Excel stages) share the one-thread ``writer`` lane so a
database file never has two writers; reads (inspection, previews, history, state) use the read
pool. After every writer job ``warehouseChanged`` is emitted — also after a cancelled or failed
one, since tables committed before the cancel stand — and the window reads the workspace's state
afresh; no tab keeps its own memory of what happened.

The core modules (SQLAlchemy, DuckDB, Jinja2 …) are imported inside the job functions, on worker
threads, so none of that import time delays the window's first paint.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from desktop_app.core.excel.stages import FINAL_REPORT
from desktop_app.core.shop_marts import in_marts_folder
from desktop_app.paths import Workspace, sql_project_dir
from desktop_app.services.charts import load_chart_data
from desktop_app.services.jobs import Job, JobRunner

if TYPE_CHECKING:
    from desktop_app.core.ingest.plan import TablePlan
    from desktop_app.core.oltp.inspect import SourceInfo


BUILT = ("model", "seed", "snapshot")  # the kinds of node that have a relation in the warehouse

@dataclass(frozen=True)
class SourceView:
    """What the Source and Ingestion tabs show of a source: its tables, each table's plan, and for the
    demo shop the scale it was made with."""

    info: SourceInfo
    plans: dict[str, TablePlan] = field(default_factory=dict)
    demo_scale: float | None = None


@dataclass(frozen=True)
class ModelNode:
    """A node of the parsed project, as the Models tab and the graph show it."""

    unique_id: str
    name: str
    resource_type: str  # model | seed | snapshot | test | unit_test | source
    materialized: str
    depends_on: tuple[str, ...]
    relation: str | None  # what to query for a preview; None for ephemeral models and tests
    raw_code: str
    attached_node: str | None = None  # for a test: the model it tests


class Studio(QObject):
    """The app's state (workspace, source, project, warehouse) and its operations as jobs."""

    sourceChanged = Signal(str)
    warehouseChanged = Signal()  # the warehouse (or which one) changed: read the state again

    def __init__(self, workspace: Workspace, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.runner = runner
        self.source: str = str(workspace.demo_shop)
        self.project_dir: Path = sql_project_dir()
        self.warehouse_path: Path = workspace.warehouse
        self.export_dir: Path | None = None  # where exports for BI go (a setting the window passes on)
        self.look_back: int | None = None  # seconds a watermark load re-reads (a setting); None: the default

    # -- where things are -------------------------------------------------------------------------
    @property
    def _pair_folder(self) -> Path | None:
        """Artefacts of a project/warehouse other than the workspace's own live in their own folder."""
        if self.project_dir == sql_project_dir() and self.warehouse_path == self.workspace.warehouse:
            return None
        key = hashlib.sha256(f"{self.project_dir.resolve()}|{self.warehouse_path.resolve()}".encode()).hexdigest()
        return self.workspace.root / "other" / f"{self.warehouse_path.stem}-{key[:10]}"

    @property
    def target_dir(self) -> Path:
        folder = self._pair_folder
        return folder / "target" if folder else self.workspace.root / "target"

    @property
    def excel_dir(self) -> Path:
        folder = self._pair_folder
        return folder / "excel" if folder else self.workspace.excel_dir

    @property
    def source_label(self) -> str:
        """The source as the user may see it: a file path, or a URL with every secret redacted."""
        from desktop_app.core.errors import SourceError
        from desktop_app.core.oltp.source import parse_source

        try:
            return parse_source(self.source).label
        except SourceError:
            return "(no source)"

    def set_source(self, location: str) -> None:
        self.source = location
        self.sourceChanged.emit(location)

    def set_project(self, folder: Path) -> None:
        self.project_dir = Path(folder)
        self.warehouseChanged.emit()  # the artefacts shown come from another target folder

    def set_warehouse(self, path: Path) -> None:
        self.warehouse_path = Path(path)
        self.warehouseChanged.emit()

    def _submit(self, fn, *args, title: str, lane: str = "read", **kwargs) -> Job:
        job = Job(fn, *args, title=title, **kwargs)
        if lane == "writer":
            job.on_finished(self.warehouseChanged.emit)
        return self.runner.submit(job, lane=lane)

    # -- the workspace's state ----------------------------------------------------------------------
    def state(self) -> Job:
        return self._submit(_state, self.warehouse_path, self.target_dir, self.excel_dir, self.export_dir,
                            title="Read the workspace")

    # -- source -------------------------------------------------------------------------------------
    def create_demo_shop(self, scale: float) -> Job:
        return self._submit(_create_shop, self.workspace.demo_shop, scale, title="Create the demo shop",
                            lane="writer")

    def simulate(self, orders: int = 200, updates: int = 400, deletes: int = 20) -> Job:
        return self._submit(_simulate, self.source, orders, updates, deletes, title="Simulate shop activity",
                            lane="writer")

    def inspect(self, location: str | None = None) -> Job:
        """The source's tables, plans and demo scale (``location``: a source not yet switched to)."""
        return self._submit(_inspect, location or self.source, self.look_back, title="Inspect the source")

    def preview_opener(self, table: str, contains: str):
        """A function the preview lane calls to open the rows of ``table`` (sorted by the database)."""
        return partial(_open_rows, self.source, table, contains)

    # -- ingestion ----------------------------------------------------------------------------------
    def ingest(self, mode: str, tables: list[str] | None) -> Job:
        return self._submit(_ingest, self.source, self.warehouse_path, mode, tables, self.look_back, title="Ingest",
                            lane="writer")

    # -- models -------------------------------------------------------------------------------------
    def parse_models(self) -> Job:
        return self._submit(_parse, self.project_dir, self.warehouse_path, title="Parse the models")

    def build(self, full_refresh: bool = False) -> Job:
        return self._submit(_build, self.project_dir, self.warehouse_path, self.target_dir, full_refresh,
                            title="Build the models", lane="writer")

    def lineage(self) -> Job:
        """The column lineage of the project over the warehouse (and the export, when there is one)."""
        return self._submit(_lineage, self.project_dir, self.warehouse_path, self.export_dir, title="Column lineage")

    @staticmethod
    def figure_target(figure: str) -> tuple[str, str] | None:
        """(Excel road node, model road node) of a two-roads figure name."""
        from desktop_app.core.lineage.excel_road import figure_nodes

        return figure_nodes(figure)

    def chart_data(self) -> Job:
        return self._submit(load_chart_data, self.warehouse_path, title="Chart data")

    def relation_opener(self, relation: str):
        return partial(_open_query, self.warehouse_path, f"SELECT * FROM {relation}",  # noqa: S608 - quoted name
                       with_total=True)

    def failing_rows_opener(self, compiled_sql: str):
        """The rows a failing data test returns (its compiled SQL), for *Show failing rows*."""
        return partial(_open_query, self.warehouse_path, compiled_sql)

    # -- query console ------------------------------------------------------------------------------
    def console_opener(self, sql: str):
        return partial(_open_query, self.warehouse_path, sql, checked=True)

    def export_csv(self, opener, path: Path) -> Job:
        return self._submit(_export_csv, opener, Path(path), title="Export CSV")

    # -- excel --------------------------------------------------------------------------------------
    def excel(self, stage: str) -> Job:
        return self._submit(_excel, self.warehouse_path, self.excel_dir, stage, title=f"Excel: {stage}",
                            lane="writer")

    def preview_sheet(self, path: Path, sheet: str) -> Job:
        return self._submit(_sheet, path, sheet, title="Preview sheet")

    def sheets_of(self, path: Path) -> Job:
        return self._submit(_sheet_names, path, title="Read workbook")

    def roads(self) -> Job:
        return self._submit(_roads, self.excel_dir / FINAL_REPORT, self.warehouse_path,
                            title="Reconcile the two roads")

    def copy_file(self, source: Path, target: Path) -> Job:
        return self._submit(_copy_file, Path(source), Path(target), title="Save a copy")

    def run_everything(self, mode: str = "incremental", export_dir: Path | None = None,
                       export_format: str = "parquet") -> Job:
        return self._submit(_pipeline, self.source, self.warehouse_path, self.project_dir,
                            self.excel_dir, mode=mode, target_dir=self.target_dir, export_dir=export_dir,
                            export_format=export_format, look_back=self.look_back, title="Run everything",
                            lane="writer")

    # -- hand-off to BI -----------------------------------------------------------------------------
    def export_candidates(self) -> Job:
        """The relations a user can export, with which are marts and which are built."""
        return self._submit(_export_candidates, self.project_dir, self.warehouse_path, title="List the relations")

    def export(self, folder: Path, fmt: str, selection: list[str] | None) -> Job:
        # On the writer lane: a build running at the same time would otherwise change what is exported.
        self.export_dir = Path(folder)
        return self._submit(_export, self.warehouse_path, self.project_dir, Path(folder), fmt, selection,
                            title="Export for BI", lane="writer")


@dataclass(frozen=True)
class ExportCandidate:
    name: str
    relation: str
    is_mart: bool
    built: bool


def tableau_available() -> bool:
    """Whether Tableau's Hyper API (the optional extra) is installed, without importing it."""
    import importlib.util

    return importlib.util.find_spec("tableauhyperapi") is not None


# Plain functions the jobs run (report= and cancel= come from the Job).
def _export_candidates(project_dir, warehouse, *, report, cancel):
    from desktop_app.core.models.parse import parse_project
    from desktop_app.core.olap.warehouse import Warehouse

    with Warehouse.for_reading(warehouse) as wh:
        parsed = parse_project(project_dir, wh)
        existing = {tuple(r) for r in wh.cursor().execute(
            "SELECT table_catalog, table_schema, table_name FROM information_schema.tables").fetchall()}
        candidates = []
        for uid in parsed.graph.order({u for u, n in parsed.project.nodes.items()
                                       if n.resource_type in BUILT and not n.is_ephemeral}):
            node = parsed.project.nodes[uid]
            relation = parsed.compiler.relation(node)
            candidates.append(ExportCandidate(node.name, str(relation), in_marts_folder(node.fqn),
                                              (relation.database, relation.schema, relation.identifier) in existing))
        return candidates


def _export(warehouse, project_dir, folder, fmt, selection, *, report, cancel):
    from desktop_app.core.handoff.export import export
    from desktop_app.core.olap.warehouse import Warehouse

    with Warehouse.for_reading(warehouse) as wh:
        return export(wh, project_dir, folder, fmt, selection=selection, report=report, cancel=cancel)
def _state(warehouse, target_dir, excel_dir, export_dir, *, report, cancel):
    from desktop_app.core.workspace_state import read_workspace_state

    return read_workspace_state(warehouse, target_dir, excel_dir, export_dir)


def _create_shop(path, scale, *, report, cancel):
    from desktop_app.core.oltp.demo_shop import create_shop

    return create_shop(path, scale=scale, force=True, report=report, cancel=cancel)


def _simulate(location, orders, updates, deletes, *, report, cancel):
    from desktop_app.core.oltp.simulate import simulate_activity

    return simulate_activity(location, orders=orders, updates=updates, deletes=deletes, report=report, cancel=cancel)


def _pipeline(*args, report, cancel, **kwargs):
    from desktop_app.core.pipeline import run_pipeline

    return run_pipeline(*args, report=report, cancel=cancel, isolate_excel=True, **kwargs)


def _inspect(location, look_back, *, report, cancel):
    from desktop_app.core.ingest.look_back import DEFAULT_LOOK_BACK
    from desktop_app.core.ingest.plan import plan_table
    from desktop_app.core.oltp.demo_shop import demo_shop_scale
    from desktop_app.core.oltp.inspect import inspect_source
    from desktop_app.core.oltp.source import open_source

    with open_source(location) as source:
        info = inspect_source(source, report=report, cancel=cancel)
        scale = demo_shop_scale(source.spec.sqlite_path) if source.spec.sqlite_path else None
    chosen = DEFAULT_LOOK_BACK if look_back is None else look_back
    return SourceView(info, {t.name: plan_table(t, chosen) for t in info.tables}, scale)


def _open_rows(location, table, contains, *, order_by=None, descending=False, cancel=None):
    """Runs on the preview lane: a RowSource that owns its own source engine."""
    from desktop_app.core.oltp.rows import RowSource
    from desktop_app.core.oltp.source import open_source

    source = open_source(location)
    try:
        return RowSource(source, table, order_by=order_by, descending=descending, contains=contains or None,
                         owns_source=True)
    except BaseException:
        source.close()
        raise


def _open_query(warehouse, sql, *, checked=False, with_total=False, order_by=None, descending=False, cancel=None):
    from desktop_app.core.olap.query import QueryRows

    return QueryRows(warehouse, sql, read_only_check=checked, order_by=order_by, descending=descending,
                     with_total=with_total, cancel=cancel)


def _export_csv(opener, path, *, report, cancel):
    from desktop_app.core.olap.query import write_csv

    rows = opener(cancel=cancel)
    try:
        return write_csv(rows, path, report=report, cancel=cancel)
    finally:
        rows.close()


def _ingest(location, warehouse, mode, tables, look_back, *, report, cancel):
    from desktop_app.core.ingest.run import run_ingest
    from desktop_app.core.olap.warehouse import Warehouse
    from desktop_app.core.oltp.source import open_source
    from desktop_app.core.pipeline import look_back_option

    with open_source(location) as source, Warehouse(warehouse) as wh:
        return run_ingest(source, wh, mode=mode, tables=tables, report=report, cancel=cancel,
                          **look_back_option(look_back))


def _parse(project_dir, warehouse, *, report, cancel):
    from desktop_app.core.models.parse import parse_project
    from desktop_app.core.olap.warehouse import Warehouse

    with Warehouse(warehouse, ensure_metadata=False) as wh:
        parsed = parse_project(project_dir, wh)
        nodes = []
        for uid, node in parsed.project.nodes.items():
            relation = None
            if node.resource_type in BUILT and not node.is_ephemeral:
                relation = str(parsed.compiler.relation(node))
            attached = node.attached_node
            if node.resource_type == "test" and attached is None:  # a singular test: the one model it reads
                models = [d for d in node.depends_on if d.startswith(("model.", "seed.", "snapshot."))]
                attached = models[0] if len(models) == 1 else None
            nodes.append(ModelNode(uid, node.name, node.resource_type, node.materialized, tuple(node.depends_on),
                                   relation, node.raw_code, attached))
        return nodes


def _lineage(project_dir, warehouse, export_dir, *, report, cancel):
    from desktop_app.core.lineage.whole_path import lineage_of_project
    from desktop_app.core.olap.warehouse import Warehouse

    with Warehouse(warehouse, must_exist=True, ensure_metadata=False) as wh:
        return lineage_of_project(project_dir, wh, export_dir=export_dir, report=report, cancel=cancel)


def _build(project_dir, warehouse, target_dir, full_refresh, *, report, cancel):
    from desktop_app.core.models.runner import run_command
    from desktop_app.core.olap.warehouse import Warehouse

    with Warehouse(warehouse) as wh:
        return run_command("build", project_dir, wh, full_refresh=full_refresh, target_dir=target_dir,
                           report=report, cancel=cancel)


def _excel(warehouse, out_dir, stage, *, report, cancel):
    from desktop_app.core.excel import pipeline as excel_pipeline
    from desktop_app.core.olap.warehouse import Warehouse

    Path(out_dir).mkdir(parents=True, exist_ok=True)
    with Warehouse.for_reading(warehouse) as wh:
        return excel_pipeline.run_excel(wh, Path(out_dir), stage=stage, report=report, cancel=cancel, isolate=True)


def _sheet(path, sheet, *, report, cancel):
    from desktop_app.core.excel.read import sheet_preview

    return sheet_preview(Path(path), sheet)


def _sheet_names(path, *, report, cancel):
    from desktop_app.core.excel.read import open_workbook

    return open_workbook(Path(path), "Excel").sheet_names


def _roads(report_path, warehouse, *, report, cancel):
    from desktop_app.core.excel.roads import reconcile_roads
    from desktop_app.core.olap.warehouse import Warehouse

    with Warehouse.for_reading(warehouse) as wh:
        return reconcile_roads(Path(report_path), wh)


def _copy_file(source, target, *, report, cancel):
    import shutil

    from desktop_app.core.excel.safety import atomic_target

    with atomic_target(target) as temp:
        shutil.copyfile(source, temp)
    return target

"""One facade over the core for the window: every method returns a started ``Job``.

Widgets ask, the service runs the work on a worker lane and answers by signal. Writers (seeding,
simulating, ingesting, building, exporting) share the one-thread ``writer`` lane so a database
file never has two writers; reads (inspection, previews, history) use the read pool.

The core modules (pandas, SQLAlchemy, DuckDB, Jinja2 …) are imported inside the job functions, on
worker threads, so none of that import time delays the window's first paint.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop_app.paths import Workspace, sql_project_dir
from desktop_app.services.charts import load_chart_data
from desktop_app.services.jobs import Job, JobRunner


class Studio(QObject):
    """The app's state (workspace, current source) and its operations as jobs."""

    sourceChanged = Signal(str)  # noqa: N815 - Qt signal naming
    warehouseChanged = Signal()  # noqa: N815

    def __init__(self, workspace: Workspace, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.runner = runner
        self.source: str = str(workspace.demo_shop)
        self.project_dir: Path = sql_project_dir()

    @property
    def warehouse_path(self) -> Path:
        return self.workspace.warehouse

    @property
    def target_dir(self) -> Path:
        return self.workspace.root / "target"

    def set_source(self, location: str) -> None:
        self.source = location
        self.sourceChanged.emit(location)

    def _submit(self, fn, *args, title: str, lane: str = "read", **kwargs) -> Job:
        return self.runner.submit(Job(fn, *args, title=title, **kwargs), lane=lane)

    # -- source -------------------------------------------------------------------------------------
    def create_demo_shop(self, scale: float) -> Job:
        return self._submit(_create_shop, self.workspace.demo_shop, scale, title="Create the demo shop",
                            lane="writer")

    def simulate(self, orders: int = 200, updates: int = 400, deletes: int = 20) -> Job:
        return self._submit(_simulate, self.source, orders, updates, deletes, title="Simulate shop activity",
                            lane="writer")

    def inspect(self) -> Job:
        return self._submit(_inspect, self.source, title="Inspect the source")

    # -- ingestion ----------------------------------------------------------------------------------
    def ingest(self, mode: str, tables: list[str] | None) -> Job:
        return self._submit(_ingest, self.source, self.warehouse_path, mode, tables, title="Ingest", lane="writer")

    def history(self) -> Job:
        return self._submit(_history, self.warehouse_path, title="Load run history")

    # -- models -------------------------------------------------------------------------------------
    def parse_models(self) -> Job:
        return self._submit(_parse, self.project_dir, self.warehouse_path, title="Parse the models")

    def build(self, full_refresh: bool = False) -> Job:
        return self._submit(_build, self.project_dir, self.warehouse_path, self.target_dir, full_refresh,
                            title="Build the models", lane="writer")

    def chart_data(self) -> Job:
        return self._submit(load_chart_data, self.warehouse_path, title="Chart data")

    def query(self, sql: str, limit: int = 500) -> Job:
        return self._submit(_query, self.warehouse_path, sql, limit, title="Preview")

    # -- excel --------------------------------------------------------------------------------------
    def excel(self, stage: str) -> Job:
        return self._submit(_excel, self.warehouse_path, self.workspace.excel_dir, stage,
                            title=f"Excel: {stage}", lane="writer")

    def preview_sheet(self, path: Path, sheet: str) -> Job:
        return self._submit(_sheet, path, sheet, title="Preview sheet")

    def sheets_of(self, path: Path) -> Job:
        return self._submit(_sheet_names, path, title="Read workbook")

    def roads(self) -> Job:
        return self._submit(_roads, self.workspace.excel_dir / "03_final_report.xlsx", self.warehouse_path,
                            title="Reconcile the two roads")

    def run_everything(self, mode: str = "incremental") -> Job:
        return self._submit(_pipeline, self.source, self.warehouse_path, self.project_dir,
                            self.workspace.excel_dir, mode=mode, target_dir=self.target_dir,
                            title="Run everything", lane="writer")


# Plain functions the jobs run (report= and cancel= come from the Job).
def _create_shop(path, scale, *, report, cancel):
    from desktop_app.core.oltp.demo_shop import create_shop

    return create_shop(path, scale=scale, force=True, report=report, cancel=cancel)


def _simulate(location, orders, updates, deletes, *, report, cancel):
    from desktop_app.core.oltp.simulate import simulate_activity

    return simulate_activity(location, orders=orders, updates=updates, deletes=deletes, report=report, cancel=cancel)


def _pipeline(*args, report, cancel, **kwargs):
    from desktop_app.core.pipeline import run_pipeline

    return run_pipeline(*args, report=report, cancel=cancel, isolate_excel=True, **kwargs)


def _inspect(location, *, report, cancel):
    from desktop_app.core.oltp.inspect import inspect_source
    from desktop_app.core.oltp.source import open_source

    with open_source(location) as source:
        return inspect_source(source, report=report, cancel=cancel)


def _ingest(location, warehouse, mode, tables, *, report, cancel):
    from desktop_app.core.ingest.run import run_ingest
    from desktop_app.core.olap.warehouse import Warehouse
    from desktop_app.core.oltp.source import open_source

    with open_source(location) as source, Warehouse(warehouse) as wh:
        return run_ingest(source, wh, mode=mode, tables=tables, report=report, cancel=cancel)


def _history(warehouse, *, report, cancel):
    from desktop_app.core.olap.warehouse import META_SCHEMA, Warehouse

    if not Path(warehouse).exists():
        return [], []
    with Warehouse(warehouse) as wh:
        loads = wh.cursor().execute(
            f"SELECT l.run_id, r.started_at, l.table_name, l.mode, l.strategy, l.rows_read, l.rows_inserted, "  # noqa: S608
            f"l.rows_updated, l.rows_deleted, round(l.seconds, 2), l.status, l.error "
            f"FROM {META_SCHEMA}.table_loads l JOIN {META_SCHEMA}.runs r USING (run_id) "
            f"ORDER BY l.run_id DESC, l.table_name LIMIT 400").fetchall()
        recon = wh.cursor().execute(
            f"SELECT run_id, table_name, scope, source_rows, warehouse_rows, status, detail "  # noqa: S608
            f"FROM {META_SCHEMA}.reconciliations ORDER BY checked_at DESC LIMIT 200").fetchall()
    return loads, recon


def _parse(project_dir, warehouse, *, report, cancel):
    from desktop_app.core.models.runner import parse_project
    from desktop_app.core.olap.warehouse import Warehouse

    with Warehouse(warehouse) as wh:
        parsed = parse_project(project_dir, wh)
        nodes = []
        for uid, node in parsed.project.nodes.items():
            relation = None
            if node.resource_type in ("model", "seed") and node.materialized != "ephemeral":
                relation = str(parsed.compiler.relation(node))
            nodes.append({"unique_id": uid, "name": node.name, "resource_type": node.resource_type,
                          "materialized": node.materialized, "depends_on": list(node.depends_on),
                          "relation": relation, "raw_code": node.raw_code})
        return nodes


def _build(project_dir, warehouse, target_dir, full_refresh, *, report, cancel):
    from desktop_app.core.models.runner import run_command
    from desktop_app.core.olap.warehouse import Warehouse

    with Warehouse(warehouse) as wh:
        return run_command("build", project_dir, wh, full_refresh=full_refresh, target_dir=target_dir,
                           report=report, cancel=cancel)


def _query(warehouse, sql, limit, *, report, cancel):
    from desktop_app.core.olap.warehouse import Warehouse

    with Warehouse(warehouse, read_only=False) as wh:
        cursor = wh.cursor().execute(f"SELECT * FROM ({sql}) LIMIT {int(limit)}")  # noqa: S608 - app-built SQL
        columns = [d[0] for d in cursor.description]
        return columns, cursor.fetchall()


def _excel(warehouse, out_dir, stage, *, report, cancel):
    from desktop_app.core.excel import pipeline as excel_pipeline
    from desktop_app.core.olap.warehouse import Warehouse

    Path(out_dir).mkdir(parents=True, exist_ok=True)
    with Warehouse(warehouse) as wh:
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

    with Warehouse(warehouse) as wh:
        return reconcile_roads(Path(report_path), wh)

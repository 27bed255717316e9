"""Run everything: ingest → build the models → the three Excel stages → reconcile the two roads → (when a
folder is given) export the marts for BI tools.

One function for ``oltp-olap pipeline``, the window's *Run everything* and the self-test. Each
step reports into its own slice of the progress bar and the result says, per step, what it did.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core.excel.pipeline import run_excel
from desktop_app.core.excel.roads import FigureCheck, reconcile_roads
from desktop_app.core.handoff.export import ExportReport, export
from desktop_app.core.ingest.run import IngestReport, run_ingest
from desktop_app.core.models.results import RunResult
from desktop_app.core.models.runner import run_command
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.source import open_source
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Progress, Report, scaled


@dataclass
class PipelineResult:
    ingest: IngestReport | None = None
    models: RunResult | None = None
    excel: list = field(default_factory=list)
    roads: list[FigureCheck] = field(default_factory=list)
    export: ExportReport | None = None
    export_wanted: bool = False
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.ingest and self.ingest.ok and self.models and self.models.ok and len(self.excel) == 3
                    and self.roads and all(c.equal for c in self.roads)
                    and (self.export is not None or not self.export_wanted))

    def summary(self) -> list[str]:
        lines = []
        if self.ingest:
            rows = sum(t.rows_read for t in self.ingest.tables)
            lines.append(f"ingest: {self.ingest.status}, {len(self.ingest.tables)} tables, {rows:,} rows read "
                         f"({self.ingest.mode}) in {self.seconds.get('ingest', 0):.1f} s")
        if self.models:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(self.models.counts().items()))
            lines.append(f"models: {'ok' if self.models.ok else 'FAILED'} ({counts}) in "
                         f"{self.seconds.get('models', 0):.1f} s")
        for stage in self.excel:
            lines.append(f"excel {stage.stage}: {stage.path.name} ({sum(stage.rows.values()):,} rows) in "
                         f"{stage.seconds:.1f} s")
        if self.roads:
            equal = sum(c.equal for c in self.roads)
            lines.append(f"two roads: {equal} of {len(self.roads)} figures equal")
        if self.export:
            lines.append(f"export: {len(self.export.files)} {self.export.format} file(s) in {self.export.folder}")
        return lines


def run_pipeline(source_location: str, warehouse_path: Path, project_dir: Path, excel_dir: Path, *,
                 mode: str = "incremental", target_dir: Path | None = None, report: Report = NULL_REPORT,
                 cancel: CancelToken = NEVER, isolate_excel: bool = False, export_dir: Path | None = None,
                 export_format: str = "parquet", look_back: int | None = None) -> PipelineResult:
    result = PipelineResult(export_wanted=export_dir is not None)
    excel_dir.mkdir(parents=True, exist_ok=True)
    with Warehouse(warehouse_path) as warehouse:
        started = time.perf_counter()
        with open_source(source_location) as source:
            result.ingest = run_ingest(source, warehouse, mode=mode, **look_back_option(look_back),
                                       report=scaled(_tagged(report, "ingest"), 0, .45), cancel=cancel)
        result.seconds["ingest"] = time.perf_counter() - started
        if not result.ingest.ok:
            return result
        started = time.perf_counter()
        result.models = run_command("build", project_dir, warehouse, target_dir=target_dir,
                                    report=scaled(_tagged(report, "models"), .45, .55), cancel=cancel)
        result.seconds["models"] = time.perf_counter() - started
        if not result.models.ok:
            return result
        last_excel = .9 if export_dir else .97
        result.excel = run_excel(warehouse, excel_dir, report=scaled(_tagged(report, "excel"), .55, last_excel),
                                 cancel=cancel, isolate=isolate_excel)
        report(Progress("pipeline", last_excel + .01, 1.0, "Reconciling the two roads", "roads"))
        result.roads = reconcile_roads(result.excel[-1].path, warehouse)
        if export_dir is not None:
            started = time.perf_counter()
            result.export = export(warehouse, project_dir, export_dir, export_format,
                                   report=scaled(_tagged(report, "export"), .93, .99), cancel=cancel)
            result.seconds["export"] = time.perf_counter() - started
    report(Progress("pipeline", 1.0, 1.0, "Done", "roads"))
    return result


def _tagged(report: Report, step: str) -> Report:
    """Keep a step's own progress visible by naming the step when the step names no target."""
    def tagged(progress: Progress) -> None:
        report(Progress(progress.stage, progress.done, progress.total, progress.message, progress.target or step))
    return tagged


def look_back_option(seconds: int | None) -> dict:
    """``run_ingest``'s look_back, when one was chosen (else its default)."""
    return {} if seconds is None else {"look_back": seconds}

"""Run the Excel stages in order (or one of them), each reading only the previous stage's file."""

from __future__ import annotations

from pathlib import Path

from desktop_app.core.errors import ExportError
from desktop_app.core.excel.export import export_raw
from desktop_app.core.excel.report import Provenance, build_report
from desktop_app.core.excel.stages import INTERMEDIATE, RAW_EXPORT, STAGE_KEYS, StageResult
from desktop_app.core.excel.transform import transform
from desktop_app.core.isolated import run_isolated
from desktop_app.core.olap.warehouse import META_SCHEMA, Warehouse
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Report, scaled


def provenance_of(warehouse: Warehouse) -> Provenance:
    rows = warehouse.cursor().execute(
        f"select run_id, source, finished_at from {META_SCHEMA}.runs where status = 'success' "
        "order by run_id desc limit 1").fetchall()
    if not rows:
        return Provenance(warehouse=str(warehouse.path))
    run_id, source, finished = rows[0]
    return Provenance(source=source, warehouse=str(warehouse.path), ingestion_run=str(run_id),
                      ingested_at=f"{finished:%Y-%m-%d %H:%M:%S} UTC" if finished else "")


def run_excel(warehouse: Warehouse, out_dir: Path, *, stage: str = "all", report: Report = NULL_REPORT,
              cancel: CancelToken = NEVER, isolate: bool = False) -> list[StageResult]:
    """Run the stages; with ``isolate``, stages 2 and 3 (workbook → workbook) run in a child process,
    so their Python work never holds the calling process's GIL (the desktop app's window)."""
    if stage not in (*STAGE_KEYS, "all"):
        raise ExportError(f"Unknown stage {stage!r}.", "Use raw, intermediate, final or all.")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} is a file, not a folder.", "Give --out a folder for the workbooks.")
    if not out_dir.is_dir():
        raise ExportError(f"The output folder {out_dir} does not exist.", "Create it or choose another folder.")
    wanted = STAGE_KEYS if stage == "all" else (stage,)
    results: list[StageResult] = []
    provenance = provenance_of(warehouse)
    slices = {"raw": (0.0, 0.45), "intermediate": (0.45, 0.85), "final": (0.85, 1.0)}
    for name in wanted:
        part = scaled(report, *slices[name]) if stage == "all" else report
        if name == "raw":
            results.append(export_raw(warehouse, out_dir, report=part, cancel=cancel))
        elif name == "intermediate":
            results.append(_call(transform, isolate, out_dir / RAW_EXPORT, out_dir, report=part, cancel=cancel))
        else:
            for result in results:
                for sheet, rows in result.rows.items():
                    provenance.stage_rows[f"{result.stage} · {sheet}"] = rows
            results.append(_call(build_report, isolate, out_dir / INTERMEDIATE, out_dir, provenance=provenance,
                                 report=part, cancel=cancel))
    return results


def _call(fn, isolate: bool, *args, **kwargs):
    return run_isolated(fn, *args, **kwargs) if isolate else fn(*args, **kwargs)

"""What the workspace holds on disk, read fresh: the truth every tab shows on launch.

The window used to show only what it had done since it started, so a relaunch on a full workspace
showed "not run" everywhere. ``read_workspace_state`` gathers, without changing anything: the
ingestion history (``_studio``), the raw tables, the last model run (``target/`` artefacts), the
marts, the Excel workbooks with their times and rows, and which of these are stale — built from an
older ingestion, or written before the marts they should agree with.
"""

from __future__ import annotations

import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from desktop_app.core.errors import WarehouseError
from desktop_app.core.excel.stages import STAGES
from desktop_app.core.identifiers import qualified
from desktop_app.core.ingest.history import EMPTY, History, read_history
from desktop_app.core.models.artifacts import LastRun, read_last_run
from desktop_app.core.olap.warehouse import RAW_SCHEMA, Warehouse


@dataclass(frozen=True)
class StageFile:
    stage: str
    label: str
    path: Path
    modified: float | None  # seconds since the epoch; None: not written yet
    sheets: dict[str, int] = field(default_factory=dict)  # sheet -> data rows, from the file itself
    stale: str = ""  # why it may no longer agree with the warehouse, or ""

    @property
    def exists(self) -> bool:
        return self.modified is not None


@dataclass(frozen=True)
class WorkspaceState:
    warehouse: Path
    warehouse_error: str = ""  # the warehouse exists but cannot be read (locked, not DuckDB…)
    history: History = EMPTY
    raw_tables: dict[str, int] = field(default_factory=dict)
    last_build: LastRun | None = None
    marts: dict[str, int] = field(default_factory=dict)  # model name -> rows, of the marts that exist
    stages: tuple[StageFile, ...] = ()
    models_stale: str = ""  # why the models may be behind the raw data, or ""
    export: dict | None = None  # the last export for BI tools (its export.json), if any
    export_stale: str = ""
    read_at: float = field(default_factory=time.time)

    @property
    def ingested_at(self) -> float | None:
        run = next((r for r in self.history.runs if r.status == "success" and r.finished_at), None)
        return _epoch(run.finished_at) if run else None

    @property
    def built_at(self) -> float | None:
        return self.last_build.finished_at.timestamp() if self.last_build else None


def _epoch(value: datetime) -> float:
    """DuckDB's ``now()::TIMESTAMP`` is local wall time: a naive datetime read as local."""
    return value.timestamp()


def sheet_rows(path: Path) -> dict[str, int]:
    """Data rows per sheet, from each sheet's ``<dimension>`` (no cell is read); {} if unknown."""
    import re

    try:
        with zipfile.ZipFile(path) as package:
            workbook = package.read("xl/workbook.xml").decode("utf-8", "replace")
            names = re.findall(r'<sheet [^>]*name="([^"]*)"', workbook)
            rows = {}
            for index, name in enumerate(names, 1):
                part = f"xl/worksheets/sheet{index}.xml"
                if part not in package.namelist():
                    continue
                with package.open(part) as sheet:
                    head = sheet.read(4096).decode("utf-8", "replace")
                match = re.search(r'<dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"', head)
                if match:
                    rows[_unescape(name)] = max(int(match.group(1) or 1) - 1, 0)
            return rows
    except (OSError, KeyError, zipfile.BadZipFile):
        return {}


def _unescape(text: str) -> str:
    from xml.sax.saxutils import unescape

    return unescape(text, {"&quot;": '"', "&apos;": "'"})


def read_stage_files(excel_dir: Path) -> list[StageFile]:
    stages = []
    for stage, label, name in ((s.key, s.label, s.file_name) for s in STAGES):
        path = Path(excel_dir) / name
        try:
            modified = path.stat().st_mtime
        except OSError:
            stages.append(StageFile(stage, label, path, None))
            continue
        stages.append(StageFile(stage, label, path, modified, sheet_rows(path)))
    return stages


def read_export(folder: Path | None) -> dict | None:
    """The manifest an export left in ``folder`` (``core.handoff.export.MANIFEST``), or None."""
    import json

    if folder is None:
        return None
    try:
        manifest = json.loads((Path(folder) / "export.json").read_text(encoding="utf-8"))
        return manifest if isinstance(manifest, dict) and "files" in manifest else None
    except (OSError, ValueError):
        return None


def read_workspace_state(warehouse_path: Path, target_dir: Path, excel_dir: Path,
                         export_dir: Path | None = None) -> WorkspaceState:
    warehouse_path = Path(warehouse_path)
    last_build = read_last_run(target_dir)
    history, raw, marts, error = EMPTY, {}, {}, ""
    if warehouse_path.exists():
        try:
            with Warehouse.for_reading(warehouse_path) as warehouse:
                history = read_history(warehouse)
                raw = _row_counts(warehouse, {t: qualified(RAW_SCHEMA, t) for t in warehouse.raw_tables()})
                if last_build:
                    marts = _row_counts(warehouse, {m.name: m.relation_name for m in last_build.marts()})
        except WarehouseError as err:
            error = str(err)
        except duckdb.Error as err:
            error = str(err).splitlines()[0]
    state = WorkspaceState(warehouse_path, error, history, raw, last_build, marts)
    ingested, built = state.ingested_at, state.built_at
    models_stale = ""
    if built and ingested and ingested > built:
        models_stale = "the source was ingested after the last build"
    stages = []
    previous: float | None = None
    for stage in read_stage_files(excel_dir):
        why = ""
        if stage.exists:
            if stage.stage == "raw" and ingested and stage.modified < ingested:
                why = "written before the last ingestion"
            elif stage.stage == "final" and built and stage.modified < built:
                why = "written before the marts it is checked against were built"
            elif previous is not None and stage.modified < previous:
                why = "older than the stage it is made from"
            previous = stage.modified
        stages.append(StageFile(stage.stage, stage.label, stage.path, stage.modified, stage.sheets, why))
    export = read_export(export_dir)
    export_stale = ""
    if export and built:
        exported = datetime.fromisoformat(export["exported_at"]).timestamp()
        export_stale = "exported before the last build" if exported < built else ""
    return WorkspaceState(state.warehouse, error, history, state.raw_tables, last_build, marts, tuple(stages),
                          models_stale, export, export_stale)


def _row_counts(warehouse: Warehouse, relations: dict[str, str]) -> dict[str, int]:
    """Exact rows of each named relation that exists (``count(*)`` is fast on DuckDB's own tables)."""
    counts = {}
    cursor = warehouse.new_cursor()
    try:
        for name, relation in relations.items():
            try:
                counts[name] = cursor.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]  # noqa: S608
            except duckdb.CatalogException:
                continue
    finally:
        cursor.close()
    return counts

"""Export the project's relations for BI tools: ``export(warehouse, project, folder, "parquet")``.

One file per relation, named after it (Parquet, CSV, or a Tableau ``.hyper`` with its ``.tds``), or one
portable DuckDB file holding them all. Every file is written under a temporary name first and all are
renamed only once every one of them is complete, so a failed or cancelled export leaves the previous
files as they were. ``export.json`` in the folder says what was exported, when and from where.

The relations are the project's marts by default (models in a ``marts`` folder), or any selection in
dbt's syntax; each must exist in the warehouse (built), else the export says which to build first.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from desktop_app.core.errors import Cancelled, ExportError
from desktop_app.core.handoff.exact_types import exact_columns
from desktop_app.core.handoff.fields import Field, field_of
from desktop_app.core.identifiers import quote
from desktop_app.core.leftovers import remove_stale, temp_name
from desktop_app.core.models.graph import select
from desktop_app.core.models.parse import parse_project
from desktop_app.core.olap.query import csv_value_sql
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Progress, Report
from desktop_app.core.shop_marts import in_marts_folder

FORMATS = ("parquet", "csv", "hyper", "duckdb")
MANIFEST = "export.json"
# Oldest first: the portable file is written in the first that holds every type (DuckDB 1.x reads them).
STORAGE_VERSIONS = ("v0.10.0", "v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0", "v1.4.0", "v1.5.0")


@dataclass(frozen=True)
class Relation:
    name: str  # the model's name: the file's
    sql: str  # the qualified relation to read
    columns: tuple[tuple[str, str], ...]
    descriptions: dict[str, str] = field(default_factory=dict)
    meta: dict[str, dict] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportedFile:
    relation: str
    path: str
    rows: int
    bytes: int


@dataclass
class ExportReport:
    format: str
    folder: str
    files: list[ExportedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def choose_relations(warehouse: Warehouse, project_dir: Path, selection: list[str] | None,
                     notes: list[str] | None = None) -> list[Relation]:
    """The relations to export: the marts, or ``selection``; each one built, or a clear error. Ephemeral
    models in a wider selection are left out (they are not relations), and ``notes`` says so."""
    parsed = parse_project(project_dir, warehouse)
    project, compiler, graph = parsed.project, parsed.compiler, parsed.graph
    kinds = {"model", "seed", "snapshot"}
    if selection:
        chosen = select(graph, selection, None, kinds, eager_tests=False)
        if not chosen:
            raise ExportError(f"--select {' '.join(selection)} matched nothing to export.",
                              "Check the names (oltp-olap ls lists them) and the selector syntax.")
    else:
        chosen = {uid for uid, node in project.nodes.items() if node.resource_type in kinds
                  and in_marts_folder(node.fqn)}
        if not chosen:
            raise ExportError(f"The project {project.name} has no models in a marts folder.",
                              "Choose what to export with --select.")
    ephemeral = sorted(project.nodes[u].name for u in chosen if project.nodes[u].is_ephemeral)
    if ephemeral and len(ephemeral) == len(chosen):
        raise ExportError(f"{', '.join(ephemeral)}: ephemeral, not a relation in the warehouse.",
                          "Export the models that use it, or materialize it as a view or table.")
    if ephemeral and notes is not None:
        notes.append(f"left out (ephemeral, not a relation): {', '.join(ephemeral)}")
    cursor = warehouse.new_cursor()
    relations, unbuilt = [], []
    try:
        for uid in graph.order(chosen):
            node = project.nodes[uid]
            if node.is_ephemeral:
                continue
            relation = compiler.relation(node)
            columns = cursor.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = ? AND "
                "table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [relation.database, relation.schema, relation.identifier]).fetchall()
            if not columns:
                unbuilt.append(node.name)
                continue
            relations.append(Relation(node.name, str(relation), tuple(columns),
                                      {n: c.get("description", "") for n, c in node.columns.items()},
                                      {n: c.get("meta", {}) or {} for n, c in node.columns.items()}))
    finally:
        cursor.close()
    if unbuilt:
        raise ExportError(f"Not built yet: {', '.join(unbuilt)}.", "Build the models first (oltp-olap build).")
    return relations


def export(warehouse: Warehouse, project_dir: Path, folder: Path, fmt: str, *, selection: list[str] | None = None,
           report: Report = NULL_REPORT, cancel: CancelToken = NEVER) -> ExportReport:
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}.", f"Use one of {', '.join(FORMATS)}.")
    started = time.perf_counter()
    folder = _prepare(Path(folder))
    notes: list[str] = []
    relations = choose_relations(warehouse, Path(project_dir), selection, notes)
    if fmt == "hyper":
        from desktop_app.core.handoff.tableau import hyper_api

        hyper_api()  # before any work: say how to install it
    result = ExportReport(fmt, str(folder), notes=notes)
    staged: list[tuple[Path, Path]] = []  # (temporary, final)
    cursor = warehouse.new_cursor()
    remove = cancel.on_cancel(cursor.interrupt)
    try:
        if fmt == "duckdb":
            _export_duckdb(cursor, relations, folder, result, staged, report, cancel)
        elif fmt == "hyper":
            _export_hyper(cursor, relations, folder, result, staged, report, cancel)
        else:
            for index, relation in enumerate(relations):
                cancel.raise_if_cancelled()
                report(Progress("export", index, len(relations), f"Writing {relation.name}.{fmt}", "export"))
                final = folder / f"{relation.name}.{fmt}"
                temp = _staged(final, staged)
                rows = _copy(cursor, relation, temp, fmt, result.notes)
                result.files.append(ExportedFile(relation.name, str(final), rows, temp.stat().st_size))
        manifest = _staged(folder / MANIFEST, staged)
        manifest.write_text(json.dumps(_manifest(result, warehouse, project_dir), indent=2), encoding="utf-8")
        _publish(staged)  # every file complete: only now does any replace its previous version
    except duckdb.InterruptException:
        raise Cancelled() from None
    except duckdb.Error as err:
        raise ExportError(f"The export failed: {str(err).strip().splitlines()[0]}",
                          "Nothing was replaced; the previous export is as it was.") from None
    except OSError as err:
        raise ExportError(f"Cannot write the export in {folder}: {err.strerror or err}.",
                          "Nothing was replaced; choose a folder you can write to, with space left.") from None
    finally:
        remove()
        cursor.close()
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
    result.seconds = time.perf_counter() - started
    report(Progress("export", 1, 1, f"Exported {len(result.files)} file(s)", "export"))
    return result


def _prepare(folder: Path) -> Path:
    folder = folder.expanduser()
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"{folder} is a file, not a folder.", "Give the export a folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ExportError(f"Cannot create the folder {folder}: {err.strerror}.",
                          "Choose a folder you can write to.") from None
    if not os.access(folder, os.W_OK):
        raise ExportError(f"Cannot write to {folder}: it is read-only.", "Choose a folder you can write to.")
    return folder


def _staged(final: Path, staged: list[tuple[Path, Path]]) -> Path:
    remove_stale(final, "tmp")  # what a killed export left
    temp = temp_name(final, "tmp")
    staged.append((temp, final))
    return temp


def _publish(staged: list[tuple[Path, Path]]) -> None:
    for _temp, final in staged:
        if final.exists() and final.is_dir():
            raise ExportError(f"Cannot replace {final}: a folder of that name is in the way.",
                              "Move it away; nothing was replaced.")
        if final.exists() and not os.access(final, os.W_OK):
            raise ExportError(f"Cannot replace {final}: it is read-only or held by another program.",
                              "Close it (or make it writable); nothing was replaced.")
    for temp, final in staged:
        if final.exists():  # a replaced file keeps its permissions
            os.chmod(temp, final.stat().st_mode & 0o7777)
        os.replace(temp, final)


def _copy(cursor, relation: Relation, temp: Path, fmt: str, notes: list[str]) -> int:
    path = str(temp).replace("'", "''")
    if fmt == "parquet":  # DuckDB's own writer: types kept (DECIMAL, DATE, TIMESTAMP), 128-bit integers fitted
        options = "FORMAT parquet, COMPRESSION zstd"
        plan = exact_columns(cursor, relation.sql, list(relation.columns), for_hyper=False)
        select_sql = plan.select
        notes.extend(f"{relation.name}: {note}" for note in plan.notes)
    else:  # RFC 4180 quoting, a header, ISO dates, '.' decimals, formula-like text neutralised
        options = "FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"'"
        select_sql = ", ".join(csv_value_sql(c, t) for c, t in relation.columns)
    return cursor.execute(f"COPY (SELECT {select_sql} FROM {relation.sql}) TO '{path}' ({options})").fetchall()[0][0]


def _export_duckdb(cursor, relations, folder, result, staged, report, cancel) -> None:
    """One file in the oldest storage version that holds every type, so DuckDB 1.x clients open it."""
    final = folder / "marts.duckdb"
    temp = _staged(final, staged)
    for version in STORAGE_VERSIONS:
        temp.unlink(missing_ok=True)
        try:
            cursor.execute(f"ATTACH '{str(temp).replace(chr(39), chr(39) * 2)}' AS __export "
                           f"(STORAGE_VERSION '{version}')")
        except duckdb.Error:
            continue
        try:
            counts = []
            for index, relation in enumerate(relations):
                cancel.raise_if_cancelled()
                report(Progress("export", index, len(relations), f"Copying {relation.name}", "export"))
                cursor.execute(f"CREATE TABLE __export.main.{quote(relation.name)} AS "
                               f"SELECT * FROM {relation.sql}")
                counts.append(cursor.execute(f"SELECT count(*) FROM __export.main.{quote(relation.name)}"
                                             ).fetchall()[0][0])
        except (duckdb.InvalidInputException, duckdb.NotImplementedException, duckdb.SerializationException):
            cursor.execute("DETACH __export")
            continue  # a type this storage version cannot hold: the next one
        cursor.execute("DETACH __export")
        size = temp.stat().st_size
        for relation, rows in zip(relations, counts, strict=True):
            result.files.append(ExportedFile(relation.name, str(final), rows, size))
        result.notes.append(f"{final.name}: DuckDB storage {version} (DuckDB {version[1:]} and newer open it)")
        Path(f"{temp}.wal").unlink(missing_ok=True)
        return
    raise ExportError("No DuckDB storage version holds these relations' types.", "Export Parquet instead.")


def _export_hyper(cursor, relations, folder, result, staged, report, cancel) -> None:
    from desktop_app.core.handoff.tableau import hyper_process, write_hyper, write_tds

    plans = [(relation, exact_columns(cursor, relation.sql, list(relation.columns), for_hyper=True))
             for relation in relations]
    with hyper_process(any(plan.needs_128_bit for _, plan in plans)) as process:
        for index, (relation, plan) in enumerate(plans):
            cancel.raise_if_cancelled()
            report(Progress("export", index, len(relations), f"Writing {relation.name}.hyper", "export"))
            parquet = temp_name(folder / f"{relation.name}.parquet", "tmp")
            try:
                path = str(parquet).replace("'", "''")
                rows = cursor.execute(f"COPY (SELECT {plan.select} FROM {relation.sql}) TO '{path}' "
                                      "(FORMAT parquet)").fetchall()[0][0]
                hyper = _staged(folder / f"{relation.name}.hyper", staged)
                write_hyper(parquet, hyper, process)
            finally:
                parquet.unlink(missing_ok=True)
            fields = [_field(relation, name, kind) for name, kind in plan.types.items()]
            tds = _staged(folder / f"{relation.name}.tds", staged)
            write_tds(tds, relation.name, f"{relation.name}.hyper", fields)
            result.files.append(ExportedFile(relation.name, str(folder / f"{relation.name}.hyper"), rows,
                                             hyper.stat().st_size))
            result.notes.extend(f"{relation.name}: {note}" for note in plan.notes)


def _field(relation: Relation, name: str, kind: str) -> Field:
    return field_of(name, kind, relation.descriptions.get(name, ""), relation.meta.get(name))


def _manifest(result: ExportReport, warehouse: Warehouse, project_dir: Path) -> dict:
    return {"format": result.format, "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "warehouse": str(warehouse.path), "project": str(project_dir),
            "files": [asdict(f) for f in result.files], "notes": result.notes}

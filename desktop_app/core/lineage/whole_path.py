"""The whole path in one graph: OLTP → raw → models → exported BI fields, and raw → the Excel road.

Also resolves what a user types as a target (``model.column``, ``raw.table.column``,
``oltp:table.column``, a report figure as the two-roads check names it) and writes
``target/lineage.json`` for the CLI's ``build``/``compile``.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from desktop_app.core.errors import ModelError
from desktop_app.core.excel.stages import REPORT_TABLES
from desktop_app.core.lineage.excel_road import excel_road_lineage, figure_nodes
from desktop_app.core.lineage.graph import ColumnNode, Edge, LineageGraph, RelationInfo
from desktop_app.core.lineage.model_lineage import project_lineage
from desktop_app.core.lineage.openlineage import openlineage_datasets
from desktop_app.core.models.parse import ParsedProject
from desktop_app.core.olap.warehouse import RAW_SCHEMA
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Report

LINEAGE_FILE = "lineage.json"
EXPORT_MANIFEST = "export.json"  # what ``oltp-olap export`` writes beside the files


def lineage_of_project(project_dir: Path, warehouse, *, export_dir: Path | None = None, cli_vars: dict | None = None,
                       report: Report = NULL_REPORT, cancel: CancelToken = NEVER) -> LineageGraph:
    """Parse ``project_dir`` against ``warehouse`` and trace every column (nothing is built or written).
    Features the runner cannot build do not stop lineage: those nodes carry a note instead."""
    from desktop_app.core.models.parse import parse_project
    from desktop_app.core.models.runner import connect_compiler

    parsed = parse_project(project_dir, warehouse, cli_vars=cli_vars, command="compile", skip_unsupported=True)
    connect_compiler(parsed.compiler, warehouse)
    cursor = warehouse.new_cursor()
    try:
        return whole_lineage(parsed, cursor, export_dir=export_dir, report=report, cancel=cancel)
    finally:
        cursor.close()


def whole_lineage(parsed: ParsedProject, cursor: duckdb.DuckDBPyConnection, *, export_dir: Path | None = None,
                  report: Report = NULL_REPORT, cancel: CancelToken = NEVER) -> LineageGraph:
    graph = project_lineage(parsed, cursor, report=report, cancel=cancel)
    raw_columns: dict[str, list[str]] = {}
    for node in graph.nodes.values():
        if node.layer == "raw" and node.relation.startswith(f"{RAW_SCHEMA}."):
            raw_columns.setdefault(node.relation.removeprefix(f"{RAW_SCHEMA}."), []).append(node.column)
    if all(table in raw_columns for table in REPORT_TABLES):  # the shop's data: the Excel road applies
        graph.merge(excel_road_lineage(raw_columns))
    if export_dir is not None:
        add_exports(graph, Path(export_dir))
    return graph


def add_exports(graph: LineageGraph, folder: Path) -> None:
    """``export:<file>.<column>`` for every model column in the export at ``folder`` (read from its
    ``export.json``, so only files that export wrote, all of them complete)."""
    try:
        manifest = json.loads((folder / EXPORT_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    for item in manifest.get("files", []):
        file_name = Path(item.get("path", "")).name
        columns = graph.columns_of(item.get("relation", ""))
        if not file_name or not columns:
            continue
        graph.relations[file_name] = RelationInfo(file_name, "export")
        for column in columns:
            field = graph.add_node(ColumnNode(f"export:{file_name}.{column.column}", "export", file_name,
                                              column.column))
            graph.add_edge(Edge(column.id, field.id, "copy"))


@dataclass(frozen=True)
class Target:
    id: str
    also: str | None = None  # a report figure's node on the model road


def resolve_target(graph: LineageGraph, text: str) -> Target:
    """What the user typed → a node id; an unknown one is an error naming the closest ids."""
    text = text.strip()
    figure = figure_nodes(text)
    if figure:
        return Target(figure[0], figure[1] if figure[1] in graph.nodes else None)
    for candidate in (text, text.lower(), f"{RAW_SCHEMA}.{text.lower()}"):
        if candidate in graph.nodes:
            return Target(candidate)
    close = difflib.get_close_matches(text.lower(), list(graph.nodes), n=3, cutoff=0.6)
    hint = f"Did you mean {', '.join(close)}?" if close else \
        "Give model.column, raw.table.column, oltp:table.column or a report figure (e.g. 'total revenue')."
    relation = text.rsplit(".", 1)[0]
    note = graph.relations.get(relation).note if relation in graph.relations else None
    if note:
        raise ModelError(f"No lineage for {text}: {relation} was {note}.", "Fix the model, then run compile again.")
    raise ModelError(f"No column {text!r} in the lineage.", hint)


def write_lineage(graph: LineageGraph, target_dir: Path, namespace: str) -> Path:
    """``target/lineage.json``: the whole graph, plus OpenLineage datasets with the column-lineage facet."""
    path = Path(target_dir) / LINEAGE_FILE
    body = {**graph.as_dict(), "openlineage": openlineage_datasets(graph, namespace)}
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(json.dumps(body, indent=1), encoding="utf-8")
    os.replace(temp, path)
    return path

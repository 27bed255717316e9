"""Column lineage of a dbt project in the warehouse: OLTP columns → raw tables → models, seeds, snapshots.

Every model's compiled SQL (ephemeral ancestors inlined as dbt inlines them) is analysed by
``select_lineage`` with the warehouse's own catalog as the schema, so ``*`` expands to exactly the
columns that exist; a relation the warehouse does not hold yet takes the columns its own analysis
found, in dependency order. A model that cannot be analysed gets a note saying why and no edges —
never a guess — and the rest go on. Raw tables lead back to the OLTP columns the ingestion recorded
having copied (``_studio.table_state``).
"""

from __future__ import annotations

import json
import time
from graphlib import TopologicalSorter

import duckdb

from desktop_app.core.errors import ModelError
from desktop_app.core.identifiers import qualified
from desktop_app.core.lineage.graph import ColumnNode, Edge, LineageGraph, RelationInfo
from desktop_app.core.lineage.select_lineage import LineageUnavailable, analyse_select
from desktop_app.core.models.parse import ParsedProject
from desktop_app.core.models.project import Node
from desktop_app.core.olap.warehouse import META_SCHEMA, RAW_SCHEMA
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Progress, Report

Key = tuple[str, ...]
ANALYSED = ("model", "snapshot")


def project_lineage(parsed: ParsedProject, cursor: duckdb.DuckDBPyConnection, *, report: Report = NULL_REPORT,
                    cancel: CancelToken = NEVER) -> LineageGraph:
    """The column lineage of every model, seed and snapshot of ``parsed``, down to OLTP columns."""
    started = time.perf_counter()
    catalog = _catalog(cursor)
    names = _relation_names(parsed)
    graph = LineageGraph()
    _oltp_edges(cursor, catalog, graph)
    schema = _nested(catalog)
    nodes = {u: n for u, n in parsed.project.nodes.items() if n.resource_type in (*ANALYSED, "seed")}
    order = list(TopologicalSorter({u: [d for d in n.depends_on if d in nodes] for u, n in nodes.items()})
                 .static_order())
    skipped = {u for item in parsed.skipped for u in item.nodes}
    for index, unique_id in enumerate(order):
        cancel.raise_if_cancelled()
        node = nodes[unique_id]
        report(Progress("lineage", index, len(order), f"Lineage of {node.name}", "models"))
        layer = "seed" if node.resource_type == "seed" else "model"
        key = _key(parsed, node)
        if node.resource_type == "seed" or unique_id in skipped:
            graph.relations[node.name] = RelationInfo(node.name, layer, note="not analysed: skipped as not supported"
                                                      if unique_id in skipped else None)
            graph.relations[node.name].warehouse_name = ".".join(key) if len(key) == 3 else None
            for column in catalog.get(key, {}):
                graph.add_node(ColumnNode(f"{node.name}.{column}", layer, node.name, column))
            continue
        columns = _analyse(parsed, node, schema, names, graph)
        graph.relations[node.name].warehouse_name = ".".join(key) if len(key) == 3 else None
        if key not in catalog and columns and len(key) == 3:  # not built yet: `*` expands to what we found
            schema.setdefault(key[0], {}).setdefault(key[1], {})[key[2]] = dict.fromkeys(columns, "UNKNOWN")
        for column in catalog.get(key, {}):  # e.g. a snapshot's dbt_valid_from: in the table, not the SELECT
            graph.add_node(ColumnNode(f"{node.name}.{column}", layer, node.name, column))
        if node.resource_type == "snapshot" and columns:
            _snapshot_columns(node, graph)
    report(Progress("lineage", len(order), len(order), f"Lineage in {time.perf_counter() - started:.2f} s", "models"))
    return graph


def _analyse(parsed: ParsedProject, node: Node, schema: dict, names: dict[Key, tuple[str, str]],
             graph: LineageGraph) -> list[str]:
    info = graph.relations[node.name] = RelationInfo(node.name, "model")
    try:
        info.sql = parsed.compiler.compile_node(node)
        found = analyse_select(info.sql, schema)
    except ModelError as err:
        info.note = f"not analysed: it does not compile ({err.user_message})"
        return []
    except LineageUnavailable as err:
        info.note = f"not analysed: {err}"
        return []
    for column, inputs in found.columns.items():
        target = graph.add_node(ColumnNode(f"{node.name}.{column}", "model", node.name, column,
                                           found.lines.get(column)))
        for item in inputs:
            layer, relation = names.get(item.relation) or _unknown(item.relation)
            if relation == node.name:  # an incremental model reading {{ this }}: its own past rows, not lineage
                continue
            source = graph.add_node(ColumnNode(f"{relation}.{item.column}", layer, relation, item.column))
            graph.add_edge(Edge(source.id, target.id, item.kind, item.expression))
    return list(found.columns)


def _snapshot_columns(node: Node, graph: LineageGraph) -> None:
    """dbt's snapshot columns: with the timestamp strategy the validity times are the ``updated_at``
    column's values (a transform); with the check strategy they are the snapshot's clock, and the
    checked columns only decide when a version opens (a filter)."""
    config = node.config
    times = ("dbt_valid_from", "dbt_valid_to", "dbt_updated_at")
    if config.get("strategy") == "timestamp":
        inputs = {column: [(str(config.get("updated_at", "")).lower(), "transform")] for column in times}
    else:
        checked = config.get("check_cols")
        checked = [c for c in graph.columns_of(node.name) if c.column not in (*times, "dbt_scd_id")] \
            if checked == "all" or not isinstance(checked, list) else checked
        names = [c.column if isinstance(c, ColumnNode) else str(c).lower() for c in checked]
        inputs = {column: [(name, "filter") for name in names] for column in times}
    keys = config.get("unique_key")
    keys = keys if isinstance(keys, list) else [keys]
    inputs["dbt_scd_id"] = [(str(k).lower(), "transform") for k in keys if k] + inputs["dbt_valid_from"]
    for column, sources in inputs.items():
        target = graph.add_node(ColumnNode(f"{node.name}.{column}", "model", node.name, column))
        for name, kind in sources:
            source_id = f"{node.name}.{name}"
            if source_id in graph.nodes:  # a column of the snapshot's own SELECT
                graph.add_edge(Edge(source_id, target.id, kind, f"dbt snapshot, {config.get('strategy')} strategy"))


def _unknown(key: Key) -> tuple[str, str]:
    """A table the project does not declare (read by name): named by schema and table."""
    return "raw", ".".join(key[-2:])


def _key(parsed: ParsedProject, node: Node) -> Key:
    if node.is_ephemeral:
        return (node.name.lower(),)
    relation = parsed.compiler.relation(node)
    return tuple(str(p).lower() for p in (relation.database, relation.schema, relation.identifier))


def _relation_names(parsed: ParsedProject) -> dict[Key, tuple[str, str]]:
    """(layer, name the user knows) of every relation the compiled SQL can read."""
    names: dict[Key, tuple[str, str]] = {}
    for source in parsed.project.sources.values():
        relation = parsed.compiler.source_relation(source.source_name, source.name)
        key = tuple(str(p).lower() for p in (relation.database, relation.schema, relation.identifier))
        raw = str(relation.schema).lower() == RAW_SCHEMA
        names[key] = ("raw", f"{RAW_SCHEMA}.{relation.identifier}" if raw else f"{source.source_name}.{source.name}")
    for node in parsed.project.nodes.values():
        if node.resource_type in (*ANALYSED, "seed"):
            names[_key(parsed, node)] = ("seed" if node.resource_type == "seed" else "model", node.name)
    return names


def _catalog(cursor: duckdb.DuckDBPyConnection) -> dict[Key, dict[str, str]]:
    rows = cursor.execute("""
        select table_catalog, table_schema, table_name, column_name, data_type
        from information_schema.columns where table_schema <> ? order by ordinal_position""",
                          [META_SCHEMA]).fetchall()
    catalog: dict[Key, dict[str, str]] = {}
    for database, schema, table, column, data_type in rows:
        catalog.setdefault((database.lower(), schema.lower(), table.lower()), {})[column.lower()] = data_type
    return catalog


def _nested(catalog: dict[Key, dict[str, str]]) -> dict:
    schema: dict = {}
    for (database, db_schema, table), columns in catalog.items():
        schema.setdefault(database, {}).setdefault(db_schema, {})[table] = dict(columns)
    return schema


def _oltp_edges(cursor: duckdb.DuckDBPyConnection, catalog: dict[Key, dict[str, str]], graph: LineageGraph) -> None:
    """``oltp:t.c → raw.t.c`` for every column the ingestion recorded copying from the source."""
    try:
        table_state = qualified(META_SCHEMA, "table_state")
        state = cursor.execute(f"select table_name, source_columns from {table_state}").fetchall()  # noqa: S608
    except duckdb.Error:  # a warehouse the app never ingested into: no OLTP layer to show
        state = []
    copied = {table.lower(): {c.lower() for c in json.loads(columns or "[]")} for table, columns in state}
    for (database, schema, table), columns in catalog.items():
        if schema != RAW_SCHEMA:
            continue
        relation = f"{RAW_SCHEMA}.{table}"
        graph.relations[relation] = RelationInfo(relation, "raw", warehouse_name=f"{database}.{schema}.{table}")
        for column in columns:
            raw = graph.add_node(ColumnNode(f"{relation}.{column}", "raw", relation, column))
            if column in copied.get(table, ()):
                oltp = graph.add_node(ColumnNode(f"oltp:{table}.{column}", "oltp", f"oltp:{table}", column))
                graph.add_edge(Edge(oltp.id, raw.id, "copy"))

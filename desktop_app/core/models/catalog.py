"""``docs generate``: ``target/catalog.json`` in dbt's shape, so dbt tooling can read the warehouse's side.

For every model, seed, snapshot and source whose relation exists now: its type (BASE TABLE / VIEW),
its columns with DuckDB's types in order, and its row count as a stat. The manifest is written
beside it (the two are read together by dbt's docs site and by lineage tools).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from desktop_app import __version__
from desktop_app.core.models.artifacts import manifest
from desktop_app.core.models.parse import ParsedProject
from desktop_app.core.olap.warehouse import Warehouse


def write_catalog(parsed: ParsedProject, warehouse: Warehouse, target_dir: Path) -> dict:
    cursor = warehouse.cursor()
    tables = {(c, s, n): kind for c, s, n, kind in cursor.execute(
        "SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables").fetchall()}
    compiler, project = parsed.compiler, parsed.project
    nodes, sources = {}, {}
    for uid, node in project.nodes.items():
        if node.resource_type in ("model", "seed", "snapshot") and not node.is_ephemeral:
            entry = _entry(cursor, tables, uid, compiler.relation(node))
            if entry:
                nodes[uid] = entry
    for uid, source in project.sources.items():
        entry = _entry(cursor, tables, uid, compiler.source_relation(source.source_name, source.name))
        if entry:
            sources[uid] = entry
    catalog = {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json",
                            "dbt_version": f"oltp-olap {__version__}", "generated_at": datetime.now(UTC).isoformat(),
                            "invocation_id": compiler.invocation_id},
               "nodes": nodes, "sources": sources, "errors": None}
    target_dir.mkdir(parents=True, exist_ok=True)
    for name, data in (("catalog.json", catalog), ("manifest.json", manifest(parsed, {}))):
        temp = target_dir / f"{name}.tmp"
        temp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        temp.replace(target_dir / name)
    return catalog


def _entry(cursor, tables: dict, uid: str, relation) -> dict | None:
    kind = tables.get((relation.database, relation.schema, relation.identifier))
    if kind is None:
        return None
    columns = cursor.execute(
        "SELECT column_name, data_type, ordinal_position FROM information_schema.columns WHERE table_catalog = ? "
        "AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [relation.database, relation.schema, relation.identifier]).fetchall()
    rows = cursor.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]
    return {
        "metadata": {"type": "VIEW" if kind == "VIEW" else "BASE TABLE", "schema": relation.schema,
                     "name": relation.identifier, "database": relation.database, "comment": None, "owner": None},
        "columns": {name: {"type": kind_, "index": index, "name": name, "comment": None}
                    for name, kind_, index in columns},
        "stats": {"row_count": {"id": "row_count", "label": "Row Count", "value": rows, "include": True,
                                "description": "Rows in the relation when the catalog was generated"},
                  "has_stats": {"id": "has_stats", "label": "Has Stats?", "value": True, "include": False,
                                "description": "Indicates whether there are statistics for this table"}},
        "unique_id": uid,
    }

"""``show``: compile one node (or an inline query in the project's context) and fetch its first rows.

As ``dbt show`` does: the selected node's compiled SELECT (ephemeral parents inlined) runs with a
limit, read-only — nothing is built. An inline query may use ``ref``, ``source`` and the project's
macros.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from desktop_app.core.errors import ModelError
from desktop_app.core.models import adapter as db
from desktop_app.core.models.parse import list_nodes, parse_project
from desktop_app.core.models.project import Node
from desktop_app.core.olap.warehouse import Warehouse


@dataclass(frozen=True)
class Shown:
    name: str
    sql: str
    columns: list[str]
    rows: list[tuple]


def show(project_dir: str | Path, warehouse: Warehouse, *, select_: list[str] | None = None,
         inline: str | None = None, limit: int = 5, cli_vars: dict | None = None) -> Shown:
    if (select_ is None) == (inline is None):
        raise ModelError("show needs exactly one of --select and --inline.", "Example: show --select fct_orders.")
    parsed = parse_project(project_dir, warehouse, cli_vars=cli_vars, command="show")
    compiler = parsed.compiler
    compiler.warehouse = db.Warehouse(warehouse.new_cursor)
    if inline is not None:
        node = Node(f"sql_operation.{parsed.project.name}.inline_query", "sql_operation", "inline_query",
                    Path("inline_query.sql"), inline, package_name=parsed.project.name)
        compiler.render(node, parsing=True)
        missing = [name for name in node.refs if parsed.project.node_by_name(name) is None]
        if missing:
            raise ModelError(f"The inline query refers to {', '.join(map(repr, missing))}, which the project "
                             "does not have.")
    else:
        chosen = [n for n in list_nodes(parsed, "show", select_) if n.resource_type in ("model", "seed", "snapshot")]
        if len(chosen) != 1:
            raise ModelError(f"--select {' '.join(select_)} matched {len(chosen)} models; show takes one.",
                             "Name a single model (oltp-olap ls lists them).")
        node = chosen[0]
    sql = f"select * from {compiler.relation(node)}" if node.resource_type == "seed" else compiler.compile_node(node)
    cursor = warehouse.new_cursor()
    try:
        cursor.execute(f"select * from (\n{sql}\n) dbt_show limit {int(limit)}")
        columns = [d[0] for d in cursor.description or []]
        return Shown(node.name, sql, columns, cursor.fetchall())
    except duckdb.Error as err:
        raise ModelError(f"The query of {node.name} failed: {str(err).strip().splitlines()[0]}") from None
    finally:
        cursor.close()

"""``oltp-olap lineage``: where a column comes from, or what it feeds, across the whole path."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop_app.core.progress import CancelToken


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "lineage", help="where a column comes from (or what it feeds): OLTP → raw → models → Excel, BI",
        description="Column lineage of TARGET: model.column (monthly_revenue_by_category.revenue), "
                    "raw.table.column, oltp:table.column, or a report figure as reconcile-roads names it "
                    "('total revenue').")
    parser.add_argument("target", metavar="TARGET")
    parser.add_argument("--warehouse", required=True, type=Path, metavar="FILE.duckdb")
    parser.add_argument("--project", type=Path, help="dbt project folder (default: the bundled sql/ project)")
    parser.add_argument("--export", type=Path, metavar="DIR", help="an export folder, to follow columns into "
                                                                  "its BI fields")
    parser.add_argument("--vars", help="YAML dict of project variables")
    way = parser.add_mutually_exclusive_group()
    way.add_argument("--upstream", action="store_const", dest="direction", const="upstream",
                     help="what TARGET derives from (the default)")
    way.add_argument("--downstream", action="store_const", dest="direction", const="downstream",
                     help="what TARGET feeds")
    parser.add_argument("--json", action="store_true", help="print {target, nodes, edges}")
    parser.set_defaults(handler=handle, direction="upstream")


def handle(args: argparse.Namespace, cancel: CancelToken) -> int:
    from desktop_app.cli_models import _vars
    from desktop_app.console import stdout
    from desktop_app.core.lineage.tree_text import tree_lines
    from desktop_app.core.lineage.whole_path import lineage_of_project, resolve_target
    from desktop_app.core.olap.warehouse import Warehouse
    from desktop_app.paths import sql_project_dir

    with Warehouse(args.warehouse, must_exist=True, ensure_metadata=False) as warehouse:
        graph = lineage_of_project(args.project or sql_project_dir(), warehouse, export_dir=args.export,
                                   cli_vars=_vars(args.vars), cancel=cancel)
    target = resolve_target(graph, args.target)
    ids = [target.id] + ([target.also] if target.also else [])
    if args.json:
        body = graph.subgraph(target.id, (args.direction,))
        if target.also:
            also = graph.subgraph(target.also, (args.direction,))
            known = {n["id"] for n in body["nodes"]}
            body["nodes"] += [n for n in also["nodes"] if n["id"] not in known]
            body["edges"] += also["edges"]
            body["model_road"] = target.also
        sys.stdout.write(json.dumps(body, indent=2) + "\n")
        return 0
    for index, node_id in enumerate(ids):
        if index:
            stdout.print("\nThe same figure on the model road:")
        for text in tree_lines(graph, node_id, args.direction):
            stdout.print(text, markup=False, highlight=False)
    notes = [f"{name}: {info.note}" for name, info in graph.relations.items() if info.note]
    for note in notes:
        stdout.print(f"note: {note}", markup=False, highlight=False)
    return 0

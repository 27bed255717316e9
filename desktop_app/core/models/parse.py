"""Parse a project into nodes with their config and dependencies, and the graph over them.

This is dbt's parse step: every model and test is rendered once with *recording* ``ref``,
``source`` and ``config``, so dependencies and configuration are known before anything runs (the
window shows the DAG and the compiled SQL from here). What the runner cannot build is refused now,
with the file and line, never discovered half-way through a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.errors import ModelError
from desktop_app.core.models.compile import Compiler, Target, attach_generic_tests
from desktop_app.core.models.graph import Graph, select
from desktop_app.core.models.materialize import MATERIALIZATIONS
from desktop_app.core.models.project import Node, Project, discover, load_project, merge_configs
from desktop_app.core.olap.warehouse import Warehouse

COMMAND_TYPES = {"build": {"model", "seed", "test"}, "run": {"model"}, "test": {"test"}, "seed": {"seed"},
                 "compile": {"model", "test"}, "ls": {"model", "seed", "test"}}


@dataclass
class ParsedProject:
    project: Project
    compiler: Compiler
    graph: Graph


def parse_project(project_dir: str | Path, warehouse: Warehouse, *, target_schema: str = "main",
                  cli_vars: dict | None = None, full_refresh: bool = False) -> ParsedProject:
    project = load_project(project_dir)
    discover(project)
    target = Target(name="dev", schema=target_schema, database=warehouse.catalog, profile_name=project.profile)
    compiler = Compiler(project, target, cli_vars, full_refresh)
    for node in project.nodes.values():
        if node.resource_type in ("model", "test"):
            node.file_config = {}
            compiler.render(node, parsing=True)
            node.config = merge_configs(node.config, node.file_config)
        _check_supported(node)
    for node in project.nodes.values():
        node.depends_on = list(dict.fromkeys([*node.depends_on, *_dependencies(project, compiler, node)]))
    attach_generic_tests(project, compiler)
    return ParsedProject(project, compiler, Graph(project))


def _dependencies(project: Project, compiler: Compiler, node: Node) -> list[str]:
    depends = []
    for name in node.refs:
        parent = project.node_by_name(name)
        if parent is None:
            raise ModelError(f"{node.path} refers to {name!r}, which is not a model or seed.",
                             "Check the name in ref(), or add the model.")
        depends.append(parent.unique_id)
    for source_name, table in node.sources:
        compiler.source_relation(source_name, table)  # raises a clear error for an unknown source
        depends.append(f"source.{project.name}.{source_name}.{table}")
    return depends


def _check_supported(node: Node) -> None:
    if node.resource_type == "model" and node.materialized not in MATERIALIZATIONS:
        raise ModelError(f"not supported: materialized={node.materialized!r} in {node.location('materialized')}.",
                         f"Use one of: {', '.join(MATERIALIZATIONS)}.")


def list_nodes(parsed: ParsedProject, command: str = "ls", select_: list[str] | None = None,
               exclude: list[str] | None = None) -> list[Node]:
    chosen = select(parsed.graph, select_, exclude, COMMAND_TYPES[command],
                    eager_tests=command in ("build", "test", "ls"))
    order = parsed.graph.order(chosen)
    return [parsed.project.nodes[u] for u in order]

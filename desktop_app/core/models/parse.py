"""Parse a project into nodes with their config and dependencies, and the graph over them.

This is dbt's parse step: the installed packages are read, every model, snapshot and test is
rendered once with *recording* ``ref``, ``source`` and ``config``, so dependencies and configuration
are known before anything runs (the window shows the DAG and the compiled SQL from here), and
disabled nodes leave the graph. What the runner cannot build is refused now, every case at once
with its file and line — never discovered half-way through a run, never skipped in silence — unless
the user asks to skip those nodes knowingly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core.errors import ModelError
from desktop_app.core.models.compile import Compiler, Target
from desktop_app.core.models.generic_tests import attach_generic_tests
from desktop_app.core.models.graph import Graph, select
from desktop_app.core.models.materialize import INCREMENTAL_STRATEGIES, MATERIALIZATIONS, SCHEMA_CHANGES
from desktop_app.core.models.packages import installed_packages
from desktop_app.core.models.project import Node, Project, Unsupported, discover, load_project, merge_configs
from desktop_app.core.models.unit_tests import attach_unit_tests
from desktop_app.core.olap.warehouse import Warehouse

COMMAND_TYPES = {"build": {"model", "seed", "snapshot", "test", "unit_test"}, "run": {"model"},
                 "test": {"test", "unit_test"}, "seed": {"seed"}, "snapshot": {"snapshot"},
                 "compile": {"model", "test", "snapshot"}, "ls": {"model", "seed", "snapshot", "test", "unit_test"},
                 "show": {"model", "seed", "snapshot"}, "docs": {"model", "seed", "snapshot"}}
SNAPSHOT_STRATEGIES = ("timestamp", "check")


@dataclass
class ParsedProject:
    project: Project
    compiler: Compiler
    graph: Graph
    skipped: list[Unsupported] = field(default_factory=list)  # unsupported, skipped knowingly (--skip-unsupported)


def parse_project(project_dir: str | Path, warehouse: Warehouse, *, target_schema: str = "main",
                  cli_vars: dict | None = None, full_refresh: bool = False, command: str = "build",
                  skip_unsupported: bool = False) -> ParsedProject:
    project = load_project(project_dir)
    target = Target(name="dev", schema=target_schema, database=warehouse.catalog, profile_name=project.profile)
    compiler = Compiler(project, target, cli_vars, full_refresh, installed_packages(project.root, project.config),
                        command)
    discover(project, compiler.render_yaml)
    for node in list(project.nodes.values()):
        if node.resource_type in ("model", "test", "snapshot"):
            node.file_config = {}
            compiler.render(node, parsing=True)
            node.config = merge_configs(node.config, node.file_config)
    attach_generic_tests(project, compiler.render_yaml)
    for node in project.nodes.values():
        if node.test_metadata is not None:
            _check_test_macro(compiler, node)
            compiler.render(node, parsing=True)
    attach_unit_tests(project, compiler)
    _drop_disabled(project)
    for node in project.nodes.values():
        node.depends_on = list(dict.fromkeys([*node.depends_on, *_dependencies(project, compiler, node)]))
        project.unsupported += _unsupported(node, compiler)
    skipped = _refuse_or_skip(project, skip_unsupported)
    compiler.frozen = True
    parsed = ParsedProject(project, compiler, Graph(project), skipped)
    from desktop_app.core.models.artifacts import manifest

    compiler.graph.update(manifest(parsed, {}))
    return parsed


def _check_test_macro(compiler: Compiler, node: Node) -> None:
    namespace, test = node.test_metadata.get("namespace"), node.test_metadata["name"]
    registry = compiler.registry
    found = (registry.packages.get(namespace, {}) if namespace else
             {**registry.builtins, **registry.packages.get(compiler.project.name, {})}).get(f"test_{test}")
    if found is None:
        name = f"{namespace}.{test}" if namespace else test
        where = f"{node.path} ({node.column_name or 'the whole relation'})"
        raise ModelError(f"Unknown generic test {name!r} in {where}.",
                         "Define it with {% test %} in macros/ or tests/generic/, or install the package "
                         "that has it.")


def _drop_disabled(project: Project) -> None:
    """Disabled nodes are not in the graph (as in dbt), nor are the tests of disabled nodes."""
    disabled = {uid for uid, node in project.nodes.items() if not node.enabled}
    for uid, node in project.nodes.items():
        if node.attached_node in disabled:
            disabled.add(uid)
    for uid in disabled:
        del project.nodes[uid]
    project.unsupported = [u for u in project.unsupported if not u.nodes or set(u.nodes) - disabled]


def _dependencies(project: Project, compiler: Compiler, node: Node) -> list[str]:
    depends = []
    for name in node.refs:
        parent = project.node_by_name(name)
        if parent is None:
            raise ModelError(f"{node.path} refers to {name!r}, which is not a model, seed or snapshot (or is "
                             "disabled).", "Check the name in ref(), or add (or enable) the model.")
        depends.append(parent.unique_id)
    for source_name, table in node.sources:
        compiler.source_relation(source_name, table)  # raises a clear error for an unknown source
        depends.append(f"source.{project.name}.{source_name}.{table}")
    return depends


def _unsupported(node: Node, compiler: Compiler) -> list[Unsupported]:
    found, config, ids = [], node.config, (node.unique_id,)
    if node.resource_type == "model":
        materialized = node.materialized
        if materialized not in MATERIALIZATIONS:
            custom = compiler.registry.materializations().get(materialized)
            what = f"the custom materialization {materialized!r} (defined in {custom.path})" if custom else \
                f"materialized={materialized!r}"
            found.append(Unsupported(what, node.location("materialized"), ids))
        strategy = config.get("incremental_strategy")
        if materialized == "incremental" and strategy not in INCREMENTAL_STRATEGIES:
            found.append(Unsupported(f"incremental_strategy={strategy!r}", node.location("incremental_strategy"), ids))
        change = config.get("on_schema_change")
        if materialized == "incremental" and change not in SCHEMA_CHANGES:
            found.append(Unsupported(f"on_schema_change={change!r}", node.location("on_schema_change"), ids))
        constraints = [c for column in node.columns.values() for c in column.get("constraints") or []] + \
            list(config.get("constraints") or [])
        if any(str(c.get("type")) == "foreign_key" for c in constraints if isinstance(c, dict)):
            found.append(Unsupported("a foreign_key constraint", str(node.path), ids))
    if node.resource_type == "snapshot":
        strategy = config.get("strategy")
        if strategy not in SNAPSHOT_STRATEGIES:
            found.append(Unsupported(f"snapshot strategy={strategy!r}", node.location("strategy"), ids))
    if node.resource_type == "test" and str(config.get("store_failures_as") or "table") not in ("table", "view"):
        found.append(Unsupported(f"store_failures_as={config['store_failures_as']!r}", str(node.path), ids))
    return found


def _refuse_or_skip(project: Project, skip: bool) -> list[Unsupported]:
    if not project.unsupported:
        return []
    if not skip:
        lines = "; ".join(str(u) for u in project.unsupported[:5])
        more = f" (and {len(project.unsupported) - 5} more)" if len(project.unsupported) > 5 else ""
        raise ModelError(f"{lines}{more}.", "Change those nodes, or pass --skip-unsupported to build the rest "
                                            "without them (they are then reported as skipped).")
    concerned = {uid for u in project.unsupported for uid in u.nodes}
    downstream: dict[str, str] = {}
    changed = True
    while changed:  # everything that depends on a skipped node is skipped with it, and said so
        changed = False
        for uid, node in project.nodes.items():
            if uid in concerned or uid in downstream:
                continue
            cause = node.attached_node if node.attached_node in concerned or node.attached_node in downstream \
                else next((p for p in node.depends_on if p in concerned or p in downstream), None)
            if cause is not None:
                downstream[uid] = cause
                changed = True
    for uid in [*concerned, *downstream]:
        project.nodes.pop(uid, None)
    skipped = list(project.unsupported)
    skipped += [Unsupported(f"nothing itself, but it depends on {cause.split('.')[-1]}, which is skipped",
                            uid, (uid,)) for uid, cause in downstream.items()]
    return skipped


def list_nodes(parsed: ParsedProject, command: str = "ls", select_: list[str] | None = None,
               exclude: list[str] | None = None) -> list[Node]:
    chosen = select(parsed.graph, select_, exclude, COMMAND_TYPES[command],
                    eager_tests=command in ("build", "test", "ls"))
    order = parsed.graph.order(chosen)
    return [parsed.project.nodes[u] for u in order]

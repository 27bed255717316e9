"""Run dbt-style commands over a project: ``build``, ``run``, ``test``, ``seed``, ``compile``, ``ls``.

One command is four steps, each in its own module: ``parse`` (nodes, config, graph), ``schedule``
(dependency order on a small thread pool, skipping what a failure makes pointless), ``execute``
(one node: compile, materialize, test) and ``artifacts`` (``target/manifest.json`` and
``run_results.json``). Results are per node, never an exception; what cannot run at all (a missing
source table, an unwritable target folder) is refused before anything runs.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

from desktop_app.core.errors import ModelError
from desktop_app.core.identifiers import qualified
from desktop_app.core.models import adapter as db
from desktop_app.core.models.artifacts import write_artifacts
from desktop_app.core.models.compile import Compiler
from desktop_app.core.models.execute import NodeExecutor
from desktop_app.core.models.graph import select
from desktop_app.core.models.parse import COMMAND_TYPES, ParsedProject, list_nodes, parse_project
from desktop_app.core.models.project import Node, Project
from desktop_app.core.models.relation import Relation
from desktop_app.core.models.results import NodeResult, RunResult, result_dict
from desktop_app.core.models.schedule import Scheduler
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Report

__all__ = ["NodeResult", "ParsedProject", "RunResult", "check_target_dir", "connect_compiler", "list_nodes",
           "parse_project", "result_dict", "run_command"]


def run_command(command: str, project_dir: str | Path, warehouse: Warehouse, *, select_: list[str] | None = None,
                exclude: list[str] | None = None, full_refresh: bool = False, cli_vars: dict | None = None,
                threads: int = 2, target_schema: str = "main", target_dir: str | Path | None = None,
                skip_unsupported: bool = False, report: Report = NULL_REPORT,
                cancel: CancelToken = NEVER) -> RunResult:
    started = time.perf_counter()
    parsed = parse_project(project_dir, warehouse, target_schema=target_schema, cli_vars=cli_vars,
                           full_refresh=full_refresh, command=command, skip_unsupported=skip_unsupported)
    project, compiler = parsed.project, parsed.compiler
    chosen = select(parsed.graph, select_, exclude, COMMAND_TYPES[command], eager_tests=command in ("build", "test"))
    if not chosen and (select_ or exclude):
        what = " ".join(f"--select {s}" for s in select_ or []) + " ".join(f" --exclude {e}" for e in exclude or [])
        raise ModelError(f"{what.strip()} matched nothing to {command}; nothing was run.",
                         "Check the names (oltp-olap ls lists them) and the selector syntax.")
    target_dir = check_target_dir(Path(target_dir) if target_dir else
                                  project.root / project.config.get("target-path", "target"), given=bool(target_dir))
    result = RunResult(command, target_dir=str(target_dir))
    connect_compiler(compiler, warehouse)
    compiler.selected = sorted(chosen)
    if command in ("build", "run", "compile", "snapshot"):
        _check_sources(project, compiler, chosen, warehouse)
    if command != "compile":
        _create_schemas(warehouse, compiler, [project.nodes[u] for u in chosen])
    executor = NodeExecutor(parsed, warehouse, command, full_refresh, target_dir)
    scheduler = Scheduler(project, parsed.graph, command, chosen, threads, report, cancel)
    remove = cancel.on_cancel(executor.interrupt)
    try:
        hooks = run_hooks(parsed, warehouse, "on-run-start", command)
        result.results = hooks + scheduler.run(executor.execute) + _skipped_unsupported(parsed)
        result.results += run_hooks(parsed, warehouse, "on-run-end", command)
    finally:
        remove()
        executor.close()
    result.elapsed = time.perf_counter() - started
    write_artifacts(parsed, result, target_dir, command)
    if command in ("build", "compile") and not cancel.cancelled:
        result.notes.append(_write_lineage(parsed, warehouse, target_dir))
    return result


def _write_lineage(parsed: ParsedProject, warehouse: Warehouse, target_dir: Path) -> str:
    """``target/lineage.json`` after a build or compile; a failure here is a note, never a failed build."""
    from desktop_app.core.lineage.whole_path import whole_lineage, write_lineage

    cursor = warehouse.new_cursor()
    try:
        graph = whole_lineage(parsed, cursor)
        path = write_lineage(graph, target_dir, f"duckdb://{warehouse.path}")
    except Exception as err:  # lineage is a by-product: whatever goes wrong, it never fails a build
        return f"column lineage not written: {(str(err).splitlines() or [type(err).__name__])[0]}"
    finally:
        cursor.close()
    missing = sorted(name for name, info in graph.relations.items() if info.note)
    columns = sum(1 for n in graph.nodes.values() if n.layer == "model")
    return f"column lineage of {columns:,} model columns in {path}" + (
        f"; not analysed: {', '.join(missing)} (see {path.name})" if missing else "")


def connect_compiler(compiler: Compiler, warehouse: Warehouse) -> None:
    """Let compiling see the warehouse: which relations exist (``is_incremental()``), and a cursor for
    macros that query while compiling."""
    compiler.existing = _existing_relations(warehouse)
    compiler.warehouse = db.Warehouse(warehouse.new_cursor)


def run_hooks(parsed: ParsedProject, warehouse: Warehouse, key: str, command: str) -> list[NodeResult]:
    """``on-run-start`` / ``on-run-end`` from dbt_project.yml, rendered and run around the nodes; each is a
    result of its own, as in dbt's run_results.json. A failing hook stops the command."""
    if command in ("compile", "ls", "show", "docs"):
        return []
    hooks = parsed.project.config.get(key) or []
    hooks = [hooks] if isinstance(hooks, str) else list(hooks)
    project, compiler = parsed.project, parsed.compiler
    anchor = Node(f"operation.{project.name}.{key}", "operation", key, Path("dbt_project.yml"),
                  package_name=project.name)
    results = []
    for index, hook in enumerate(hooks):
        started = time.perf_counter()
        sql = compiler.render(anchor, parsing=False, text=str(hook)).strip()
        if sql:
            try:
                warehouse.cursor().execute(sql)
            except duckdb.Error as err:
                raise ModelError(f"The {key} hook failed: {str(err).strip().splitlines()[0]}",
                                 "Fix the hook in dbt_project.yml.") from None
        uid = f"operation.{project.name}.{project.name}-{key}-{index}"
        results.append(NodeResult(uid, f"{project.name}-{key}-{index}", "operation", "success", "OK",
                                  time.perf_counter() - started, compiled_code=sql, materialized="operation"))
    return results


def _skipped_unsupported(parsed: ParsedProject) -> list[NodeResult]:
    """What --skip-unsupported left out, each as a result that says why (never a silent skip)."""
    return [NodeResult(uid, uid.split(".")[-1], uid.split(".")[0], "skipped",
                       f"skipped: {u}" if not u.what.startswith("nothing") else f"skipped: {u.what}")
            for u in parsed.skipped for uid in u.nodes]


def check_target_dir(path: Path, given: bool) -> Path:
    """The folder for the artefacts, refused in words before anything runs: a file in its place, or a
    folder that cannot be written (a read-only project keeps its target inside itself by default)."""
    if path.exists() and not path.is_dir():
        raise ModelError(f"The target path {path} is a file, not a folder.", "Give --target-path a folder.")
    existing = path if path.exists() else next((p for p in path.parents if p.exists()), None)
    if existing is not None and not os.access(existing, os.W_OK):
        where = "--target-path" if given else "the project's target folder"
        raise ModelError(f"Cannot write {where} {path}: it is read-only.",
                         "Pass --target-path with a folder you can write to.")
    return path


def _existing_relations(warehouse: Warehouse) -> dict[str, str]:
    rows = warehouse.cursor().execute(
        "SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables").fetchall()
    return {str(Relation(c, s, n)): ("view" if t == "VIEW" else "table") for c, s, n, t in rows}


def _check_sources(project: Project, compiler: Compiler, chosen: set[str], warehouse: Warehouse) -> None:
    needed = {p for u in chosen for p in project.nodes[u].depends_on if p in project.sources}
    missing = []
    for uid in sorted(needed):
        source = project.sources[uid]
        relation = compiler.source_relation(source.source_name, source.name)
        if str(relation) not in compiler.existing:
            missing.append(f"{relation.schema}.{relation.identifier}")
    if missing:
        raise ModelError(f"The warehouse {warehouse.path} has no {', '.join(missing)}.",
                         "Load the source tables first: run `oltp-olap ingest` (or Ingestion → Start).")


def _create_schemas(warehouse: Warehouse, compiler: Compiler, nodes: list[Node]) -> None:
    schemas = {(compiler.relation(n).database, compiler.relation(n).schema) for n in nodes
               if n.resource_type in ("model", "seed", "snapshot") and not n.is_ephemeral}
    for database, schema in sorted(schemas):
        warehouse.cursor().execute(f"CREATE SCHEMA IF NOT EXISTS {qualified(database, schema)}")

"""Run dbt-style commands over a project: ``build``, ``run``, ``test``, ``seed``, ``compile``, ``ls``.

``parse_project`` is the inspectable parse + graph step (the GUI shows its DAG and compiled SQL
before anything runs). ``run_command`` walks the selected nodes in dependency order on a small
thread pool (one DuckDB cursor per thread); a model that errors, or an error-severity test that
fails during ``build``, skips exactly the nodes downstream of it. Results are per node, never an
exception, and are written as ``target/run_results.json`` and ``target/manifest.json``.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from desktop_app import __version__
from desktop_app.core.errors import ModelError
from desktop_app.core.models.compile import Compiler, Target, attach_generic_tests, generic_test_sql
from desktop_app.core.models.graph import Graph, select
from desktop_app.core.models.materialize import build_model, load_seed, relation_kind, run_test
from desktop_app.core.models.project import Node, Project, discover, load_project, merge_configs
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Progress, Report

COMMAND_TYPES = {"build": {"model", "seed", "test"}, "run": {"model"}, "test": {"test"}, "seed": {"seed"},
                 "compile": {"model", "test"}, "ls": {"model", "seed", "test"}}


@dataclass
class NodeResult:
    unique_id: str
    name: str
    resource_type: str
    status: str  # success | error | skipped | pass | fail | warn
    message: str = ""
    execution_time: float = 0.0
    rows_affected: int | None = None
    failures: int | None = None
    compiled_code: str = ""
    relation_name: str | None = None
    materialized: str = ""
    compiled_path: str | None = None


@dataclass
class RunResult:
    command: str
    results: list[NodeResult] = field(default_factory=list)
    elapsed: float = 0.0
    target_dir: str = ""

    @property
    def ok(self) -> bool:
        return not any(r.status in ("error", "fail") for r in self.results)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out


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
    for node in project.nodes.values():
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
        node.depends_on = list(dict.fromkeys([*node.depends_on, *depends]))
    attach_generic_tests(project, compiler)
    return ParsedProject(project, compiler, Graph(project))


def list_nodes(parsed: ParsedProject, command: str = "ls", select_: list[str] | None = None,
               exclude: list[str] | None = None) -> list[Node]:
    chosen = select(parsed.graph, select_, exclude, COMMAND_TYPES[command],
                    eager_tests=command in ("build", "test", "ls"))
    order = parsed.graph.order(chosen)
    return [parsed.project.nodes[u] for u in order]


def run_command(command: str, project_dir: str | Path, warehouse: Warehouse, *, select_: list[str] | None = None,
                exclude: list[str] | None = None, full_refresh: bool = False, cli_vars: dict | None = None,
                threads: int = 2, target_schema: str = "main", target_dir: str | Path | None = None,
                report: Report = NULL_REPORT, cancel: CancelToken = NEVER) -> RunResult:
    started = time.perf_counter()
    parsed = parse_project(project_dir, warehouse, target_schema=target_schema, cli_vars=cli_vars,
                           full_refresh=full_refresh)
    project, compiler, graph = parsed.project, parsed.compiler, parsed.graph
    chosen = select(graph, select_, exclude, COMMAND_TYPES[command], eager_tests=command in ("build", "test"))
    if not chosen and (select_ or exclude):
        what = " ".join(f"--select {s}" for s in select_ or []) + " ".join(f" --exclude {e}" for e in exclude or [])
        raise ModelError(f"{what.strip()} matched nothing to {command}; nothing was run.",
                         "Check the names (oltp-olap ls lists them) and the selector syntax.")
    target_dir = check_target_dir(Path(target_dir) if target_dir else
                                  project.root / project.config.get("target-path", "target"), given=bool(target_dir))
    result = RunResult(command, target_dir=str(target_dir))
    compiler.existing = _existing_relations(warehouse)
    if command in ("build", "run", "compile"):
        _check_sources(project, compiler, graph, chosen, warehouse)
    runner = _Runner(parsed, warehouse, command, chosen, threads, full_refresh, target_dir, report, cancel)
    if command != "compile":
        _create_schemas(warehouse, compiler, [project.nodes[u] for u in chosen])
    result.results = runner.run()
    result.elapsed = time.perf_counter() - started
    write_artifacts(parsed, result, target_dir, command)
    return result


def check_target_dir(path: Path, given: bool) -> Path:
    """The folder for the artefacts, refused in words before anything runs: a file in its place, or a
    folder that cannot be written (a read-only project keeps its target inside itself by default)."""
    import os

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
    from desktop_app.core.models.compile import Relation

    return {str(Relation(c, s, n)): ("view" if t == "VIEW" else "table") for c, s, n, t in rows}


def _check_sources(project: Project, compiler: Compiler, graph: Graph, chosen: set[str], warehouse: Warehouse):
    needed = {p for u in chosen for p in project.nodes[u].depends_on if p in project.sources}
    missing = []
    existing = compiler.existing
    for uid in sorted(needed):
        source = project.sources[uid]
        relation = compiler.source_relation(source.source_name, source.name)
        if str(relation) not in existing:
            missing.append(f"{relation.schema}.{relation.identifier}")
    if missing:
        raise ModelError(f"The warehouse {warehouse.path} has no {', '.join(missing)}.",
                         "Load the source tables first: run `oltp-olap ingest` (or Ingestion → Start).")


def _create_schemas(warehouse: Warehouse, compiler: Compiler, nodes: list[Node]) -> None:
    schemas = {(compiler.relation(n).database, compiler.relation(n).schema) for n in nodes
               if n.resource_type in ("model", "seed") and n.materialized != "ephemeral"}
    for database, schema in sorted(schemas):
        warehouse.cursor().execute(f'CREATE SCHEMA IF NOT EXISTS "{database}"."{schema}"')


class _Runner:
    def __init__(self, parsed: ParsedProject, warehouse: Warehouse, command: str, chosen: set[str], threads: int,
                 full_refresh: bool, target_dir: Path, report: Report, cancel: CancelToken) -> None:
        self.parsed, self.warehouse, self.command = parsed, warehouse, command
        self.project, self.compiler, self.graph = parsed.project, parsed.compiler, parsed.graph
        self.chosen, self.threads, self.full_refresh = chosen, max(1, threads), full_refresh
        self.target_dir, self.report, self.cancel = target_dir, report, cancel
        self.local = threading.local()
        self.edges = self._execution_edges()

    def _execution_edges(self) -> dict[str, set[str]]:
        """Parents of each chosen node within the run, plus dbt build's test → child edges."""
        edges = {u: {p for p in self.graph.parents.get(u, []) if p in self.chosen} | self._indirect(u)
                 for u in self.chosen}
        if self.command == "build":
            for uid in self.chosen:
                test = self.project.nodes[uid]
                if test.resource_type != "test":
                    continue
                parents = set(test.depends_on)
                for parent in parents:
                    for child in self.graph.children.get(parent, []):
                        if child in self.chosen and self.project.nodes[child].resource_type != "test" and \
                                parents <= (self.graph.ancestors(child) | {child}) and child not in parents:
                            edges[child].add(uid)
        return edges

    def _indirect(self, uid: str) -> set[str]:
        """Chosen ancestors reachable only through unselected nodes still order the run."""
        found, frontier = set(), list(self.graph.parents.get(uid, []))
        seen = set()
        while frontier:
            parent = frontier.pop()
            if parent in seen:
                continue
            seen.add(parent)
            if parent in self.chosen:
                found.add(parent)
            else:
                frontier.extend(self.graph.parents.get(parent, []))
        return found

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self.local, "cursor", None)
        if cursor is None:
            cursor = self.local.cursor = self.warehouse.new_cursor()
            self.cursors.append(cursor)
        return cursor

    def run(self) -> list[NodeResult]:
        self.cursors: list[duckdb.DuckDBPyConnection] = []
        remove = self.cancel.on_cancel(lambda: [c.interrupt() for c in list(self.cursors)])
        results: dict[str, NodeResult] = {}
        pending = dict(self.edges)
        skipped: set[str] = set()
        total = len(pending)
        try:
            with ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="models") as pool:
                running: dict[Future, str] = {}
                while pending or running:
                    ready = [u for u, ps in pending.items() if not (ps - results.keys())]
                    for uid in sorted(ready, key=self._order_key):
                        del pending[uid]
                        if uid in skipped:
                            node = self.project.nodes[uid]
                            results[uid] = NodeResult(uid, node.name, node.resource_type, "skipped",
                                                      "skipped: an upstream node failed",
                                                      materialized=node.materialized)
                            continue
                        if self.cancel.cancelled:
                            continue
                        running[pool.submit(self.execute, uid)] = uid
                    if not running:
                        if pending and self.cancel.cancelled:
                            break
                        if pending and not ready:
                            raise ModelError("Internal error: the run could not be ordered.")
                        continue
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        uid = running.pop(future)
                        outcome = future.result()
                        results[uid] = outcome
                        if outcome.status == "error" or (outcome.status == "fail" and self.command == "build"):
                            skipped |= self._downstream(uid)
                        self.report(Progress(self.command, len(results), total,
                                             f"{outcome.status.upper()} {outcome.name}", outcome.name))
        finally:
            remove()
            for cursor in self.cursors:
                cursor.close()
        self.cancel.raise_if_cancelled()
        order = {u: i for i, u in enumerate(self.graph.order(set(self.edges)))}
        # Like dbt, ephemeral models are not results of their own: they live inside their children.
        shown = [r for r in results.values() if r.materialized != "ephemeral" or r.status == "error"]
        return sorted(shown, key=lambda r: order.get(r.unique_id, 0))

    def _order_key(self, uid: str):
        node = self.project.nodes[uid]
        return (node.resource_type == "test", node.name)

    def _downstream(self, uid: str) -> set[str]:
        children: dict[str, set[str]] = {}
        for child, parents in self.edges.items():
            for parent in parents:
                children.setdefault(parent, set()).add(child)
        found, frontier = set(), [uid]
        while frontier:
            for child in children.get(frontier.pop(), ()):
                if child not in found:
                    found.add(child)
                    frontier.append(child)
        return found

    # -- one node ---------------------------------------------------------------------------------
    def execute(self, uid: str) -> NodeResult:
        node = self.project.nodes[uid]
        started = time.perf_counter()
        result = NodeResult(uid, node.name, node.resource_type, "success", materialized=node.materialized)
        try:
            if node.resource_type == "seed":
                if self.command == "compile":
                    return result
                relation = self.compiler.relation(node)
                result.relation_name = str(relation)
                result.rows_affected, ddl = load_seed(self.cursor(), self.compiler, self.project, node,
                                                      self.full_refresh)
                result.message = f"INSERT {result.rows_affected}"
            elif node.resource_type == "model":
                self._model(node, result)
            else:
                self._test(node, result)
        except ModelError as err:
            result.status, result.message = "error", err.user_message
        except duckdb.InterruptException:
            result.status, result.message = "error", "cancelled"
        except duckdb.Error as err:
            first = str(err).strip()
            where = f" (compiled SQL: {result.compiled_path})" if result.compiled_path else ""
            result.status = "error"
            result.message = f"Database error in {node.resource_type} {node.name} ({node.path}): {first}{where}"
        except OSError as err:
            result.status, result.message = "error", f"Cannot write the artefacts of {node.name}: {err}"
        result.execution_time = time.perf_counter() - started
        return result

    def _write(self, kind: str, node: Node, sql: str) -> str:
        path = self.target_dir / kind / self.project.name / node.path
        if node.resource_type == "test" and node.test_metadata is not None:
            path = path.parent / node.path.stem / f"{node.name}.sql"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql + "\n", encoding="utf-8")
        return str(path.relative_to(self.project.root)) if path.is_relative_to(self.project.root) else str(path)

    def _model(self, node: Node, result: NodeResult) -> None:
        sql = self.compiler.compile_node(node)
        result.compiled_code = sql
        result.compiled_path = self._write("compiled", node, sql)
        if node.materialized == "ephemeral" or self.command == "compile":
            result.message = "ephemeral: inlined as a CTE" if node.materialized == "ephemeral" else "compiled"
            return
        relation = self.compiler.relation(node)
        result.relation_name = str(relation)
        hooks = (self._hooks(node, "pre_hook"), self._hooks(node, "post_hook"))
        rows, ddl = build_model(self.cursor(), self.compiler, node, sql, hooks)
        self._write("run", node, ddl)
        result.rows_affected = rows
        result.message = "CREATE VIEW" if node.materialized == "view" else f"OK {rows}"
        kind = relation_kind(self.cursor(), relation)
        if kind:
            self.compiler.existing[str(relation)] = kind

    def _hooks(self, node: Node, key: str) -> list[str]:
        hooks = node.config.get(key) or node.config.get(key.replace("_", "-")) or []
        hooks = [hooks] if isinstance(hooks, str) else list(hooks)
        rendered = []
        for hook in hooks:
            text = hook.get("sql", "") if isinstance(hook, dict) else str(hook)
            temp = Node(node.unique_id, node.resource_type, node.name, node.path, text, config=node.config,
                        refs=node.refs, fqn=node.fqn)
            rendered.append(self.compiler.render(temp, parsing=False))
        return [h for h in rendered if h.strip()]

    def _test(self, node: Node, result: NodeResult) -> None:
        if node.test_metadata is None:
            sql = self.compiler.compile_node(node)
        else:
            owner_id = node.attached_node
            if owner_id in self.project.sources:
                source = self.project.sources[owner_id]
                relation = str(self.compiler.source_relation(source.source_name, source.name))
                sql = generic_test_sql(node.test_metadata["name"], relation, node.column_name,
                                       {k: v for k, v in node.test_metadata["kwargs"].items() if k != "column_name"},
                                       self.compiler, node)
            else:
                owner = self.project.nodes[owner_id]
                relation = (f"__dbt__cte__{owner.name}" if owner.materialized == "ephemeral"
                            else str(self.compiler.relation(owner)))
                sql = generic_test_sql(node.test_metadata["name"], relation, node.column_name,
                                       {k: v for k, v in node.test_metadata["kwargs"].items() if k != "column_name"},
                                       self.compiler, node)
                if owner.materialized == "ephemeral":
                    from desktop_app.core.models.compile import inject_ctes

                    body = self.compiler.compile_node(owner)
                    sql = inject_ctes(sql, [(f"__dbt__cte__{owner.name}", body)])
        result.compiled_code = sql
        result.compiled_path = self._write("compiled", node, sql)
        if self.command == "compile":
            result.message = "compiled"
            return
        failures = run_test(self.cursor(), sql)
        result.failures = failures
        severity = str(node.config.get("severity", "error")).lower()
        got = f"Got {failures} result{'s' * (failures != 1)}"
        if failures == 0:
            result.status, result.message = "pass", "PASS"
        elif severity == "warn":
            result.status, result.message = "warn", f"{got}, configured to warn if != 0"
        else:
            result.status, result.message = "fail", f"{got}, configured to fail if != 0"


# -- artefacts ------------------------------------------------------------------------------------
def manifest(parsed: ParsedProject, compiled: dict[str, str]) -> dict:
    project, compiler, graph = parsed.project, parsed.compiler, parsed.graph
    nodes = {}
    for uid, node in project.nodes.items():
        entry = {
            "unique_id": uid, "resource_type": node.resource_type, "name": node.name, "package_name": project.name,
            "path": str(node.path), "original_file_path": str(node.path), "fqn": node.fqn,
            "config": {"materialized": node.materialized, **{k: v for k, v in node.config.items()
                                                              if k not in ("materialized",)}},
            "tags": node.tags, "description": node.description,
            "columns": {n: {"name": n, "description": c.get("description", "")} for n, c in node.columns.items()},
            "depends_on": {"nodes": node.depends_on, "macros": []},
            "refs": [{"name": r, "package": None, "version": None} for r in node.refs],
            "sources": [list(s) for s in node.sources], "raw_code": node.raw_code,
            "compiled_code": compiled.get(uid),
        }
        if node.resource_type in ("model", "seed"):
            relation = compiler.relation(node)
            entry.update(database=relation.database, schema=relation.schema, alias=relation.identifier,
                         relation_name=None if node.materialized == "ephemeral" else str(relation))
        if node.test_metadata:
            entry["test_metadata"] = node.test_metadata
            entry["attached_node"] = node.attached_node
            entry["column_name"] = node.column_name
        nodes[uid] = entry
    sources = {}
    for uid, source in project.sources.items():
        relation = compiler.source_relation(source.source_name, source.name)
        sources[uid] = {"unique_id": uid, "resource_type": "source", "source_name": source.source_name,
                        "name": source.name, "schema": relation.schema, "database": relation.database,
                        "identifier": relation.identifier, "relation_name": str(relation),
                        "description": source.description, "package_name": project.name,
                        "columns": {n: {"name": n} for n in source.columns}}
    return {
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
                     "dbt_version": f"oltp-olap {__version__}", "generated_at": datetime.now(UTC).isoformat(),
                     "project_name": project.name, "adapter_type": "duckdb"},
        "nodes": nodes, "sources": sources, "macros": {},
        "parent_map": {u: list(graph.parents.get(u, [])) for u in [*project.nodes, *project.sources]},
        "child_map": {u: list(graph.children.get(u, [])) for u in [*project.nodes, *project.sources]},
    }


def write_artifacts(parsed: ParsedProject, result: RunResult, target_dir: Path, command: str) -> None:
    target_dir.mkdir(parents=True, exist_ok=True)
    compiled = {r.unique_id: r.compiled_code for r in result.results if r.compiled_code}
    _write_json(target_dir / "manifest.json", manifest(parsed, compiled))
    run_results = {
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json",
                     "dbt_version": f"oltp-olap {__version__}", "generated_at": datetime.now(UTC).isoformat()},
        "elapsed_time": result.elapsed,
        "args": {"which": command},
        "results": [{
            "unique_id": r.unique_id, "status": r.status, "message": r.message, "failures": r.failures,
            "execution_time": r.execution_time, "timing": [], "thread_id": "",
            "adapter_response": {"rows_affected": r.rows_affected} if r.rows_affected is not None else {},
            "compiled_code": r.compiled_code, "relation_name": r.relation_name,
        } for r in result.results],
    }
    _write_json(target_dir / "run_results.json", run_results)


def _write_json(path: Path, data: dict) -> None:
    temp = path.with_suffix(".json.tmp")
    temp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    temp.replace(path)


def result_dict(result: RunResult) -> dict:
    return {"command": result.command, "ok": result.ok, "elapsed": result.elapsed, "counts": result.counts(),
            "results": [asdict(r) for r in result.results]}

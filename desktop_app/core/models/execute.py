"""Run one node — a seed, a model or a test — and say what happened as a ``NodeResult``.

Every failure a node can have becomes its result's message (the run goes on with what does not
depend on it); only a cancel stops the run. Each worker thread has its own DuckDB cursor, and a
cancel interrupts all of them. Compiled and run SQL is written under ``target/`` as dbt does.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import duckdb

from desktop_app.core.errors import ModelError
from desktop_app.core.models.compile import generic_test_sql, inject_ctes
from desktop_app.core.models.materialize import build_model, load_seed, relation_kind, run_test
from desktop_app.core.models.parse import ParsedProject
from desktop_app.core.models.project import Node
from desktop_app.core.models.results import NodeResult
from desktop_app.core.olap.warehouse import Warehouse


class NodeExecutor:
    def __init__(self, parsed: ParsedProject, warehouse: Warehouse, command: str, full_refresh: bool,
                 target_dir: Path) -> None:
        self.project, self.compiler = parsed.project, parsed.compiler
        self.warehouse, self.command, self.full_refresh, self.target_dir = warehouse, command, full_refresh, target_dir
        self.local = threading.local()
        self.cursors: list[duckdb.DuckDBPyConnection] = []

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self.local, "cursor", None)
        if cursor is None:
            cursor = self.local.cursor = self.warehouse.new_cursor()
            self.cursors.append(cursor)
        return cursor

    def interrupt(self) -> None:
        for cursor in list(self.cursors):
            cursor.interrupt()

    def close(self) -> None:
        for cursor in self.cursors:
            cursor.close()

    def execute(self, uid: str) -> NodeResult:
        node = self.project.nodes[uid]
        started = time.perf_counter()
        result = NodeResult(uid, node.name, node.resource_type, "success", materialized=node.materialized)
        try:
            if node.resource_type == "seed":
                self._seed(node, result)
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

    def _seed(self, node: Node, result: NodeResult) -> None:
        if self.command == "compile":
            return
        result.relation_name = str(self.compiler.relation(node))
        result.rows_affected, _ddl = load_seed(self.cursor(), self.compiler, self.project, node, self.full_refresh)
        result.message = f"INSERT {result.rows_affected}"

    def _model(self, node: Node, result: NodeResult) -> None:
        sql = self.compiler.compile_node(node)
        result.compiled_code = sql
        result.compiled_path = self._write("compiled", node, sql)
        if node.is_ephemeral or self.command == "compile":
            result.message = "ephemeral: inlined as a CTE" if node.is_ephemeral else "compiled"
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

    def _test_sql(self, node: Node) -> str:
        if node.test_metadata is None:
            return self.compiler.compile_node(node)
        kwargs = {k: v for k, v in node.test_metadata["kwargs"].items() if k != "column_name"}
        owner_id = node.attached_node
        if owner_id in self.project.sources:
            source = self.project.sources[owner_id]
            relation = str(self.compiler.source_relation(source.source_name, source.name))
            return generic_test_sql(node.test_metadata["name"], relation, node.column_name, kwargs, self.compiler,
                                    node)
        owner = self.project.nodes[owner_id]
        relation = f"__dbt__cte__{owner.name}" if owner.is_ephemeral else str(self.compiler.relation(owner))
        sql = generic_test_sql(node.test_metadata["name"], relation, node.column_name, kwargs, self.compiler, node)
        if owner.is_ephemeral:
            sql = inject_ctes(sql, [(f"__dbt__cte__{owner.name}", self.compiler.compile_node(owner))])
        return sql

    def _test(self, node: Node, result: NodeResult) -> None:
        sql = result.compiled_code = self._test_sql(node)
        result.compiled_path = self._write("compiled", node, sql)
        if self.command == "compile":
            result.message = "compiled"
            return
        failures = result.failures = run_test(self.cursor(), sql)
        severity = str(node.config.get("severity", "error")).lower()
        got = f"Got {failures} result{'s' * (failures != 1)}"
        if failures == 0:
            result.status, result.message = "pass", "PASS"
        elif severity == "warn":
            result.status, result.message = "warn", f"{got}, configured to warn if != 0"
        else:
            result.status, result.message = "fail", f"{got}, configured to fail if != 0"

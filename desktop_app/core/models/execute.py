"""Run one node — seed, model, snapshot, data test or unit test — and say what happened.

Every failure a node can have becomes its result's message (the run goes on with what does not
depend on it); only a cancel stops the run. Each worker thread has its own DuckDB cursor, and a
cancel interrupts all of them. Compiled and run SQL is written under ``target/`` as dbt does.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import duckdb

from desktop_app.core.errors import ModelError
from desktop_app.core.identifiers import qualified
from desktop_app.core.models.generic_tests import judge
from desktop_app.core.models.materialize import build_model, run_test
from desktop_app.core.models.parse import ParsedProject
from desktop_app.core.models.project import Node
from desktop_app.core.models.results import NodeResult
from desktop_app.core.models.seeds import load_seed
from desktop_app.core.models.sql_steps import relation_kind, run_in_transaction
from desktop_app.core.models.unit_tests import compare, unit_test_sql
from desktop_app.core.olap.warehouse import Warehouse

log = logging.getLogger(__name__)


class NodeExecutor:
    def __init__(self, parsed: ParsedProject, warehouse: Warehouse, command: str, full_refresh: bool,
                 target_dir: Path) -> None:
        self.project, self.compiler = parsed.project, parsed.compiler
        self.warehouse, self.command, self.full_refresh, self.target_dir = warehouse, command, full_refresh, target_dir
        self.local = threading.local()
        self.cursors: list[duckdb.DuckDBPyConnection] = []
        self.lock = threading.Lock()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self.local, "cursor", None)
        if cursor is None:
            cursor = self.local.cursor = self.warehouse.new_cursor()
            with self.lock:
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
            {"seed": self._seed, "model": self._model, "snapshot": self._model, "test": self._test,
             "unit_test": self._unit_test}[node.resource_type](node, result)
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
        except Exception as err:  # a bug fails its node (and so the run), and the others still run
            log.exception("Unexpected error running %s", uid)
            result.status = "error"
            result.message = f"Unexpected error in {node.name}: {type(err).__name__}: {err} (details in the log)"
        result.execution_time = time.perf_counter() - started
        return result

    def _write(self, kind: str, node: Node, sql: str) -> str:
        path = self.target_dir / kind / self.project.name / node.path
        if node.resource_type in ("test", "unit_test", "snapshot") and node.path.suffix in (".yml", ".yaml"):
            path = path / f"{node.config.get('alias') or node.name}.sql"
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
        hooks = [hooks] if isinstance(hooks, str | dict) else list(hooks)
        rendered = [self.compiler.render(node, parsing=False, text=h.get("sql", "") if isinstance(h, dict) else str(h))
                    for h in hooks]
        return [h for h in rendered if h.strip()]

    def _test(self, node: Node, result: NodeResult) -> None:
        sql = result.compiled_code = self.compiler.compile_node(node)
        result.compiled_path = self._write("compiled", node, sql)
        if self.command == "compile":
            result.message = "compiled"
            return
        config, cursor = node.config, self.cursor()
        if config.get("store_failures"):
            result.relation_name = self._store_failures(node, sql)
            sql = f"select * from {result.relation_name}"
        limit = config.get("limit") if not config.get("store_failures") else None
        result.failures = run_test(cursor, sql, str(config.get("fail_calc") or "count(*)"), limit)
        result.status, result.message = judge(result.failures, config, lambda text: bool(
            cursor.execute(f"select {text}").fetchall()[0][0]))

    def _store_failures(self, node: Node, sql: str) -> str:
        """The failing rows kept as a table (or view) in the audit schema, replaced on every run."""
        relation = self.compiler.relation(node)
        kind = "view" if node.config.get("store_failures_as") == "view" else "table"
        limit = node.config.get("limit")
        body = f"{sql}\nlimit {int(limit)}" if limit is not None else sql
        cursor = self.cursor()
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {qualified(relation.database, relation.schema)}")
        existing = relation_kind(cursor, relation)
        drop = [f"DROP {existing.upper()} IF EXISTS {relation}"] if existing else []
        run_in_transaction(cursor, [*drop, f"CREATE {kind.upper()} {relation} AS (\n{body}\n)"])
        return str(relation)

    def _unit_test(self, node: Node, result: NodeResult) -> None:
        cursor = self.cursor()
        actual, expected, columns = unit_test_sql(self.project, self.compiler, node, cursor)
        result.compiled_code = actual
        result.compiled_path = self._write("compiled", node, actual)
        if self.command == "compile":
            result.message = "compiled"
            return
        extra, missing, examples = compare(cursor, actual, expected, columns)
        result.failures = extra + missing
        if not result.failures:
            result.status, result.message = "pass", "PASS"
            return
        shown = "; ".join(f"{side}: {tuple(rest)}" for side, *rest in examples)
        result.status = "fail"
        result.message = (f"actual differs from expected: {extra} row(s) not expected, {missing} expected row(s) "
                          f"missing ({shown})")

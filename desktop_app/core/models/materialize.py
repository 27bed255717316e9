"""Build one model (or snapshot) inside DuckDB with dbt-duckdb's end state, in one transaction.

* view / table: ``CREATE OR REPLACE`` (dropping an object of the other kind first); a failing
  SELECT rolls back, so the previous relation stays intact. With an enforced contract the table is
  created with the declared columns and constraints, then filled.
* incremental: first build (or ``--full-refresh``, or a view in the way) as a table; otherwise a
  temporary table of the model's rows, the schema change handled per ``on_schema_change``, then
  delete+insert by ``unique_key`` (append without one).
* snapshot: ``core.models.snapshots``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from desktop_app.core.errors import ModelError
from desktop_app.core.identifiers import quote
from desktop_app.core.models import contracts, snapshots
from desktop_app.core.models.project import Node
from desktop_app.core.models.relation import Relation
from desktop_app.core.models.sql_steps import count_rows, relation_kind, run_in_transaction, transaction

INCREMENTAL_STRATEGIES = (None, "delete+insert", "append")
SCHEMA_CHANGES = (None, "ignore", "append_new_columns", "sync_all_columns", "fail")


def build_model(cursor, compiler, node: Node, sql: str, hooks: tuple[list[str], list[str]]):
    """Materialize ``node``; returns (rows affected or None, the DDL that ran)."""
    materialize = MATERIALIZATIONS.get(node.materialized) or (_snapshot if node.resource_type == "snapshot" else None)
    if materialize is None:
        raise ValueError(f"{node.name} ({node.materialized}) has no relation to build")
    return materialize(cursor, compiler, node, sql, hooks)


def _drop_other(kind: str | None, wanted: str, relation: Relation) -> list[str]:
    return [f"DROP {kind.upper()} {relation}"] if kind and kind != wanted else []


def _view(cursor, compiler, node: Node, sql: str, hooks):
    relation = compiler.relation(node)
    pre, post = hooks
    if contracts.enforced(node):
        contracts.check(cursor, node, sql)
    ddl = f"CREATE OR REPLACE VIEW {relation} AS (\n{sql}\n)"
    run_in_transaction(cursor, [*pre, *_drop_other(relation_kind(cursor, relation), "view", relation), ddl, *post])
    return None, ddl


def _table(cursor, compiler, node: Node, sql: str, hooks):
    relation = compiler.relation(node)
    pre, post = hooks
    kind = relation_kind(cursor, relation)
    if contracts.enforced(node):
        declared = contracts.check(cursor, node, sql)
        ddl = [f"DROP {kind.upper()} IF EXISTS {relation}"] if kind else []
        ddl += [contracts.create_table_sql(node, relation, declared), contracts.insert_sql(relation, declared, sql)]
    else:
        ddl = [*_drop_other(kind, "table", relation), f"CREATE OR REPLACE TABLE {relation} AS (\n{sql}\n)"]
    run_in_transaction(cursor, [*pre, *ddl, *post])
    return count_rows(cursor, relation), ";\n".join(ddl)


def _incremental(cursor, compiler, node: Node, sql: str, hooks):
    """dbt-duckdb's delete+insert (append without a ``unique_key``) into the target's columns."""
    if not compiler.is_incremental(node):
        return _table(cursor, compiler, node, sql, hooks)
    relation = compiler.relation(node)
    pre, post = hooks
    temp = quote(f"{relation.identifier}__dbt_tmp{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}")
    ran = [*pre, f"CREATE TEMPORARY TABLE {temp} AS (\n{sql}\n)"]
    with transaction(cursor):
        for statement in ran:
            cursor.execute(statement)
        changes, columns = _schema_changes(cursor, node, relation, temp)
        column_list = ", ".join(quote(c) for c in columns)
        steps = [*changes, *_delete_matching(node, relation, temp),
                 f"INSERT INTO {relation} ({column_list}) (SELECT {column_list} FROM {temp})", *post,
                 f"DROP TABLE {temp}"]
        for statement in steps:
            cursor.execute(statement)
    return count_rows(cursor, relation), "\n;\n".join(ran + steps)


def _delete_matching(node: Node, relation: Relation, temp: str) -> list[str]:
    key = node.config.get("unique_key")
    if not key or (node.config.get("incremental_strategy") or "delete+insert") == "append":
        return []
    keys = [key] if isinstance(key, str) else list(key)
    if len(keys) == 1:
        return [f"DELETE FROM {relation} WHERE ({keys[0]}) IN (SELECT ({keys[0]}) FROM {temp})"]
    match = " AND ".join(f"{temp}.{k} = DBT_INCREMENTAL_TARGET.{k}" for k in keys)
    return [f"DELETE FROM {relation} AS DBT_INCREMENTAL_TARGET USING {temp} WHERE {match}"]


def _columns(cursor, relation) -> list[tuple[str, str]]:
    return [(r[0], str(r[1])) for r in cursor.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]


def _schema_changes(cursor, node: Node, relation: Relation, temp: str) -> tuple[list[str], list[str]]:
    """(ALTER statements, the columns to insert) per ``on_schema_change``, as dbt does it."""
    mode = node.config.get("on_schema_change") or "ignore"
    target = _columns(cursor, relation)
    if mode == "ignore":
        return [], [name for name, _kind in target]
    source = _columns(cursor, temp)
    target_types, source_types = dict(target), dict(source)
    added = [(n, k) for n, k in source if n not in target_types]
    removed = [n for n, _k in target if n not in source_types]
    retyped = [(n, k) for n, k in source if n in target_types and target_types[n] != k]
    if not (added or removed or retyped):
        return [], [name for name, _kind in source]
    if mode == "fail":
        raise ModelError(f"The source and target schemas of the incremental model {node.name} are out of sync "
                         f"(new: {[n for n, _k in added]}, gone: {removed}, new types: {[n for n, _k in retyped]}).",
                         "Set on_schema_change to append_new_columns or sync_all_columns, or run with --full-refresh.")
    statements = [f"ALTER TABLE {relation} ADD COLUMN {quote(n)} {k}" for n, k in added]
    if mode == "sync_all_columns":
        statements += [f"ALTER TABLE {relation} DROP COLUMN {quote(n)}" for n in removed]
        statements += [f"ALTER TABLE {relation} ALTER {quote(n)} TYPE {k}" for n, k in retyped]
    return statements, [name for name, _kind in source]


def _snapshot(cursor, compiler, node: Node, sql: str, hooks):
    relation = compiler.relation(node)
    pre, post = hooks
    kind = relation_kind(cursor, relation)
    if kind == "view":
        raise ModelError(f"The snapshot {node.name} would be written to {relation}, which is a view.",
                         "Drop the view or point the snapshot elsewhere.")
    if kind is None:
        ddl = f"CREATE TABLE {relation} AS (\n{snapshots.first_build_sql(node, cursor, sql)}\n)"
        run_in_transaction(cursor, [*pre, ddl, *post])
        return count_rows(cursor, relation), ddl
    staging = quote(f"{relation.identifier}__dbt_tmp{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}")
    with transaction(cursor):
        ran = [*pre, f"CREATE TEMPORARY TABLE {staging} AS (\n{snapshots.staging_sql(node, cursor, relation, sql)}\n)"]
        for statement in ran:
            cursor.execute(statement)
        steps = [*snapshots.merge_statements(node, cursor, relation, staging), *post, f"DROP TABLE {staging}"]
        for statement in steps:
            cursor.execute(statement)
    return count_rows(cursor, relation), "\n;\n".join(ran + steps)


# Each materialization a model may name, and how it is built (ephemeral: inlined, never built). The
# parser refuses any other name before a run starts.
MATERIALIZATIONS = {"view": _view, "table": _table, "incremental": _incremental, "ephemeral": None}


def run_test(cursor, sql: str, fail_calc: str = "count(*)", limit: int | None = None) -> int:
    """The failure count of a test query (dbt's ``get_test_sql``: ``fail_calc`` over the rows, ``limit``)."""
    limited = f"{sql}\nlimit {int(limit)}" if limit is not None else sql
    value = cursor.execute(f"select {fail_calc} as failures from (\n{limited}\n) dbt_internal_test").fetchall()[0][0]
    return int(value or 0)

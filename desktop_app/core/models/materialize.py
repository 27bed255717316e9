"""Execute one node inside DuckDB with dbt-duckdb's end state.

* view / table: ``CREATE OR REPLACE`` in a transaction (dropping an object of the other kind
  first); a failing SELECT rolls back, so the previous relation stays intact.
* incremental: first build (or ``--full-refresh``, or a view in the way) as a table; otherwise a
  temporary table of the model's rows, then delete+insert by ``unique_key`` (append without one)
  into the target's own column list.
* seed: dbt's CSV type inference, then the CSV loaded by DuckDB's reader.
* test: ``select count(*) …`` around the test query; severity decides fail or warn.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import duckdb

from desktop_app.core.identifiers import literal, quote
from desktop_app.core.models.compile import Compiler, Relation
from desktop_app.core.models.project import Node, Project, seed_rows


def relation_kind(cursor, relation: Relation) -> str | None:
    rows = cursor.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ? "
        "AND table_name = ?", [relation.database, relation.schema, relation.identifier]).fetchall()
    if not rows:
        return None
    return "view" if rows[0][0] == "VIEW" else "table"


def _transaction(cursor, statements) -> None:
    cursor.execute("BEGIN TRANSACTION")
    try:
        for statement in statements:
            cursor.execute(statement)
        cursor.execute("COMMIT")
    except BaseException:
        try:
            cursor.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise


def _drop_other(kind: str | None, wanted: str, relation: Relation) -> list[str]:
    if kind and kind != wanted:
        return [f"DROP {kind.upper()} {relation}"]
    return []


def build_model(cursor, compiler: Compiler, node: Node, sql: str, hooks: tuple[list[str], list[str]]):
    """Materialize ``node``; returns (rows affected or None, the DDL that ran)."""
    materialize = MATERIALIZATIONS[node.materialized]
    if materialize is None:
        raise ValueError(f"{node.name} is ephemeral: it has no relation to build")
    return materialize(cursor, compiler, node, sql, hooks)


def _view(cursor, compiler: Compiler, node: Node, sql: str, hooks):
    relation = compiler.relation(node)
    pre, post = hooks
    ddl = f"CREATE OR REPLACE VIEW {relation} AS (\n{sql}\n)"
    _transaction(cursor, [*pre, *_drop_other(relation_kind(cursor, relation), "view", relation), ddl, *post])
    return None, ddl


def _table(cursor, compiler: Compiler, node: Node, sql: str, hooks):
    relation = compiler.relation(node)
    pre, post = hooks
    ddl = f"CREATE OR REPLACE TABLE {relation} AS (\n{sql}\n)"
    _transaction(cursor, [*pre, *_drop_other(relation_kind(cursor, relation), "table", relation), ddl, *post])
    return _count(cursor, relation), ddl


def _incremental(cursor, compiler: Compiler, node: Node, sql: str, hooks):
    """dbt-duckdb's delete+insert (append without a ``unique_key``) into the target's own columns."""
    if not compiler.is_incremental(node):
        return _table(cursor, compiler, node, sql, hooks)
    relation = compiler.relation(node)
    pre, post = hooks
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
    temp = quote(f"{relation.identifier}__dbt_tmp{stamp}")
    columns = [r[0] for r in cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = ? AND table_schema = ? AND "
        "table_name = ? ORDER BY ordinal_position", [relation.database, relation.schema, relation.identifier]
    ).fetchall()]
    column_list = ", ".join(quote(c) for c in columns)
    statements = [*pre, f"CREATE TEMPORARY TABLE {temp} AS (\n{sql}\n)"]
    key = node.config.get("unique_key")
    strategy = node.config.get("incremental_strategy") or "delete+insert"
    if key and strategy != "append":
        keys = [key] if isinstance(key, str) else list(key)
        if len(keys) == 1:
            statements.append(f"DELETE FROM {relation} WHERE ({keys[0]}) IN (SELECT ({keys[0]}) FROM {temp})")
        else:
            match = " AND ".join(f"{temp}.{k} = DBT_INCREMENTAL_TARGET.{k}" for k in keys)
            statements.append(f"DELETE FROM {relation} AS DBT_INCREMENTAL_TARGET USING {temp} WHERE {match}")
    insert = f"INSERT INTO {relation} ({column_list}) (SELECT {column_list} FROM {temp})"
    statements += [insert, *post, f"DROP TABLE {temp}"]
    _transaction(cursor, statements)
    return _count(cursor, relation), "\n;\n".join(statements)


def _count(cursor, relation: Relation) -> int:
    return cursor.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]


# Each materialization a model may name, and how it is built (ephemeral: inlined, never built). The
# parser refuses any other name before a run starts.
MATERIALIZATIONS = {"view": _view, "table": _table, "incremental": _incremental, "ephemeral": None}


# -- seeds ----------------------------------------------------------------------------------------
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
NULLS = {"", "null"}


def infer_seed_type(values: list[str]) -> str:
    """dbt's (agate's) inference for one CSV column, as dbt-duckdb names the types."""
    present = [v for v in values if v.strip().lower() not in NULLS]
    if not present:
        return "integer"
    if all(NUMBER.match(v.strip()) for v in present):
        try:
            numbers = [Decimal(v.strip()) for v in present]
        except InvalidOperation:
            return "text"
        return "integer" if all(n == n.to_integral_value() for n in numbers) else "float8"
    if all(DATE.match(v) for v in present):
        return "date"
    if all(DATE.match(v) or DATETIME.match(v) for v in present):
        return "timestamp"
    if all(v.strip().lower() in ("true", "false") for v in present):
        return "boolean"
    return "text"


DUCKDB_SEED_TYPES = {"integer": "INTEGER", "float8": "DOUBLE", "date": "DATE", "timestamp": "TIMESTAMP",
                     "boolean": "BOOLEAN", "text": "VARCHAR"}


def seed_column_types(project: Project, node: Node) -> tuple[list[str], dict[str, str]]:
    header, rows = seed_rows(project, node)
    overrides = node.config.get("column_types") or {}
    types = {}
    for index, name in enumerate(header):
        if name in overrides:
            types[name] = overrides[name]
        else:
            types[name] = DUCKDB_SEED_TYPES[infer_seed_type([r[index] if index < len(r) else "" for r in rows])]
    return header, types


def load_seed(cursor, compiler: Compiler, project: Project, node: Node, full_refresh: bool):
    relation = compiler.relation(node)
    header, types = seed_column_types(project, node)
    path = literal((project.root / node.path).as_posix())
    kind = relation_kind(cursor, relation)
    columns_sql = ", ".join(f"{quote(c)} {t}" for c, t in types.items())
    csv_types = ", ".join(f"{literal(c)}: {literal(t)}" for c, t in types.items())
    delimiter = node.config.get("delimiter", ",")
    statements = []
    if kind and (full_refresh or kind == "view"):
        statements.append(f"DROP {kind.upper()} {relation}")
        kind = None
    statements.append(f"CREATE TABLE {relation} ({columns_sql})" if kind is None else f"TRUNCATE TABLE {relation}")
    statements.append(f"INSERT INTO {relation} SELECT * FROM read_csv({path}, header = true, "
                      f"delim = {literal(delimiter)}, columns = {{{csv_types}}})")
    _transaction(cursor, statements)
    return _count(cursor, relation), ";\n".join(statements)


def run_test(cursor, sql: str) -> int:
    wrapped = (f"select count(*) as failures, count(*) != 0 as should_warn, count(*) != 0 as should_error "
               f"from (\n{sql}\n) dbt_internal_test")
    return int(cursor.execute(wrapped).fetchall()[0][0])

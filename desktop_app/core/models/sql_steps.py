"""Small steps every materialization takes: what a relation is, a transaction, a row count."""

from __future__ import annotations

from contextlib import contextmanager

import duckdb

from desktop_app.core.models.relation import Relation


def relation_kind(cursor, relation: Relation) -> str | None:
    """'table', 'view' or None (absent) — asked of the warehouse, not of a cache."""
    rows = cursor.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ? "
        "AND table_name = ?", [relation.database, relation.schema, relation.identifier]).fetchall()
    if not rows:
        return None
    return "view" if rows[0][0] == "VIEW" else "table"


@contextmanager
def transaction(cursor):
    """One DuckDB transaction: committed when the block ends, rolled back on any exception."""
    cursor.execute("BEGIN TRANSACTION")
    try:
        yield
        cursor.execute("COMMIT")
    except BaseException:
        try:
            cursor.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise


def run_in_transaction(cursor, statements) -> None:
    with transaction(cursor):
        for statement in statements:
            cursor.execute(statement)


def count_rows(cursor, relation) -> int:
    return cursor.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]

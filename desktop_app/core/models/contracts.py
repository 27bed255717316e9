"""Model contracts (``contract: {enforced: true}``): the columns a model promises, checked and enforced.

Before the model is built, its query's columns must match its YAML ``columns`` — the same names, and
types equal once DuckDB has named them (``int`` and ``INTEGER`` are one type) — else the build stops
with the differences listed. A table is then created with the declared columns, in the declared
order, with their constraints (``not_null``, ``unique``, ``primary_key``, ``check``), and filled.
"""

from __future__ import annotations

from desktop_app.core.errors import ModelError
from desktop_app.core.identifiers import quote
from desktop_app.core.models.project import Node


def enforced(node: Node) -> bool:
    contract = node.config.get("contract") or {}
    return bool(contract.get("enforced")) if isinstance(contract, dict) else False


def _canonical(cursor, declared: str) -> str:
    return str(cursor.execute(f"DESCRIBE SELECT CAST(NULL AS {declared}) AS c").fetchall()[0][1])


def check(cursor, node: Node, sql: str) -> list[tuple[str, str]]:
    """The contract's (name, declared type) after checking the query against it; raises on any mismatch."""
    declared = [(name, str(column.get("data_type") or "")) for name, column in node.columns.items()]
    missing_type = [name for name, kind in declared if not kind]
    if missing_type:
        raise ModelError(f"{node.path}: the contract of {node.name} gives no data_type for {', '.join(missing_type)}.",
                         "Give every column of an enforced contract a data_type.")
    actual = {row[0]: str(row[1]) for row in cursor.execute(f"DESCRIBE SELECT * FROM ({sql})").fetchall()}
    problems = []
    for name, kind in declared:
        if name not in actual:
            problems.append(f"{name}: in the contract, not in the model")
        elif _canonical(cursor, kind) != actual[name]:
            problems.append(f"{name}: the contract says {kind}, the model gives {actual[name]}")
    problems += [f"{name}: in the model, not in the contract" for name in actual if name not in dict(declared)]
    if problems:
        raise ModelError(f"{node.name} has an enforced contract that failed: {'; '.join(problems)}.",
                         "Make the model's columns and the contract's names, data_types and number agree.")
    return declared


def create_table_sql(node: Node, relation, declared: list[tuple[str, str]]) -> str:
    lines = []
    for name, kind in declared:
        column = node.columns[name]
        lines.append(f"{quote(name)} {kind}{''.join(_column_constraint(c) for c in column.get('constraints') or [])}")
    for constraint in node.config.get("constraints") or []:
        lines.append(_table_constraint(constraint))
    return f"CREATE TABLE {relation} (\n  " + ",\n  ".join(lines) + "\n)"


def insert_sql(relation, declared: list[tuple[str, str]], sql: str) -> str:
    columns = ", ".join(quote(name) for name, _kind in declared)
    return f"INSERT INTO {relation} ({columns}) SELECT {columns} FROM (\n{sql}\n) model_subq"


def _column_constraint(constraint: dict) -> str:
    kind = str(constraint.get("type"))
    if kind == "not_null":
        return " NOT NULL"
    if kind == "unique":
        return " UNIQUE"
    if kind == "primary_key":
        return " PRIMARY KEY"
    if kind == "check":
        return f" CHECK ({constraint.get('expression')})"
    if kind in ("custom", "foreign_key"):
        raise ModelError(f"not supported: a {kind} constraint", "Remove it, or express it as a check.")
    return ""


def _table_constraint(constraint: dict) -> str:
    kind, columns = str(constraint.get("type")), ", ".join(quote(c) for c in constraint.get("columns") or [])
    if kind == "primary_key":
        return f"PRIMARY KEY ({columns})"
    if kind == "unique":
        return f"UNIQUE ({columns})"
    if kind == "check":
        return f"CHECK ({constraint.get('expression')})"
    raise ModelError(f"not supported: a model-level {kind} constraint", "Remove it, or express it as a check.")

"""Seeds: a CSV file of the project loaded as a table, typed by dbt's (agate's) CSV inference.

Types follow what dbt-duckdb creates — whole numbers ``integer`` (32-bit), fractions ``float8``,
ISO dates and timestamps, ``true``/``false`` — unless ``column_types`` says otherwise; DuckDB's CSV
reader then parses the values. A later load truncates and reloads; ``--full-refresh`` recreates.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from desktop_app.core.identifiers import literal, quote
from desktop_app.core.models.project import Node, Project, seed_rows
from desktop_app.core.models.sql_steps import count_rows, relation_kind, run_in_transaction

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


def load_seed(cursor, compiler, project: Project, node: Node, full_refresh: bool):
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
    run_in_transaction(cursor, statements)
    return count_rows(cursor, relation), ";\n".join(statements)

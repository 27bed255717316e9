"""Portability check: build ``sql/`` with real dbt-postgres on a PostgreSQL server from the same raw data
the DuckDB warehouse holds, and compare every mart value for value (numbers exactly, as decimals).

Used by ``bench/models.py`` (the CI's compatibility check) after each of its two rounds.
"""

from __future__ import annotations

import os
import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import sqlalchemy as sa

PG_TYPES = {"BIGINT": "bigint", "INTEGER": "integer", "SMALLINT": "smallint", "DOUBLE": "double precision",
            "FLOAT": "real", "VARCHAR": "text", "TIMESTAMP": "timestamp", "DATE": "date", "BOOLEAN": "boolean",
            "BLOB": "bytea", "TIME": "time", "HUGEINT": "numeric(38,0)"}
MARTS_SCHEMA = "main_marts"


def pg_type(duck: str) -> str:
    if duck.startswith("DECIMAL"):
        return duck.replace("DECIMAL", "numeric")
    return PG_TYPES.get(duck, "text")


def load_raw(duckdb_path: Path, url: str) -> int:
    """Replace PostgreSQL's raw schema with the DuckDB warehouse's raw tables (same types, same rows)."""
    engine = sa.create_engine(url)
    rows_copied = 0
    with duckdb.connect(str(duckdb_path), read_only=True) as con, engine.begin() as pg:
        pg.exec_driver_sql("drop schema if exists raw cascade")
        pg.exec_driver_sql("create schema raw")
        tables = [r[0] for r in con.execute("select table_name from information_schema.tables "
                                            "where table_schema = 'raw' order by 1").fetchall()]
        raw = pg.connection.dbapi_connection
        for table in tables:
            columns = con.execute(f'describe raw."{table}"').fetchall()
            ddl = ", ".join(f'"{name}" {pg_type(kind)}' for name, kind, *_ in columns)
            pg.exec_driver_sql(f'create table raw."{table}" ({ddl})')
            rows = con.execute(f'select * from raw."{table}"').fetchall()
            with raw.cursor() as cursor, cursor.copy(f'copy raw."{table}" from stdin') as copy:
                for row in rows:
                    copy.write_row(row)
            rows_copied += len(rows)
    engine.dispose()
    return rows_copied


def write_profile(folder: Path, duckdb_path: Path, url: str) -> None:
    parts = sa.make_url(url)
    (folder / "profiles.yml").write_text(
        f"oltp_olap:\n  target: dev\n  outputs:\n"
        f"    dev:\n      type: duckdb\n      path: {duckdb_path}\n      schema: main\n      threads: 2\n"
        f"    pg:\n      type: postgres\n      host: {parts.host}\n      port: {parts.port}\n"
        f"      user: {parts.username}\n      password: ''\n      dbname: {parts.database}\n      schema: main\n"
        f"      threads: 2\n")


def build_on_postgres(dbt: Path, project: Path, profiles: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run([str(dbt), "build", "--target", "pg", "--project-dir", str(project), "--profiles-dir",
                           str(profiles)], capture_output=True, text=True, env=env, cwd=project)


def _value(value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).normalize()
    return value


def compare_marts(duckdb_path: Path, url: str) -> tuple[list[str], int]:
    """Every mart's rows in DuckDB and in PostgreSQL, as multisets of normalised values: (problems, rows)."""
    problems, compared = [], 0
    engine = sa.create_engine(url)
    with duckdb.connect(str(duckdb_path), read_only=True) as con, engine.connect() as pg:
        marts = [r[0] for r in con.execute("select table_name from information_schema.tables "
                                           f"where table_schema = '{MARTS_SCHEMA}' order by 1").fetchall()]
        for mart in marts:
            columns = [r[0] for r in con.execute(f'describe {MARTS_SCHEMA}."{mart}"').fetchall()]
            chosen = ", ".join(f'"{c}"' for c in columns)
            ours = sorted((tuple(map(_value, r)) for r in con.execute(
                f'select {chosen} from {MARTS_SCHEMA}."{mart}"').fetchall()), key=repr)
            try:
                theirs = sorted((tuple(map(_value, r)) for r in pg.exec_driver_sql(
                    f'select {chosen} from {MARTS_SCHEMA}."{mart}"').fetchall()), key=repr)
            except sa.exc.SQLAlchemyError as err:
                problems.append(f"{mart}: not readable on PostgreSQL ({str(err).splitlines()[0]})")
                continue
            compared += len(ours)
            if ours != theirs:
                only_ours = [r for r in ours if r not in theirs][:2]
                only_theirs = [r for r in theirs if r not in ours][:2]
                problems.append(f"{mart}: {len(ours)} rows in DuckDB, {len(theirs)} in PostgreSQL; "
                                f"e.g. DuckDB {only_ours} vs PostgreSQL {only_theirs}")
        if not marts:
            problems.append("no marts to compare")
    engine.dispose()
    return problems, compared

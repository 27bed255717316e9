"""Prove a table arrived whole: row count and an order-independent checksum, source vs warehouse.

The checksum is ``Σ hash(row)`` over the chosen columns, computed by DuckDB on both sides: on the
warehouse table directly, and on the source by streaming it (in one snapshot) through DuckDB with
every value cast to the warehouse column's type. A sum of row hashes does not depend on row order
and, unlike XOR, does not cancel duplicate rows. Casting alone would hide a change the same cast
made during the load (an integer beyond 2^53 rounded by DOUBLE, text read into a TIMESTAMP), so
each source value is also checked to survive its cast (``_changes_sql``); a column where one does
not makes the table "different".

Scope ``full`` covers every column (run after full loads and by ``oltp-olap reconcile``); scope
``keys`` covers the primary key and the change-tracking column (run after incremental loads: it
catches missed inserts, deletes and, for watermark tables, missed updates, while reading only two
columns of the source).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import sqlalchemy as sa

from desktop_app.core.identifiers import qualified, quote
from desktop_app.core.ingest.extract import SourceReader, table_clause
from desktop_app.core.ingest.temporal import iso_sql
from desktop_app.core.olap.warehouse import RAW_SCHEMA, Warehouse
from desktop_app.core.oltp.source import Source
from desktop_app.core.progress import NEVER, CancelToken


@dataclass(frozen=True)
class Reconciliation:
    table: str
    scope: str
    source_rows: int
    warehouse_rows: int
    source_checksum: str
    warehouse_checksum: str
    columns: tuple[str, ...]
    changed: tuple[str, ...] = ()  # columns with source values the warehouse type cannot hold unchanged

    @property
    def equal(self) -> bool:
        return (self.source_rows == self.warehouse_rows and self.source_checksum == self.warehouse_checksum
                and not self.changed)

    @property
    def status(self) -> str:
        return "equal" if self.equal else "different"

    @property
    def detail(self) -> str:
        if self.equal:
            return f"{self.source_rows:,} rows, checksums equal ({self.scope})"
        if self.source_rows != self.warehouse_rows:
            return f"source has {self.source_rows:,} rows, warehouse {self.warehouse_rows:,}"
        if self.changed:
            return (f"source values of {', '.join(self.changed)} do not survive the warehouse's column type "
                    f"(e.g. an integer beyond 2^53 in a DOUBLE); reload the table")
        return f"same row count ({self.source_rows:,}) but content differs ({self.scope} checksum)"


def _hash_sql(columns: list[str], types: dict[str, str] | None, uncastable: frozenset[str] = frozenset()) -> str:
    """``Σ hash(row)``; with ``types``, each value cast to it first (NULL where it cannot be)."""
    if types is None:
        parts = [quote(c) for c in columns]
    else:
        parts = [f"NULL::{types[c]}" if c in uncastable else f"TRY_CAST({quote(c)} AS {types[c]})" for c in columns]
    return f"coalesce(sum(hash({', '.join(parts)})::HUGEINT), 0)"


def _changes_sql(column: str, source_type: str, target_type: str) -> str | None:
    """DuckDB SQL, true where a source value (of Arrow-read ``source_type``) is changed by its cast to the
    warehouse's ``target_type``; None where that pair cannot change a value the checksum would miss."""
    c = quote(column)
    numeric = ("BIGINT", "DOUBLE", "INTEGER", "HUGEINT", "FLOAT")
    if source_type == target_type:
        return None
    if source_type == "VARCHAR" and target_type in ("TIMESTAMP", "DATE"):
        return f"{c} IS NOT NULL AND NOT {iso_sql(c, target_type)}"
    if source_type in numeric and (target_type in numeric or target_type.startswith("DECIMAL")):
        return f"TRY_CAST(TRY_CAST({c} AS {target_type}) AS {source_type}) IS DISTINCT FROM {c}"
    if source_type == "VARCHAR" and target_type in numeric:
        return f"CAST(TRY_CAST({c} AS {target_type}) AS VARCHAR) IS DISTINCT FROM {c}"
    return None


def _castable(cursor, column: str, target_type: str) -> bool:
    """Whether DuckDB has a cast from the registered batch's column to ``target_type`` at all."""
    try:
        cursor.execute(f"SELECT TRY_CAST({quote(column)} AS {target_type}) FROM __recon LIMIT 0")
    except duckdb.Error:
        return False
    return True


def warehouse_checksum(warehouse: Warehouse, table: str, columns: list[str]) -> tuple[int, str]:
    return warehouse_checksum_of(warehouse.cursor(), qualified(RAW_SCHEMA, table), columns)


def warehouse_checksum_of(cursor, relation: str, columns: list[str]) -> tuple[int, str]:
    """Row count and ``Σ hash(row)`` of a DuckDB relation over ``columns``."""
    rows, checksum = cursor.execute(f"SELECT count(*), {_hash_sql(columns, None)} FROM {relation}").fetchall()[0]
    return int(rows), str(checksum)


def source_checksum(source: Source, warehouse: Warehouse, table: str, columns: list[str], types: dict[str, str],
                    cancel: CancelToken = NEVER) -> tuple[int, str, tuple[str, ...]]:
    """Row count, ``Σ hash(row)`` and the columns with values their warehouse type changes, of the source."""
    cursor = warehouse.new_cursor()
    rows, total, changed = 0, 0, set()
    reflected = table_clause(table, columns)
    text_as = _read_as_text(source, table, columns)
    statement = sa.select(*(sa.cast(reflected.c[c], sa.Text).label(c) if c in text_as else reflected.c[c]
                            for c in columns))
    reader = SourceReader(source, cancel)
    with reader.snapshot():
        for batch in reader.batches(statement, text_as=text_as):
            cursor.register("__recon", batch.data)
            read_as = dict(cursor.execute("SELECT column_name, column_type FROM (DESCRIBE __recon)").fetchall())
            uncastable = frozenset(c for c in columns if read_as[c] != types[c]
                                   and not _castable(cursor, c, types[c]))  # e.g. BIGINT values into BLOB
            changed.update(uncastable)
            # What the values are (text, or timestamps that travel as text), not how the batch holds them.
            checks = {c: sql for c in columns if c not in uncastable
                      and (sql := _changes_sql(c, batch.types.get(c) or read_as[c], types[c])) is not None}
            counts = "".join(f", count(*) FILTER (WHERE {sql})" for sql in checks.values())
            count, checksum, *changes = cursor.execute(
                f"SELECT count(*), {_hash_sql(columns, types, uncastable)}{counts} FROM __recon").fetchall()[0]
            cursor.unregister("__recon")
            rows += count
            total += int(checksum)
            changed.update(c for c, n in zip(checks, changes, strict=True) if n)
    cursor.close()
    return rows, str(total), tuple(c for c in columns if c in changed)


def _read_as_text(source: Source, table: str, columns: list[str]) -> dict[str, str]:
    """The columns the load read as the server's text (``Dialect.read_as_text``): read the same way here."""
    wanted = set(columns)
    try:
        reflected = sa.inspect(source.engine).get_columns(table)
    except sa.exc.SQLAlchemyError:
        return {}
    return {c["name"]: kind for c in reflected
            if c["name"] in wanted and (kind := source.rules.read_as_text(c["type"])) is not None}


def reconcile_table(source: Source, warehouse: Warehouse, table: str, *, columns: list[str] | None = None,
                    scope: str = "full", cancel: CancelToken = NEVER) -> Reconciliation:
    types = dict(warehouse.columns(RAW_SCHEMA, table))
    chosen = [c for c in (columns or list(types)) if c in types]
    src_rows, src_sum, changed = source_checksum(source, warehouse, table, chosen, types, cancel)
    wh_rows, wh_sum = warehouse_checksum(warehouse, table, chosen)
    return Reconciliation(table, scope, src_rows, wh_rows, src_sum, wh_sum, tuple(chosen), changed)

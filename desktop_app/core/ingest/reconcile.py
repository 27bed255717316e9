"""Prove a table arrived whole: row count and an order-independent checksum, source vs warehouse.

The checksum is ``Σ hash(row)`` over the chosen columns, computed by DuckDB on both sides: on the
warehouse table directly, and on the source by streaming it (in one snapshot) through DuckDB with
every value cast to the warehouse column's type. A sum of row hashes does not depend on row order
and, unlike XOR, does not cancel duplicate rows.

Scope ``full`` covers every column (run after full loads and by ``oltp-olap reconcile``); scope
``keys`` covers the primary key and the change-tracking column (run after incremental loads: it
catches missed inserts, deletes and, for watermark tables, missed updates, while reading only two
columns of the source).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from desktop_app.core.ingest.extract import SourceReader, table_clause
from desktop_app.core.olap.warehouse import RAW_SCHEMA, Warehouse, qualified, quote
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

    @property
    def equal(self) -> bool:
        return self.source_rows == self.warehouse_rows and self.source_checksum == self.warehouse_checksum

    @property
    def status(self) -> str:
        return "equal" if self.equal else "different"

    @property
    def detail(self) -> str:
        if self.equal:
            return f"{self.source_rows:,} rows, checksums equal ({self.scope})"
        if self.source_rows != self.warehouse_rows:
            return f"source has {self.source_rows:,} rows, warehouse {self.warehouse_rows:,}"
        return f"same row count ({self.source_rows:,}) but content differs ({self.scope} checksum)"


def _hash_sql(columns: list[str], types: dict[str, str] | None) -> str:
    if types is None:
        parts = [quote(c) for c in columns]
    else:
        parts = [f"CAST({quote(c)} AS {types[c]})" for c in columns]
    return f"coalesce(sum(hash({', '.join(parts)})::HUGEINT), 0)"


def warehouse_checksum(warehouse: Warehouse, table: str, columns: list[str]) -> tuple[int, str]:
    return warehouse_checksum_of(warehouse.cursor(), qualified(RAW_SCHEMA, table), columns)


def warehouse_checksum_of(cursor, relation: str, columns: list[str]) -> tuple[int, str]:
    """Row count and ``Σ hash(row)`` of a DuckDB relation over ``columns``."""
    rows, checksum = cursor.execute(f"SELECT count(*), {_hash_sql(columns, None)} FROM {relation}").fetchall()[0]
    return int(rows), str(checksum)


def source_checksum(source: Source, warehouse: Warehouse, table: str, columns: list[str], types: dict[str, str],
                    cancel: CancelToken = NEVER) -> tuple[int, str]:
    cursor = warehouse.new_cursor()
    rows, total = 0, 0
    reflected = table_clause(table, columns)
    reader = SourceReader(source, cancel)
    with reader.snapshot():
        for batch in reader.batches(sa.select(*reflected.columns)):
            cursor.register("__recon", batch.data)
            count, checksum = cursor.execute(f"SELECT count(*), {_hash_sql(columns, types)} FROM __recon").fetchall()[0]
            cursor.unregister("__recon")
            rows += count
            total += int(checksum)
    cursor.close()
    return rows, str(total)


def reconcile_table(source: Source, warehouse: Warehouse, table: str, *, columns: list[str] | None = None,
                    scope: str = "full", cancel: CancelToken = NEVER) -> Reconciliation:
    types = dict(warehouse.columns(RAW_SCHEMA, table))
    chosen = [c for c in (columns or list(types)) if c in types]
    src_rows, src_sum = source_checksum(source, warehouse, table, chosen, types, cancel)
    wh_rows, wh_sum = warehouse_checksum(warehouse, table, chosen)
    return Reconciliation(table, scope, src_rows, wh_rows, src_sum, wh_sum, tuple(chosen))

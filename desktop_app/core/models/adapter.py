"""The ``adapter``, ``api`` and statement functions a dbt project's Jinja may call, on DuckDB.

Macros introspect the warehouse (``adapter.get_columns_in_relation``, ``adapter.get_relation``),
run queries while compiling (``run_query``, ``{% call statement(…) %}`` + ``load_result``) and build
relation and column objects (``api.Relation.create``, ``api.Column``). While parsing (``execute`` is
false, as in dbt) nothing touches the warehouse: introspection finds nothing and queries return None.
An adapter method the runner does not offer is an error that names it, never a silent no-op.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import duckdb

from desktop_app.core.errors import ModelError
from desktop_app.core.identifiers import quote

# api.Column.translate_type, as dbt-duckdb answers it
TYPE_LABELS = {"STRING": "TEXT", "TIMESTAMP": "timestamp", "FLOAT": "float", "INTEGER": "integer",
               "BIGINT": "bigint", "BOOLEAN": "boolean", "NUMERIC": "numeric"}


class Column:
    """``api.Column``: a column's name and type, with dbt's helpers."""

    def __init__(self, column: str, dtype: str, char_size: int | None = None, numeric_precision: Any = None,
                 numeric_scale: Any = None) -> None:
        self.column, self.dtype = column, dtype
        self.char_size, self.numeric_precision, self.numeric_scale = char_size, numeric_precision, numeric_scale

    name = property(lambda self: self.column)
    quoted = property(lambda self: quote(self.column))
    data_type = property(lambda self: self.dtype)

    @classmethod
    def translate_type(cls, dtype: str) -> str:
        return TYPE_LABELS.get(dtype.upper(), dtype)

    @classmethod
    def numeric_type(cls, dtype: str, precision: Any, scale: Any) -> str:
        return dtype if precision is None or scale is None else f"{dtype}({precision},{scale})"

    @classmethod
    def create(cls, name: str, label_or_dtype: str) -> Column:
        return cls(name, cls.translate_type(label_or_dtype))

    def is_string(self) -> bool:
        return self.dtype.upper().startswith(("VARCHAR", "TEXT", "STRING", "CHAR"))

    def is_integer(self) -> bool:
        return self.dtype.upper() in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                                      "USMALLINT", "UINTEGER", "UBIGINT", "INT", "INT4", "INT8")

    def is_float(self) -> bool:
        return self.dtype.upper() in ("FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8")

    def is_numeric(self) -> bool:
        return self.dtype.upper().startswith(("DECIMAL", "NUMERIC"))

    def is_number(self) -> bool:
        return self.is_integer() or self.is_float() or self.is_numeric()

    def string_size(self) -> int:
        return self.char_size or 256

    def __repr__(self) -> str:
        return f"<Column {self.column} ({self.dtype})>"


class ResultTable:
    """What dbt hands back for a query's rows (an agate table): ``rows``, ``columns``, ``column_names``."""

    def __init__(self, names: list[str], rows: list[tuple]) -> None:
        self.column_names = list(names)
        self.rows = [_Row(names, row) for row in rows]
        self.columns = _Columns(names, rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def print_table(self, *args, **kwargs) -> None:  # dbt prints it to the log
        return None


class _Row(tuple):
    def __new__(cls, names: list[str], values: tuple):
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names.index(key))
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)

    def values(self) -> tuple:
        return tuple(self)

    def items(self):
        return zip(self._names, self, strict=True)


class _ColumnValues:
    def __init__(self, name: str, values: list) -> None:
        self.name, self._values = name, values

    def values(self) -> list:
        return list(self._values)

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class _Columns(list):
    def __init__(self, names: list[str], rows: list[tuple]) -> None:
        super().__init__(_ColumnValues(n, [r[i] for r in rows]) for i, n in enumerate(names))
        self._names = names

    def __getitem__(self, key):
        if isinstance(key, str):
            return list.__getitem__(self, self._names.index(key))
        return list.__getitem__(self, key)


class Warehouse:
    """What the Jinja functions may do to the warehouse: one cursor per thread, or nothing while parsing."""

    def __init__(self, new_cursor: Callable[[], duckdb.DuckDBPyConnection] | None) -> None:
        self._new_cursor = new_cursor
        self._local = threading.local()

    @property
    def available(self) -> bool:
        return self._new_cursor is not None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self._new_cursor()
        return cursor

    def execute(self, sql: str, fetch: bool = False) -> tuple[dict, ResultTable]:
        if not self.available:
            return {"code": "SKIPPED", "rows_affected": -1}, ResultTable([], [])
        cursor = self.cursor()
        try:
            cursor.execute(sql)
            names = [d[0] for d in cursor.description or []]
            rows = cursor.fetchall() if fetch and names else []
        except duckdb.Error as err:
            raise ModelError(f"Database error in a macro's query: {str(err).strip().splitlines()[0]}") from None
        return {"code": "OK", "rows_affected": len(rows)}, ResultTable(names, rows)


class Statements:
    """``{% call statement(name, fetch_result=True) %}``, ``load_result(name)`` and ``run_query(sql)``."""

    def __init__(self, warehouse: Warehouse, execute: bool) -> None:
        self.warehouse, self.execute, self.results = warehouse, execute, {}

    def statement(self, name: str | None = None, fetch_result: bool = False, auto_begin: bool = True,
                  language: str = "sql", caller: Callable[[], str] | None = None) -> str:
        if not self.execute or caller is None:
            return ""
        response, table = self.warehouse.execute(str(caller()), fetch=fetch_result)
        if name is not None:
            self.results[name] = {"response": response, "data": [tuple(r) for r in table.rows], "table": table}
        return ""

    def load_result(self, name: str) -> dict | None:
        return self.results.get(name)

    def store_result(self, name: str, response: Any = None, agate_table: Any = None) -> str:
        self.results[name] = {"response": response, "data": [tuple(r) for r in getattr(agate_table, "rows", [])],
                              "table": agate_table}
        return ""

    def run_query(self, sql: str) -> ResultTable | None:
        if not self.execute:
            return None
        return self.warehouse.execute(str(sql), fetch=True)[1]


class _Flag:
    no_warn = False

    def __bool__(self) -> bool:
        return False


class _Behavior:
    def __getattr__(self, name: str) -> _Flag:
        return _Flag()


class Adapter:
    """The ``adapter`` object: dispatch, introspection and the few writes hooks use (``drop_relation``)."""

    def __init__(self, warehouse: Warehouse, make_relation: Callable[..., Any], dispatch: Callable[..., Any]) -> None:
        self._warehouse, self._make_relation, self.dispatch = warehouse, make_relation, dispatch
        self.behavior = _Behavior()

    @staticmethod
    def type() -> str:
        return "duckdb"

    @staticmethod
    def quote(identifier: str) -> str:
        return quote(identifier)

    def quote_as_configured(self, identifier: str, quote_key: str) -> str:
        return quote(identifier)

    def get_relation(self, database: str | None, schema: str, identifier: str) -> Any:
        if not self._warehouse.available:
            return None
        rows = self._warehouse.cursor().execute(
            "SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables "
            "WHERE (? IS NULL OR lower(table_catalog) = lower(?)) AND lower(table_schema) = lower(?) "
            "AND lower(table_name) = lower(?)", [database, database, schema, identifier]).fetchall()
        if not rows:
            return None
        catalog, schema_, name, kind = rows[0]
        return self._make_relation(catalog, schema_, name, "view" if kind == "VIEW" else "table")

    def load_relation(self, relation: Any) -> Any:
        return self.get_relation(relation.database, relation.schema, relation.identifier)

    def get_columns_in_relation(self, relation: Any) -> list[Column]:
        if not self._warehouse.available or relation is None:
            return []
        try:
            rows = self._warehouse.cursor().execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        except duckdb.Error:
            return []
        return [Column(name, kind) for name, kind, *_ in rows]

    def get_missing_columns(self, from_relation: Any, to_relation: Any) -> list[Column]:
        present = {c.name.lower() for c in self.get_columns_in_relation(to_relation)}
        return [c for c in self.get_columns_in_relation(from_relation) if c.name.lower() not in present]

    def drop_relation(self, relation: Any) -> None:
        if self._warehouse.available and relation is not None:
            kind = "VIEW" if getattr(relation, "type", None) == "view" else "TABLE"
            self._warehouse.execute(f"DROP {kind} IF EXISTS {relation}")

    def check_schema_exists(self, database: str, schema: str) -> bool:
        if not self._warehouse.available:
            return False
        rows = self._warehouse.cursor().execute(
            "SELECT 1 FROM information_schema.schemata WHERE catalog_name = ? AND schema_name = ?",
            [database, schema]).fetchall()
        return bool(rows)

    def list_schemas(self, database: str) -> list[str]:
        if not self._warehouse.available:
            return []
        return [r[0] for r in self._warehouse.cursor().execute(
            "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = ?", [database]).fetchall()]

    def list_relations(self, database: str, schema: str) -> list[Any]:
        if not self._warehouse.available:
            return []
        rows = self._warehouse.cursor().execute(
            "SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables "
            "WHERE table_catalog = ? AND table_schema = ?", [database, schema]).fetchall()
        return [self._make_relation(c, s, n, "view" if k == "VIEW" else "table") for c, s, n, k in rows]

    def execute(self, sql: str, auto_begin: bool = False, fetch: bool = False, limit: int | None = None):
        return self._warehouse.execute(sql, fetch=fetch)

    def commit(self) -> str:
        return ""

    def expand_target_column_types(self, from_relation: Any, to_relation: Any) -> str:
        return ""

    def __getattr__(self, name: str) -> Any:
        raise ModelError(f"not supported: adapter.{name}", "The runner offers dispatch, quote, get_relation, "
                         "get_columns_in_relation, get_missing_columns, drop_relation, list_relations, execute.")

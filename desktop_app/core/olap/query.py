"""Read a query's rows from the warehouse a page at a time, and write them to CSV.

``QueryRows`` is the warehouse's ``RowSource`` (the same shape as ``core.oltp.rows.RowSource``): the
window's result previews and query console page through it. The console's statements are checked to
be reads (DuckDB's own parser says what each statement is; anything but a SELECT or EXPLAIN is
refused by name) and run inside a transaction that is rolled back, so the console can never change
the warehouse.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from desktop_app.core.errors import Cancelled, WarehouseError
from desktop_app.core.excel.cell_text import FORMULA_LIKE_RE2
from desktop_app.core.identifiers import quote
from desktop_app.core.leftovers import remove_stale, temp_name
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.paged_rows import PagedRows
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Progress, Report

READ_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


def check_read_only(sql: str) -> str:
    """The one statement of ``sql`` if it only reads; else a clear ``WarehouseError``."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as err:
        raise WarehouseError(f"The query does not parse: {str(err).splitlines()[0]}") from None
    if not statements:
        raise WarehouseError("There is no statement to run.", "Type a SELECT, e.g. SELECT * FROM raw.orders.")
    if len(statements) > 1:
        raise WarehouseError(f"The console runs one statement at a time; this text has {len(statements)}.",
                             "Select the statement to run, or remove the others.")
    kind = statements[0].type
    if kind not in READ_STATEMENTS:
        raise WarehouseError(f"The console only reads: a {kind.name} statement is not run here.",
                             "Use SELECT (also DESCRIBE, SHOW, SUMMARIZE); change data with the models or a "
                             "DuckDB shell.")
    return sql.strip().rstrip(";")


class QueryRows(PagedRows):
    """Rows of ``sql`` on the warehouse, fetched a page at a time. Call ``close()`` when done."""

    def __init__(self, warehouse_path: str | Path, sql: str, *, read_only_check: bool = False,
                 order_by: str | None = None, descending: bool = False, with_total: bool = False,
                 cancel: CancelToken | None = None) -> None:
        super().__init__()
        self.sql = check_read_only(sql) if read_only_check else sql.strip().rstrip(";")
        self._warehouse = Warehouse.for_reading(warehouse_path)
        self._cursor = self._warehouse.new_cursor()
        cancel = cancel or NEVER
        remove = cancel.on_cancel(self._cursor.interrupt)  # for the query itself; paging is short
        try:
            cancel.raise_if_cancelled()
            self._cursor.execute("BEGIN TRANSACTION")  # rolled back on close: nothing is ever kept
            statement = self.sql
            if order_by is not None:
                statement = (f"SELECT * FROM ({self.sql}) ORDER BY {quote(order_by)} "  # noqa: S608
                             f"{'DESC' if descending else 'ASC'}")
            if with_total:
                self.total = self._cursor.execute(f"SELECT count(*) FROM ({self.sql})").fetchall()[0][0]  # noqa: S608
            self._cursor.execute(statement)
            self.columns = [d[0] for d in self._cursor.description or []]
            self.types = [str(d[1]) for d in self._cursor.description or []]
        except duckdb.InterruptException:
            self.close()
            raise Cancelled() from None
        except duckdb.Error as err:
            self.close()
            raise WarehouseError(f"The query failed: {str(err).strip().splitlines()[0]}") from None
        except BaseException:
            self.close()
            raise
        finally:
            remove()

    def _next_rows(self, n: int) -> list[tuple]:
        try:
            return self._cursor.fetchmany(n)
        except duckdb.Error as err:
            raise WarehouseError(f"Reading the result failed: {str(err).strip().splitlines()[0]}") from None

    def close(self) -> None:
        try:
            self._cursor.execute("ROLLBACK")
        except duckdb.Error:
            pass
        self._cursor.close()
        self._warehouse.close()


def csv_value_sql(column: str, duck_type: str) -> str:
    """One column for CSV: text a spreadsheet would run as a formula gets a leading ``'`` (as OWASP
    advises for CSV, where no quote-prefix style exists); numbers, dates and times as DuckDB writes them
    (ISO dates, ``.`` decimals)."""
    q = quote(column)
    if duck_type.upper() in ("VARCHAR", "TEXT", "STRING") or duck_type.upper().startswith("VARCHAR"):
        return f"CASE WHEN regexp_matches({q}, '{FORMULA_LIKE_RE2}') THEN '''' || {q} ELSE {q} END AS {q}"
    return q


def write_csv(rows: QueryRows, path: Path, *, report: Report = NULL_REPORT,
              cancel: CancelToken = NEVER) -> tuple[Path, int]:
    """Write every row of ``rows``' query to ``path`` (UTF-8, header, RFC 4180 quoting), atomically."""
    path = Path(path)
    if not path.parent.is_dir():
        raise WarehouseError(f"The folder {path.parent} does not exist.", "Choose another folder.")
    remove_stale(path, "tmp")
    temp = temp_name(path, "tmp")
    select = ", ".join(csv_value_sql(c, t) for c, t in zip(rows.columns, rows.types, strict=True))
    report(Progress("export", 0, None, f"Writing {path.name}"))
    cursor = rows._warehouse.new_cursor()
    remove = cancel.on_cancel(cursor.interrupt)
    try:
        escaped = str(temp).replace("'", "''")
        count = cursor.execute(f"COPY (SELECT {select} FROM ({rows.sql})) TO '{escaped}' "  # noqa: S608
                               "(FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"')").fetchall()[0][0]
        os.replace(temp, path)
    except duckdb.InterruptException:
        raise Cancelled() from None
    except duckdb.Error as err:
        raise WarehouseError(f"Cannot write {path}: {str(err).strip().splitlines()[0]}") from None
    except OSError as err:
        raise WarehouseError(f"Cannot write {path}: {err.strerror}.", "Choose a folder you can write to.") from None
    finally:
        remove()
        cursor.close()
        temp.unlink(missing_ok=True)
    report(Progress("export", 1, 1, f"Wrote {count:,} rows"))
    return path, count

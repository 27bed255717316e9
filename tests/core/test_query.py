"""The warehouse's query rows (previews, the query console) and CSV export of a result."""

from __future__ import annotations

import csv
import threading

import duckdb
import pytest

from desktop_app.core.errors import Cancelled, WarehouseError
from desktop_app.core.olap.query import QueryRows, check_read_only, write_csv
from desktop_app.core.progress import CancelToken


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw; create table raw.t as select range as id, 'name ' || range as name "
                    "from range(10000)")
        con.execute("insert into raw.t values (-1, '=HYPERLINK(\"http://x\")'), (-2, 'a,\"b\"\nc'), (-3, NULL)")
    return path


@pytest.mark.parametrize("sql, word", [("insert into raw.t values (1, 'x')", "INSERT"),
                                       ("drop table raw.t", "DROP"), ("copy raw.t to 'x.csv'", "COPY"),
                                       ("attach 'other.duckdb'", "ATTACH"), ("set threads = 1", "SET"),
                                       ("create table y (a int)", "CREATE"), ("pragma version", "PRAGMA")])
def test_the_console_refuses_every_statement_that_is_not_a_read(sql, word):
    with pytest.raises(WarehouseError, match=f"a {word} statement is not run here"):
        check_read_only(sql)


def test_the_console_runs_one_read_at_a_time():
    assert check_read_only("  select 1; ") == "select 1"
    for sql in ("describe raw.t", "show tables", "summarize raw.t", "from raw.t", "explain select 1"):
        check_read_only(sql)
    with pytest.raises(WarehouseError, match="one statement at a time"):
        check_read_only("select 1; select 2")
    with pytest.raises(WarehouseError, match="does not parse"):
        check_read_only("selec 1")


def test_rows_page_sort_and_change_nothing(warehouse):
    rows = QueryRows(warehouse, "select * from raw.t where id >= 0", read_only_check=True, order_by="id",
                     descending=True, with_total=True)
    try:
        assert rows.columns == ["id", "name"] and rows.types == ["BIGINT", "VARCHAR"] and rows.total == 10000
        first = rows.fetch(2000)
        assert len(first) == 2000 and first[0] == (9999, "name 9999") and not rows.exhausted
        while rows.fetch(2000):
            pass
        assert rows.exhausted and rows.fetched == 10000
    finally:
        rows.close()
    with pytest.raises(WarehouseError, match="The query failed: .*no_such"):
        QueryRows(warehouse, "select * from no_such", read_only_check=True)


def test_a_long_query_is_cancelled(warehouse):
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    with pytest.raises(Cancelled):
        QueryRows(warehouse, "select count(*) from range(1000000000000) a", read_only_check=True, cancel=token)


def test_csv_export_is_exact_quoted_and_formula_safe(warehouse, tmp_path):
    rows = QueryRows(warehouse, "select * from raw.t order by id", read_only_check=True)
    out = tmp_path / "out.csv"
    try:
        path, count = write_csv(rows, out)
    finally:
        rows.close()
    assert path == out and count == 10003
    with out.open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["id", "name"] and len(table) == 10004
    assert table[1] == ["-3", ""] and table[2] == ["-2", 'a,"b"\nc'] and table[3] == ["-1", "'=HYPERLINK(\"http://x\")"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

"""Opening and inspecting sources, and every way that can fail, with the file left untouched."""

import hashlib
import sqlite3
import threading

import pytest

from desktop_app.core.errors import SourceError
from desktop_app.core.oltp import source as source_module
from desktop_app.core.oltp.inspect import inspect_source, list_tables
from desktop_app.core.oltp.rows import RowSource
from desktop_app.core.oltp.source import open_source, parse_source


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_inspect_lists_tables_counts_columns_and_keys(pristine_shop):
    with open_source(str(pristine_shop)) as source:
        info = inspect_source(source)
    assert [t.name for t in info.tables] == sorted(
        ["addresses", "categories", "customers", "order_items", "orders", "payments", "products", "shipments"])
    with sqlite3.connect(pristine_shop) as db:
        assert info.table("orders").row_count == db.execute("select count(*) from orders").fetchone()[0]
    items = info.table("order_items")
    assert items.primary_key == ("order_item_id",)
    assert {(fk.columns, fk.referred_table) for fk in items.foreign_keys} == {
        (("order_id",), "orders"), (("product_id",), "products")}
    phone = info.table("customers").column("phone")
    assert phone.declared_type == "TEXT" and phone.nullable
    assert info.table("customers").column("status").default == "'active'"
    assert info.table("customers").column("email").nullable is False


def test_a_column_declared_without_a_type_says_so(tmp_path):
    """SQLite allows a column without a type; SQLAlchemy calls that NULL, which reads as 'only NULLs'."""
    path = tmp_path / "untyped.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("create table t (id integer primary key, anything, note text)")
    with open_source(str(path)) as source:
        columns = {c.name: c.declared_type for c in inspect_source(source).tables[0].columns}
    assert columns == {"id": "INTEGER", "anything": "", "note": "TEXT"}


def test_sqlite_url_and_path_are_the_same_source(pristine_shop):
    with open_source(f"sqlite:///{pristine_shop}") as a, open_source(str(pristine_shop)) as b:
        assert list_tables(a) == list_tables(b)


def test_rowsource_pages_sorts_and_filters_in_sql(pristine_shop):
    with open_source(str(pristine_shop)) as source:
        with RowSource(source, "customers", order_by="customer_id", descending=True) as rows:
            first = rows.fetch(10)
            second = rows.fetch(10)
            assert rows.total == 1000 and len(first) == len(second) == 10
            ids = [r[0] for r in first + second]
            assert ids == sorted(ids, reverse=True) and ids[0] == 1000
        with RowSource(source, "customers", contains="Müller") as rows:
            found = rows.fetch(5000)
            assert found and rows.total == len(found) and rows.exhausted
            assert all("Müller" in " ".join(map(str, r)) for r in found)
        with RowSource(source, "customers", contains="100%_") as rows:  # LIKE wildcards are literal
            assert rows.fetch(10) == [] and rows.total == 0


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "No such file"),
    (lambda p: p.mkdir(), "is a folder"),
    (lambda p: p.write_bytes(b""), "is empty"),
    (lambda p: p.write_text("name,amount\nx,1\n"), "not a SQLite database"),
])
def test_bad_paths_give_one_clear_error(tmp_path, make, message):
    path = tmp_path / "bad.db"
    make(path)
    with pytest.raises(SourceError, match=message) as caught:
        open_source(str(path))
    assert caught.value.hint


def test_truncated_database_is_reported_and_not_modified(pristine_shop, tmp_path):
    path = tmp_path / "truncated.sqlite"
    data = pristine_shop.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    before = digest(path)
    with pytest.raises(SourceError, match="truncated"):
        open_source(str(path))
    assert digest(path) == before


def test_corrupt_pages_are_reported_and_not_modified(tmp_path):
    path = tmp_path / "corrupt.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("create table t (x)")
        db.executemany("insert into t values (?)", [("x" * 100,)] * 500)
    data = bytearray(path.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # smash the schema's second page
    data[100:4096] = b"\x00" * 3996  # and the sqlite_master page after its header
    path.write_bytes(bytes(data))
    before = digest(path)
    with pytest.raises(SourceError, match="corrupt|malformed"):
        with open_source(str(path)) as source:
            inspect_source(source)
    assert digest(path) == before


def test_locked_database_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(source_module, "BUSY_TIMEOUT_S", 0.2)
    path = tmp_path / "locked.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("create table t (x)")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("begin exclusive")  # rollback-journal mode: an exclusive lock blocks readers too
    try:
        with pytest.raises(SourceError, match="locked by another program"):
            open_source(str(path))
    finally:
        holder.execute("rollback")
        holder.close()


@pytest.mark.parametrize("url", ["postgresql://user:pw@host:notaport/db", "://nothing", "nosuchdialect://x/y"])
def test_malformed_or_unknown_urls(url):
    with pytest.raises(SourceError) as caught:
        open_source(url)
    assert "pw" not in str(caught.value)


def test_password_never_appears_in_connection_errors():
    secret = "s3cr3t-Pa55"
    with pytest.raises(SourceError) as caught:
        open_source(f"postgresql+psycopg://alice:{secret}@127.0.0.1:9/shop?connect_timeout=2")
    text = f"{caught.value.user_message} {caught.value.hint}"
    assert "Cannot connect" in text and secret not in text and "alice:***@" in text
    assert parse_source(f"postgresql://alice:{secret}@h/db").label == "postgresql://alice:***@h/db"


def test_readers_in_threads_each_get_their_own_connection(pristine_shop):
    with open_source(str(pristine_shop)) as source:
        results = []

        def read():
            with RowSource(source, "orders") as rows:
                results.append(len(rows.fetch(100)))

        threads = [threading.Thread(target=read) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [100] * 4

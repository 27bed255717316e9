import hashlib
import sqlite3
from datetime import datetime

import pytest

from desktop_app.core.errors import Cancelled, SourceError
from desktop_app.core.oltp import shop_schema
from desktop_app.core.oltp.demo_shop import ShopSize, create_shop
from desktop_app.core.progress import CancelToken


def table_digest(path) -> dict[str, str]:
    with sqlite3.connect(path) as db:
        digests = {}
        for table in shop_schema.TABLES:
            rows = db.execute(f"select * from {table} order by 1").fetchall()
            digests[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return digests


def counts(path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return {t: db.execute(f"select count(*) from {t}").fetchone()[0] for t in shop_schema.TABLES}


def test_row_counts_follow_the_scale(tmp_path):
    report = create_shop(tmp_path / "a.sqlite", scale=0.02, seed=1)
    size = ShopSize.for_scale(0.02)
    got = counts(tmp_path / "a.sqlite")
    assert got == report.row_counts
    assert got["customers"] == size.customers == 2_000
    assert got["products"] == size.products == 100
    assert got["orders"] == size.orders == 8_000
    assert 2.2 * size.orders < got["order_items"] < 2.8 * size.orders  # ~2.5 lines per order
    assert got["categories"] == len(shop_schema.CATEGORY_TREE) + sum(map(len, shop_schema.CATEGORY_TREE.values()))
    assert got["payments"] > 0.9 * size.orders and got["shipments"] > 0.8 * size.orders


def test_referential_integrity_and_declared_keys(pristine_shop):
    with sqlite3.connect(pristine_shop) as db:
        assert db.execute("pragma foreign_key_check").fetchall() == []
        fks = db.execute("pragma foreign_key_list(order_items)").fetchall()
        assert {(row[2], row[3]) for row in fks} == {("orders", "order_id"), ("products", "product_id")}
        assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
        indexes = {r[0] for r in db.execute("select name from sqlite_master where type = 'index'")}
        assert {"ix_orders_updated", "ix_order_items_product"} <= indexes
        # Order totals are consistent with their lines: what a reconciling analyst would check first.
        mismatched = db.execute("""
            select count(*) from orders o
            join (select order_id, sum(quantity * unit_price_cents - discount_cents) s
                  from order_items group by order_id) i using (order_id)
            where o.subtotal_cents != i.s or o.total_cents != o.subtotal_cents - o.discount_cents
                  + o.shipping_cents + o.tax_cents""").fetchone()[0]
        assert mismatched == 0


def test_data_looks_like_a_real_shop(pristine_shop):
    with sqlite3.connect(pristine_shop) as db:
        statuses = dict(db.execute("select status, count(*) from orders group by status").fetchall())
        assert set(statuses) <= set(shop_schema.ORDER_STATUSES)
        assert statuses["delivered"] > statuses.get("cancelled", 0) > 0
        assert db.execute("select count(*) from customers where phone is null").fetchone()[0] > 0
        assert db.execute("select count(*) from orders where coupon_code is null").fetchone()[0] > 0
        names = [r[0] for r in db.execute("select first_name || last_name from customers")]
        assert any(not n.isascii() for n in names)
        risky = db.execute("select count(*) from customers where substr(first_name, 1, 1) in ('=', '+', '-', '@')"
                           ).fetchone()[0]
        risky += db.execute("select count(*) from products where substr(name, 1, 1) in ('=', '+', '-', '@')"
                            ).fetchone()[0]
        assert risky >= 4
        assert db.execute("select typeof(total_cents) from orders limit 1").fetchone()[0] == "integer"
        for (stamp,) in db.execute("select updated_at from orders order by random() limit 50"):
            assert datetime.fromisoformat(stamp) >= datetime(2023, 1, 1)
        assert db.execute("select count(*) from orders where updated_at < created_at").fetchone()[0] == 0


def test_same_seed_same_data_other_seed_other_data(tmp_path):
    create_shop(tmp_path / "a.sqlite", scale=0.005, seed=11)
    create_shop(tmp_path / "b.sqlite", scale=0.005, seed=11)
    create_shop(tmp_path / "c.sqlite", scale=0.005, seed=12)
    assert table_digest(tmp_path / "a.sqlite") == table_digest(tmp_path / "b.sqlite")
    assert table_digest(tmp_path / "a.sqlite")["orders"] != table_digest(tmp_path / "c.sqlite")["orders"]


def test_refuses_to_overwrite_without_force(tmp_path):
    path = tmp_path / "shop.sqlite"
    path.write_bytes(b"precious")
    with pytest.raises(SourceError, match="already exists"):
        create_shop(path, scale=0.005)
    assert path.read_bytes() == b"precious"
    create_shop(path, scale=0.005, force=True)
    assert counts(path)["orders"] == ShopSize.for_scale(0.005).orders


def test_cancel_leaves_no_partial_file_and_keeps_the_old_one(tmp_path, recording_report):
    path = tmp_path / "shop.sqlite"
    create_shop(path, scale=0.005, seed=1)
    before = table_digest(path)
    token = CancelToken()

    def cancel_after_first_block(progress):
        recording_report(progress)
        if progress.target == "orders":
            token.cancel()

    with pytest.raises(Cancelled):
        create_shop(path, scale=0.2, seed=2, force=True, report=cancel_after_first_block, cancel=token)
    assert table_digest(path) == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".building")]
    assert recording_report.events


def test_bad_scale_and_missing_folder(tmp_path):
    with pytest.raises(SourceError, match="Scale must be a number from 0.001"):
        create_shop(tmp_path / "x.sqlite", scale=0)
    with pytest.raises(SourceError, match="does not exist"):
        create_shop(tmp_path / "no" / "x.sqlite")

import sqlite3

import pytest

from desktop_app.core.errors import SourceError
from desktop_app.core.oltp import shop_schema
from desktop_app.core.oltp.simulate import simulate_activity


def snapshot(path):
    with sqlite3.connect(path) as db:
        return {
            "counts": {t: db.execute(f"select count(*) from {t}").fetchone()[0] for t in shop_schema.TABLES},
            "max_updated": max(db.execute(f"select max(updated_at) from {t}").fetchone()[0]
                               for t in shop_schema.TABLES),
            "orders": dict(db.execute("select order_id, status from orders").fetchall()),
            "prices": dict(db.execute("select product_id, price_cents from products").fetchall()),
        }


def test_inserts_updates_and_deletes_really_happen(shop):
    before = snapshot(shop)
    result = simulate_activity(shop, orders=200, updates=300, deletes=30, seed=5)
    after = snapshot(shop)
    assert result.inserted["orders"] == 200
    new_ids = set(after["orders"]) - set(before["orders"])
    gone = set(before["orders"]) - set(after["orders"])
    assert 0 < len(gone) <= result.deleted["orders"]
    assert len(new_ids) + result.deleted["orders"] - len(gone) == 200  # new orders may be cancelled and purged too
    # Only cancelled orders are purged: they were cancelled already, or open and cancelled during the run.
    assert all(before["orders"][i] in ("cancelled", "placed", "paid") for i in gone)
    changed = {i for i in set(before["orders"]) & set(after["orders"]) if before["orders"][i] != after["orders"][i]}
    assert changed, "some existing orders must move along their life cycle"
    step = {"placed": {"paid", "cancelled"}, "paid": {"shipped", "cancelled"}, "shipped": {"delivered"},
            "delivered": {"returned"}}

    def reachable(status):
        seen, todo = set(), [status]
        while todo:
            for nxt in step.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    # Every change follows the order life cycle (an order touched twice may move two steps).
    assert all(after["orders"][i] in reachable(before["orders"][i]) for i in changed)
    assert any(before["prices"][p] != after["prices"][p] for p in before["prices"])
    assert after["max_updated"] > before["max_updated"]
    with sqlite3.connect(shop) as db:
        assert db.execute("pragma foreign_key_check").fetchall() == []
        moved = db.execute("select count(*) from orders where updated_at > ?", (before["max_updated"],)).fetchone()[0]
        assert moved >= 200 + len(changed)


def test_seeded_runs_are_reproducible(shop, tmp_path):
    import shutil

    twin = tmp_path / "twin.sqlite"
    shutil.copy(shop, twin)
    simulate_activity(shop, orders=50, updates=50, deletes=5, seed=9)
    simulate_activity(twin, orders=50, updates=50, deletes=5, seed=9)
    assert snapshot(shop) == snapshot(twin)


def test_refuses_a_database_that_is_not_a_demo_shop(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("create table t (x)")
    with pytest.raises(SourceError, match="not a demo shop"):
        simulate_activity(path)

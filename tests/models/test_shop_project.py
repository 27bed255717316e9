"""The shop's own analytics project (sql/) on a freshly ingested demo warehouse."""

from __future__ import annotations

import shutil
from decimal import Decimal

from desktop_app.core.ingest.run import run_ingest
from desktop_app.core.models.runner import run_command
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.simulate import simulate_activity
from desktop_app.core.oltp.source import open_source
from desktop_app.paths import sql_project_dir

MARTS = ("dim_customers", "dim_products", "fct_orders", "fct_order_items", "daily_revenue",
         "monthly_revenue_by_category", "customer_lifetime_value", "product_performance")


def ingest(shop, warehouse, mode="full"):
    with open_source(str(shop)) as source, Warehouse(warehouse) as wh:
        assert run_ingest(source, wh, mode=mode).ok


def build(warehouse, tmp_path, **kwargs):
    with Warehouse(warehouse) as wh:
        return run_command("build", sql_project_dir(), wh, target_dir=tmp_path / "target", **kwargs)


def test_build_gives_real_numbers(shop, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    ingest(shop, warehouse)
    result = build(warehouse, tmp_path)
    assert result.ok, [(r.name, r.message) for r in result.results if r.status not in ("success", "pass")]
    assert {r.name for r in result.results if r.resource_type == "model"} >= set(MARTS)
    with Warehouse(warehouse) as wh:
        c = wh.cursor()
        direct = c.execute("""
            select sum(i.quantity * i.unit_price_cents - i.discount_cents) from raw.order_items i
            join raw.orders o using (order_id) where o.status in ('paid', 'shipped', 'delivered')""").fetchall()[0][0]
        expected = Decimal(direct) / 100
        assert c.execute("select sum(revenue) from main_marts.daily_revenue").fetchall()[0][0] == expected
        assert c.execute("select sum(revenue) from main_marts.monthly_revenue_by_category").fetchall()[0][0] == expected
        assert c.execute("select sum(lifetime_revenue) from main_marts.customer_lifetime_value").fetchall()[0][0] \
            == expected
        assert c.execute("select count(*) from main_marts.fct_orders").fetchall() == \
            c.execute("select count(*) from raw.orders").fetchall()
        kinds = dict(c.execute("select table_schema || '.' || table_name, table_type from information_schema.tables "
                               "where table_schema like 'main_%'").fetchall())
        assert kinds["main_staging.stg_orders"] == "VIEW" and kinds["main_marts.fct_orders"] == "BASE TABLE"
        assert kinds["main_reference.country_regions"] == "BASE TABLE"
        assert "main_marts.int_order_lines" not in kinds  # ephemeral
        top = c.execute("select full_name, revenue_rank from main_marts.customer_lifetime_value "
                        "order by revenue_rank limit 1").fetchall()
        assert top[0][1] == 1


def test_incremental_after_simulate_equals_a_full_refresh(shop, tmp_path):
    warehouse = tmp_path / "inc.duckdb"
    ingest(shop, warehouse)
    assert build(warehouse, tmp_path).ok
    simulate_activity(shop, orders=200, updates=300, deletes=30, seed=11)
    ingest(shop, warehouse, mode="incremental")
    assert build(warehouse, tmp_path).ok
    full = tmp_path / "full.duckdb"
    shutil.copy(warehouse, full)
    assert build(full, tmp_path, full_refresh=True).ok
    with Warehouse(warehouse) as wh:
        c = wh.cursor()
        c.execute(f"ATTACH '{full}' AS f (READ_ONLY)")
        for mart in MARTS:
            for left, right in ((f"main_marts.{mart}", f"f.main_marts.{mart}"),
                                (f"f.main_marts.{mart}", f"main_marts.{mart}")):
                extra = c.execute(f"select count(*) from (select * from {left} except all select * from {right})"
                                  ).fetchall()[0][0]
                assert extra == 0, f"{left} has {extra} rows not in {right}"

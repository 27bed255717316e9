"""The lineage of every mart column of sql/, derived by hand from the SQL, against what the app finds."""

from __future__ import annotations

import json

import pytest

from tests.lineage.conftest import all_origins, direct_origins

REVENUE = {"oltp:order_items.quantity", "oltp:order_items.unit_price_cents", "oltp:order_items.discount_cents"}
PLACED = {"oltp:orders.placed_at"}
CATEGORY_NAME = {"oltp:categories.name"}


def o(*names: str) -> set[str]:
    return {f"oltp:{n}" for n in names}


# mart column -> the OLTP (and seed) columns whose values reach it, read off the SQL of sql/ by hand.
EXPECTED = {
    "daily_revenue": {"order_date": PLACED, "orders": o("order_items.order_id"),
                      "units": o("order_items.quantity"), "revenue": REVENUE},
    "monthly_revenue_by_category": {"order_month": PLACED, "department": CATEGORY_NAME,
                                    "orders": o("order_items.order_id"), "units": o("order_items.quantity"),
                                    "revenue": REVENUE},
    "dim_customers": {
        "customer_id": o("customers.customer_id"), "email": o("customers.email"),
        "first_name": o("customers.first_name"), "last_name": o("customers.last_name"),
        "full_name": o("customers.first_name", "customers.last_name"), "country_code": o("customers.country_code"),
        "country_name": {"country_regions.country_name"}, "region": {"country_regions.region"},
        "is_marketing_opt_in": o("customers.marketing_opt_in"), "customer_status": o("customers.status"),
        "created_at": o("customers.created_at"), "first_order_date": PLACED, "last_order_date": PLACED,
        "revenue_orders": set(),  # count(*) filter (where is_revenue): no value flows, the status only filters
        "lifetime_revenue": REVENUE},
    "customer_lifetime_value": {
        "customer_id": o("customers.customer_id"), "full_name": o("customers.first_name", "customers.last_name"),
        "country_code": o("customers.country_code"), "region": {"country_regions.region"},
        "first_order_date": PLACED, "last_order_date": PLACED, "revenue_orders": set(),
        "lifetime_revenue": REVENUE, "average_order_value": REVENUE,
        "revenue_rank": REVENUE | o("customers.customer_id")},
    "dim_products": {
        "product_id": o("products.product_id"), "sku": o("products.sku"), "product_name": o("products.name"),
        "category_name": CATEGORY_NAME, "department": CATEGORY_NAME, "price": o("products.price_cents"),
        "cost": o("products.cost_cents"), "unit_margin": o("products.price_cents", "products.cost_cents"),
        "product_status": o("products.status"), "stock_qty": o("products.stock_qty")},
    "fct_orders": {
        "order_id": o("orders.order_id"), "customer_id": o("orders.customer_id"),
        "order_status": o("orders.status"), "order_date": PLACED, "placed_at": PLACED, "order_month": PLACED,
        "coupon_code": o("orders.coupon_code"), "subtotal": o("orders.subtotal_cents"),
        "discount": o("orders.discount_cents"), "shipping": o("orders.shipping_cents"), "tax": o("orders.tax_cents"),
        "total": o("orders.total_cents"), "item_count": set(), "units": o("order_items.quantity"),
        "line_revenue": REVENUE, "is_revenue": o("orders.status")},
    "fct_order_items": {
        "order_item_id": o("order_items.order_item_id"), "order_id": o("order_items.order_id"),
        "line_number": o("order_items.line_number"), "customer_id": o("orders.customer_id"),
        "order_status": o("orders.status"), "order_date": PLACED, "placed_at": PLACED,
        "product_id": o("order_items.product_id"), "product_name": o("products.name"),
        "category_id": o("categories.category_id"), "category_name": CATEGORY_NAME, "department": CATEGORY_NAME,
        "quantity": o("order_items.quantity"), "unit_price": o("order_items.unit_price_cents"),
        "discount": o("order_items.discount_cents"), "line_revenue": REVENUE, "is_revenue": o("orders.status"),
        "last_changed_at": o("order_items.updated_at", "orders.updated_at")},
    "product_performance": {
        "product_id": o("products.product_id"), "sku": o("products.sku"), "product_name": o("products.name"),
        "department": CATEGORY_NAME, "category_name": CATEGORY_NAME, "units_sold": o("order_items.quantity"),
        "orders": o("order_items.order_id"), "revenue": REVENUE,
        "gross_margin": REVENUE | o("products.cost_cents"), "revenue_rank": REVENUE | o("products.product_id")},
    "order_status_durations": {
        "order_id": o("orders.order_id"), "customer_id": o("orders.customer_id"), "order_status": o("orders.status"),
        "total": o("orders.total_cents"), "entered_at": o("orders.updated_at"), "left_at": o("orders.updated_at"),
        "hours_in_status": o("orders.updated_at"), "is_current": o("orders.updated_at")},
    "product_price_history": {
        "product_id": o("products.product_id"), "sku": o("products.sku"), "product_name": o("products.name"),
        "price": o("products.price_cents"),
        "previous_price": o("products.price_cents", "products.product_id", "products.updated_at"),
        "price_change": o("products.price_cents", "products.product_id", "products.updated_at"),
        "product_status": o("products.status"), "valid_from": o("products.updated_at"),
        "valid_to": o("products.updated_at"), "is_current": o("products.updated_at")},
}


def test_every_mart_column_is_covered(shop_lineage):
    """The expectations name every column of every mart, so a new mart column needs a hand-derived line."""
    for mart, columns in EXPECTED.items():
        assert {n.column for n in shop_lineage.columns_of(mart)} == set(columns), mart


@pytest.mark.parametrize("mart", sorted(EXPECTED))
def test_mart_columns_reach_their_oltp_columns(shop_lineage, mart):
    found = {column: direct_origins(shop_lineage, f"{mart}.{column}") for column in EXPECTED[mart]}
    assert found == EXPECTED[mart]


def test_revenue_path_edge_by_edge(shop_lineage):
    """monthly_revenue_by_category.revenue ← fct_order_items.line_revenue ← … ← three OLTP columns,
    with the order status as a filter."""
    g = shop_lineage
    (edge,) = [e for e in g.inputs("monthly_revenue_by_category.revenue") if e.direct]
    assert (edge.source, edge.kind, edge.expression) == (
        "fct_order_items.line_revenue", "aggregate", "SUM(fct_order_items.line_revenue)")
    assert [(e.source, e.kind) for e in g.inputs("fct_order_items.line_revenue") if e.direct] == [
        ("int_order_lines.line_revenue", "copy")]  # select * from an ephemeral model: a hop of its own
    assert {(e.source, e.kind) for e in g.inputs("stg_order_items.line_revenue")} == {
        ("raw.order_items.quantity", "transform"), ("raw.order_items.unit_price_cents", "transform"),
        ("raw.order_items.discount_cents", "transform")}
    assert "quantity * order_items.unit_price_cents - order_items.discount_cents" in \
        g.inputs("stg_order_items.line_revenue")[0].expression  # the macro, as compiled
    filters = {e.source for e in g.inputs("monthly_revenue_by_category.revenue") if e.kind == "filter"}
    assert filters == {"fct_order_items.is_revenue"}
    # fct_order_items is incremental: `where last_changed_at >= (select max(…) from {{ this }})` reads its own
    # past rows, which is no lineage; what it reads of int_order_lines still filters
    assert {(e.source, e.kind) for e in g.inputs("fct_order_items.line_revenue")} == {
        ("int_order_lines.line_revenue", "copy"), ("int_order_lines.last_changed_at", "filter")}
    assert "oltp:orders.status" in all_origins(g, "monthly_revenue_by_category.revenue")
    assert "oltp:orders.status" not in direct_origins(g, "monthly_revenue_by_category.revenue")


def test_renames_joins_and_window_functions(shop_lineage):
    g = shop_lineage
    assert [(e.source, e.kind) for e in g.inputs("stg_categories.parent_category_id")] == [
        ("raw.categories.parent_id", "copy")]  # a rename is a copy
    joins = {e.source for e in g.inputs("dim_products.product_id") if e.kind == "join"}
    assert joins == {"stg_categories.category_id", "stg_products.category_id", "stg_categories.parent_category_id"}
    kinds = {e.source: e.kind for e in g.inputs("customer_lifetime_value.revenue_rank")}
    assert kinds["dim_customers.lifetime_revenue"] == "transform"  # rank() over (...) keeps one row per row
    assert kinds["dim_customers.revenue_orders"] == "filter"  # where revenue_orders > 0


def test_snapshot_columns_follow_the_strategy(shop_lineage):
    g = shop_lineage
    assert [(e.source, e.kind) for e in g.inputs("orders_snapshot.dbt_valid_from")] == [
        ("orders_snapshot.updated_at", "transform")]
    assert [(e.source, e.kind) for e in g.inputs("order_status_durations.entered_at")] == [
        ("orders_snapshot.dbt_valid_from", "copy")]


def test_every_model_is_analysed(shop_lineage):
    assert {name: info.note for name, info in shop_lineage.relations.items() if info.note} == {}


def test_openlineage_facet_shape(shop_built):
    body = json.loads((shop_built.parent / "target" / "lineage.json").read_text())
    datasets = {d["name"].split(".")[-1]: d for d in body["openlineage"]}
    facet = datasets["monthly_revenue_by_category"]["facets"]["columnLineage"]
    assert facet["_schemaURL"].endswith("/ColumnLineageDatasetFacet.json")
    inputs = {(i["name"].split(".")[-1], i["field"]): i["transformations"][0]
              for i in facet["fields"]["revenue"]["inputFields"]}
    assert inputs[("fct_order_items", "line_revenue")] | {"description": None} == {
        "type": "DIRECT", "subtype": "AGGREGATION", "masking": False, "description": None}
    assert inputs[("fct_order_items", "is_revenue")]["type"] == "INDIRECT"
    assert {"id", "layer", "relation", "column"} == set(body["nodes"][0])

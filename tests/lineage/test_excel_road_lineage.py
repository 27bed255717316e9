"""The Excel road's lineage: a report figure down to OLTP columns, both roads, and the Provenance sheet."""

from __future__ import annotations

import json
import subprocess
import sys

from python_calamine import CalamineWorkbook

from desktop_app.core.excel.pipeline import run_excel
from desktop_app.core.lineage.excel_road import figure_nodes
from desktop_app.core.olap.warehouse import Warehouse
from tests.lineage.conftest import all_origins, direct_origins

REVENUE = {"oltp:order_items.quantity", "oltp:order_items.unit_price_cents", "oltp:order_items.discount_cents"}


def test_a_report_figure_reaches_the_same_oltp_columns_on_both_roads(shop_lineage):
    excel, model = figure_nodes("revenue 2024-03 Electronics")
    assert (excel, model) == ("excel:03_final_report/Monthly revenue.revenue_cents",
                              "monthly_revenue_by_category.revenue")
    assert direct_origins(shop_lineage, excel) == direct_origins(shop_lineage, model) == REVENUE
    assert "oltp:orders.status" in all_origins(shop_lineage, excel) - direct_origins(shop_lineage, excel)
    # the path, hop by hop: figure ← typed lines ← intermediate sheet ← … ← raw-export sheet ← raw ← OLTP
    path, node = [], excel
    while True:
        direct = [e for e in shop_lineage.inputs(node) if e.direct]
        if not direct:
            break
        node = sorted(e.source for e in direct)[0]
        path.append(node)
    assert path == ["excel:03_final_report/lines.line_revenue_cents",
                    "excel:02_intermediate/order_lines.line_revenue_cents",
                    "excel:02_intermediate/revenue_lines.line_revenue_cents",
                    "excel:02_intermediate/looked_up_lines.line_revenue_cents",
                    "excel:02_intermediate/derived_order_items.line_revenue_cents",
                    "excel:02_intermediate/clean_order_items.discount_cents",
                    "excel:01_raw_export/order_items.discount_cents",
                    "raw.order_items.discount_cents", "oltp:order_items.discount_cents"]


def test_cli_figure_target_shows_both_roads(shop_built):
    done = subprocess.run([sys.executable, "-m", "desktop_app", "lineage", "--warehouse", str(shop_built),
                           "top customer #3 revenue"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("excel:03_final_report/Top customers.revenue_cents  (excel)")
    assert "The same figure on the model road:\ncustomer_lifetime_value.lifetime_revenue  (model)" in done.stdout
    as_json = subprocess.run([sys.executable, "-m", "desktop_app", "lineage", "--warehouse", str(shop_built),
                              "active customers", "--json"], capture_output=True, text=True)
    body = json.loads(as_json.stdout)
    assert body["model_road"] == "customer_lifetime_value.customer_id"
    assert "oltp:orders.customer_id" in {n["id"] for n in body["nodes"]}


def test_provenance_sheet_lists_the_oltp_columns_of_each_figure_group(shop_built, tmp_path):
    with Warehouse(shop_built) as wh:
        run_excel(wh, tmp_path)
    rows = CalamineWorkbook.from_path(str(tmp_path / "03_final_report.xlsx")).get_sheet_by_name(
        "Provenance").to_python()
    facts = {row[0]: row[1] for row in rows if row and row[0]}
    values = facts["Monthly revenue: values from OLTP"].split(", ")
    assert set(values) == {"categories.name", "order_items.discount_cents", "order_items.quantity",
                           "order_items.unit_price_cents", "orders.placed_at"}
    assert "orders.status" in facts["Monthly revenue: rows chosen by OLTP"]
    assert "customers.first_name" in facts["Top customers: values from OLTP"]


def test_exported_fields_follow_their_mart_columns(shop_built, tmp_path):
    export = subprocess.run([sys.executable, "-m", "desktop_app", "export", "--warehouse", str(shop_built), "--out",
                             str(tmp_path / "bi"), "--format", "csv", "--select", "daily_revenue"],
                            capture_output=True, text=True)
    assert export.returncode == 0, export.stderr
    done = subprocess.run([sys.executable, "-m", "desktop_app", "lineage", "--warehouse", str(shop_built),
                           "--export", str(tmp_path / "bi"), "oltp:order_items.quantity", "--downstream", "--json"],
                          capture_output=True, text=True)
    body = json.loads(done.stdout)
    assert {"from": "daily_revenue.revenue", "to": "export:daily_revenue.csv.revenue", "kind": "copy"} in body["edges"]
    assert {n["layer"] for n in body["nodes"]} == {"oltp", "raw", "model", "excel", "export"}

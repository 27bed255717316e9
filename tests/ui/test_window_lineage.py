"""Column lineage in the window: a graph node expanded to its columns, a column clicked, a figure traced."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import close_window, open_window, wait_idle


def pytest_screenshot_dir():
    import os
    import tempfile
    from pathlib import Path

    folder = Path(os.environ.get("OLTP_OLAP_SCREENSHOTS", tempfile.gettempdir()))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def shown(qtbot, used_workspace):
    window = open_window(qtbot, used_workspace)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.state is not None and window.models_tab.list.topLevelItemCount() > 0,
                    timeout=30_000)
    wait_idle(qtbot, window)
    yield window
    wait_idle(qtbot, window)
    close_window(window)


def test_expand_a_node_and_click_a_column(shown, qtbot):
    window = shown
    tab = window.models_tab
    window.tabs.setCurrentWidget(tab)
    tab.views.setCurrentIndex(0)
    qtbot.wait(50)
    dag = tab.dag
    uid = next(u for u in dag.nodes if u.endswith(".monthly_revenue_by_category"))
    point = dag.mapFromScene(dag.nodes[uid].sceneBoundingRect().center())
    qtbot.mouseDClick(dag.viewport(), Qt.MouseButton.LeftButton, pos=point)
    panel = tab.lineage.panel
    assert tab.views.currentWidget() is tab.lineage
    qtbot.waitUntil(lambda: "monthly_revenue_by_category.revenue" in panel.view.rows, timeout=30_000)
    assert "Tracing column lineage" in tab.lineage.progress.text() or "Column lineage:" in \
        tab.lineage.progress.text()
    view = panel.view
    own = {i for i, r in view.rows.items() if r.node.relation == "monthly_revenue_by_category"}
    assert own == {f"monthly_revenue_by_category.{c}" for c in ("order_month", "department", "orders", "units",
                                                                "revenue")}
    assert "fct_order_items.line_revenue" in view.rows  # one hop upstream
    assert "int_order_lines.line_revenue" not in view.rows  # two hops: not until a column is clicked
    row = view.rows["monthly_revenue_by_category.revenue"]
    view.centerOn(row)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.mapFromScene(row.sceneBoundingRect().center()))
    qtbot.waitUntil(lambda: "oltp:order_items.quantity" in view.rows, timeout=5_000)
    assert view.focus == "monthly_revenue_by_category.revenue"
    styles = {(e.source, e.target): item.pen().style() for e, item in view.edges}
    assert styles[("fct_order_items.line_revenue", "monthly_revenue_by_category.revenue")] == Qt.PenStyle.SolidLine
    assert styles[("fct_order_items.is_revenue", "monthly_revenue_by_category.revenue")] == Qt.PenStyle.DotLine
    details = panel.details.toPlainText()
    assert "aggregate fct_order_items.line_revenue" in details and "SUM(fct_order_items.line_revenue)" in details
    assert "> " in details and "sum(line_revenue) as revenue" in details.lower()  # the compiled SQL line
    assert view.width() > panel.details.width() > 150  # the drawing gets the room, the text stays readable
    image = window.grab()
    assert not image.isNull()
    image.save(str(pytest_screenshot_dir() / "lineage-column.png"))


def test_where_does_a_report_figure_come_from(shown, qtbot):
    window = shown
    tab = window.models_tab
    window.tabs.setCurrentWidget(tab)
    tab.views.setCurrentIndex(5)
    tab.reconcile_roads()
    qtbot.waitUntil(lambda: tab.roads.rowCount() > 0, timeout=30_000)
    row = next(r for r in range(tab.roads.rowCount()) if tab.roads.item(r, 0).text() == "total revenue")
    tab.roads.setCurrentCell(row, 0)
    tab.origin_button.click()
    view = tab.lineage.panel.view
    qtbot.waitUntil(lambda: view.focus == "excel:03_final_report/Summary.revenue_cents", timeout=30_000)
    assert "oltp:order_items.unit_price_cents" in view.rows
    assert "excel:01_raw_export/order_items.quantity" in view.rows
    assert "model road: daily_revenue.revenue" in tab.lineage.panel.details.toPlainText()
    window.grab().save(str(pytest_screenshot_dir() / "lineage-figure.png"))


def test_where_does_a_report_sheet_come_from_in_the_excel_tab(shown, qtbot):
    window = shown
    excel = window.excel_tab
    window.tabs.setCurrentWidget(excel)
    excel.stages.setCurrentItem(excel._item("raw"))
    qtbot.waitUntil(lambda: excel.sheets.count() > 0, timeout=10_000)
    assert not excel.origin_button.isEnabled()  # the raw export holds data, not figures
    excel.stages.setCurrentItem(excel._item("final"))
    qtbot.waitUntil(lambda: excel.sheets.count() == 5 and excel.sheets.tabText(1) == "Monthly revenue",
                    timeout=10_000)
    excel.sheets.setCurrentIndex(1)
    assert excel.origin_button.isEnabled()
    excel.origin_button.click()
    view = window.models_tab.lineage.panel.view
    assert window.tabs.currentWidget() is window.models_tab
    qtbot.waitUntil(lambda: view.focus == "excel:03_final_report/Monthly revenue.revenue_cents", timeout=30_000)
    assert "oltp:orders.status" in view.rows  # the filter that makes a line revenue
    assert "monthly_revenue_by_category.revenue" in window.models_tab.lineage.panel.details.toPlainText()

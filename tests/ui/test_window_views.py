"""The views a user reads: the overview's map, the model graph, failing tests, charts, the report
preview, the query console, and their own project and warehouse."""

from __future__ import annotations

import csv
import shutil

import duckdb
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from desktop_app.paths import sql_project_dir
from tests.ui.conftest import close_window, open_window, wait_idle


@pytest.fixture
def shown(qtbot, used_workspace):
    window = open_window(qtbot, used_workspace)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.source_tab.view is not None and window.state is not None
                    and window.models_tab.list.topLevelItemCount() > 0, timeout=30_000)
    wait_idle(qtbot, window)
    yield window
    wait_idle(qtbot, window)
    close_window(window)


def click_box(qtbot, window, key):
    flow = window.overview_tab.map
    centre = flow.mapFromScene(flow.boxes[key].sceneBoundingRect().center())
    qtbot.mouseClick(flow.viewport(), Qt.MouseButton.LeftButton, pos=centre)


def test_every_box_of_the_overview_opens_its_tab(shown, qtbot):
    window = shown
    window.tabs.setCurrentWidget(window.overview_tab)
    qtbot.wait(50)
    for key, tab in (("source", window.source_tab), ("ingest", window.ingest_tab), ("models", window.models_tab),
                     ("excel_intermediate", window.excel_tab), ("raw", window.console_tab)):
        window.tabs.setCurrentWidget(window.overview_tab)
        click_box(qtbot, window, key)
        assert window.tabs.currentWidget() is tab, key
    assert window.excel_tab._selected_stage() == "intermediate"
    window.tabs.setCurrentWidget(window.overview_tab)
    click_box(qtbot, window, "charts")
    assert window.models_tab.views.currentWidget() is window.models_tab.charts
    qtbot.waitUntil(lambda: window.console_tab.model.rowCount() == 8, timeout=10_000)  # the raw layer's tables
    assert "8 tables, " in window.overview_tab.box_text("source") and "every table reconciled" in \
        window.overview_tab.box_text("ingest")


def test_clicking_a_graph_node_selects_its_model(shown, qtbot):
    window = shown
    window.tabs.setCurrentWidget(window.models_tab)
    window.models_tab.views.setCurrentIndex(0)
    qtbot.wait(50)
    dag = window.models_tab.dag
    uid = next(u for u in dag.nodes if u.endswith(".fct_orders"))
    point = dag.mapFromScene(dag.nodes[uid].sceneBoundingRect().center())
    qtbot.mouseClick(dag.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert window.models_tab.list.currentItem().text(0) == "fct_orders"
    assert "from" in window.models_tab.sql.toPlainText().lower() and dag.selected == uid
    qtbot.waitUntil(lambda: window.models_tab.result_model.rowCount() > 0, timeout=10_000)
    assert "fct_orders" in window.models_tab.result_label.text()
    assert window.models_tab.tests.topLevelItemCount() >= 2  # fct_orders' own tests
    assert "source" in window.models_tab.graph.legend.text() and "view dashed" in window.models_tab.graph.legend.text()
    before = dag.transform().m11()
    window.models_tab.graph.view.zoom(1.25)
    assert dag.transform().m11() == pytest.approx(before * 1.25) and not dag.auto_fit
    dag.fit()
    assert dag.auto_fit


@pytest.fixture
def failing_project(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(sql_project_dir(), project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "tests" / "assert_few_orders.sql").write_text(
        "-- fails on purpose: every order over 100\nselect * from {{ ref('fct_orders') }} where order_id > 100\n")
    return project


def test_a_failing_test_colours_its_model_and_shows_its_rows(shown, qtbot, failing_project):
    window = shown
    window.open_project(failing_project)
    qtbot.waitUntil(lambda: window.models_tab.list.topLevelItemCount() > 0, timeout=10_000)
    with qtbot.waitSignal(window.models_tab.built, timeout=60_000):
        window.models_tab.build()
    models = window.models_tab
    first = models.list.topLevelItem(0)
    assert first.text(0) == "fct_orders" and first.text(2) == "fail" and "failing" in first.text(5)
    uid = first.data(0, Qt.ItemDataRole.UserRole)
    assert "test(s) failing" in models.dag.nodes[uid].toolTip()
    models.list.setCurrentItem(first)
    failing = models.tests.topLevelItem(0)
    assert failing.text(0) == "assert_few_orders" and failing.text(1) == "fail"
    models.tests.setCurrentItem(failing)
    assert models.failing_rows_button.isEnabled()
    qtbot.mouseClick(models.failing_rows_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: models.result_model.rowCount() > 0, timeout=10_000)
    assert models.views.currentIndex() == 3 and "Failing rows of assert_few_orders" in models.result_label.text()
    assert models.result_model.rowCount() <= 500 and all(row[0] > 100 for row in models.result_model.rows)
    assert str(failing_project) in [a.text() for a in window.recent_projects_menu.actions()]
    assert window.studio.target_dir != window.workspace.root / "target"  # its own artefacts


def test_charts_empty_stale_and_saved(shown, qtbot, failing_project, tmp_path):
    window = shown
    charts = window.models_tab.charts
    qtbot.waitUntil(lambda: charts.has_data, timeout=10_000)
    window.tabs.setCurrentWidget(window.models_tab)
    window.models_tab.views.setCurrentWidget(charts)
    qtbot.waitUntil(lambda: charts.plots is not None and charts.pending is None, timeout=10_000)
    labels = [t.toPlainText() for t in charts.plots["products"][2]]
    assert len(labels) == 10 and all(" · " in label and label.endswith(" €") for label in labels)
    axis = charts.plots["monthly"].getAxis("left")
    assert axis.labelText == "Revenue (€)" and axis.tickStrings([1500000.0], 1, 1) == ["1,500,000"]
    assert "Electronics" in charts.boxes["monthly"].legend.text()
    for suffix in ("png", "svg"):
        saved = charts.save_chart(charts.boxes["monthly"], tmp_path / f"monthly.{suffix}")
        assert saved.exists() and saved.stat().st_size > 2_000
    assert "<svg" in (tmp_path / "monthly.svg").read_text()
    # Hovering over a bar says its name and value.
    widget = charts.plots["products"][0]
    view = widget.getPlotItem().vb
    charts._on_hover("products", widget, view.mapViewToScene(QPointF(1.0, 9.0)))  # over the top bar
    assert charts.hover["products"].isVisible() and labels[-1].split(" · ")[0] in charts.hover["products"].toPlainText()
    # A build that fails marks the charts stale, and they keep the marts as they were.
    broken = failing_project / "models" / "marts" / "daily_revenue.sql"
    broken.write_text("select no_such_column from {{ ref('fct_orders') }}")
    window.open_project(failing_project)
    with qtbot.waitSignal(window.models_tab.built, timeout=60_000):
        window.models_tab.build()
    assert charts.stale.isVisible() and "last build failed" in charts.stale.text()
    qtbot.waitUntil(lambda: charts.has_data, timeout=10_000)
    wait_idle(qtbot, window)
    assert charts.stale.isVisible() and charts.has_data


def test_charts_say_what_to_do_before_a_build(window, qtbot, pristine_shop):
    shutil.copy(pristine_shop, window.workspace.demo_shop)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.state is not None, timeout=30_000)
    wait_idle(qtbot, window)
    window.tabs.setCurrentWidget(window.models_tab)
    window.models_tab.views.setCurrentWidget(window.models_tab.charts)
    charts = window.models_tab.charts
    assert not charts.has_data and charts.stack.currentWidget() is charts.empty
    assert "Build the models" in charts.empty.text()


def test_the_report_preview_looks_like_the_report(shown, qtbot):
    window = shown
    excel = window.excel_tab
    window.tabs.setCurrentWidget(excel)
    excel.stages.setCurrentItem(excel._item("final"))
    qtbot.waitUntil(lambda: excel.sheets.count() == 5 and excel.sheets.tabText(1) == "Monthly revenue",
                    timeout=10_000)
    excel.sheets.setCurrentIndex(1)
    table = excel.sheets.widget(1)
    qtbot.waitUntil(lambda: table.model() is not None, timeout=10_000)
    model = table.model()
    assert excel.sheets.tabText(1) == "Monthly revenue"
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(3)] == ["A", "B", "C"]
    assert model.data(model.index(0, 0)) == "Month" and model.data(model.index(1, 0)).split()[1].isdigit()
    money = model.data(model.index(1, 1))
    assert money.endswith(" €") and "," in model.data(model.index(model.rowCount() - 1, model.columnCount() - 1))
    assert model.data(model.index(1, 1), Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight
    assert model.data(model.index(0, 1), Qt.ItemDataRole.FontRole).bold()
    cells = [model.data(model.index(r, c)) for r in range(model.rowCount()) for c in range(model.columnCount())]
    assert "None" not in cells
    assert table.columnWidth(0) >= table.fontMetrics().horizontalAdvance("Sep 2025")  # not cut


def test_the_query_console_reads_refuses_cancels_copies_and_exports(shown, qtbot, tmp_path):
    window = shown
    console = window.console_tab
    window.tabs.setCurrentWidget(console)
    console.editor.setPlainText("select order_id, status from raw.orders order by order_id")
    qtbot.keyClick(console.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: console.model.rowCount() > 0, timeout=10_000)
    assert console.model.columns == ["order_id", "status"] and console.model.rows[0][0] == 1
    text = console.copy()
    assert text.startswith("order_id\tstatus\n1\t") and QApplication.clipboard().text() == text
    with qtbot.waitSignal(console.export(tmp_path / "orders.csv").signals.finished, timeout=10_000):
        pass
    with (tmp_path / "orders.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["order_id", "status"] and len(rows) == 1 + window.state.raw_tables["orders"]
    assert "Wrote" in console.message.text()
    # A statement that would change the warehouse is refused by name, and nothing changes.
    console.editor.setPlainText("delete from raw.orders")
    console.run()
    qtbot.waitUntil(lambda: "DELETE statement is not run here" in console.message.text(), timeout=10_000)
    assert console.status.text() == "Failed"
    # A long query is cancelled.
    console.editor.setPlainText("select count(*) from range(100000000000) a")
    console.run()
    qtbot.waitUntil(lambda: console.cancel_button.isEnabled(), timeout=5_000)
    qtbot.wait(200)
    qtbot.mouseClick(console.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: console.status.text() == "Cancelled", timeout=20_000)
    wait_idle(qtbot, window)
    with duckdb.connect(str(window.studio.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from raw.orders").fetchall()[0][0] == window.state.raw_tables["orders"]


def test_another_warehouse_is_opened_and_remembered(shown, qtbot, tmp_path):
    window = shown
    other = tmp_path / "elsewhere.duckdb"
    shutil.copy(window.workspace.warehouse, other)
    window.open_warehouse(other)
    qtbot.waitUntil(lambda: window.state is not None and window.state.warehouse == other, timeout=10_000)
    assert window.state.raw_tables and window.state.last_build is None  # no artefacts of its own yet
    assert str(other) in [a.text() for a in window.recent_warehouses_menu.actions()]
    assert str(other) in window.status_source.text()
    window.open_warehouse(tmp_path / "gone.duckdb")
    assert "No warehouse at" in window.overview_tab.summary.text()
    assert window.studio.warehouse_path == other


def test_export_for_bi_through_the_dialog(shown, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    window = shown
    folder = tmp_path / "bi"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))  # the user's answer
    dialog = window.open_export_dialog()
    qtbot.waitUntil(lambda: dialog.relations.count() > 8, timeout=10_000)
    from tests.handoff.test_export import MARTS

    assert set(dialog.chosen()) == MARTS
    dialog._on_choose_clicked()
    dialog.format.setCurrentIndex(dialog.format.findData("hyper"))
    dialog.with_pipeline.setChecked(True)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.progress.state != "running", timeout=60_000)
    assert dialog.progress.state == "done" and "Exported 10 relation(s) as hyper" in dialog.progress.text()
    assert dialog.open_folder.isEnabled() and len(list(folder.glob("*.hyper"))) == 10
    assert (folder / "export.json").exists()
    assert window.settings.get("export/folder") == str(folder) and window.settings.get("export/format") == "hyper"
    dialog.accept()
    qtbot.waitUntil(lambda: window.state is not None and window.state.export is not None, timeout=10_000)
    assert "10 relation(s) as hyper" in window.overview_tab.box_text("exports")
    # Run everything now ends with the export, into the remembered folder.
    (folder / "export.json").unlink()
    window.run_everything()
    qtbot.waitUntil(lambda: window.pipeline is None, timeout=180_000)
    assert (folder / "export.json").exists() and "export: 10 hyper file(s)" in window.overview_tab.summary.toolTip()


def test_a_workbook_read_cell_by_cell_is_named_as_information(window, qtbot, tmp_path):
    """How a stage read its input is routine; reading an edited workbook cell by cell is slower and says so."""
    from desktop_app.core.excel.read import SheetRead, read_notes
    from desktop_app.core.excel.stages import StageResult

    window.show()
    copied = read_notes(tmp_path / "01_raw_export.xlsx", {"orders": SheetRead(3, True)})
    parsed = read_notes(tmp_path / "02_intermediate.xlsx", {"order_lines": SheetRead(3, False)})
    window.excel_tab.show_results([StageResult("intermediate", tmp_path, 1.0, notes=copied)])
    assert "copy of their values" not in window.excel_tab.message.text()
    window.excel_tab.show_results([StageResult("final", tmp_path, 1.0, notes=parsed)])
    assert "order_lines cell by cell" in window.excel_tab.message.text()
    assert window.excel_tab.message.kind == "info"
    wait_idle(qtbot, window)

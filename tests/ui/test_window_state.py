"""A relaunch shows what is on disk; settings survive a restart whole; nothing touches the user's."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys

from desktop_app.core.ingest.run import run_ingest
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.core.oltp.simulate import simulate_activity
from desktop_app.core.oltp.source import open_source
from tests.ui.conftest import close_window, open_window, wait_idle


def launched(qtbot, root, settings=None):
    window = open_window(qtbot, root, settings)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.source_tab.view is not None and window.state is not None, timeout=30_000)
    wait_idle(qtbot, window)
    return window


def test_recent_sources_survive_a_restart_as_whole_entries(qtbot, tmp_path, pristine_shop):
    """A one-entry list came back from the settings file as a string and was split into letters."""
    root, settings = tmp_path / "workspace", tmp_path / "settings.ini"
    root.mkdir()
    shutil.copy(pristine_shop, root / "demo_shop.sqlite")
    first = launched(qtbot, root, settings)
    first.close()
    close_window(first)
    second = launched(qtbot, root, settings)
    entries = [a.text() for a in second.recent_menu.actions()]
    assert entries == [str(root / "demo_shop.sqlite")]
    other = tmp_path / "other, with comma.sqlite"
    shutil.copy(pristine_shop, other)
    second.open_source(str(other))
    qtbot.waitUntil(lambda: second.studio.source == str(other), timeout=10_000)
    wait_idle(qtbot, second)
    second.close()
    close_window(second)
    third = launched(qtbot, root, settings)
    assert [a.text() for a in third.recent_menu.actions()] == [str(other), str(root / "demo_shop.sqlite")]
    assert third.settings.get("sources/recent") == [str(other), str(root / "demo_shop.sqlite")]
    third.close()
    close_window(third)
    # The settings file afterwards: the window's own keys, the list whole, nothing else.
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(settings)
    keys = {f"{section}/{key}" for section in parser.sections() for key in parser[section]}
    assert {"sources/recent", "window/geometry", "window/tab", "splitters/models"} <= keys
    assert "other, with comma.sqlite" in parser["sources"]["recent"]


def test_nothing_but_the_user_touches_the_users_settings(tmp_path):
    """The self-test and benchmarks wrote their temporary paths into the user's real settings file."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_DATA_HOME": str(home / ".local" / "share"), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-m", "desktop_app", "--self-test"], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    written = [str(p.relative_to(home)) for p in home.rglob("*") if p.is_file()]
    assert not [p for p in written if "oltp-olap" in p], written


def test_a_relaunch_shows_what_is_on_disk(qtbot, used_workspace):
    """Each tab used to forget everything on relaunch: stages 'not run', models grey, charts empty."""
    window = launched(qtbot, used_workspace)
    ingest = window.ingest_tab
    assert {ingest._item(t).text(4) for t in ingest.bars} == {"success"}
    assert all(ingest._item(t).text(9).startswith("✓ pass") for t in ingest.bars)
    assert ingest.message.text().startswith("Last run 1 (full): success")
    assert ingest.history.rowCount() == 8 and ":" in ingest.history.item(0, 1).text()
    assert "." not in ingest.history.item(0, 1).text()  # timestamps to the second, no microseconds
    qtbot.waitUntil(lambda: window.models_tab.list.topLevelItemCount() >= 17, timeout=10_000)
    models = window.models_tab.list
    statuses = {models.topLevelItem(i).text(2) for i in range(models.topLevelItemCount())}
    assert statuses <= {"success", "inlined"} and "success" in statuses
    assert window.models_tab.tests.topLevelItemCount() >= 30
    assert window.models_tab.message.text().startswith("Last build")
    qtbot.waitUntil(lambda: window.models_tab.charts.has_data, timeout=10_000)
    excel = window.excel_tab
    assert [excel._item(s).text(1) for s in ("raw", "intermediate", "final")] == ["done", "done", "done"]
    assert int(excel._item("raw").text(3).replace(",", "")) > 1000 and excel._item("raw").text(2)
    qtbot.waitUntil(lambda: excel.steps.topLevelItemCount() == 5, timeout=10_000)
    overview = window.overview_tab
    assert not overview.hint.isVisible()
    assert overview.box_text("ingest").split("\n")[1] == "success"
    assert overview.box_text("models").split("\n")[1] == "success"
    assert overview.box_text("excel_final").split("\n")[1] == "done"
    window.close()
    close_window(window)


def test_a_relaunch_marks_what_is_stale(qtbot, used_workspace):
    shop, warehouse = used_workspace / "demo_shop.sqlite", used_workspace / "warehouse.duckdb"
    simulate_activity(shop, orders=20, updates=20, deletes=2, seed=5)
    for workbook in (used_workspace / "excel").iterdir():
        os.utime(workbook, (1, 1))  # written long ago: the clock of a fast test may not move
    with open_source(str(shop)) as source, Warehouse(warehouse) as wh:
        assert run_ingest(source, wh, mode="incremental").ok
    window = launched(qtbot, used_workspace)
    assert "stale: the source was ingested after the last build" in window.models_tab.message.text()
    assert window.excel_tab._item("raw").text(1) == "stale"
    assert "stale" in window.overview_tab.box_text("models")
    assert window.overview_tab.box_text("excel_raw").split("\n")[1] == "stale"
    assert window.ingest_tab.message.text().startswith("Last run 2 (incremental)")
    window.close()
    close_window(window)


def test_the_window_module_loads_no_database_or_workbook_library():
    """Importing one of them at start-up delays the first paint (DuckDB, SQLAlchemy and openpyxl cost
    ~0.3 s): they belong to the jobs, on worker threads."""
    code = ("import sys, desktop_app.ui.main_window; "
            "print(sorted(m for m in ('duckdb', 'sqlalchemy', 'openpyxl', 'pyqtgraph', 'python_calamine', 'jinja2') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_look_back_window_is_shown_kept_and_used(qtbot, tmp_path, pristine_shop):
    root, settings = tmp_path / "workspace", tmp_path / "settings.ini"
    root.mkdir()
    shutil.copy(pristine_shop, root / "demo_shop.sqlite")
    first = launched(qtbot, root, settings)
    tab = first.ingest_tab
    qtbot.waitUntil(lambda: tab.tables.topLevelItemCount() > 0, timeout=10_000)
    strategies = {tab.tables.topLevelItem(r).text(0): tab.tables.topLevelItem(r).text(1)
                  for r in range(tab.tables.topLevelItemCount())}
    assert strategies["orders"] == "watermark:updated_at (look-back 5 min)"
    tab.look_back.setValue(30)
    assert first.studio.look_back == 1800
    orders = next(tab.tables.topLevelItem(r) for r in range(tab.tables.topLevelItemCount())
                  if tab.tables.topLevelItem(r).text(0) == "orders")
    assert orders.text(1) == "watermark:updated_at (look-back 30 min)"
    first.close()
    close_window(first)
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(settings)
    assert parser["ingest"]["look_back_seconds"] == "1800"
    second = launched(qtbot, root, settings)
    assert second.ingest_tab.look_back.value() == 30 and second.studio.look_back == 1800
    assert second.ingest_tab.start_ingest() is not None
    wait_idle(qtbot, second)
    with Warehouse(root / "warehouse.duckdb") as wh:
        strategy = wh.cursor().execute("select strategy from _studio.table_loads where table_name = 'orders'"
                                       ).fetchall()[0][0]
    assert strategy == "watermark:updated_at (look-back 30 min)"
    second.close()
    close_window(second)

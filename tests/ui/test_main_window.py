from PySide6.QtCore import QCoreApplication


def test_first_launch_creates_the_demo_shop_and_shows_its_tables(window, qtbot, tmp_path):
    QCoreApplication.setOrganizationName("oltp-olap-tests")
    window.show()
    window.start()
    tables = window.source_tab.tables
    qtbot.waitUntil(lambda: tables.topLevelItemCount() == 8, timeout=30_000)
    assert window.workspace.demo_shop.exists()
    names = [tables.topLevelItem(i).text(0) for i in range(8)]
    assert "order_items" in names
    # The first table is selected: its schema and a preview appear.
    qtbot.waitUntil(lambda: window.source_tab.preview.rowCount() > 0, timeout=10_000)
    assert window.source_tab.columns.topLevelItemCount() > 0
    assert "Showing first" in window.source_tab.preview_label.text()
    qtbot.waitUntil(lambda: not window.runner.live_jobs, timeout=10_000)
    shot = tmp_path / "source_tab.png"
    assert window.grab().save(str(shot)) and shot.stat().st_size > 10_000


def test_opening_a_broken_file_shows_the_problem_inline(window, qtbot, tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("not a database")
    errors = []
    window.source_tab.errorOccurred.connect(errors.append)
    window.source_tab.set_source(str(bad))
    qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
    assert "not a SQLite database" in window.source_tab.heading.text()
    qtbot.waitUntil(lambda: not window.runner.live_jobs, timeout=10_000)

"""Errors reach the user once, in words, without widening the window or switching what is open."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtWidgets import QApplication

from tests.ui.conftest import close_window, open_window, start_window, wait_idle


def started(qtbot, root):
    return start_window(qtbot, open_window(qtbot, root))


def test_a_long_error_never_widens_the_window_and_shows_once(used_workspace, qtbot):
    """A refused PostgreSQL connection made the window 1774 px wide on a 1600 px screen, and the error
    showed twice (heading and message line)."""
    window = started(qtbot, used_workspace)
    screen = QApplication.primaryScreen().availableGeometry().width()  # 800 offscreen: a small screen
    window.resize(screen - 40, 600)
    qtbot.wait(50)
    width = window.width()
    assert width == screen - 40  # the window fits a small screen at all
    url = "postgresql+psycopg://someone:secret@127.0.0.1:1/" + "a_rather_long_database_name_" * 12
    window.open_source(url)
    qtbot.waitUntil(lambda: "Cannot connect" in window.source_tab.message.text(), timeout=30_000)
    qtbot.wait(50)
    assert window.width() == width and window.minimumSizeHint().width() <= screen
    assert "secret" not in window.source_tab.message.text()
    assert "Cannot connect" not in window.source_tab.heading.text()  # once: in the message line only
    wait_idle(qtbot, window)
    close_window(window)


def test_a_failed_open_keeps_the_current_source(used_workspace, qtbot, tmp_path):
    window = started(qtbot, used_workspace)
    before = window.studio.source
    bad = tmp_path / "notes.db"
    bad.write_text("not a database")
    window.open_source(str(bad))
    qtbot.waitUntil(lambda: "not a SQLite database" in window.source_tab.message.text(), timeout=10_000)
    assert window.studio.source == before
    assert window.source_tab.tables.topLevelItemCount() == 8
    assert window.source_tab.heading.text() == str(before)
    assert str(bad) not in [a.text() for a in window.recent_menu.actions()]
    window.open_source("postgresql://u:secret@host:notaport/db")
    qtbot.waitUntil(lambda: "malformed" in window.source_tab.message.text(), timeout=10_000)
    assert "secret" not in window.source_tab.message.text() and window.studio.source == before
    wait_idle(qtbot, window)
    close_window(window)


def test_run_everything_after_a_failure_ends_in_a_clear_state(used_workspace, qtbot, monkeypatch):
    """After a failed open, Run everything showed a dialog while the status bar kept saying 'Running …'."""
    shown = []
    monkeypatch.setattr("desktop_app.ui.error_dialog.show_dialog", lambda *a: shown.append(a[1]))
    window = started(qtbot, used_workspace)
    window.workspace.demo_shop.unlink()  # the source is gone since it was opened
    window.run_everything()
    qtbot.waitUntil(lambda: window.pipeline is None, timeout=30_000)
    for progress in (window.overview_tab.progress, window.status_progress):
        assert progress.state == "failed" and "Run everything failed: No such file" in progress.text()
        assert not progress.cancel_button.isVisible()
    assert "No such file" in window.overview_tab.summary.text() and not shown  # inline: a fixable problem
    assert window.overview_tab.run_button.isEnabled()
    wait_idle(qtbot, window)
    close_window(window)


def test_without_a_display_the_window_says_what_is_missing(tmp_path):
    """`uv run oltp-olap` aborted with Qt's xcb message (exit 134) where there is no display."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "desktop_app", "--workspace", str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "No display" in done.stderr and "oltp-olap --help" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_url_dialog_masks_the_password_and_recent_urls_never_keep_it(used_workspace, qtbot, postgres_url):
    from PySide6.QtWidgets import QLineEdit

    window = started(qtbot, used_workspace)
    dialog = window.open_url_dialog()
    dialog.url.setText(postgres_url.replace("postgres@", "postgres:s3cret@") + "?application_name=studio")
    dialog.url.editingFinished.emit()
    assert dialog.password.echoMode() == QLineEdit.EchoMode.Password and dialog.password.text() == "s3cret"
    assert dialog.url.text() == "" and dialog.host.text() == "127.0.0.1"
    location = dialog.location()
    assert "s3cret" in location  # used for this session …
    dialog.accept()
    qtbot.waitUntil(lambda: window.studio.source == location, timeout=20_000)
    wait_idle(qtbot, window)
    recent = [a.text() for a in window.recent_menu.actions()]
    assert recent[0].startswith("postgresql+psycopg://postgres:***@127.0.0.1")  # … and never stored
    assert not any("s3cret" in r for r in recent)
    window.close()
    close_window(window)
    assert "s3cret" not in window.settings.path.read_text()
    again = window.open_recent_source  # a recent URL without its password asks for it
    reopened = []
    window.open_url_dialog = lambda prefill="": reopened.append(prefill)
    again(recent[0])
    assert reopened == [recent[0]]

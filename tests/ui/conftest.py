"""The real window, offscreen, on real workspaces; settings always in a file of the test's own."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from desktop_app.paths import Workspace
from desktop_app.services.settings import Settings
from desktop_app.ui.main_window import MainWindow


@pytest.fixture(autouse=True, scope="session")
def users_config_is_elsewhere(tmp_path_factory):
    """Whatever a test does, the real user's configuration folder is never written."""
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("xdg-config"))


def open_window(qtbot, root: Path, settings: Path | None = None) -> MainWindow:
    win = MainWindow(Workspace(root).ensure(), Settings(settings or root.parent / "settings.ini"))
    qtbot.addWidget(win)
    return win


def wait_idle(qtbot, window, timeout=60_000):
    qtbot.waitUntil(lambda: not window.runner.live_jobs, timeout=timeout)


def start_window(qtbot, window):
    """Show and start ``window``, and wait until the source and the workspace state are shown."""
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.source_tab.view is not None and window.state is not None, timeout=30_000)
    wait_idle(qtbot, window)
    return window


def close_window(window) -> None:
    leftover = [job.title for job in window.runner.live_jobs]
    window.runner.shutdown()
    assert not leftover, f"test left jobs running: {leftover}"


@pytest.fixture
def window(qtbot, tmp_path):
    """The real main window on a fresh workspace; fails the test if it leaves a job running."""
    win = open_window(qtbot, tmp_path / "workspace")
    yield win
    close_window(win)


@pytest.fixture(scope="session")
def full_workspace(pristine_shop, tmp_path_factory) -> Path:
    """A workspace where everything has run once (ingest, build, the three workbooks): copy it to use it."""
    from desktop_app.core.pipeline import run_pipeline
    from desktop_app.paths import sql_project_dir

    root = tmp_path_factory.mktemp("full") / "workspace"
    space = Workspace(root).ensure()
    shutil.copy(pristine_shop, space.demo_shop)
    result = run_pipeline(str(space.demo_shop), space.warehouse, sql_project_dir(), space.excel_dir,
                          mode="full", target_dir=root / "target")
    assert result.ok
    return root


@pytest.fixture
def used_workspace(full_workspace, tmp_path) -> Path:
    """A private copy of a workspace where everything has run (a relaunch's starting point)."""
    root = tmp_path / "workspace"
    shutil.copytree(full_workspace, root)
    return root

import pytest

from desktop_app.paths import Workspace
from desktop_app.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path):
    """The real main window on a fresh workspace; fails the test if it leaves a job running."""
    win = MainWindow(Workspace(tmp_path / "workspace").ensure())
    qtbot.addWidget(win)
    yield win
    leftover = [job.title for job in win.runner.live_jobs]
    win.runner.shutdown()
    assert not leftover, f"test left jobs running: {leftover}"

import pytest
from PySide6.QtCore import QCoreApplication, QSettings

from desktop_app.paths import Workspace
from desktop_app.ui.main_window import MainWindow


@pytest.fixture(autouse=True, scope="session")
def isolated_settings(tmp_path_factory):
    """Keep QSettings of the tests out of the user's real settings."""
    QCoreApplication.setOrganizationName("oltp-olap-tests")
    QCoreApplication.setApplicationName("oltp-olap-tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path_factory.mktemp("qsettings")))


@pytest.fixture
def window(qtbot, tmp_path):
    """The real main window on a fresh workspace; fails the test if it leaves a job running."""
    win = MainWindow(Workspace(tmp_path / "workspace").ensure())
    qtbot.addWidget(win)
    yield win
    leftover = [job.title for job in win.runner.live_jobs]
    win.runner.shutdown()
    assert not leftover, f"test left jobs running: {leftover}"

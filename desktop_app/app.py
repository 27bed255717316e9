"""QApplication bootstrap: names, icon, logging, exception hooks, the main window."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from desktop_app import APP_ID, APP_NAME
from desktop_app.paths import Workspace, default_workspace, resource


def run_app(workspace: Path | None = None) -> int:
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from desktop_app.ui.main_window import MainWindow

    space = Workspace(workspace or default_workspace()).ensure()
    logging.basicConfig(filename=space.logs_dir / "app.log", level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName(APP_ID)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(APP_ID)
    app.setWindowIcon(QIcon(str(resource("icons", "app.png"))))
    window = MainWindow(space)
    window.show()
    window.start()
    return app.exec()

"""QApplication bootstrap: names, icon, palette, logging, exception hooks, the main window."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

from desktop_app import APP_ID, APP_NAME
from desktop_app.paths import Workspace, default_workspace, resource

log = logging.getLogger(__name__)


def apply_system_palette(app) -> None:
    """Fusion with a dark palette when the system asks for dark, so every widget follows it."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QPalette

    app.setStyle("Fusion")
    if app.styleHints().colorScheme() != Qt.ColorScheme.Dark:
        return
    palette = QPalette()
    for role, colour in ((QPalette.ColorRole.Window, "#202124"), (QPalette.ColorRole.WindowText, "#e8eaed"),
                         (QPalette.ColorRole.Base, "#17181a"), (QPalette.ColorRole.AlternateBase, "#26272b"),
                         (QPalette.ColorRole.Text, "#e8eaed"), (QPalette.ColorRole.Button, "#2b2c30"),
                         (QPalette.ColorRole.ButtonText, "#e8eaed"), (QPalette.ColorRole.Highlight, "#1f6feb"),
                         (QPalette.ColorRole.HighlightedText, "#ffffff"), (QPalette.ColorRole.ToolTipBase, "#2b2c30"),
                         (QPalette.ColorRole.ToolTipText, "#e8eaed")):
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)


GUI_SWITCH_INTERVAL = 0.0005  # seconds


def create_app():
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    # Worker threads run Python too. Every PySide call releases the GIL, and getting it back waits up to
    # the switch interval (5 ms by default) while a worker holds it: a slot making thirty Qt calls
    # would stall the window for 150 ms. A 0.5 ms interval keeps the GUI thread's waits short.
    sys.setswitchinterval(GUI_SWITCH_INTERVAL)
    app.setApplicationName(APP_ID)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(APP_ID)
    app.setWindowIcon(QIcon(str(resource("icons", "app.png"))))
    apply_system_palette(app)
    return app


def missing_display() -> str | None:
    """Why no window can open here, or None. Qt aborts the process (exit 134) when its platform plugin
    finds no display, before Python could catch anything, so ask first."""
    import os

    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("No display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set). "
            "`oltp-olap --help` lists the headless commands; QT_QPA_PLATFORM=offscreen runs the window without one.")


def run_app(workspace: Path | None = None, quit_after_show: bool = False) -> int:
    problem = missing_display()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    space = Workspace(workspace or default_workspace()).ensure()
    logging.basicConfig(filename=space.logs_dir / "app.log", level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    from desktop_app.ui.main_window import MainWindow

    def log_unhandled(kind, value, tb) -> None:
        log.error("Unhandled exception", exc_info=(kind, value, tb))

    sys.excepthook = log_unhandled
    threading.excepthook = lambda args: log.error("Unhandled exception in %s", args.thread,
                                                  exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
    window = MainWindow(space)
    window.show()
    if quit_after_show:  # start-up timing: the window was shown; leave at once
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, app.quit)
        return app.exec()
    window.start()
    return app.exec()

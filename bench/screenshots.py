"""Save a PNG of every tab of the real window after a full run (offscreen ``QWidget.grab()``).

Run: ``uv run python bench/screenshots.py [--out screenshots] [--scale 0.05]``; then look at them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--scale", type=float, default=0.05)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer

    from desktop_app.app import create_app
    from desktop_app.core.oltp.demo_shop import create_shop
    from desktop_app.paths import Workspace
    from desktop_app.services.settings import Settings
    from desktop_app.ui.main_window import MainWindow

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        space = Workspace(Path(folder)).ensure()
        create_shop(space.demo_shop, scale=args.scale, seed=42)
        app = create_app()
        window = MainWindow(space, Settings(Path(folder) / "settings.ini"))
        window.resize(1400, 880)
        window.show()
        window.start()
        state = {"phase": 0}
        saved = []

        def shoot(name: str) -> None:
            app.processEvents()
            path = args.out / f"{name}.png"
            window.grab().save(str(path))
            saved.append(path)

        def tick() -> None:
            if window.runner.live_jobs:
                return
            if state["phase"] == 0 and window.source_tab.model.rowCount():
                state["phase"] = 1
                window.run_everything()
            elif state["phase"] == 1 and window.models_tab.roads.rowCount():
                state["phase"] = 2
                window.source_tab.detail.setCurrentIndex(1)
                for index, name in enumerate(("source", "ingestion", "excel", "models")):
                    window.tabs.setCurrentIndex(index)
                    shoot(f"{index + 1}_{name}")
                for index, name in enumerate(("graph", "sql", "tests", "result", "charts", "roads")):
                    window.models_tab.views.setCurrentIndex(index)
                    shoot(f"4_models_{name}")
                app.quit()

        timer = QTimer()
        timer.timeout.connect(tick)
        timer.start(200)
        QTimer.singleShot(180_000, app.quit)
        app.exec()
        window.close()
    for path in saved:
        print(path)


if __name__ == "__main__":
    main()

"""Save a PNG of every view of the real window (offscreen ``QWidget.grab()``), to look at them.

Covers a first launch, every tab and Models view after a full run (charts grabbed only once they have
rendered), a relaunch on that workspace, Run everything mid-way, an error, and the query console —
at 1400×880 and 1920×1080. Run: ``uv run python bench/screenshots.py [--out screenshots] [--scale 0.05]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SIZES = ((1400, 880), (1920, 1080))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--scale", type=float, default=0.05)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer

    from desktop_app.app import create_app
    from desktop_app.core.oltp.demo_shop import create_shop
    from desktop_app.paths import Workspace
    from desktop_app.services.settings import Settings
    from desktop_app.ui.main_window import MainWindow

    args.out.mkdir(parents=True, exist_ok=True)
    app = create_app()
    saved: list[Path] = []

    def wait(condition, timeout_s: float = 180) -> None:
        loop = QEventLoop()
        timer = QTimer(interval=100)
        timer.timeout.connect(lambda: condition() and loop.quit())
        timer.start()
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        loop.exec()
        timer.stop()

    def settle(window, ms: int = 300) -> None:
        wait(lambda: not window.runner.live_jobs)
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def shoot(window, name: str) -> None:
        app.processEvents()
        path = args.out / f"{name}.png"
        window.grab().save(str(path))
        saved.append(path)

    def launch(root: Path, size) -> MainWindow:
        window = MainWindow(Workspace(root).ensure(), Settings(root.parent / f"settings-{size[0]}.ini"))
        window.resize(*size)
        window.show()
        window.start()
        wait(lambda: window.source_tab.view is not None and window.state is not None and not window.runner.live_jobs)
        settle(window)
        return window

    def capture(folder: Path, width: int, height: int) -> None:
        tag = f"{width}x{height}"
        root = folder / f"ws-{tag}"
        root.mkdir()
        shutil.copy(folder / "shop.sqlite", root / "demo_shop.sqlite")
        window = launch(root, (width, height))
        shoot(window, f"{tag}_01_first_launch_overview")
        window.run_everything()
        wait(lambda: window.overview_tab.running in ("models", "excel_raw", "excel_intermediate")
             or window.pipeline is None, 120)
        shoot(window, f"{tag}_02_run_everything_mid_run")
        wait(lambda: window.pipeline is None)
        settle(window)
        shoot(window, f"{tag}_03_overview_after_run")
        for index, name in enumerate(("source", "ingestion", "excel", "models"), 1):
            window.tabs.setCurrentIndex(index)
            if name == "source":
                window.source_tab.detail.setCurrentIndex(1)
            settle(window, 200)
            shoot(window, f"{tag}_0{3 + index}_{name}")
        models = window.models_tab
        window.tabs.setCurrentWidget(models)
        models.select_model(next(n.unique_id for n in models.nodes if n.name == "fct_order_items"))
        for index, name in enumerate(("graph", "sql", "tests", "result", "charts", "roads")):
            models.views.setCurrentIndex(index)
            if name == "roads":
                models.reconcile_roads()
            if name == "charts":  # grabbed once rendered (with labels), not before
                wait(lambda: models.charts.plots is not None and models.charts.pending is None, 30)
            settle(window, 500)
            shoot(window, f"{tag}_08_models_{name}")
        excel = window.excel_tab
        window.tabs.setCurrentWidget(excel)
        excel.stages.setCurrentItem(excel._item("final"))
        wait(lambda: excel.sheets.count() == 5 and excel.sheets.tabText(1) == "Monthly revenue")
        excel.sheets.setCurrentIndex(1)
        settle(window)
        shoot(window, f"{tag}_09_excel_report_preview")
        window.tabs.setCurrentWidget(window.console_tab)
        window.console_tab.run()
        settle(window)
        shoot(window, f"{tag}_10_query_console")
        window.open_source("postgresql+psycopg://analyst:secret@127.0.0.1:1/" + "sales_" * 20)
        wait(lambda: "Cannot connect" in window.source_tab.message.text(), 30)
        settle(window)
        shoot(window, f"{tag}_11_error_on_open")
        window.close()
        window.runner.shutdown()
        again = launch(root, (width, height))
        shoot(again, f"{tag}_12_relaunch_overview")
        again.tabs.setCurrentWidget(again.models_tab)
        again.models_tab.views.setCurrentIndex(4)
        charts = again.models_tab.charts
        wait(lambda: charts.plots is not None and charts.pending is None, 30)
        settle(again, 500)
        shoot(again, f"{tag}_13_relaunch_models_charts")
        again.close()
        again.runner.shutdown()

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        create_shop(folder / "shop.sqlite", scale=args.scale, seed=42)
        for width, height in SIZES:
            capture(folder, width, height)
    for path in saved:
        print(path)


if __name__ == "__main__":
    main()

"""``oltp-olap --self-test``: prove this installation works, from source or from the frozen bundle.

In a temporary workspace: seed a small shop → ingest → build and test the models → the three Excel
stages → reconcile the two roads → open and close the main window offscreen. One line per step;
exit 0 only if every step checked out. Nothing is written outside the temporary folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path


def run_self_test() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="oltp-olap-selftest-") as folder:
        test = _SelfTest(Path(folder))
        for name, fn in (("seed demo shop", test.seed), ("ingest", test.ingest), ("build and test models", test.models),
                         ("excel stages", test.workbooks), ("reconcile two roads", test.roads),
                         ("main window", test.window)):
            if not _step(name, fn):
                print("self-test FAILED")
                return 1
    print("self-test passed")
    return 0


def _step(name: str, fn) -> bool:
    """Run one step and print its line; a failure prints its traceback to stderr."""
    started = time.perf_counter()
    try:
        detail, ok = fn(), True
    except Exception as err:  # the self-test reports every failure as a line
        ok, detail = False, f"{type(err).__name__}: {err}"
        traceback.print_exc(file=sys.stderr)
    print(f"{'ok  ' if ok else 'FAIL'} {name:<22} {time.perf_counter() - started:6.2f} s  {detail}", flush=True)
    return ok


class _SelfTest:
    """The steps, each returning its line's detail; they share one temporary folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.shop, self.warehouse, self.excel = root / "shop.sqlite", root / "warehouse.duckdb", root / "excel"
        self.excel.mkdir()
        self.stages: list = []

    def seed(self) -> str:
        from desktop_app.core.oltp.demo_shop import create_shop

        result = create_shop(self.shop, scale=0.01, seed=1)
        return f"{result.total_rows:,} rows in 8 tables"

    def ingest(self) -> str:
        from desktop_app.core.ingest.adbc_process import ProcessReader, available
        from desktop_app.core.ingest.run import run_ingest
        from desktop_app.core.olap.warehouse import Warehouse
        from desktop_app.core.oltp.source import open_source, sqlite_readonly_uri
        from desktop_app.core.sqlite_memstatus import memory_in_use

        with open_source(str(self.shop)) as source, Warehouse(self.warehouse) as wh:
            report = run_ingest(source, wh)
        assert report.ok, [t.error for t in report.tables if t.error]
        assert available(), "the ADBC SQLite driver's library is missing: SQLite tables load several times slower"
        reader = ProcessReader(sqlite_readonly_uri(self.shop))  # a reader process: the bundle spawns itself
        try:
            _, batches = reader.query("SELECT count(*) FROM sqlite_master", 2)
        finally:
            reader.close()
        assert batches and batches[0].length == 1, "the SQLite reader process returned no rows"
        memstatus = "off" if memory_in_use() == 0 else "on (ingestion runs slower)"
        rows = sum(t.rows_read for t in report.tables)
        return (f"{rows:,} rows (ADBC driver in reader processes), every table reconciled; "
                f"SQLite memory statistics {memstatus}")

    def models(self) -> str:
        from desktop_app.core.models.runner import run_command
        from desktop_app.core.olap.warehouse import Warehouse
        from desktop_app.paths import sql_project_dir

        with Warehouse(self.warehouse) as wh:
            result = run_command("build", sql_project_dir(), wh, target_dir=self.root / "target")
        assert result.ok, [r.message for r in result.results if r.status in ("error", "fail")]
        return ", ".join(f"{k} {v}" for k, v in sorted(result.counts().items()))

    def workbooks(self) -> str:
        from desktop_app.core.excel.pipeline import run_excel
        from desktop_app.core.olap.warehouse import Warehouse

        with Warehouse(self.warehouse) as wh:
            self.stages = run_excel(wh, self.excel, isolate=True)  # as the window runs them
        return ", ".join(r.path.name for r in self.stages)

    def roads(self) -> str:
        from desktop_app.core.excel.roads import reconcile_roads
        from desktop_app.core.olap.warehouse import Warehouse

        with Warehouse(self.warehouse) as wh:
            checks = reconcile_roads(self.stages[-1].path, wh)
        different = [c.figure for c in checks if not c.equal]
        assert checks and not different, different[:5]
        return f"{len(checks)} of {len(checks)} figures equal"

    def window(self) -> str:
        from PySide6.QtCore import QTimer

        from desktop_app.app import create_app
        from desktop_app.paths import Workspace
        from desktop_app.services.settings import Settings
        from desktop_app.ui.main_window import MainWindow

        app = create_app()
        space = Workspace(self.root / "workspace").ensure()
        win = MainWindow(space, Settings(self.root / "settings.ini"))  # never the user's own settings
        win.show()
        win.start()
        deadline = time.monotonic() + 60
        ticker = QTimer()
        ticker.timeout.connect(lambda: (win.source_tab.tables.topLevelItemCount() and not win.runner.live_jobs
                                        or time.monotonic() > deadline) and app.quit())
        ticker.start(100)
        app.exec()
        ticker.stop()
        tables = win.source_tab.tables.topLevelItemCount()
        win.close()
        assert tables == 8, f"the window showed {tables} tables"
        return f"window opened on {app.platformName()}, showed {tables} tables, closed"

"""Shared fixtures. Qt runs offscreen (set before any Qt import); demo shops are real SQLite files."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # QT_QPA_PLATFORM=xcb overrides, to watch tests
# Commands run in-process log to the default workspace: never the real user's.
os.environ["OLTP_OLAP_WORKSPACE"] = tempfile.mkdtemp(prefix="oltp-olap-test-workspace-")

from desktop_app.core.oltp.demo_shop import create_shop  # noqa: E402
from tests.servers import mariadb_url, postgres_url  # noqa: E402, F401 - session fixtures for every package

SMALL_SCALE = 0.01


@pytest.fixture(scope="session")
def pristine_shop(tmp_path_factory) -> Path:
    """A small demo shop built once per session; copy it (``shop``) before changing it."""
    path = tmp_path_factory.mktemp("pristine") / "shop.sqlite"
    create_shop(path, scale=SMALL_SCALE, seed=7)
    return path


@pytest.fixture
def shop(pristine_shop, tmp_path) -> Path:
    """A private copy of the small demo shop that a test may modify."""
    path = tmp_path / "shop.sqlite"
    shutil.copy(pristine_shop, path)
    return path


@pytest.fixture(scope="session")
def ingested_warehouse(pristine_shop, tmp_path_factory) -> Path:
    """The small demo shop ingested once per session; copy it (``private_copy``) before changing it."""
    from desktop_app.core.ingest.run import run_ingest
    from desktop_app.core.olap.warehouse import Warehouse
    from desktop_app.core.oltp.source import open_source

    path = tmp_path_factory.mktemp("ingested") / "w.duckdb"
    with open_source(str(pristine_shop)) as source, Warehouse(path) as wh:
        assert run_ingest(source, wh).ok
    return path


def private_copy(path: Path, folder: Path) -> Path:
    """A copy of a session-wide file in the test's own folder, which the test may change."""
    copy = folder / path.name
    shutil.copy(path, copy)
    return copy


class RecordingReport:
    """A ``report`` callback that keeps every Progress it receives."""

    def __init__(self) -> None:
        self.events = []

    def __call__(self, progress) -> None:
        self.events.append(progress)


@pytest.fixture
def recording_report() -> RecordingReport:
    return RecordingReport()


@pytest.fixture
def typed_tables(monkeypatch) -> list[str]:
    """The SQLite tables the typed Arrow batches loaded (the others were declined to the rendered path)."""
    from desktop_app.core.ingest import sqlite_typed

    loaded: list[str] = []
    original = sqlite_typed.TypedLoad.run

    def recording(self):
        rows = original(self)
        loaded.append(self.table)
        return rows

    monkeypatch.setattr(sqlite_typed.TypedLoad, "run", recording)
    return loaded

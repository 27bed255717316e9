"""A built warehouse to export from, and DuckDB 1.x in a throwaway environment to open the portable file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from desktop_app.core.models.runner import run_command
from desktop_app.core.olap.warehouse import Warehouse
from desktop_app.paths import sql_project_dir
from tests.conftest import private_copy

OLD_DUCKDB = "duckdb==1.1.3"  # the oldest DuckDB with wheels for this Python: a 1.x client of the export


@pytest.fixture(scope="session")
def built_warehouse(ingested_warehouse, tmp_path_factory):
    path = private_copy(ingested_warehouse, tmp_path_factory.mktemp("built"))
    with Warehouse(path) as wh:
        assert run_command("build", sql_project_dir(), wh, target_dir=path.parent / "target").ok
    return path


@pytest.fixture
def warehouse(built_warehouse, tmp_path):
    return private_copy(built_warehouse, tmp_path)


@pytest.fixture(scope="session")
def old_duckdb_python(tmp_path_factory) -> str:
    """A Python with DuckDB 1.x (uv, from PyPI): what BI tools and IDEs embed."""
    venv = tmp_path_factory.mktemp("duckdb1") / "venv"
    made = subprocess.run(["uv", "venv", "-q", "-p", sys.executable, str(venv)], capture_output=True, text=True)
    if made.returncode == 0:
        made = subprocess.run(["uv", "pip", "install", "-q", OLD_DUCKDB], capture_output=True, text=True,
                              env={**os.environ, "VIRTUAL_ENV": str(venv)})
    if made.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot install {OLD_DUCKDB} into a throwaway environment: {made.stderr}")
        pytest.skip(f"cannot install {OLD_DUCKDB} here (no package index?): {made.stderr.strip()[:200]}")
    return str(venv / "bin" / "python")

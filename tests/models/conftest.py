from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from desktop_app.core.models.runner import run_command
from desktop_app.core.olap.warehouse import Warehouse


def write_project(root: Path, files: dict[str, str], project_config: str = "") -> Path:
    """A tiny dbt project: ``files`` maps relative paths to contents."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text(textwrap.dedent(f"""
        name: tiny
        profile: tiny
        config-version: 2
        {textwrap.indent(textwrap.dedent(project_config), ' ' * 8).strip()}
    """).strip() + "\n")
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).strip() + "\n")
    return root


@pytest.fixture
def tiny(tmp_path):
    """(project_dir, warehouse_path, run) for a tiny project with a raw.people table."""
    warehouse_path = tmp_path / "wh.duckdb"
    with Warehouse(warehouse_path) as wh:
        wh.cursor().execute("CREATE TABLE raw.people AS SELECT * FROM (VALUES (1, 'ann', 'a'), (2, 'bob', 'b'), "
                            "(3, 'cid', NULL), (3, 'cid', 'c')) t(id, name, grp)")

    def run(project: Path, command: str = "build", **kwargs):
        with Warehouse(warehouse_path) as wh:
            return run_command(command, project, wh, **kwargs)

    return tmp_path / "project", warehouse_path, run


SOURCES = """
version: 2
sources:
  - name: app
    schema: raw
    tables:
      - name: people
"""

"""Real dbt-core 1.11 with dbt-duckdb, installed once into bench/.cache/dbt-venv (as bench/models.py does),
to build the same fixture projects and compare: the runner's reference, run for real."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import duckdb

from bench.models import dbt_executable


def run_dbt(project: Path, warehouse: Path, *args: str) -> subprocess.CompletedProcess:
    """``dbt <args>`` in ``project`` against ``warehouse`` (a profile written beside the project)."""
    (project / "profiles.yml").write_text(
        f"{project_name(project)}:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {warehouse}\n      schema: main\n", encoding="utf-8")
    env = {**os.environ, "DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run([str(dbt_executable()), *args, "--profiles-dir", str(project), "--project-dir",
                           str(project)], cwd=project, env=env, capture_output=True, text=True, timeout=600)


def project_name(project: Path) -> str:
    import yaml

    return yaml.safe_load((project / "dbt_project.yml").read_text())["profile"]


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("target", "dbt_packages", "logs", "*.duckdb"))
    return target


def relation_rows(path: Path, relation: str, exclude: tuple[str, ...] = ()) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        columns = [r[0] for r in con.execute(f"DESCRIBE {relation}").fetchall() if r[0] not in exclude]
        chosen = ", ".join(f'"{c}"' for c in columns)
        return sorted(con.execute(f"SELECT {chosen} FROM {relation}").fetchall(), key=repr)

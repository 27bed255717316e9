"""Lineage on small projects: union all, CTEs, case, an unbuilt model, an unparseable one; the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from desktop_app.core.errors import ModelError
from desktop_app.core.lineage.whole_path import lineage_of_project, resolve_target
from desktop_app.core.olap.warehouse import Warehouse
from tests.models.conftest import write_project

SOURCES = """
version: 2
sources:
  - name: app
    schema: raw
    tables: [{name: people}, {name: visits}]
"""


@pytest.fixture
def project(tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    with Warehouse(warehouse) as wh:
        wh.cursor().execute("CREATE TABLE raw.people AS SELECT 1 AS id, 'ann' AS name, 'a' AS grp")
        wh.cursor().execute("CREATE TABLE raw.visits AS SELECT 1 AS person_id, 3 AS pages, DATE '2024-01-02' AS day")
    root = write_project(tmp_path / "project", {
        "models/sources.yml": SOURCES,
        "models/people.sql": "select id as person_id, upper(name) as name, grp from {{ source('app', 'people') }}",
        "models/all_ids.sql": """
            select person_id as id, 'person' as kind from {{ ref('people') }}
            union all
            select person_id, 'visit' from {{ source('app', 'visits') }}""",
        "models/per_person.sql": """
            with v as (select person_id, sum(pages) as pages from {{ source('app', 'visits') }} group by 1)
            select p.*, case when v.pages > 10 then 'heavy' else 'light' end as usage
            from {{ ref('people') }} p left join v using (person_id) where p.grp <> 'x'""",
        "models/broken.sql": "select person_id from (",
        "models/after_broken.sql": "select * from {{ ref('broken') }}",
    })
    return root, warehouse


def test_union_all_cte_case_and_an_unbuilt_model(project):
    root, warehouse = project
    with Warehouse(warehouse, ensure_metadata=False) as wh:  # nothing is built: columns come from the analysis
        graph = lineage_of_project(root, wh)
    assert {(e.source, e.kind) for e in graph.inputs("all_ids.id")} == {
        ("people.person_id", "copy"), ("raw.visits.person_id", "copy")}
    assert graph.inputs("all_ids.kind") == []  # literals on both sides
    assert {n.column for n in graph.columns_of("per_person")} == {"person_id", "name", "grp", "usage"}  # p.*
    usage = {(e.source, e.kind) for e in graph.inputs("per_person.usage")}
    assert ("raw.visits.pages", "aggregate") in usage  # through the CTE's sum(), then a case
    assert ("people.grp", "filter") in usage and ("people.person_id", "join") in usage
    case = next(e for e in graph.inputs("per_person.usage") if e.source == "raw.visits.pages")
    assert case.expression.startswith("CASE WHEN")


def test_an_unparseable_model_is_named_and_the_rest_go_on(project):
    root, warehouse = project
    with Warehouse(warehouse, ensure_metadata=False) as wh:
        graph = lineage_of_project(root, wh)
    assert graph.relations["broken"].note.startswith("not analysed: sqlglot cannot parse it")
    assert graph.columns_of("broken") == []  # no guessed columns
    assert "not analysed" in graph.relations["after_broken"].note  # `*` over an unknown relation: said, not guessed
    assert graph.inputs("people.name")[0].expression == "UPPER(people.name)"
    with pytest.raises(ModelError, match="broken was not analysed"):
        resolve_target(graph, "broken.person_id")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desktop_app", *args], capture_output=True, text=True)


def test_cli_tree_json_and_errors(project):
    root, warehouse = project
    text = _cli("lineage", "--warehouse", str(warehouse), "--project", str(root), "per_person.usage")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == "per_person.usage  (model)"
    assert any("aggregate" in line and "raw.visits.pages" in line and "CASE WHEN" in line for line in lines)
    assert any("┄ filter" in line and "people.grp" in line for line in lines)
    assert any(line.startswith("note: broken: not analysed") for line in lines)
    down = _cli("lineage", "--warehouse", str(warehouse), "--project", str(root), "raw.people.name", "--downstream",
                "--json")
    body = json.loads(down.stdout)
    assert body["target"] == "raw.people.name"
    assert {(e["from"], e["to"], e["kind"]) for e in body["edges"]} >= {
        ("raw.people.name", "people.name", "transform"), ("people.name", "per_person.name", "copy")}
    assert {n["layer"] for n in body["nodes"]} == {"raw", "model"}
    wrong = _cli("lineage", "--warehouse", str(warehouse), "--project", str(root), "per_persn.usage")
    assert wrong.returncode == 1
    assert "No column 'per_persn.usage'" in wrong.stderr and "per_person.usage" in wrong.stderr


def test_compile_writes_lineage_json(project):
    root, warehouse = project
    (root / "models" / "broken.sql").unlink()
    (root / "models" / "after_broken.sql").unlink()
    done = _cli("compile", "--warehouse", str(warehouse), "--project", str(root))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "column lineage of" in done.stdout
    body = json.loads((root / "target" / "lineage.json").read_text())
    assert {"from": "people.person_id", "to": "all_ids.id", "kind": "copy"} in body["edges"]

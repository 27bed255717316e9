"""A project built like other people's: a local package (namespaced macros, dispatch, {% test %} blocks,
return(), adapter introspection), dbt's cross-database macros, custom and package generic tests (column
and model level, with where / warn_if / error_if / store_failures / limit), an override of a built-in
test, unit tests (dict, csv and sql fixtures), snapshots (timestamp and check, SQL- and YAML-defined,
hard deletes), a contract, Jinja in YAML, hooks. Built by real dbt-core 1.11 + dbt-duckdb and by the
runner, twice (the second time after the sources changed): every relation, and every node's status,
must be the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.models import compare
from desktop_app.core.models.runner import run_command
from desktop_app.core.olap.warehouse import Warehouse
from tests.models.real_dbt import copy_tree, relation_rows, run_dbt

FIXTURE = Path(__file__).parent / "byo"
# A check-strategy snapshot stamps rows with the time of the snapshot: those columns differ between any two runs.
SNAPSHOT_TIME_COLUMNS = ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to")


def statuses(project: Path) -> dict[str, str]:
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[2] if r["unique_id"].startswith("test.") else r["unique_id"]: r["status"]
            for r in results}


def change_the_sources(project: Path) -> None:
    """Orders move on (one paid later, one new, one gone); a person is renamed and one leaves."""
    (project / "seeds" / "orders.csv").write_text(
        "order_id,person_id,status,amount_cents,updated_at\n"
        "10,1,paid,1000,2024-03-01 09:00:00\n"
        "11,1,paid,250,2024-02-01 10:00:00\n"
        "13,3,shipped,399,2024-03-03 09:00:00\n"
        "14,2,placed,75,2024-03-04 09:00:00\n")
    (project / "seeds" / "people.csv").write_text(
        "person_id,name,grp,amount_cents,updated_at\n"
        "1,ann,a,1250,2024-01-01 10:00:00\n"
        "2,bobby,b,0,2024-03-02 10:00:00\n"
        "3,cid,,399,2024-01-03 10:00:00\n")


@pytest.fixture(scope="module")
def both_built(tmp_path_factory):
    """(ours, dbt's) warehouses and projects after each of the two rounds."""
    root = tmp_path_factory.mktemp("byo")
    rounds = []
    theirs, ours = copy_tree(FIXTURE, root / "dbt"), copy_tree(FIXTURE, root / "ours")
    deps = run_dbt(theirs / "project", root / "dbt.duckdb", "deps")
    assert deps.returncode == 0, deps.stdout[-2000:]
    for round_ in (1, 2):
        if round_ == 2:
            change_the_sources(theirs / "project")
            change_the_sources(ours / "project")
        built = run_dbt(theirs / "project", root / "dbt.duckdb", "build")
        assert built.returncode == 0, built.stdout[-3000:]
        with Warehouse(root / "ours.duckdb", ensure_metadata=False) as warehouse:
            result = run_command("build", ours / "project", warehouse)
        assert result.ok, [(r.name, r.message) for r in result.results if r.status in ("error", "fail")]
        rounds.append((root / "ours.duckdb", root / "dbt.duckdb", statuses(ours / "project"),
                       statuses(theirs / "project")))
    return rounds


@pytest.mark.parametrize("round_", [0, 1], ids=["first build", "after the sources changed"])
def test_every_relation_is_the_same_as_real_dbts(both_built, round_):
    ours, theirs, _, _ = both_built[round_]
    problems = [p for p in compare(ours, theirs) if not p.startswith("main_history.people_snapshot:")]
    assert not problems
    snapshot = '"main_history"."people_snapshot"'
    assert relation_rows(ours, snapshot, SNAPSHOT_TIME_COLUMNS) == relation_rows(theirs, snapshot,
                                                                                SNAPSHOT_TIME_COLUMNS)


@pytest.mark.parametrize("round_", [0, 1], ids=["first build", "after the sources changed"])
def test_every_node_ends_as_real_dbts_does(both_built, round_):
    _, _, ours, theirs = both_built[round_]
    assert ours == theirs
    assert theirs["amount_mostly_positive"] == "warn" and theirs["not_null_stg_people_name"] == "pass"


def test_the_project_and_the_package_each_had_their_say(both_built):
    """Not only equal to dbt: the features really worked (overrides applied, package tests ran)."""
    ours, _, statuses_, _ = both_built[1]
    amounts = dict(relation_rows(ours, '"main_marts"."person_amounts"', ("amount_euros", "paid_euros")))
    assert amounts[2] == 0  # the project's duckdb__safe_divide (0, not NULL) beat the package's default
    assert '"main"."legacy_table"' not in str(relation_rows(ours, "information_schema.tables"))  # post-hook dropped
    assert relation_rows(ours, '"main_dbt_test__audit"."amount_positive_stored"')  # stored failures (limit 1)
    assert len(relation_rows(ours, '"main_dbt_test__audit"."amount_positive_stored"')) == 1
    snapshot = relation_rows(ours, '"main_history"."orders_snapshot"')
    assert len(snapshot) == 7  # 4 orders; 10 and 13 changed (a second version each); 14 new; 12, gone, kept
    assert {s for s in statuses_ if s.startswith("unit_test.")} and all(
        v == "pass" for k, v in statuses_.items() if k.startswith("unit_test."))

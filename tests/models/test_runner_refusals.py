"""What the runner refuses, skips knowingly, or accepts quietly — never a silent skip of a feature that builds."""

from __future__ import annotations

import duckdb
import pytest

from desktop_app.cli import main
from desktop_app.core.errors import ModelError
from tests.models.conftest import SOURCES, write_project


def by_name(result):
    return {r.name: r for r in result.results}


def test_a_package_asked_for_but_not_installed_names_the_command_that_installs_it(tiny):
    project, _wh, run = tiny
    write_project(project, {"models/m.sql": "select 1 as x",
                            "packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.3.0\n"})
    with pytest.raises(ModelError, match=r"asks for dbt_utils, which is not installed.*") as caught:
        run(project)
    assert "dbt deps" in caught.value.hint


def test_an_unknown_generic_test_and_an_unknown_package_macro_are_named(tiny):
    project, _wh, run = tiny
    write_project(project, {"models/m.sql": "select 1 as x", "models/m.yml": """
        models:
          - name: m
            columns:
              - name: x
                data_tests: [no_such_test]
    """})
    with pytest.raises(ModelError, match=r"Unknown generic test 'no_such_test' in models/m.yml \(x\)"):
        run(project)


def test_unsupported_features_stop_the_build_with_their_place_unless_skipped_knowingly(tiny, capsys):
    project, wh, run = tiny
    write_project(project, {
        "models/sources.yml": SOURCES,
        "models/good.sql": "select * from {{ source('app', 'people') }}",
        "models/py_model.py": "def model(dbt, session):\n    return None\n",
        "models/mv.sql": "{{ config(materialized='materialized_view') }}\nselect 1 as x",
        "models/after_mv.sql": "select * from {{ ref('mv') }}",
        "models/merged.sql": "{{ config(materialized='incremental', incremental_strategy='merge') }}\nselect 1 as x",
    })
    with pytest.raises(ModelError) as caught:
        run(project)
    text = caught.value.user_message
    assert "not supported: a Python model in models/py_model.py" in text
    assert "not supported: materialized='materialized_view' in models/mv.sql:1" in text
    assert "not supported: incremental_strategy='merge' in models/merged.sql:1" in text
    assert "--skip-unsupported" in caught.value.hint
    assert main(["build", "--project", str(project), "--warehouse", str(wh)]) == 1
    result = run(project, skip_unsupported=True)
    shown = by_name(result)
    assert shown["good"].status == "success" and result.ok
    assert shown["mv"].status == "skipped" and "materialized_view" in shown["mv"].message
    assert shown["after_mv"].status == "skipped" and "depends on mv" in shown["after_mv"].message
    assert shown["py_model"].status == "skipped" and "Python model" in shown["py_model"].message


def test_what_builds_nothing_is_accepted_quietly(tiny):
    project, _wh, run = tiny
    write_project(project, {
        "models/m.sql": "select 1 as x",
        "models/docs.md": "{% docs about_m %}\nM is one row.\n{% enddocs %}",
        "models/semantic.yml": """
            semantic_models:
              - name: m_semantic
                model: ref('m')
            metrics:
              - name: m_count
                type: simple
            exposures:
              - name: dashboard
                type: dashboard
                owner: {name: me}
            saved_queries:
              - name: q
            groups:
              - name: finance
                owner: {name: me}
        """,
        "analyses/a.sql": "select * from {{ ref('m') }}",
        "macros/docs_macro.sql": "{% docs other %}text{% enddocs %}\n{% macro used() %}1{% endmacro %}",
    })
    assert run(project).ok


def test_jinja_in_yaml_renders_to_native_values_as_in_dbt(tiny):
    project, wh, run = tiny
    write_project(project, {
        "models/kept.sql": "select 1 as x",
        "models/extra/dropped.sql": "select 1 as x",
        "models/kept.yml": """
            models:
              - name: kept
                config:
                  materialized: "{{ 'table' if var('as_table') else 'view' }}"
                columns:
                  - name: x
                    data_tests:
                      - not_null:
                          config:
                            enabled: "{{ var('check_x') }}"
        """,
    }, project_config="""
        vars: {as_table: true, check_x: false}
        models:
          tiny:
            extra:
              +enabled: "{{ var('extra', false) }}"
    """)
    result = by_name(run(project))
    assert "dropped" not in result and "not_null_kept_x" not in result  # False, not the text 'False'
    assert result["kept"].materialized == "table"
    result = by_name(run(project, cli_vars={"extra": True, "check_x": True}))
    assert "dropped" in result and result["not_null_kept_x"].status == "pass"


def test_a_contract_that_does_not_match_names_the_column(tiny):
    project, wh, run = tiny
    write_project(project, {"models/m.sql": "select 1 as id, 'x' as label", "models/m.yml": """
        models:
          - name: m
            config:
              materialized: table
              contract: {enforced: true}
            columns:
              - name: id
                data_type: bigint
              - name: label
                data_type: varchar
    """})
    result = by_name(run(project))
    assert result["m"].status == "error" and "id: the contract says bigint, the model gives INTEGER" in \
        result["m"].message
    (project / "models" / "m.sql").write_text("select 1::bigint as id, 'x' as label")
    assert by_name(run(project))["m"].status == "success"
    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.execute("select data_type from information_schema.columns where table_name = 'm' "
                           "order by ordinal_position").fetchall() == [("BIGINT",), ("VARCHAR",)]


def test_a_failing_unit_test_skips_its_model_and_what_follows(tiny):
    project, wh, run = tiny
    write_project(project, {
        "models/sources.yml": SOURCES,
        "models/doubled.sql": "select id, id * 2 as twice from {{ source('app', 'people') }}",
        "models/after.sql": "select * from {{ ref('doubled') }}",
        "models/tests.yml": """
            unit_tests:
              - name: doubles
                model: doubled
                given:
                  - input: source('app', 'people')
                    rows: [{id: 1}, {id: 5}]
                expect:
                  rows: [{id: 1, twice: 2}, {id: 5, twice: 11}]
        """,
    })
    result = by_name(run(project))
    assert result["doubles"].status == "fail" and "1 row(s) not expected" in result["doubles"].message
    assert result["doubled"].status == "skipped" and result["after"].status == "skipped"


def test_incremental_schema_changes_follow_on_schema_change(tiny):
    project, wh, run = tiny
    model = project / "models" / "grow.sql"
    write_project(project, {"models/grow.sql": "{{ config(materialized='incremental', "
                                               "on_schema_change='append_new_columns') }}\nselect 1 as id"})
    assert run(project).ok
    model.write_text("{{ config(materialized='incremental', on_schema_change='append_new_columns') }}\n"
                     "select 2 as id, 'new' as label")
    assert run(project).ok
    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.execute("select * from main.grow order by id").fetchall() == [(1, None), (2, "new")]
    model.write_text("{{ config(materialized='incremental', on_schema_change='fail') }}\n"
                     "select 3 as id, 'x' as label, 1 as extra")
    failed = by_name(run(project))["grow"]
    assert failed.status == "error" and "out of sync" in failed.message


def test_build_creates_a_new_warehouse_with_nothing_but_the_relations(tmp_path):
    project = write_project(tmp_path / "p", {"seeds/s.csv": "a\n1\n", "models/m.sql": "select * from {{ ref('s') }}"})
    new = tmp_path / "new.duckdb"
    assert main(["build", "--project", str(project), "--warehouse", str(new)]) == 0
    with duckdb.connect(str(new), read_only=True) as con:
        schemas = {r[0] for r in con.execute("select schema_name from information_schema.schemata "
                                             "where catalog_name = 'new'").fetchall()}
    assert "_studio" not in schemas and "raw" not in schemas
    assert main(["test", "--project", str(project), "--warehouse", str(tmp_path / "missing.duckdb")]) == 1


def test_show_and_docs_generate(tiny, capsys):
    project, wh, run = tiny
    write_project(project, {"models/sources.yml": SOURCES,
                            "models/m.sql": "select id, name from {{ source('app', 'people') }}"})
    assert run(project).ok
    assert main(["show", "--project", str(project), "--warehouse", str(wh), "-s", "m", "--limit", "2", "--json"]) == 0
    import json

    shown = json.loads(capsys.readouterr().out)
    assert shown["node"] == "m" and len(shown["show"]) == 2 and set(shown["show"][0]) == {"id", "name"}
    assert main(["show", "--project", str(project), "--warehouse", str(wh), "--inline",
                 "select count(*) as n from {{ ref('m') }}", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["show"] == [{"n": 4}]
    assert main(["docs", "generate", "--project", str(project), "--warehouse", str(wh)]) == 0
    catalog = json.loads((project / "target" / "catalog.json").read_text())
    node = catalog["nodes"]["model.tiny.m"]
    assert node["metadata"]["type"] == "VIEW" and node["stats"]["row_count"]["value"] == 4
    assert [c["name"] for c in sorted(node["columns"].values(), key=lambda c: c["index"])] == ["id", "name"]
    assert "source.tiny.app.people" in catalog["sources"]

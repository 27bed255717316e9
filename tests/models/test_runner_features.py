"""dbt semantics, one feature per test, on tiny projects written into tmp_path."""

from __future__ import annotations

import json

import duckdb
import pytest

from desktop_app.core.errors import ModelError
from tests.models.conftest import SOURCES, write_project


def query(path, sql):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def by_name(result):
    return {r.name: r for r in result.results}


def test_naming_config_precedence_tags_and_artefacts(tiny):
    project, wh, run = tiny
    write_project(project, {
        "models/sources.yml": SOURCES,
        "models/staging/stg_people.sql": "select id, name, grp from {{ source('app', 'people') }}",
        "models/marts/people_named.sql": "{{ config(materialized='view', tags=['daily']) }}\n"
                                         "select * from {{ ref('stg_people') }}",
        "models/marts/props.yml": """
            version: 2
            models:
              - name: people_named
                config: {materialized: table, alias: people_by_name}
                description: People, renamed.
        """,
    }, """
        models:
          tiny:
            staging: {+materialized: view}
            marts: {+materialized: table, +schema: reporting, +tags: [marts]}
    """)
    result = run(project)
    assert result.ok
    names = set(query(wh, "select table_schema || '.' || table_name || ':' || table_type "
                          "from information_schema.tables where table_schema like 'main%'"))
    # file config (view) beats yml (table); yml alias applies; custom schema → main_reporting
    assert names == {("main.stg_people:VIEW",), ("main_reporting.people_by_name:VIEW",)}
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    node = manifest["nodes"]["model.tiny.people_named"]
    assert node["tags"] == ["marts", "daily"] and node["relation_name"] == '"wh"."main_reporting"."people_by_name"'
    assert manifest["parent_map"]["model.tiny.people_named"] == ["model.tiny.stg_people"]
    assert "model.tiny.people_named" in manifest["child_map"]["model.tiny.stg_people"]
    assert node["compiled_code"].endswith('from "wh"."main"."stg_people"')
    run_results = json.loads((project / "target" / "run_results.json").read_text())
    assert {r["unique_id"]: r["status"] for r in run_results["results"]} == {
        "model.tiny.stg_people": "success", "model.tiny.people_named": "success"}


def test_ephemeral_is_inlined_and_merged_into_with(tiny):
    project, wh, run = tiny
    write_project(project, {
        "models/sources.yml": SOURCES,
        "models/base.sql": "{{ config(materialized='ephemeral') }} select id, name from {{ source('app', 'people') }}",
        "models/final.sql": "with named as (select * from {{ ref('base') }}) select count(*) as n from named",
    })
    result = run(project)
    assert result.ok and [r.name for r in result.results] == ["final"]
    compiled = by_name(result)["final"].compiled_code
    assert compiled.startswith("with __dbt__cte__base as (") and "named as (select * from __dbt__cte__base)" in compiled
    assert query(wh, "select n from main.final") == [(4,)]
    assert query(wh, "select count(*) from information_schema.tables where table_name = 'base'") == [(0,)]


def test_incremental_delete_insert_and_append(tiny):
    project, wh, run = tiny
    body = """
        {{ config(materialized='incremental', unique_key='id') }}
        select id, name, {{ var('v', 1) }} as version from {{ source('app', 'people') }} where grp is not null
        {% if is_incremental() %} and id >= (select max(id) from {{ this }}) {% endif %}
    """
    write_project(project, {"models/sources.yml": SOURCES, "models/inc.sql": body,
                            "models/app.sql": "{{ config(materialized='incremental') }} select 1 as x"})
    assert run(project).ok
    assert query(wh, "select id, version from main.inc order by id") == [(1, 1), (2, 1), (3, 1)]
    assert run(project, cli_vars={"v": 2}).ok  # only id >= 3 is re-selected: replaced, not duplicated
    assert query(wh, "select id, version from main.inc order by id") == [(1, 1), (2, 1), (3, 2)]
    assert query(wh, "select count(*) from main.app") == [(2,)]  # no unique_key: append
    assert run(project, full_refresh=True, cli_vars={"v": 3}).ok
    assert query(wh, "select id, version from main.inc order by id") == [(1, 3), (2, 3), (3, 3)]
    assert query(wh, "select count(*) from main.app") == [(1,)]


def test_seed_type_inference(tiny):
    project, wh, run = tiny
    write_project(project, {"seeds/kinds.csv": """
        whole,frac,day,moment,flag,word,empty,padded
        1,1.5,2024-01-01,2024-01-01 10:00:00,true,yes,,007
        2,2.25,2024-02-01,2024-02-01T11:30:00,FALSE,no,,008
    """})
    assert run(project, "seed").ok
    types = dict(query(wh, "select column_name, data_type from information_schema.columns where table_name = 'kinds'"))
    assert types == {"whole": "INTEGER", "frac": "DOUBLE", "day": "DATE", "moment": "TIMESTAMP",
                     "flag": "BOOLEAN", "word": "VARCHAR", "empty": "INTEGER", "padded": "INTEGER"}
    assert query(wh, "select padded from main.kinds order by 1") == [(7,), (8,)]


def test_generic_tests_count_like_dbt_and_failures_skip_exactly_descendants(tiny):
    project, wh, run = tiny
    write_project(project, {
        "models/sources.yml": SOURCES,
        "models/people.sql": "select * from {{ source('app', 'people') }}",
        "models/downstream.sql": "select * from {{ ref('people') }}",
        "models/unrelated.sql": "select 1 as one",
        "models/schema.yml": """
            version: 2
            models:
              - name: people
                columns:
                  - name: id
                    data_tests: [unique]
                  - name: grp
                    data_tests:
                      - not_null:
                          config: {severity: warn}
                      - accepted_values:
                          arguments: {values: ['a', 'b']}
                          config: {severity: warn}
        """,
    })
    result = by_name(run(project))
    assert result["unique_people_id"].status == "fail" and result["unique_people_id"].failures == 1  # values
    assert result["not_null_people_grp"].status == "warn" and result["not_null_people_grp"].failures == 1
    assert result["accepted_values_people_grp__a__b"].failures == 1  # distinct bad values; NULL passes
    assert result["downstream"].status == "skipped" and result["unrelated"].status == "success"
    only_tests = by_name(run(project, "test"))
    assert "downstream" not in only_tests and only_tests["unique_people_id"].status == "fail"


def test_relationships_and_singular_tests(tiny):
    project, wh, run = tiny
    write_project(project, {
        "models/sources.yml": SOURCES,
        "models/groups.sql": "select * from (values ('a'), ('b')) t(grp)",
        "models/people.sql": "select * from {{ source('app', 'people') }}",
        "models/schema.yml": """
            version: 2
            models:
              - name: people
                columns:
                  - name: grp
                    data_tests:
                      - relationships:
                          arguments: {to: ref('groups'), field: grp}
        """,
        "tests/no_cid.sql": "select * from {{ ref('people') }} where name = 'cid'",
    })
    result = by_name(run(project))
    rel = result["relationships_people_grp__grp__ref_groups_"]
    assert rel.status == "fail" and rel.failures == 1  # 'c' is an orphan; NULL is not
    assert result["no_cid"].status == "fail" and result["no_cid"].failures == 2


def test_selection(tiny):
    project, wh, run = tiny
    write_project(project, {
        "models/sources.yml": SOURCES,
        "models/a.sql": "select * from {{ source('app', 'people') }}",
        "models/b.sql": "{{ config(tags=['nightly']) }} select * from {{ ref('a') }}",
        "models/c.sql": "select * from {{ ref('b') }}",
        "models/other/d.sql": "select * from {{ ref('a') }}",
    })
    from desktop_app.core.models.runner import list_nodes, parse_project
    from desktop_app.core.olap.warehouse import Warehouse

    with Warehouse(wh) as warehouse:
        parsed = parse_project(project, warehouse)

        def names(sel=None, exc=None):
            return sorted(n.name for n in list_nodes(parsed, "run", sel, exc))

        assert names(["b"]) == ["b"]
        assert names(["+b"]) == ["a", "b"]
        assert names(["b+"]) == ["b", "c"]
        assert names(["@b"]) == ["a", "b", "c"]
        assert names(["tag:nightly"]) == ["b"]
        assert names(["path:models/other"]) == ["d"]
        assert names(["c d"]) == ["c", "d"]
        assert names(["a+"], ["d"]) == ["a", "b", "c"]
        assert names(["a+,tag:nightly"]) == ["b"]
        assert names(["1+c"]) == ["b", "c"]


def test_custom_generate_schema_name_macro_is_honoured(tiny):
    project, wh, run = tiny
    write_project(project, {
        "macros/schemas.sql": """
            {% macro generate_schema_name(custom_schema_name, node) -%}
                {%- if custom_schema_name is none -%}{{ target.schema }}
                {%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
            {%- endmacro %}
        """,
        "models/m.sql": "{{ config(schema='reporting') }} select 1 as x",
    })
    assert run(project).ok
    assert query(wh, "select table_schema from information_schema.tables where table_name = 'm'") == [("reporting",)]


@pytest.mark.parametrize("files, message", [
    ({"models/m.sql": "select {{ 1 + }}"}, r"Jinja syntax error in models/m.sql line 1"),
    ({"models/m.sql": "select * from {{ ref('nope') }}"}, r"refers to 'nope'"),
    ({"models/m.sql": "select * from {{ source('app', 'nope') }}"}, r"Unknown source 'app'.'nope'"),
    ({"models/a.sql": "select * from {{ ref('b') }}", "models/b.sql": "select * from {{ ref('a') }}"},
     r"cycle: (a → b → a|b → a → b)"),
    ({"models/m.sql": "select {{ var('missing') }}"}, r"Required var 'missing' not found"),
])
def test_bad_projects_give_clear_errors(tiny, files, message):
    project, wh, run = tiny
    write_project(project, {"models/sources.yml": SOURCES, **files})
    with pytest.raises(ModelError, match=message):
        run(project)


def test_sql_error_and_semicolon_are_node_errors_and_keep_the_previous_relation(tiny):
    project, wh, run = tiny
    write_project(project, {"models/sources.yml": SOURCES, "models/m.sql": "select 1 as good",
                            "models/child.sql": "select * from {{ ref('m') }}"})
    assert run(project).ok
    (project / "models" / "m.sql").write_text("select no_such_column from {{ source('app', 'people') }}")
    result = by_name(run(project))
    assert result["m"].status == "error" and "no_such_column" in result["m"].message
    assert "m.sql" in result["m"].message and result["child"].status == "skipped"
    assert query(wh, "select * from main.m") == [(1,)]  # the previous relation is intact
    (project / "models" / "m.sql").write_text("select 2 as good;")
    assert "semicolon" in by_name(run(project))["m"].message


def test_missing_project_and_missing_raw_tables(tmp_path, tiny):
    project, wh, run = tiny
    with pytest.raises(ModelError, match="No dbt_project.yml"):
        run(tmp_path / "nothing")
    write_project(project, {"models/sources.yml": SOURCES.replace("people", "orders"),
                            "models/m.sql": "select * from {{ source('app', 'orders') }}"})
    with pytest.raises(ModelError, match=r"no raw.orders.*|ingest"):
        run(project)


def test_quotes_in_schema_alias_and_seed_column_names_are_escaped(tiny):
    """A custom schema, an alias and a seed's header holding quotes build as those exact names."""
    project, wh, run = tiny
    write_project(project, {
        "models/m.sql": """{{ config(schema='o"k', alias="it's") }} select 1 as x""",
        "seeds/s.csv": 'a"b,c\'d\n1,x\n',
        "seeds/props.yml": """
            seeds:
              - name: s
                config:
                  schema: 'q"s'
        """,
    })
    result = run(project)
    assert result.ok, [r.message for r in result.results]
    assert query(wh, """select * from "main_o""k"."it's" """) == [(1,)]
    assert query(wh, """select "a""b", "c'd" from "main_q""s".s""") == [(1, "x")]


def test_an_unknown_materialization_is_refused_at_parse_time(tiny):
    project, wh, run = tiny
    write_project(project, {"models/m.sql": "{{ config(materialized='materialized_view') }} select 1 as x"})
    with pytest.raises(ModelError, match=r"not supported: materialized='materialized_view' in models/m.sql"):
        run(project)

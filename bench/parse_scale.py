"""A generated dbt project of 1,000 models with a package, to time parsing against real ``dbt parse``.

Models form layered chains with joins, call a package's namespaced and dispatched macros and dbt's
cross-database ones, loop in Jinja, and a third of them carry generic tests (built-in and the
package's). Used by ``bench/models.py``.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_MACROS = """
{% macro cents(column) %}cast({{ column }} as decimal(18, 0)) * 0.01{% endmacro %}
{% macro safe_ratio(a, b) %}{{ return(adapter.dispatch('safe_ratio', 'gen_utils')(a, b)) }}{% endmacro %}
{% macro default__safe_ratio(a, b) %}case when {{ b }} = 0 then null else {{ a }} / {{ b }} end{% endmacro %}
{% macro columns_of(n) %}{{ return(range(n) | map('string') | list) }}{% endmacro %}
{% test positive(model, column_name) %}select * from {{ model }} where {{ column_name }} < 0{% endtest %}
"""


def generate(root: Path, models: int = 1000) -> Path:
    project = root / "scale_project"
    (project / "models").mkdir(parents=True)
    package = project / "dbt_packages" / "gen_utils"
    (package / "macros").mkdir(parents=True)
    (package / "dbt_project.yml").write_text("name: gen_utils\nconfig-version: 2\n")
    for index in range(20):  # a package of many macro files, like dbt_utils
        (package / "macros" / f"m{index}.sql").write_text(
            PACKAGE_MACROS.replace("cents(", f"cents{index}(").replace("safe_ratio", f"safe_ratio{index}")
            .replace("columns_of", f"columns_of{index}").replace("test positive", f"test positive{index}"))
    (project / "packages.yml").write_text("packages:\n  - package: example/gen_utils\n    version: 1.0.0\n")
    (project / "dbt_project.yml").write_text(
        "name: scale\nprofile: scale\nconfig-version: 2\nmodels:\n  scale:\n    +materialized: view\n")
    properties = ["models:"]
    for i in range(models):
        parents = [f"m{j:04d}" for j in (i - 1, i - 7, i - 31) if j >= 0][:2]
        source = "select 1 as id, 100 as amount" if not parents else \
            " join ".join(f"{{{{ ref('{p}') }}}} as t{k}" + (" using (id)" if k else "") for k, p in enumerate(parents))
        select = "select 1 as id, 100 as amount" if not parents else f"select t0.id, t0.amount from {source}"
        body = (f"-- model {i}\n"
                f"{{% set extra = gen_utils.columns_of{i % 20}(3) %}}\n"
                f"select id, amount, {{{{ gen_utils.cents{i % 20}('amount') }}}} as euros,\n"
                f"    {{{{ gen_utils.safe_ratio{i % 20}('amount', 'id') }}}} as ratio,\n"
                f"    {{{{ dbt.date_trunc('month', 'current_date') }}}} as month_start,\n"
                f"    {{% for c in extra %}}{{{{ c }}}} as c{{{{ c }}}}{{{{ ',' if not loop.last }}}}{{% endfor %}}\n"
                f"from ({select}) as base\n")
        (project / "models" / f"m{i:04d}.sql").write_text(body)
        if i % 3 == 0:
            properties += [f"  - name: m{i:04d}", "    columns:", "      - name: id",
                           "        data_tests: [not_null, unique]", "      - name: amount",
                           f"        data_tests: [gen_utils.positive{i % 20}]"]
    (project / "models" / "schema.yml").write_text("\n".join(properties) + "\n")
    return project

{#- This project's version of a package macro, first in the dispatch search order. -#}
{% macro duckdb__safe_divide(numerator, denominator) -%}
    coalesce({{ numerator }} / nullif({{ denominator }}, 0), 0)
{%- endmacro %}

{#- This project's not_null also counts empty names as missing (overrides dbt's built-in). -#}
{% macro default__test_not_null(model, column_name) %}
select * from {{ model }} where {{ column_name }} is null or cast({{ column_name }} as varchar) = ''
{% endmacro %}

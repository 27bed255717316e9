{#- An amount divided by a count, rounded half up to the cent, exactly: integer cents, never a float.
    The integer division is written per database (DuckDB's `/` always yields a float; PostgreSQL's
    divides bigints as integers), so the project builds the same figures on both. -#}
{% macro divide_amount(amount, count) -%}
    {{ return(adapter.dispatch('divide_amount')(amount, count)) }}
{%- endmacro %}

{% macro default__divide_amount(amount, count) -%}
    {{ cents_to_amount('(2 * cast(' ~ amount ~ ' * 100 as bigint) + ' ~ count ~ ') / (2 * ' ~ count ~ ')') }}
{%- endmacro %}

{% macro duckdb__divide_amount(amount, count) -%}
    {{ cents_to_amount('(2 * cast(' ~ amount ~ ' * 100 as bigint) + ' ~ count ~ ') // (2 * ' ~ count ~ ')') }}
{%- endmacro %}

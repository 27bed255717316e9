{% macro cents_to_euros(column, scale=2) -%}
    round({{ column }} / 100.0, {{ scale }})
{%- endmacro %}

{% macro safe_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('safe_divide', 'shop_utils')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__safe_divide(numerator, denominator) -%}
    case when {{ denominator }} = 0 then null else {{ numerator }} / {{ denominator }} end
{%- endmacro %}

{% macro paid_statuses() -%}
    {{ return(['paid', 'shipped']) }}
{%- endmacro %}

{% macro star(from, except=[]) -%}
    {%- if not execute -%}{{ return('*') }}{%- endif -%}
    {%- set kept = [] -%}
    {%- for column in adapter.get_columns_in_relation(from) -%}
        {%- if column.name not in except -%}{%- do kept.append(adapter.quote(column.name)) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(kept | join(', ')) }}
{%- endmacro %}

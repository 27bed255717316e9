{#- Integer cents → an exact DECIMAL amount. (Dividing a DECIMAL in DuckDB yields a DOUBLE, which
    would make sums inexact; multiplying by 0.01 stays DECIMAL.) -#}
{% macro cents_to_amount(column) -%}
    cast(cast({{ column }} as decimal(18, 0)) * 0.01 as decimal(18, 2))
{%- endmacro %}

{% test expression_is_true(model, expression, column_name=None) %}
select * from {{ model }} where not ({{ column_name ~ ' ' if column_name }}{{ expression }})
{% endtest %}

{% test at_least_one(model, column_name) %}
select count({{ column_name }}) as n from {{ model }} having count({{ column_name }}) = 0
{% endtest %}

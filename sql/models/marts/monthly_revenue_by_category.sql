{{ config(tags=['reporting']) }}
select
    cast({{ dbt.date_trunc('month', 'order_date') }} as date) as order_month,
    department,
    count(distinct order_id) as orders,
    sum(quantity) as units,
    sum(line_revenue) as revenue
from {{ ref('fct_order_items') }}
where is_revenue
group by 1, 2

select
    order_date,
    count(distinct order_id) as orders,
    sum(quantity) as units,
    sum(line_revenue) as revenue
from {{ ref('fct_order_items') }}
where is_revenue
group by order_date

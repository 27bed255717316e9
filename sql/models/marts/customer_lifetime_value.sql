{{ config(tags=['reporting']) }}
select
    customer_id,
    full_name,
    country_code,
    region,
    first_order_date,
    last_order_date,
    revenue_orders,
    lifetime_revenue,
    case when revenue_orders > 0 then {{ divide_amount('lifetime_revenue', 'revenue_orders') }} end
        as average_order_value,
    rank() over (order by lifetime_revenue desc, customer_id) as revenue_rank
from {{ ref('dim_customers') }}
where revenue_orders > 0

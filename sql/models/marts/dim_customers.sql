with orders as (
    select
        customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(*) filter (where is_revenue) as revenue_orders,
        coalesce(sum(line_revenue) filter (where is_revenue), 0) as lifetime_revenue
    from {{ ref('fct_orders') }}
    group by customer_id
)
select
    c.customer_id,
    c.email,
    c.first_name,
    c.last_name,
    c.first_name || ' ' || c.last_name as full_name,
    c.country_code,
    r.country_name,
    r.region,
    c.is_marketing_opt_in,
    c.customer_status,
    c.created_at,
    o.first_order_date,
    o.last_order_date,
    coalesce(o.revenue_orders, 0) as revenue_orders,
    coalesce(o.lifetime_revenue, 0) as lifetime_revenue
from {{ ref('stg_customers') }} c
left join {{ ref('country_regions') }} r on r.country_code = c.country_code
left join orders o on o.customer_id = c.customer_id

{{ config(tags=['reporting']) }}
select
    p.product_id,
    p.sku,
    p.product_name,
    p.department,
    p.category_name,
    coalesce(sum(l.quantity), 0) as units_sold,
    count(distinct l.order_id) as orders,
    coalesce(sum(l.line_revenue), 0) as revenue,
    coalesce(sum(l.line_revenue), 0) - coalesce(sum(l.quantity), 0) * p.cost as gross_margin,
    rank() over (order by coalesce(sum(l.line_revenue), 0) desc, p.product_id) as revenue_rank
from {{ ref('dim_products') }} p
left join {{ ref('fct_order_items') }} l on l.product_id = p.product_id and l.is_revenue
group by p.product_id, p.sku, p.product_name, p.department, p.category_name, p.cost

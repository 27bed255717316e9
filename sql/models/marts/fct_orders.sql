select
    o.order_id,
    o.customer_id,
    o.order_status,
    o.order_date,
    o.placed_at,
    cast({{ dbt.date_trunc('month', 'o.order_date') }} as date) as order_month,
    o.coupon_code,
    o.subtotal,
    o.discount,
    o.shipping,
    o.tax,
    o.total,
    coalesce(l.item_count, 0) as item_count,
    coalesce(l.units, 0) as units,
    coalesce(l.line_revenue, 0) as line_revenue,
    o.order_status in (
        {%- for status in var('revenue_statuses') %}'{{ status }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    ) as is_revenue
from {{ ref('stg_orders') }} o
left join (
    select order_id, count(*) as item_count, sum(quantity) as units, sum(line_revenue) as line_revenue
    from {{ ref('stg_order_items') }}
    group by order_id
) l on l.order_id = o.order_id

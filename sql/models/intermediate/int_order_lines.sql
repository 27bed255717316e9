-- Order lines with their order, product and category context. Ephemeral: inlined as a CTE.
select
    oi.order_item_id,
    oi.order_id,
    oi.line_number,
    o.customer_id,
    o.order_status,
    o.order_date,
    o.placed_at,
    oi.product_id,
    p.product_name,
    c.category_id,
    c.category_name,
    coalesce(d.category_name, c.category_name) as department,
    oi.quantity,
    oi.unit_price,
    oi.discount,
    oi.line_revenue,
    o.order_status in (
        {%- for status in var('revenue_statuses') %}'{{ status }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    ) as is_revenue,
    greatest(oi.updated_at, o.updated_at) as last_changed_at
from {{ ref('stg_order_items') }} oi
join {{ ref('stg_orders') }} o on o.order_id = oi.order_id
join {{ ref('stg_products') }} p on p.product_id = oi.product_id
join {{ ref('stg_categories') }} c on c.category_id = p.category_id
left join {{ ref('stg_categories') }} d on d.category_id = c.parent_category_id

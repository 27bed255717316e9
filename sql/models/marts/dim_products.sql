select
    p.product_id,
    p.sku,
    p.product_name,
    c.category_name,
    coalesce(d.category_name, c.category_name) as department,
    p.price,
    p.cost,
    p.price - p.cost as unit_margin,
    p.product_status,
    p.stock_qty
from {{ ref('stg_products') }} p
join {{ ref('stg_categories') }} c on c.category_id = p.category_id
left join {{ ref('stg_categories') }} d on d.category_id = c.parent_category_id

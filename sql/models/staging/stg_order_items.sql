select
    order_item_id,
    order_id,
    line_number,
    product_id,
    quantity,
    {{ cents_to_amount('unit_price_cents') }} as unit_price,
    {{ cents_to_amount('discount_cents') }} as discount,
    {{ cents_to_amount('quantity * unit_price_cents - discount_cents') }} as line_revenue,
    created_at,
    updated_at
from {{ source('shop', 'order_items') }}

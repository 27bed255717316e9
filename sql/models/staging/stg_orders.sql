select
    order_id,
    customer_id,
    shipping_address_id,
    lower(trim(status)) as order_status,
    currency,
    {{ cents_to_amount('subtotal_cents') }} as subtotal,
    {{ cents_to_amount('discount_cents') }} as discount,
    {{ cents_to_amount('shipping_cents') }} as shipping,
    {{ cents_to_amount('tax_cents') }} as tax,
    {{ cents_to_amount('total_cents') }} as total,
    coupon_code,
    placed_at,
    cast(placed_at as date) as order_date,
    created_at,
    updated_at
from {{ source('shop', 'orders') }}

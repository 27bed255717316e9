select
    product_id,
    category_id,
    sku,
    trim(name) as product_name,
    description,
    {{ cents_to_amount('price_cents') }} as price,
    {{ cents_to_amount('cost_cents') }} as cost,
    currency,
    lower(status) as product_status,
    stock_qty,
    created_at,
    updated_at
from {{ source('shop', 'products') }}

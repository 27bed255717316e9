{% snapshot products_snapshot %}
{{ config(unique_key='product_id', strategy='timestamp', updated_at='updated_at') }}
-- The shop overwrites a product's price and status in place; every build keeps the version it saw.
select
    product_id,
    sku,
    trim(name) as product_name,
    {{ cents_to_amount('price_cents') }} as price,
    lower(status) as product_status,
    updated_at
from {{ source('shop', 'products') }}
{% endsnapshot %}

{% snapshot orders_snapshot %}
{{ config(unique_key='order_id', strategy='timestamp', updated_at='updated_at') }}
-- Orders move from status to status and the shop keeps only the latest: every build keeps the one it saw.
select
    order_id,
    customer_id,
    lower(trim(status)) as order_status,
    {{ cents_to_amount('total_cents') }} as total,
    updated_at
from {{ source('shop', 'orders') }}
{% endsnapshot %}

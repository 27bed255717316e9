select
    payment_id,
    order_id,
    method as payment_method,
    lower(status) as payment_status,
    {{ cents_to_amount('amount_cents') }} as amount,
    paid_at,
    created_at,
    updated_at
from {{ source('shop', 'payments') }}

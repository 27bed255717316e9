select order_id, person_id, status, amount_cents from {{ ref('orders') }}

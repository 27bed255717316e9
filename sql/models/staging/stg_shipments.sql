select
    shipment_id,
    order_id,
    carrier,
    tracking_number,
    lower(status) as shipment_status,
    shipped_at,
    delivered_at,
    created_at,
    updated_at
from {{ source('shop', 'shipments') }}

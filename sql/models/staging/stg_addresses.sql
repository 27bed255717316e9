select
    address_id,
    customer_id,
    kind as address_kind,
    line1,
    line2,
    city,
    postal_code,
    upper(country_code) as country_code,
    is_default = 1 as is_default,
    created_at,
    updated_at
from {{ source('shop', 'addresses') }}

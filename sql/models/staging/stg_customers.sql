select
    customer_id,
    lower(trim(email)) as email,
    trim(first_name) as first_name,
    trim(last_name) as last_name,
    phone,
    upper(country_code) as country_code,
    marketing_opt_in = 1 as is_marketing_opt_in,
    lower(status) as customer_status,
    created_at,
    updated_at
from {{ source('shop', 'customers') }}

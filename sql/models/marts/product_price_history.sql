{{ config(tags=['history']) }}
-- Every price (and status) a product has had since the snapshots began: what the OLTP shop overwrote.
select
    product_id,
    sku,
    product_name,
    price,
    lag(price) over (partition by product_id order by dbt_valid_from) as previous_price,
    price - lag(price) over (partition by product_id order by dbt_valid_from) as price_change,
    product_status,
    dbt_valid_from as valid_from,
    dbt_valid_to as valid_to,
    dbt_valid_to is null as is_current
from {{ ref('products_snapshot') }}

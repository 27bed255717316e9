{{ config(tags=['history']) }}
-- How long each order stayed in each status, as the snapshots saw it: a status is entered when its version
-- begins and left when the next one does (the current status is still open).
select
    order_id,
    customer_id,
    order_status,
    total,
    dbt_valid_from as entered_at,
    dbt_valid_to as left_at,
    {{ dbt.datediff('dbt_valid_from', 'dbt_valid_to', 'hour') }} as hours_in_status,
    dbt_valid_to is null as is_current
from {{ ref('orders_snapshot') }}

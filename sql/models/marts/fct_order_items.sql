{{ config(
    materialized='incremental',
    unique_key='order_item_id',
    post_hook="delete from {{ this }} where order_item_id not in (select order_item_id from {{ ref('stg_order_items') }})"
) }}
-- One row per order line. Incremental: each run re-reads lines whose line or order changed since
-- the last build (delete+insert by order_item_id); the post-hook removes lines deleted at the source.
select *
from {{ ref('int_order_lines') }}
{% if is_incremental() %}
where last_changed_at >= (select max(last_changed_at) from {{ this }})
{% endif %}

{{ config(severity='warn') }}
select * from {{ ref('stg_orders') }} where amount_cents < 0

{% snapshot orders_snapshot %}
{{ config(unique_key='order_id', strategy='timestamp', updated_at='updated_at') }}
select order_id, person_id, status, amount_cents, cast(updated_at as timestamp) as updated_at
from {{ ref('orders') }}
{% endsnapshot %}

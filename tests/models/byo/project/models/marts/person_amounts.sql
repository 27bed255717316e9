{#- a package's namespaced macros, dispatch (overridden by this project), return(), adapter introspection -#}
with paid as (
    select person_id, sum(amount_cents) as paid_cents
    from {{ ref('stg_orders') }}
    where status in ({% for s in shop_utils.paid_statuses() %}'{{ s }}'{{ ',' if not loop.last }}{% endfor %})
    group by person_id
)
select
    p.person_id,
    {{ shop_utils.cents_to_euros('p.amount_cents') }} as amount_euros,
    {{ shop_utils.cents_to_euros('coalesce(paid.paid_cents, 0)') }} as paid_euros,
    {{ shop_utils.safe_divide('coalesce(paid.paid_cents, 0)', 'p.amount_cents') }} as share
from {{ ref('stg_people') }} as p
left join paid using (person_id)

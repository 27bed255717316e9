select
    grp,
    {{ dbt.any_value('name') }} is not null as has_name,
    {{ dbt.bool_or('amount_cents > 1000') }} as has_big,
    {{ dbt.listagg('name', "','", "order by name") }} as names,
    {{ dbt.listagg('name', "'|'", "order by name", 1) }} as first_name
from {{ ref('stg_people') }}
group by grp

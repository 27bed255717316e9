select person_id, trim(name) as name, grp, amount_cents, cast(updated_at as timestamp) as updated_at
from {{ ref('people') }}

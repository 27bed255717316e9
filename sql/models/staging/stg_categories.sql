select
    category_id,
    parent_id as parent_category_id,
    trim(name) as category_name,
    slug as category_slug,
    created_at,
    updated_at
from {{ source('shop', 'categories') }}

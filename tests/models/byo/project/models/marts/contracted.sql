select person_id, name from {{ ref('stg_people') }}

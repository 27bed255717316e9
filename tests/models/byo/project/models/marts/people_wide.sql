{{ config(post_hook="{% set old = adapter.get_relation(database=this.database, schema='main', identifier='legacy_table') %}{% if old %}{% do adapter.drop_relation(old) %}{% endif %}") }}
select {{ shop_utils.star(ref('stg_people'), except=['updated_at']) }}
from {{ ref('stg_people') }}

-- An order's subtotal must equal the sum of its lines (quantity × unit price − line discount).
select o.order_id, o.subtotal, o.line_revenue
from {{ ref('fct_orders') }} o
where o.item_count > 0 and o.subtotal != o.line_revenue

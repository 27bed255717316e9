"""The marts of the shop project (``sql/``) that the app itself reads, named once.

The charts, the two-roads reconciliation and the Overview read these relations by name, so a
rename in ``sql/`` is one change here. ``in_marts_folder`` is dbt's convention for "what reports
read" (a model under ``models/marts/``), used for any project's default export and mart list.
"""

from __future__ import annotations

MARTS_FOLDER = "marts"
MARTS_SCHEMA = "main_marts"

DAILY_REVENUE = f"{MARTS_SCHEMA}.daily_revenue"
MONTHLY_REVENUE_BY_CATEGORY = f"{MARTS_SCHEMA}.monthly_revenue_by_category"
CUSTOMER_LIFETIME_VALUE = f"{MARTS_SCHEMA}.customer_lifetime_value"
PRODUCT_PERFORMANCE = f"{MARTS_SCHEMA}.product_performance"
FCT_ORDERS = f"{MARTS_SCHEMA}.fct_orders"

CHART_MARTS = frozenset({"daily_revenue", "monthly_revenue_by_category"})  # what the charts need to draw


def in_marts_folder(fqn: list[str]) -> bool:
    """Whether a node's fqn (project, folders…, name) puts it in a ``marts`` folder."""
    return MARTS_FOLDER in fqn[1:-1]

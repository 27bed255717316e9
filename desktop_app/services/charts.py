"""The marts behind the Models tab's charts, queried and shaped for pyqtgraph on a worker thread.

Shaping thousands of points is Python work; done in the slot that receives them, it would hold the
GIL on the GUI thread while jobs compete for it. The window only calls ``setData`` with the result.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from desktop_app.core.shop_marts import (
    CUSTOMER_LIFETIME_VALUE,
    DAILY_REVENUE,
    MONTHLY_REVENUE_BY_CATEGORY,
    PRODUCT_PERFORMANCE,
)

CHART_QUERIES = {
    "monthly": f"select department, order_month, revenue from {MONTHLY_REVENUE_BY_CATEGORY} order by 2",
    "daily": f"select order_date, revenue from {DAILY_REVENUE} order by 1",
    "products": f"select product_name, revenue from {PRODUCT_PERFORMANCE} order by revenue_rank limit 10",
    "customers": f"select full_name, lifetime_revenue from {CUSTOMER_LIFETIME_VALUE} order by revenue_rank limit 10",
}


def load_chart_data(warehouse: Path, *, report, cancel) -> dict:
    """Run every chart query in one read of the warehouse and shape the rows (a Job function)."""
    from desktop_app.core.olap.warehouse import Warehouse

    rows = {}
    with Warehouse(warehouse) as wh:
        cursor = wh.cursor()
        for name, sql in CHART_QUERIES.items():
            cancel.raise_if_cancelled()
            rows[name] = cursor.execute(sql).fetchall()
    return shape_chart_data(rows)


def _timestamp(value: date | datetime) -> float:
    """Seconds since the epoch in local time, as pyqtgraph's DateAxisItem expects."""
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime(value.year, value.month, value.day).timestamp()


def shape_chart_data(rows: dict[str, list]) -> dict:
    """monthly {department: (x, y)}, daily (x, y), products and customers [(name, value)]."""
    monthly: dict[str, tuple[list, list]] = {}
    for department, month, revenue in rows["monthly"]:
        xs, ys = monthly.setdefault(department, ([], []))
        xs.append(_timestamp(month))
        ys.append(float(revenue))
    return {"monthly": monthly,
            "daily": ([_timestamp(d) for d, _ in rows["daily"]], [float(v) for _, v in rows["daily"]]),
            "products": [(str(n), float(v)) for n, v in rows["products"]],
            "customers": [(str(n), float(v)) for n, v in rows["customers"]]}

"""The figures of the final report, computed once and handed to the sheet writer.

Money is summed in integer cents (by DuckDB) and only divided into euros when written, so no
float rounding creeps in; the two-roads check compares these figures with the marts'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

TOP_N = 20


@dataclass
class Provenance:
    """Where the numbers came from, for the Provenance sheet."""

    source: str = ""
    warehouse: str = ""
    ingestion_run: str = ""
    ingested_at: str = ""
    stage_rows: dict[str, int] = field(default_factory=dict)
    # figure group -> (OLTP columns its values come from, OLTP columns that only choose its rows)
    origins: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)


@dataclass
class Pivot:
    """Revenue in cents by month (rows) and department (columns)."""

    months: list[datetime]
    departments: list[str]
    cents: list[list[int]]  # [month][department]

    def __len__(self) -> int:
        return len(self.months)


@dataclass
class Figures:
    pivot: Pivot
    customers: list[tuple]  # (customer_id, name, country, orders, revenue_cents), best first
    products: list[tuple]  # (product_id, name, department, units, revenue_cents), best first
    revenue_cents: int
    orders: int
    active_customers: int
    first_month: datetime | None
    last_month: datetime | None
    line_count: int

"""Choose how each table is kept in step: the change-tracking strategy the user is shown.

1. ``watermark:<column>`` — an ``updated_at``-style column: read rows changed since the last run.
2. ``key:<column>`` — a single integer primary key: read rows with a larger key (new rows only;
   updates in place are not seen, which the plan says).
3. ``full`` — neither: reload the whole table every run.
Deletes are detected by comparing primary keys, for every table that has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.core.oltp.inspect import TableInfo

WATERMARK_NAMES = ("updated_at", "modified_at", "last_modified", "last_modified_at", "updated", "modified",
                   "changed_at", "last_updated", "update_time", "updated_on", "modified_on", "last_update")
INTEGER_WORDS = ("INT",)


@dataclass(frozen=True)
class TablePlan:
    table: str
    strategy: str  # "watermark" | "key" | "full"
    tracking_column: str | None
    key_columns: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.strategy}:{self.tracking_column}" if self.tracking_column else self.strategy


def plan_table(info: TableInfo) -> TablePlan:
    names = {c.name.lower(): c.name for c in info.columns}
    keys = info.primary_key
    if not keys:
        return TablePlan(info.name, "full", None, (),
                         ("no primary key: reloaded in full every run; deletes cannot be tracked",))
    for candidate in WATERMARK_NAMES:
        if candidate in names:
            return TablePlan(info.name, "watermark", names[candidate], keys)
    if len(keys) == 1 and any(w in info.column(keys[0]).declared_type.upper() for w in INTEGER_WORDS):
        return TablePlan(info.name, "key", keys[0], keys,
                         ("no updated_at-style column: new rows by increasing key; updates in place are not seen",))
    return TablePlan(info.name, "full", None, keys, ("no change-tracking column: reloaded in full every run",))


def other_separator(mark):
    """An ISO text watermark in the other common form ('T' ↔ ' '), or None.

    SQLite applications mix ``2025-06-28T10:00:00`` with ``CURRENT_TIMESTAMP``'s ``2025-06-28 10:00:00``;
    as text the second sorts below the first, so a row stamped that way after the last load would be
    missed. Comparing with both forms keeps the index usable and misses nothing.
    """
    if isinstance(mark, str) and len(mark) > 10 and mark[10] in "T ":
        return mark[:10] + (" " if mark[10] == "T" else "T") + mark[11:]
    return None


def changed_rows_sql(plan: TablePlan, column_sql: str, last) -> tuple[str, tuple]:
    """SQL (with ``?`` parameters) for the rows an incremental load of ``plan`` reads after ``last``.

    A watermark load reads rows at or after it, in either ISO text form, and every row whose watermark is
    NULL — such rows can never be ordered, so they are read each time and only those that differ are
    written. A key load reads new keys.
    """
    if plan.strategy != "watermark":
        return f"{column_sql} > ?", (last,)
    alternative = other_separator(last)
    if alternative is None:
        return f"({column_sql} >= ? OR {column_sql} IS NULL)", (last,)
    return f"({column_sql} >= ? OR {column_sql} >= ? OR {column_sql} IS NULL)", (last, alternative)


def changed_rows_clause(plan: TablePlan, column, last):
    """``changed_rows_sql`` as a SQLAlchemy clause (the general path, any database)."""
    import sqlalchemy as sa

    if plan.strategy != "watermark":
        return column > last
    alternative = other_separator(last)
    parts = [column >= last, column.is_(None)] + ([column >= alternative] if alternative is not None else [])
    return sa.or_(*parts)

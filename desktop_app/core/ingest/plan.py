"""Choose how each table is kept in step: the change-tracking strategy the user is shown.

1. ``watermark:<column>`` — an ``updated_at``-style column: read rows changed since the last run,
   re-reading a look-back window before it (``core.ingest.look_back``: late commits are not missed).
2. ``key:<column>`` — a single integer primary key: read rows with a larger key (new rows only;
   updates in place are not seen, which the plan says).
3. ``full`` — neither: reload the whole table every run.
Deletes are detected by comparing primary keys, for every table that has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.core.ingest.look_back import DEFAULT_LOOK_BACK, describe, read_from
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
    look_back: int = 0  # seconds re-read before the watermark (core.ingest.look_back)

    @property
    def label(self) -> str:
        if not self.tracking_column:
            return self.strategy
        label = f"{self.strategy}:{self.tracking_column}"
        return f"{label} ({describe(self.look_back)})" if self.strategy == "watermark" else label


def plan_table(info: TableInfo, look_back: int = DEFAULT_LOOK_BACK) -> TablePlan:
    names = {c.name.lower(): c.name for c in info.columns}
    keys = info.primary_key
    if not keys:
        return TablePlan(info.name, "full", None, (),
                         ("no primary key: reloaded in full every run; deletes cannot be tracked",))
    for candidate in WATERMARK_NAMES:
        if candidate in names:
            return TablePlan(info.name, "watermark", names[candidate], keys, look_back=max(0, int(look_back)))
    if len(keys) == 1 and any(w in info.column(keys[0]).declared_type.upper() for w in INTEGER_WORDS):
        return TablePlan(info.name, "key", keys[0], keys,
                         ("no updated_at-style column: new rows by increasing key; updates in place are not seen",))
    return TablePlan(info.name, "full", None, keys, ("no change-tracking column: reloaded in full every run",))


def both_forms(mark) -> tuple[str, str, str] | None:
    """(the 'T' form, the space form, the date) of an ISO text watermark, or None.

    SQLite applications mix ``2025-06-28T10:00:00`` with ``CURRENT_TIMESTAMP``'s ``2025-06-28 10:00:00``.
    As text, every space-form time of a day sorts below every 'T'-form time of the same day, so one
    comparison either misses the space-form rows stamped after the mark (against a 'T' mark) or re-reads
    every 'T'-form row of the mark's day (against a space mark). Rows at or after the 'T' form, plus the
    mark's day in space form at or after the space form, are exactly the rows after the mark in either.
    """
    if isinstance(mark, str) and len(mark) > 10 and mark[10] in "T ":
        return mark[:10] + "T" + mark[11:], mark[:10] + " " + mark[11:], mark[:10]
    return None


def changed_rows_sql(plan: TablePlan, column_sql: str, last) -> tuple[str, tuple]:
    """SQL (with ``?`` parameters) for the rows an incremental load of ``plan`` reads after ``last``.

    A watermark load reads rows at or after its mark moved back by the look-back window, in either ISO
    text form, and every row whose watermark is NULL — such rows can never be ordered, so they are read
    each time and only those that differ are written. A key load reads new keys.
    """
    if plan.strategy != "watermark":
        return f"{column_sql} > ?", (last,)
    last = read_from(last, plan.look_back)
    forms = both_forms(last)
    if forms is None:
        return f"({column_sql} >= ? OR {column_sql} IS NULL)", (last,)
    t_form, space_form, day = forms
    return (f"({column_sql} >= ? OR ({column_sql} >= ? AND {column_sql} < ?) OR {column_sql} IS NULL)",
            (t_form, space_form, day + "T"))


def changed_rows_clause(plan: TablePlan, column, last):
    """``changed_rows_sql`` as a SQLAlchemy clause (the general path, any database)."""
    import sqlalchemy as sa

    if plan.strategy != "watermark":
        return column > last
    last = read_from(last, plan.look_back)
    forms = both_forms(last)
    if forms is None:
        return sa.or_(column >= last, column.is_(None))
    t_form, space_form, day = forms
    return sa.or_(column >= t_form, sa.and_(column >= space_form, column < day + "T"), column.is_(None))

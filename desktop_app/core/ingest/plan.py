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
        return TablePlan(info.table if hasattr(info, "table") else info.name, "full", None, (),
                         ("no primary key: reloaded in full every run; deletes cannot be tracked",))
    for candidate in WATERMARK_NAMES:
        if candidate in names:
            return TablePlan(info.name, "watermark", names[candidate], keys)
    if len(keys) == 1 and any(w in info.column(keys[0]).declared_type.upper() for w in INTEGER_WORDS):
        return TablePlan(info.name, "key", keys[0], keys,
                         ("no updated_at-style column: new rows by increasing key; updates in place are not seen",))
    return TablePlan(info.name, "full", None, keys, ("no change-tracking column: reloaded in full every run",))

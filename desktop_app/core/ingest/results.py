"""What an ingestion run returns: a ``TableResult`` per table and the run's ``IngestReport``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from desktop_app.core.arrow_rows import DirtyColumn


@dataclass(frozen=True)
class TableCheck:
    """A table's reconciliation after its load, as the run reports it."""

    scope: str  # load | keys | full
    status: str  # equal | different
    detail: str
    source_rows: int | None
    warehouse_rows: int | None


@dataclass
class TableResult:
    table: str
    mode: str
    strategy: str
    status: str = "pending"  # success | failed | cancelled
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    seconds: float = 0.0
    watermark: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    dirty_columns: list[DirtyColumn] = field(default_factory=list)
    reconciliation: TableCheck | None = None

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0


@dataclass
class IngestReport:
    run_id: int
    source: str
    warehouse: str
    mode: str
    status: str
    seconds: float
    tables: list[TableResult]
    notes: list[str] = field(default_factory=list)  # about the run as a whole (tables gone from the source)

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def to_dict(self) -> dict:
        return asdict(self)

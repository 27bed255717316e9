"""Shared shapes for the three Excel stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

RAW_EXPORT = "01_raw_export.xlsx"
INTERMEDIATE = "02_intermediate.xlsx"
FINAL_REPORT = "03_final_report.xlsx"
REPORT_TABLES = ("orders", "order_items", "products", "categories", "customers")


@dataclass
class StageResult:
    stage: str
    path: Path
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)  # sheet -> data rows
    steps: list[dict] = field(default_factory=list)  # stage 2 only
    notes: list[str] = field(default_factory=list)

"""The three Excel stages, named once: their keys, labels and file names, and what a stage returns.

Each stage reads only the previous stage's file, so the file names are the contract between them
(and what the window, the CLI and the workspace state look for on disk).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Stage:
    key: str  # raw | intermediate | final: the CLI's --stage and the window's names
    label: str
    file_name: str


STAGES = (Stage("raw", "Raw export", "01_raw_export.xlsx"),
          Stage("intermediate", "Intermediate", "02_intermediate.xlsx"),
          Stage("final", "Final report", "03_final_report.xlsx"))
STAGE_KEYS = tuple(stage.key for stage in STAGES)
RAW_EXPORT, INTERMEDIATE, FINAL_REPORT = (stage.file_name for stage in STAGES)


def stage_named(key: str) -> Stage:
    return next(stage for stage in STAGES if stage.key == key)
REPORT_TABLES = ("orders", "order_items", "products", "categories", "customers")


@dataclass(frozen=True)
class StepRecord:
    """One named step of stage 2: what it does and the rows before and after it."""

    step: str
    description: str
    rows_in: int
    rows_out: int


@dataclass
class StageResult:
    stage: str
    path: Path
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)  # sheet -> data rows
    steps: list[StepRecord] = field(default_factory=list)  # stage 2 only
    notes: list[str] = field(default_factory=list)

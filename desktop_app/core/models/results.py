"""What a run of the model runner returns: one ``NodeResult`` per node, never an exception.

The same shapes are written to and read back from dbt's ``run_results.json`` (``artifacts``), so a
relaunch of the window shows what the last run, from any front end, did.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class NodeResult:
    unique_id: str
    name: str
    resource_type: str
    status: str  # success | error | skipped | pass | fail | warn
    message: str = ""
    execution_time: float = 0.0
    rows_affected: int | None = None
    failures: int | None = None
    compiled_code: str = ""
    relation_name: str | None = None
    materialized: str = ""
    compiled_path: str | None = None


@dataclass
class RunResult:
    command: str
    results: list[NodeResult] = field(default_factory=list)
    elapsed: float = 0.0
    target_dir: str = ""
    notes: list[str] = field(default_factory=list)  # e.g. where the column lineage went, or why it did not

    @property
    def ok(self) -> bool:
        return not any(r.status in ("error", "fail") for r in self.results)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out


def result_dict(result: RunResult) -> dict:
    """The run as the CLI's ``--json`` prints it."""
    return {"command": result.command, "ok": result.ok, "elapsed": result.elapsed, "counts": result.counts(),
            "results": [asdict(r) for r in result.results], "notes": result.notes}

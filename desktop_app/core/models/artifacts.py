"""Read back the artefacts of the last run (``target/run_results.json`` with ``manifest.json``).

The window shows each model's last status, time, rows and test results on launch from these files,
as dbt tooling does, instead of remembering them: a relaunch, another window or a CLI ``build`` all
show the same truth. A missing or unreadable artefact means "not run yet", never an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from desktop_app.core.models.runner import NodeResult, RunResult


@dataclass(frozen=True)
class LastRun:
    run: RunResult
    finished_at: datetime  # when the artefacts were written (UTC, timezone-aware)
    fqns: dict[str, list[str]]  # unique id -> [project, folder…, name], as dbt's manifest has it

    def marts(self) -> list[NodeResult]:
        """The built models in a ``marts`` folder (dbt's convention for what reports read)."""
        return [r for r in self.run.results if r.resource_type == "model" and r.relation_name
                and "marts" in self.fqns.get(r.unique_id, [])[1:-1]]


def read_last_run(target_dir: Path) -> LastRun | None:
    target_dir = Path(target_dir)
    try:
        results = json.loads((target_dir / "run_results.json").read_text(encoding="utf-8"))
        manifest = json.loads((target_dir / "manifest.json").read_text(encoding="utf-8"))
        finished = datetime.fromisoformat(results["metadata"]["generated_at"])
        command = results.get("args", {}).get("which", "build")
        nodes = manifest.get("nodes", {})
        run = RunResult(command, elapsed=float(results.get("elapsed_time") or 0), target_dir=str(target_dir))
        for entry in results["results"]:
            uid = entry["unique_id"]
            node = nodes.get(uid, {})
            run.results.append(NodeResult(
                uid, node.get("name") or uid.rsplit(".", 1)[-1], node.get("resource_type") or uid.split(".")[0],
                entry["status"], entry.get("message") or "", float(entry.get("execution_time") or 0),
                (entry.get("adapter_response") or {}).get("rows_affected"), entry.get("failures"),
                entry.get("compiled_code") or "", entry.get("relation_name"),
                (node.get("config") or {}).get("materialized", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return LastRun(run, finished, {uid: list(node.get("fqn") or []) for uid, node in nodes.items()})

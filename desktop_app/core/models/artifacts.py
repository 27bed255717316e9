"""The artefacts of a run in dbt's shape: ``target/manifest.json`` and ``target/run_results.json``.

They are written after every command (atomically: temp name, then rename) so dbt tooling can read
them, and read back on launch: the window shows each model's last status, time, rows and test
results from these files, as dbt tooling does, instead of remembering them — a relaunch, another
window or a CLI ``build`` all show the same truth. A missing or unreadable artefact means "not run
yet", never an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from desktop_app import __version__
from desktop_app.core.models.parse import ParsedProject
from desktop_app.core.models.results import NodeResult, RunResult
from desktop_app.core.shop_marts import in_marts_folder


@dataclass(frozen=True)
class LastRun:
    run: RunResult
    finished_at: datetime  # when the artefacts were written (UTC, timezone-aware)
    fqns: dict[str, list[str]]  # unique id -> [project, folder…, name], as dbt's manifest has it

    def marts(self) -> list[NodeResult]:
        """The built models in a ``marts`` folder (dbt's convention for what reports read)."""
        return [r for r in self.run.results if r.resource_type == "model" and r.relation_name
                and in_marts_folder(self.fqns.get(r.unique_id, []))]


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


def manifest(parsed: ParsedProject, compiled: dict[str, str]) -> dict:
    project, compiler, graph = parsed.project, parsed.compiler, parsed.graph
    nodes, unit_tests = {}, {}
    for uid, node in project.nodes.items():
        entry = {
            "unique_id": uid, "resource_type": node.resource_type, "name": node.name,
            "package_name": node.package_name or project.name,
            "path": str(node.path), "original_file_path": str(node.path), "fqn": node.fqn,
            "config": {"materialized": node.materialized, **{k: v for k, v in node.config.items()
                                                              if k not in ("materialized",)}},
            "tags": node.tags, "description": node.description,
            "columns": {n: {"name": n, "description": c.get("description", "")} for n, c in node.columns.items()},
            "depends_on": {"nodes": node.depends_on, "macros": []},
            "refs": [{"name": r, "package": None, "version": None} for r in node.refs],
            "sources": [list(s) for s in node.sources], "raw_code": node.raw_code,
            "compiled_code": compiled.get(uid),
        }
        if node.resource_type in ("model", "seed", "snapshot"):
            relation = compiler.relation(node)
            entry.update(database=relation.database, schema=relation.schema, alias=relation.identifier,
                         relation_name=None if node.is_ephemeral else str(relation))
        if node.test_metadata:
            entry["test_metadata"] = node.test_metadata
            entry["attached_node"] = node.attached_node
            entry["column_name"] = node.column_name
        if node.resource_type == "unit_test":
            entry.update(model=project.nodes[node.attached_node].name if node.attached_node in project.nodes else None,
                         given=node.extra.get("given"), expect=node.extra.get("expect"))
            unit_tests[uid] = entry
        else:
            nodes[uid] = entry
    sources = {}
    for uid, source in project.sources.items():
        relation = compiler.source_relation(source.source_name, source.name)
        sources[uid] = {"unique_id": uid, "resource_type": "source", "source_name": source.source_name,
                        "name": source.name, "schema": relation.schema, "database": relation.database,
                        "identifier": relation.identifier, "relation_name": str(relation),
                        "description": source.description, "package_name": project.name,
                        "columns": {n: {"name": n} for n in source.columns}}
    return {
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
                     "dbt_version": f"oltp-olap {__version__}", "generated_at": datetime.now(UTC).isoformat(),
                     "project_name": project.name, "adapter_type": "duckdb"},
        "nodes": nodes, "sources": sources, "macros": {}, "unit_tests": unit_tests,
        "parent_map": {u: list(graph.parents.get(u, [])) for u in [*project.nodes, *project.sources]},
        "child_map": {u: list(graph.children.get(u, [])) for u in [*project.nodes, *project.sources]},
    }


def write_artifacts(parsed: ParsedProject, result: RunResult, target_dir: Path, command: str) -> None:
    target_dir.mkdir(parents=True, exist_ok=True)
    compiled = {r.unique_id: r.compiled_code for r in result.results if r.compiled_code}
    _write_json(target_dir / "manifest.json", manifest(parsed, compiled))
    run_results = {
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json",
                     "dbt_version": f"oltp-olap {__version__}", "generated_at": datetime.now(UTC).isoformat()},
        "elapsed_time": result.elapsed,
        "args": {"which": command},
        "results": [{
            "unique_id": r.unique_id, "status": r.status, "message": r.message, "failures": r.failures,
            "execution_time": r.execution_time, "timing": [], "thread_id": "",
            "adapter_response": {"rows_affected": r.rows_affected} if r.rows_affected is not None else {},
            "compiled_code": r.compiled_code, "relation_name": r.relation_name,
        } for r in result.results],
    }
    _write_json(target_dir / "run_results.json", run_results)


def _write_json(path: Path, data: dict) -> None:
    temp = path.with_suffix(".json.tmp")
    temp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    temp.replace(path)

"""Headless model commands with dbt's names: ``build``, ``run``, ``test``, ``seed``, ``compile``, ``ls``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop_app.core.progress import CancelToken

HELP = {
    "build": "seed, run and test the project's models in DAG order",
    "run": "build the models (views, tables, incremental) in the warehouse",
    "test": "run the data tests",
    "seed": "load the CSV seeds",
    "compile": "render every model's SQL into target/compiled without running it",
    "ls": "list the selected nodes",
}


def register(commands: argparse._SubParsersAction) -> None:
    for name, text in HELP.items():
        if name == "seed":  # shares `seed` with the demo-shop generator (see cli.py)
            continue
        parser = commands.add_parser(name, help=text, description=f"{text} (dbt-compatible).")
        parser.add_argument("--warehouse", required=True, type=Path, metavar="FILE.duckdb")
        add_model_options(parser, name)
        parser.set_defaults(handler=lambda args, cancel, name=name: handle(args, cancel, name))


def add_model_options(parser: argparse.ArgumentParser, name: str) -> None:
    """The dbt-style options every model command takes (``seed`` adds ``--warehouse`` as optional)."""
    if name == "seed":
        parser.add_argument("--warehouse", type=Path, metavar="FILE.duckdb", help="load CSV seeds into this warehouse")
    parser.add_argument("--project", type=Path, help="dbt project folder (default: the bundled sql/ project)")
    parser.add_argument("--select", "-s", nargs="+", help="node selection, dbt syntax (m, +m, m+, @m, tag:x, …)")
    parser.add_argument("--exclude", nargs="+", help="nodes to leave out, dbt syntax")
    parser.add_argument("--vars", help="YAML dict of project variables, e.g. '{revenue_statuses: [paid]}'")
    parser.add_argument("--target-path", type=Path, help="where target/ artefacts go (default: PROJECT/target)")
    if name not in ("ls", "compile", "test"):
        parser.add_argument("--full-refresh", action="store_true", help="rebuild incremental models and seeds")
    parser.add_argument("--threads", type=int, default=2)
    if name != "seed":
        parser.add_argument("--json", action="store_true", help="print machine-readable results")


def _vars(text: str | None) -> dict:
    if not text:
        return {}
    import yaml

    from desktop_app.core.errors import ModelError

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = None
    if not isinstance(value, dict):
        raise ModelError(f"--vars must be a YAML dictionary, got {text!r}.", "Example: --vars '{key: value}'")
    return value


def handle(args: argparse.Namespace, cancel: CancelToken, command: str) -> int:
    from desktop_app.console import line, stdout
    from desktop_app.core.models.runner import list_nodes, parse_project, result_dict, run_command
    from desktop_app.core.olap.warehouse import Warehouse
    from desktop_app.paths import sql_project_dir

    project = args.project or sql_project_dir()
    args.json = getattr(args, "json", False)
    with Warehouse(args.warehouse, must_exist=command != "seed") as warehouse:  # dbt seed may start one
        if command == "ls":
            parsed = parse_project(project, warehouse, cli_vars=_vars(args.vars))
            nodes = list_nodes(parsed, "ls", args.select, args.exclude)
            if args.json:
                sys.stdout.write(json.dumps([{"unique_id": n.unique_id, "resource_type": n.resource_type,
                                              "name": n.name} for n in nodes], indent=2) + "\n")
            else:
                for node in nodes:
                    stdout.print(".".join(node.fqn) if node.resource_type != "test" else
                                 f"{parsed.project.name}.{node.name}")
            return 0
        result = run_command(command, project, warehouse, select_=args.select, exclude=args.exclude,
                             full_refresh=getattr(args, "full_refresh", False), cli_vars=_vars(args.vars),
                             threads=args.threads, target_dir=args.target_path, cancel=cancel)
    if args.json:
        sys.stdout.write(json.dumps(result_dict(result), indent=2, default=str) + "\n")
        return 0 if result.ok else 1
    total = len(result.results)
    colours = {"success": "green", "pass": "green", "warn": "yellow", "skipped": "yellow", "fail": "red",
               "error": "red"}
    for index, r in enumerate(result.results, 1):
        what = f"{r.materialized} {r.resource_type}" if r.resource_type != "test" else "test"
        label = {"success": "OK", "pass": "PASS", "warn": "WARN", "fail": "FAIL", "error": "ERROR",
                 "skipped": "SKIP"}[r.status]
        count = f" {r.failures}" if r.status in ("fail", "warn") else ""
        stdout.print(line(f"{index:>3} of {total} ", (f"{label}{count}", colours[r.status]),
                          f" {what} {r.relation_name or r.name} ", (f"in {r.execution_time:.2f}s", "dim")))
        if r.status in ("error", "fail", "warn") and r.message:
            stdout.print(f"      {r.message}")
    counts = result.counts()
    summary = " ".join(f"{k.upper()}={v}" for k, v in sorted(counts.items()))
    stdout.print(f"Finished {command} of {total} nodes in {result.elapsed:.2f}s. {summary}")
    stdout.print(line(("Completed successfully", "green")) if result.ok else line(("Completed with errors", "red")))
    return 0 if result.ok else 1

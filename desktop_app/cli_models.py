"""Headless model commands with dbt's names: ``build``, ``run``, ``test``, ``seed``, ``snapshot``,
``compile``, ``ls``, ``show`` and ``docs generate``."""

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
    "snapshot": "record what changed in the snapshots' queries (type-2 history)",
    "compile": "render every model's SQL into target/compiled without running it",
    "ls": "list the selected nodes",
}
# Commands that build may create the warehouse, as dbt-duckdb does; the others need one.
CREATES_WAREHOUSE = ("build", "run", "seed", "snapshot")


def register(commands: argparse._SubParsersAction) -> None:
    for name, text in HELP.items():
        if name == "seed":  # shares `seed` with the demo-shop generator (see cli.py)
            continue
        parser = commands.add_parser(name, help=text, description=f"{text} (dbt-compatible).")
        parser.add_argument("--warehouse", required=True, type=Path, metavar="FILE.duckdb")
        add_model_options(parser, name)
        parser.set_defaults(handler=lambda args, cancel, name=name: handle(args, cancel, name))
    show_parser = commands.add_parser("show", help="compile a model (or --inline SQL) and print its first rows",
                                      description="Compile a model, or an inline query in the project's context, "
                                                  "and print its first rows (dbt show); nothing is built.")
    show_parser.add_argument("--warehouse", required=True, type=Path, metavar="FILE.duckdb")
    show_parser.add_argument("--project", type=Path, help="dbt project folder (default: the bundled sql/ project)")
    what = show_parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--select", "-s", nargs="+", help="the model to show")
    what.add_argument("--inline", help="a query; may use ref(), source() and the project's macros")
    show_parser.add_argument("--limit", type=int, default=5, help="rows to show (default 5)")
    show_parser.add_argument("--vars", help="YAML dict of project variables")
    show_parser.add_argument("--json", action="store_true", help="print machine-readable rows")
    show_parser.set_defaults(handler=handle_show)
    docs = commands.add_parser("docs", help="docs generate: write target/catalog.json (columns, types, rows)")
    docs.add_argument("action", choices=("generate",))
    docs.add_argument("--warehouse", required=True, type=Path, metavar="FILE.duckdb")
    docs.add_argument("--project", type=Path, help="dbt project folder (default: the bundled sql/ project)")
    docs.add_argument("--target-path", type=Path, help="where target/ artefacts go (default: PROJECT/target)")
    docs.add_argument("--vars", help="YAML dict of project variables")
    docs.set_defaults(handler=handle_docs)


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
    if name not in ("ls", "compile"):
        parser.add_argument("--skip-unsupported", action="store_true",
                            help="build the rest of a project that uses features the runner does not support, "
                                 "reporting those nodes as skipped (otherwise they stop the command)")
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
    from desktop_app.paths import sql_project_dir

    project = args.project or sql_project_dir()
    args.json = getattr(args, "json", False)
    new_warehouse = command in CREATES_WAREHOUSE and not Path(args.warehouse).exists()
    try:
        return _run(args, cancel, command, project)
    except BaseException:
        if new_warehouse:  # refused before anything was built: no empty warehouse is left behind
            _remove_new_warehouse(Path(args.warehouse))
        raise


def _remove_new_warehouse(path: Path) -> None:
    import duckdb

    try:
        with duckdb.connect(str(path), read_only=True) as con:
            built = con.execute("select count(*) from information_schema.tables where table_catalog = "
                                "current_database()").fetchall()[0][0]
    except duckdb.Error:
        return
    if not built:
        for leftover in (path, Path(f"{path}.wal")):
            leftover.unlink(missing_ok=True)


def _run(args: argparse.Namespace, cancel: CancelToken, command: str, project: Path) -> int:
    from desktop_app.console import line, stdout
    from desktop_app.core.models.runner import list_nodes, parse_project, result_dict, run_command
    from desktop_app.core.olap.warehouse import Warehouse

    # The runner writes nothing but the project's relations into a warehouse (no _studio tables).
    with Warehouse(args.warehouse, must_exist=command not in CREATES_WAREHOUSE, ensure_metadata=False) as warehouse:
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
                             threads=args.threads, target_dir=args.target_path,
                             skip_unsupported=getattr(args, "skip_unsupported", False), cancel=cancel)
    if args.json:
        sys.stdout.write(json.dumps(result_dict(result), indent=2, default=str) + "\n")
        return 0 if result.ok else 1
    total = len(result.results)
    colours = {"success": "green", "pass": "green", "warn": "yellow", "skipped": "yellow", "fail": "red",
               "error": "red"}
    for index, r in enumerate(result.results, 1):
        what = {"test": "test", "unit_test": "unit test", "operation": "hook"}.get(
            r.resource_type, f"{r.materialized} {r.resource_type}")
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
    for note in result.notes:
        stdout.print(note, markup=False, highlight=False)
    stdout.print(line(("Completed successfully", "green")) if result.ok else line(("Completed with errors", "red")))
    return 0 if result.ok else 1


def handle_show(args: argparse.Namespace, cancel: CancelToken) -> int:
    from rich.table import Table

    from desktop_app.console import stdout
    from desktop_app.core.models.show import show
    from desktop_app.core.olap.warehouse import Warehouse
    from desktop_app.paths import sql_project_dir

    with Warehouse(args.warehouse, must_exist=True, ensure_metadata=False) as warehouse:
        shown = show(args.project or sql_project_dir(), warehouse, select_=args.select, inline=args.inline,
                     limit=args.limit, cli_vars=_vars(args.vars))
    if args.json:
        rows = [dict(zip(shown.columns, row, strict=True)) for row in shown.rows]
        sys.stdout.write(json.dumps({"node": shown.name, "show": rows}, indent=2, default=str) + "\n")
        return 0
    table = Table(title=f"Previewing {shown.name}")
    for column in shown.columns:
        table.add_column(column, overflow="fold")
    for row in shown.rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    stdout.print(table)
    return 0


def handle_docs(args: argparse.Namespace, cancel: CancelToken) -> int:
    from desktop_app.console import stdout
    from desktop_app.core.models.catalog import write_catalog
    from desktop_app.core.models.parse import parse_project
    from desktop_app.core.models.runner import check_target_dir
    from desktop_app.core.olap.warehouse import Warehouse
    from desktop_app.paths import sql_project_dir

    with Warehouse(args.warehouse, must_exist=True, ensure_metadata=False) as warehouse:
        parsed = parse_project(args.project or sql_project_dir(), warehouse, cli_vars=_vars(args.vars), command="docs")
        target = check_target_dir(Path(args.target_path) if args.target_path else
                                  parsed.project.root / parsed.project.config.get("target-path", "target"),
                                  given=bool(args.target_path))
        catalog = write_catalog(parsed, warehouse, target)
    stdout.print(f"Catalog written to {target / 'catalog.json'}: {len(catalog['nodes'])} nodes, "
                 f"{len(catalog['sources'])} sources")
    return 0

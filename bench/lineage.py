"""Benchmark: column lineage of ``sql/`` and of a generated 300-model project.

Ours (``core.lineage``: one qualify per model, then a walk over sqlglot's scopes for every column)
against the obvious alternative from the same library, ``sqlglot.lineage.lineage()`` called once
per output column (what most tools built on sqlglot do). Prints both times, the ratio, peak RSS,
and the goals (``sql/`` under 1 s, 300 models under 10 s). Run: ``uv run python bench/lineage.py``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from graphlib import TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desktop_app.core.ingest.run import run_ingest  # noqa: E402
from desktop_app.core.lineage.whole_path import lineage_of_project  # noqa: E402
from desktop_app.core.models.parse import parse_project  # noqa: E402
from desktop_app.core.models.runner import connect_compiler, run_command  # noqa: E402
from desktop_app.core.olap.warehouse import Warehouse  # noqa: E402
from desktop_app.core.oltp.demo_shop import create_shop  # noqa: E402
from desktop_app.core.oltp.source import open_source  # noqa: E402
from desktop_app.paths import sql_project_dir  # noqa: E402

RAW_TABLES, RAW_COLUMNS = 10, 20


def synthetic_project(root: Path, warehouse: Path, models: int = 300) -> Path:
    """Raw tables of 20 columns; models in chains of renames and expressions, joins of two parents,
    CTEs with aggregates, ``select *`` and ``union all`` — the shapes real projects are made of."""
    with Warehouse(warehouse) as wh:
        for t in range(RAW_TABLES):
            columns = ", ".join(f"{i} AS c{i}" for i in range(RAW_COLUMNS))
            wh.cursor().execute(f"CREATE OR REPLACE TABLE raw.t{t} AS SELECT {columns}")
    project = root / "synthetic"
    (project / "models").mkdir(parents=True, exist_ok=True)
    (project / "dbt_project.yml").write_text("name: synthetic\nprofile: synthetic\nconfig-version: 2\n")
    tables = "\n".join(f"      - name: t{t}" for t in range(RAW_TABLES))
    (project / "models" / "sources.yml").write_text(f"version: 2\nsources:\n  - name: app\n    schema: raw\n"
                                                    f"    tables:\n{tables}\n")
    for i in range(models):
        cols = [f"c{k}" for k in range(RAW_COLUMNS)]
        if i < RAW_TABLES:
            body = "select " + ", ".join(f"{c} as {c}" for c in cols) + f" from {{{{ source('app', 't{i}') }}}}"
        elif i % 5 == 0:  # a join of two parents
            a, b = f"m{i - 1:03d}", f"m{i - RAW_TABLES:03d}"
            picks = ", ".join(f"a.{c}" if k % 2 else f"a.{c} + b.{c} as {c}" for k, c in enumerate(cols))
            body = (f"select {picks} from {{{{ ref('{a}') }}}} a join {{{{ ref('{b}') }}}} b on a.c0 = b.c0 "
                    f"where b.c1 > 0")
        elif i % 5 == 1:  # a CTE with an aggregate, joined back
            parent = f"m{i - 1:03d}"
            body = (f"with agg as (select c0, sum(c2) as total from {{{{ ref('{parent}') }}}} group by c0)\n"
                    f"select p.*, agg.total from {{{{ ref('{parent}') }}}} p left join agg using (c0)")
        elif i % 5 == 2:  # select * with a window function
            body = (f"select *, row_number() over (partition by c0 order by c3) as rn "
                    f"from {{{{ ref('m{i - 1:03d}') }}}}")
        elif i % 5 == 3:  # union all of two parents, by the same columns
            a, b = f"m{i - 1:03d}", f"m{i - 7:03d}"
            picked = ", ".join(cols)
            body = f"select {picked} from {{{{ ref('{a}') }}}} union all select {picked} from {{{{ ref('{b}') }}}}"
        else:  # renames and case
            body = "select " + ", ".join(
                f"case when {c} > 1 then {c} else 0 end as {c}" if k % 3 == 0 else f"{c} as {c}"
                for k, c in enumerate(cols)) + f" from {{{{ ref('m{i - 1:03d}') }}}}"
        (project / "models" / f"m{i:03d}.sql").write_text(body + "\n")
    return project


def ours(project: Path, warehouse: Path) -> tuple[float, int, int]:
    with Warehouse(warehouse, ensure_metadata=False) as wh:
        started = time.perf_counter()
        graph = lineage_of_project(project, wh)
        seconds = time.perf_counter() - started
    notes = [n for n in graph.relations.values() if n.note]
    if notes:
        raise SystemExit(f"not analysed: {[(n.name, n.note) for n in notes][:3]}")
    return seconds, sum(1 for n in graph.nodes.values() if n.layer == "model"), len(graph.edges)


def per_column_sqlglot(project: Path, warehouse: Path, budget: float) -> tuple[float, int, bool]:
    """``sqlglot.lineage.lineage`` for every output column of every model (stops past ``budget`` s)."""
    from sqlglot.lineage import lineage

    from desktop_app.core.lineage.model_lineage import _catalog, _nested
    from desktop_app.core.lineage.select_lineage import analyse_select

    with Warehouse(warehouse, ensure_metadata=False) as wh:
        parsed = parse_project(project, wh, command="compile", skip_unsupported=True)
        connect_compiler(parsed.compiler, wh)
        schema = _nested(_catalog(wh.new_cursor()))
        nodes = {u: n for u, n in parsed.project.nodes.items() if n.resource_type == "model"}
        order = TopologicalSorter({u: [d for d in n.depends_on if d in nodes] for u, n in nodes.items()})
        compiled = [(parsed.compiler.compile_node(nodes[u]), parsed.compiler.relation(nodes[u]))
                    for u in order.static_order() if not nodes[u].is_ephemeral]
        started, columns = time.perf_counter(), 0
        for sql, relation in compiled:
            names = list(analyse_select(sql, schema).columns)  # the output columns, and schema for `*` later
            schema.setdefault(relation.database.lower(), {}).setdefault(relation.schema.lower(), {})[
                relation.identifier.lower()] = dict.fromkeys(names, "INT")
            for name in names:
                lineage(name, sql, schema=schema, dialect="duckdb")
                columns += 1
            if time.perf_counter() - started > budget:
                return time.perf_counter() - started, columns, False
        return time.perf_counter() - started, columns, True


def gui_stall(project: Path, warehouse: Path) -> tuple[float, float]:
    """(longest gap between 10 ms GUI ticks, seconds) while the real window traces ``project``'s lineage."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QTimer

    from desktop_app.app import create_app
    from desktop_app.paths import Workspace
    from desktop_app.services.settings import Settings
    from desktop_app.ui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as folder:
        app = create_app()
        window = MainWindow(Workspace(Path(folder)).ensure(), Settings(Path(folder) / "settings.ini"))
        window.show()
        window.studio.project_dir, window.studio.warehouse_path = project, warehouse
        clock, gaps, state = QElapsedTimer(), [], {"last": 0, "done": False}
        clock.start()
        started = time.perf_counter()
        window.models_tab.lineage.with_graph(lambda graph: state.update(done=True, seconds=time.perf_counter()
                                                                        - started))

        def tick() -> None:
            now = clock.elapsed()
            gaps.append(now - state["last"])
            state["last"] = now
            if state["done"] and not window.runner.live_jobs:
                app.quit()

        probe = QTimer()
        probe.setInterval(10)
        probe.timeout.connect(tick)
        probe.start()
        app.exec()
        window.runner.shutdown()
        window.close()
    return max(gaps[1:] or [0]), state.get("seconds", float("nan"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--models", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shop, warehouse = work / "shop.sqlite", work / "shop.duckdb"
        create_shop(shop, scale=args.scale, seed=1)
        with open_source(str(shop)) as source, Warehouse(warehouse) as wh:
            run_ingest(source, wh)
            run_command("build", sql_project_dir(), wh, target_dir=work / "target")
        rows = []
        for label, project, wh_path in (("sql/", sql_project_dir(), warehouse),
                                        (f"{args.models} generated models", None, work / "synthetic.duckdb")):
            if project is None:
                project = synthetic_project(work, wh_path, args.models)
            seconds, columns, edges = ours(project, wh_path)
            alt_seconds, alt_columns, finished = per_column_sqlglot(project, wh_path, budget=max(30.0, 20 * seconds))
            rows.append((label, seconds, columns, edges, alt_seconds, alt_columns, finished))
        stall, window_seconds = gui_stall(project, wh_path)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for label, seconds, columns, edges, alt_seconds, alt_columns, finished in rows:
        rate = alt_seconds / alt_columns if alt_columns else float("nan")
        alt_total = alt_seconds if finished else rate * columns
        note = "" if finished else f" (stopped after {alt_columns:,} columns; extrapolated)"
        print(f"{label}: ours {seconds:.2f} s for {columns:,} model columns, {edges:,} edges; "
              f"sqlglot.lineage per column {alt_total:.2f} s{note}; ratio {alt_total / seconds:.1f}x")
    print(f"peak RSS {peak:.0f} MiB (the whole bench, shop build included)")
    print(f"the window tracing the {args.models}-model project ({window_seconds:.2f} s on a worker thread): "
          f"longest GUI stall {stall:.0f} ms (goal < 100 ms)")
    goals = {"sql/": 1.0, f"{args.models} generated models": 10.0}
    missed = [label for label, seconds, *_ in rows if seconds > goals[label]]
    print("goals: sql/ < 1 s, 300 models < 10 s: " + ("met" if not missed else f"missed for {', '.join(missed)}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

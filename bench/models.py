"""Compatibility check and benchmark: our runner vs real dbt-core 1.11 + dbt-duckdb on ``sql/``.

Creates a demo shop, ingests it, copies the warehouse, then builds the project with ``oltp-olap
build`` on one copy and ``dbt build`` on the other (dbt is installed into bench/.cache/dbt-venv,
outside the project's environment: dbt-core 1.12 cannot install here, so it is pinned below 1.12).
Every relation dbt created must exist in ours as the same kind (view/table) with the same columns
and types in the same order and the same rows (EXCEPT ALL both ways). Prints both build times,
the ratio and peak RSS; exits 1 on any difference. Run: ``uv run python bench/models.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
sys.path.insert(0, str(ROOT))

from bench.portability import build_on_postgres, compare_marts, load_raw, write_profile  # noqa: E402
from tests.servers import postgres_server  # noqa: E402

DBT_PACKAGES = ["dbt-core>=1.11,<1.12", "dbt-duckdb==1.11.1", "duckdb==2.0.1", "dbt-postgres>=1.9,<1.12"]


def dbt_executable() -> Path:
    venv = CACHE / "dbt-venv"
    dbt = venv / "bin" / "dbt"
    if dbt.exists() and (venv / "bin" / "python").exists() and _has_postgres_adapter(venv):
        return dbt
    uv = shutil.which("uv") or "uv"
    subprocess.run([uv, "venv", "-q", "--allow-existing", "-p", sys.executable, str(venv)], check=True)
    subprocess.run([uv, "pip", "install", "-q", "-p", str(venv / "bin" / "python"), *DBT_PACKAGES], check=True)
    return dbt


def _has_postgres_adapter(venv: Path) -> bool:
    return any((venv / "lib").glob("python*/site-packages/dbt/adapters/postgres"))


def relations(path: Path) -> dict[tuple[str, str], dict]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("""
            select t.table_schema, t.table_name, t.table_type
            from information_schema.tables t
            where t.table_schema not in ('raw', '_studio', 'information_schema', 'pg_catalog')""").fetchall()
        out = {}
        for schema, name, kind in rows:
            columns = con.execute("select column_name, data_type from information_schema.columns where "
                                  "table_schema = ? and table_name = ? order by ordinal_position",
                                  [schema, name]).fetchall()
            out[(schema, name)] = {"kind": kind, "columns": columns}
        return out


def compare(ours: Path, theirs: Path) -> list[str]:
    problems = []
    a, b = relations(ours), relations(theirs)
    for key in sorted(set(a) | set(b)):
        label = ".".join(key)
        if key not in a:
            problems.append(f"{label}: built by dbt, missing in ours")
            continue
        if key not in b:
            problems.append(f"{label}: built by ours, not by dbt")
            continue
        if a[key]["kind"] != b[key]["kind"]:
            problems.append(f"{label}: ours is a {a[key]['kind']}, dbt's a {b[key]['kind']}")
        if a[key]["columns"] != b[key]["columns"]:
            problems.append(f"{label}: columns differ: ours {a[key]['columns']} vs dbt {b[key]['columns']}")
            continue
    with duckdb.connect(str(ours), read_only=True) as con:
        con.execute(f"ATTACH '{theirs}' AS dbt_side (READ_ONLY)")
        own = con.execute("select current_database()").fetchall()[0][0]
        for key in sorted(set(a) & set(b)):
            schema, name = key
            for left, right in ((f'"{own}"."{schema}"."{name}"', f'dbt_side."{schema}"."{name}"'),
                                (f'dbt_side."{schema}"."{name}"', f'"{own}"."{schema}"."{name}"')):
                extra = con.execute(f"select count(*) from (select * from {left} except all select * from {right})"
                                    ).fetchall()[0][0]
                if extra:
                    problems.append(f"{schema}.{name}: {extra} rows of {left} not in {right}")
    return problems


def portable(dbt: Path, project: Path, profiles: Path, ours: Path, url: str, when: str) -> list[str]:
    """sql/ built by real dbt-postgres from the raw data our warehouse holds; its marts must equal ours."""
    load_raw(ours, url)
    built = build_on_postgres(dbt, project, profiles)
    if built.returncode != 0:
        return [f"dbt-postgres build failed {when}: {built.stdout[-1500:]}"]
    problems, rows = compare_marts(ours, url)
    print(f"dbt-postgres {when}: {rows:,} mart rows compared with DuckDB's")
    return [f"PostgreSQL {when}: {p}" for p in problems]


def parse_scale(dbt: Path, work: Path) -> tuple[float, float, int]:
    """(our parse seconds, dbt parse seconds, nodes) on a generated 1,000-model project with a package."""
    from bench.parse_scale import generate
    from desktop_app.core.models.parse import parse_project
    from desktop_app.core.olap.warehouse import Warehouse

    project = generate(work)
    warehouse = work / "scale.duckdb"
    (project / "profiles.yml").write_text(f"scale:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                                          f"      path: {warehouse}\n      schema: main\n")
    started = time.perf_counter()
    with Warehouse(warehouse, ensure_metadata=False) as wh:
        parsed = parse_project(project, wh)
    ours = time.perf_counter() - started
    env = {**os.environ, "DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    started = time.perf_counter()
    done = subprocess.run([str(dbt), "parse", "--no-partial-parse", "--project-dir", str(project), "--profiles-dir",
                           str(project)], capture_output=True, text=True, env=env, cwd=project)
    theirs = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"dbt parse failed: {done.stdout[-2000:]}")
    return ours, theirs, len(parsed.project.nodes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--project", type=Path, default=ROOT / "sql")
    args = parser.parse_args()
    from desktop_app.core.ingest.run import run_ingest
    from desktop_app.core.models.runner import run_command
    from desktop_app.core.olap.warehouse import Warehouse
    from desktop_app.core.oltp.demo_shop import create_shop
    from desktop_app.core.oltp.source import open_source

    dbt = dbt_executable()
    with tempfile.TemporaryDirectory(prefix="oltp-olap-dbt-") as folder, contextlib.ExitStack() as stack:
        work = Path(folder)
        shop = work / "shop.sqlite"
        create_shop(shop, scale=args.scale, seed=5)
        (work / "ours").mkdir()
        (work / "dbt").mkdir()
        ours, theirs = work / "ours" / "warehouse.duckdb", work / "dbt" / "warehouse.duckdb"
        with open_source(str(shop)) as source, Warehouse(ours) as wh:
            assert run_ingest(source, wh).ok
        shutil.copy(ours, theirs)
        project = work / "project"
        shutil.copytree(args.project, project, ignore=shutil.ignore_patterns("target", "logs"))
        postgres = stack.enter_context(postgres_server())
        write_profile(work, theirs, postgres)
        started = time.perf_counter()
        with Warehouse(ours) as wh:
            result = run_command("build", project, wh, target_dir=work / "ours-target")
        ours_seconds = time.perf_counter() - started
        env = {**os.environ, "DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        started = time.perf_counter()
        done = subprocess.run([str(dbt), "build", "--project-dir", str(project), "--profiles-dir", str(work)],
                              capture_output=True, text=True, env=env, cwd=project)
        dbt_seconds = time.perf_counter() - started
        if done.returncode != 0:
            print(done.stdout[-3000:], done.stderr[-2000:])
            print("dbt build failed")
            return 1
        problems = compare(ours, theirs)
        problems += portable(dbt, project, work, ours, postgres, "first build")
        counts = result.counts()
        # Second round: the shop changes, both warehouses ingest incrementally, both build incrementally.
        from desktop_app.core.oltp.simulate import simulate_activity

        simulate_activity(shop, orders=300, updates=400, deletes=40, seed=6)
        for path in (ours, theirs):
            with open_source(str(shop)) as source, Warehouse(path) as wh:
                assert run_ingest(source, wh, mode="incremental").ok
        with Warehouse(ours) as wh:
            second = run_command("build", project, wh, target_dir=work / "ours-target")
        again = subprocess.run([str(dbt), "build", "--project-dir", str(project), "--profiles-dir", str(work)],
                               capture_output=True, text=True, env=env, cwd=project)
        if again.returncode != 0 or not second.ok:
            print(again.stdout[-3000:])
            print("incremental round failed")
            return 1
        problems += [f"after the incremental round: {p}" for p in compare(ours, theirs)]
        problems += portable(dbt, project, work, ours, postgres, "after the incremental round")
        parse_ours, parse_dbt, parse_nodes = parse_scale(dbt, work)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"sql/ on a scale-{args.scale} shop: {len(result.results)} nodes ({counts})")
    print(f"oltp-olap build (in process):  {ours_seconds:6.2f} s   peak RSS {peak:.0f} MiB")
    print(f"dbt build (dbt-core 1.11):     {dbt_seconds:6.2f} s")
    print(f"ratio: ours is {dbt_seconds / ours_seconds:.1f}x faster")
    print(f"parse, generated project of {parse_nodes:,} nodes (1,000 models, a 20-file package, tests): "
          f"ours {parse_ours:.2f} s, dbt parse {parse_dbt:.2f} s, ratio {parse_dbt / parse_ours:.1f}x")
    if problems or not result.ok:
        print("DIFFERENCES:" if problems else "our build failed:")
        for problem in problems:
            print("  " + problem)
        return 1
    print("identical: every relation matches dbt's (kind, columns and types in order, rows both ways), "
          "after a first build and after an incremental round")
    print("portable: real dbt-postgres built sql/ from the same raw data; every mart equals DuckDB's, value for "
          "value, after both rounds")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

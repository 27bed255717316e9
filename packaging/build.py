"""Build the one-folder bundle in dist/oltp-olap and report its size (and, with --check, prove it works).

    uv run python packaging/build.py [--check] [--with-tableau]

--check runs the frozen ``--self-test`` and measures how long the frozen window takes to show.
--with-tableau builds the variant with Tableau's Hyper API (``uv sync --extra tableau`` first) in
dist/oltp-olap-tableau, and with --check also exports a Tableau extract from the frozen app.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist" / "oltp-olap"
SIZE_GOAL_MB = 250


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="run the frozen self-test and time the window")
    parser.add_argument("--with-tableau", action="store_true", help="include Tableau's Hyper API (~300 MB)")
    args = parser.parse_args()
    started = time.perf_counter()
    env = {**os.environ, "OLTP_OLAP_WITH_TABLEAU": "1" if args.with_tableau else "0"}
    dist = ROOT / "dist" / "tableau" if args.with_tableau else ROOT / "dist"
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                    "--distpath", str(dist), "--workpath", str(ROOT / "build"),
                    str(ROOT / "packaging" / "oltp-olap.spec")], check=True, cwd=ROOT, env=env)
    bundle = dist / "oltp-olap"
    size = folder_size(bundle)
    print(f"built {bundle} in {time.perf_counter() - started:.0f} s: {size / 1e6:.0f} MB on disk "
          f"({sum(1 for _ in bundle.rglob('*'))} files)" + ("" if args.with_tableau else
                                                            f"; goal < {SIZE_GOAL_MB} MB"))
    if not args.with_tableau and size / 1e6 >= SIZE_GOAL_MB:
        print(f"the default bundle is over {SIZE_GOAL_MB} MB")
        return 1
    if args.with_tableau and args.check:
        return check_tableau(bundle)
    if not args.check:
        return 0
    executable = DIST / ("oltp-olap.exe" if sys.platform == "win32" else "oltp-olap")
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    test = subprocess.run([str(executable), "--self-test"], env=env, cwd=tempfile.gettempdir())
    if test.returncode:
        print("frozen self-test FAILED")
        return 1
    with tempfile.TemporaryDirectory() as home:
        env_home = {**env, "HOME": home, "XDG_DATA_HOME": str(Path(home) / "data")}
        times = []
        for _ in range(3):
            begin = time.perf_counter()
            shown = subprocess.run([str(executable), "--quit-after-show"], env=env_home, capture_output=True,
                                   text=True, cwd=tempfile.gettempdir())
            times.append(time.perf_counter() - begin)
            if shown.returncode:
                print(shown.stderr[-2000:])
                return 1
        workspace = Path(home) / "data" / "oltp-olap" / "workspace"
        assert workspace.exists(), "the first launch must create its workspace in the user's data folder"
        assert not (DIST / "workspace").exists(), "the workspace must never be created next to the executable"
    print(f"frozen window shown and closed in {min(times):.2f} s (best of 3; process start to exit)")
    if check_servers(executable):
        return 1
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    return 0


def check_servers(executable: Path) -> int:
    """The frozen app reads PostgreSQL and MariaDB: inspect and a full ingest from the servers the tests start."""
    sys.path.insert(0, str(ROOT))
    from tests.servers import mariadb_server, postgres_server

    for name, server, table in (
            ("PostgreSQL (psycopg)", postgres_server,
             "CREATE TABLE kunden AS SELECT g AS id, 'Zoë ' || g AS name, (g / 4.0)::numeric(12,2) AS saldo, "
             "now() AS updated_at FROM generate_series(1, 1000) g; ALTER TABLE kunden ADD PRIMARY KEY (id)"),
            ("MariaDB (PyMySQL)", mariadb_server,
             "CREATE TABLE kunden (id int PRIMARY KEY, name varchar(20), saldo decimal(12,2), updated_at datetime(6)) "
             "AS SELECT seq AS id, concat('Zoë ', seq) AS name, seq / 4 AS saldo, now(6) AS updated_at "
             "FROM seq_1_to_1000")):
        with server() as url:
            if _check_server(executable, name, url, table):
                return 1
    return 0


def _check_server(executable: Path, name: str, url: str, table: str) -> int:
    import json

    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for statement in table.split("; "):
            connection.exec_driver_sql(statement)
    engine.dispose()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    with tempfile.TemporaryDirectory() as folder:
        inspected = subprocess.run([str(executable), "inspect", "--oltp", url, "--json"], env=env,
                                   capture_output=True, text=True, cwd=folder)
        ingested = subprocess.run([str(executable), "ingest", "--oltp", url, "--warehouse",
                                   str(Path(folder) / "w.duckdb"), "--tables", "kunden", "--json"], env=env,
                                  capture_output=True, text=True, cwd=folder)
    for step, done in (("inspect", inspected), ("ingest", ingested)):
        if done.returncode:
            print(f"frozen {step} of {name} FAILED: {(done.stderr or done.stdout)[-1500:]}")
            return 1
    loaded = json.loads(ingested.stdout)["tables"][0]
    if (loaded["rows_read"], loaded["reconciliation"]["status"]) != (1000, "equal"):
        print(f"frozen ingest of {name}: unexpected result {loaded}")
        return 1
    print(f"frozen app read {name}: inspect, and 1,000 rows ingested and reconciled")
    return 0


def check_tableau(bundle: Path) -> int:
    """The frozen variant exports a Tableau extract: seed, ingest, build, export --format hyper."""
    executable = bundle / ("oltp-olap.exe" if sys.platform == "win32" else "oltp-olap")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        steps = [["seed", "--oltp", str(root / "shop.sqlite"), "--scale", "0.005"],
                 ["ingest", "--oltp", str(root / "shop.sqlite"), "--warehouse", str(root / "w.duckdb")],
                 ["build", "--warehouse", str(root / "w.duckdb"), "--target-path", str(root / "target")],
                 ["export", "--warehouse", str(root / "w.duckdb"), "--out", str(root / "bi"), "--format", "hyper"]]
        for step in steps:
            done = subprocess.run([str(executable), *step], capture_output=True, text=True)
            if done.returncode:
                print(f"frozen {step[0]} FAILED:\n{done.stdout[-1500:]}{done.stderr[-1500:]}")
                return 1
        extracts = sorted(p.name for p in (root / "bi").glob("*.hyper"))
    print(f"frozen Tableau export wrote {len(extracts)} extracts ({', '.join(extracts[:3])} …)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Build the one-folder bundle in dist/oltp-olap and report its size (and, with --check, prove it works).

    uv run python packaging/build.py [--check]

--check runs the frozen ``--self-test`` and measures how long the frozen window takes to show.
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


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="run the frozen self-test and time the window")
    args = parser.parse_args()
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                    "--distpath", str(ROOT / "dist"), "--workpath", str(ROOT / "build"),
                    str(ROOT / "packaging" / "oltp-olap.spec")], check=True, cwd=ROOT)
    size = folder_size(DIST)
    print(f"built {DIST} in {time.perf_counter() - started:.0f} s: {size / 1e6:.0f} MB on disk "
          f"({sum(1 for _ in DIST.rglob('*'))} files)")
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
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

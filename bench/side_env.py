"""A side Python environment in bench/.cache for a contender that cannot live in the project's
(another DuckDB version, a Rust reader with pyarrow): made once, reused after."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"


def side_python(name: str, packages: list[str]) -> Path | None:
    """The Python of bench/.cache/<name> with ``packages`` installed, or None when they cannot be."""
    venv = CACHE / name
    python = venv / "bin" / "python"
    if python.exists():
        return python
    uv = shutil.which("uv")
    if uv is None:
        return None
    made = subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(venv)], capture_output=True)
    installed = made.returncode == 0 and subprocess.run(
        [uv, "pip", "install", "-q", "-p", str(python), *packages], capture_output=True).returncode == 0
    return python if installed else None

"""The DuckDB database a workbook-to-workbook stage works in: in memory, bounded, spilling to a temp folder.

Without a bound DuckDB keeps every step's table in memory (1.2 GB for stage 2 at scale 1); with one it
writes what does not fit to a folder of its own, removed afterwards.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

STAGE_MEMORY_MB = 300


@contextmanager
def scratch_connection(memory_mb: int = STAGE_MEMORY_MB) -> Iterator[duckdb.DuckDBPyConnection]:
    folder = tempfile.mkdtemp(prefix="oltp-olap-stage-")
    con = duckdb.connect(config={"memory_limit": f"{memory_mb}MB", "temp_directory": folder})
    con.execute("SET enable_progress_bar = false")  # it would draw on the terminal of a worker process
    try:
        yield con
    finally:
        con.close()
        shutil.rmtree(folder, ignore_errors=True)

"""SQLite's memory statistics are off in the app's processes, on the very library Python's sqlite3 uses."""

from __future__ import annotations

import subprocess
import sys

import pytest

ALLOCATE = ("import sqlite3; c = sqlite3.connect(':memory:'); c.execute('create table t (x)'); "
            "c.executemany('insert into t values (?)', [('x' * 1000,)] * 1000); ")
MEMORY_USED = ("import ctypes; a, b = ctypes.c_int64(), ctypes.c_int64(); "
               "ctypes.CDLL('libsqlite3.so.0').sqlite3_status64(0, ctypes.byref(a), ctypes.byref(b), 0); "
               "print(a.value)")


def _run(code: str) -> int:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the library name checked is Linux's")
def test_importing_the_app_turns_sqlite_memory_statistics_off_for_pythons_sqlite3():
    # Without the app, the library by that name counts what Python's sqlite3 allocates: it is the same library.
    assert _run(ALLOCATE + MEMORY_USED) > 1_000_000
    # With the app imported first, the same allocations are no longer counted (nor serialised on a mutex).
    assert _run("import desktop_app; " + ALLOCATE + MEMORY_USED) == 0


def test_once_sqlite_is_initialised_the_switch_is_left_alone():
    # sqlite3 imported before the app: SQLite is initialised, and sqlite3_config would be a misuse.
    assert _run("import sqlite3; import desktop_app.core.sqlite_memstatus as m; "
                "print(int(m.disable_memory_statistics()))") == 0

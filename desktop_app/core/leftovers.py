"""Temporary files that name their writer, and the clean-up of those a killed writer left behind.

Files are written under a temporary name beside their target and renamed into place. A writer killed
with ``kill -9`` never removes its temporary file, so the name carries the writer's process id, and
the next writer of the same kind removes every such file whose process is gone — never one that a
live process (a second window, a CLI run) is still writing.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path


def temp_name(target: Path, kind: str) -> Path:
    """``.<target name>.<pid>.<random>.<kind>`` beside ``target``: hidden, and unique per writer."""
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.{kind}")


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if sys.platform.startswith("win"):
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        ctypes.windll.kernel32.CloseHandle(handle)
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale(target: Path, kind: str) -> list[Path]:
    """Remove the ``temp_name(target, kind)`` files of writers that no longer run; returns them."""
    removed = []
    folder = target.parent
    if not folder.is_dir():
        return removed
    prefix, suffix = f".{target.name}.", f".{kind}"
    for candidate in folder.iterdir():
        name = candidate.name
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        pid = name[len(prefix):-len(suffix)].split(".")[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed

"""Background work yields the CPU to the interactive thread.

On a two-core laptop a load keeps both cores busy (DuckDB's threads and ours); at equal priority the
window's timer wake-ups queue behind them and it stutters. Linux keeps niceness per thread, and a
thread or process started from a niced thread inherits it, so lowering the worker thread once
covers the DuckDB threads and worker processes it starts.
"""

from __future__ import annotations

import os
import sys
import threading

BACKGROUND_NICENESS = 5


def lower_thread_priority(niceness: int = BACKGROUND_NICENESS) -> bool:
    """Set the calling thread's niceness to at least ``niceness`` (never raises priority).

    Returns False where niceness is not per thread (not Linux): the caller picks its own means.
    """
    if not sys.platform.startswith("linux"):
        return False
    thread = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, thread) < niceness:
            os.setpriority(os.PRIO_PROCESS, thread, niceness)
    except OSError:
        pass
    return True

"""Core work in a child process: result, progress, errors, cancel and a dying child all come back."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from desktop_app.core.errors import AppError, Cancelled, ExportError
from desktop_app.core.isolated import WorkerDied, run_isolated
from desktop_app.core.progress import CancelToken, Progress


def add(a, b, *, report, cancel):
    for step in range(3):
        report(Progress("test", step + 1, 3, f"step {step + 1}"))
    return {"sum": a + b, "pid": os.getpid()}


def fail(*, report, cancel):
    raise ExportError("Sheet 'x' is missing.", "Re-run the previous stage.")


class Unpicklable(Exception):
    def __init__(self, a, b):
        super().__init__(f"{a}/{b}")


def fail_oddly(*, report, cancel):
    raise Unpicklable(1, 2)


def wait_for_cancel(*, report, cancel):
    report(Progress("test", 0, 1, "waiting"))
    while True:
        cancel.raise_if_cancelled()
        time.sleep(0.01)


def die(*, report, cancel):
    os._exit(3)


def test_result_and_progress_come_back_from_another_process():
    seen = []
    result = run_isolated(add, 2, b=3, report=seen.append)
    assert result["sum"] == 5 and result["pid"] != os.getpid()
    assert [p.message for p in seen] == ["step 1", "step 2", "step 3"]


def test_errors_keep_their_type_words_and_the_child_traceback():
    with pytest.raises(ExportError) as caught:
        run_isolated(fail)
    assert caught.value.user_message == "Sheet 'x' is missing." and caught.value.hint == "Re-run the previous stage."
    assert "In the worker process" in caught.value.__notes__[0] and "def fail" not in caught.value.__notes__[0]
    assert "fail" in caught.value.__notes__[0]
    with pytest.raises(AppError, match=r"Unpicklable: 1/2"):
        run_isolated(fail_oddly)


def test_cancel_stops_the_child_and_is_not_an_error():
    token = CancelToken()
    started = threading.Event()
    threading.Timer(0.5, token.cancel).start()
    with pytest.raises(Cancelled):
        run_isolated(wait_for_cancel, report=lambda p: started.set(), cancel=token)
    assert started.is_set()


def test_a_child_that_dies_is_reported_not_hung():
    with pytest.raises(WorkerDied, match="exit code 3"):
        run_isolated(die)


def ignore_everything(pid_file, *, report, cancel):
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # like a long native call: no handler can run
    pid_file.write_text(str(os.getpid()))
    report(Progress("test", 0, 1, "busy"))
    time.sleep(600)


def test_a_child_that_ignores_cancel_and_sigterm_is_killed_and_the_cancel_still_counts(tmp_path):
    token = CancelToken()
    pid_file = tmp_path / "pid"
    with pytest.raises(Cancelled):
        run_isolated(ignore_everything, pid_file, report=lambda p: token.cancel(), cancel=token)
    with pytest.raises(ProcessLookupError):  # gone (and reaped), not left sleeping
        os.kill(int(pid_file.read_text()), 0)


def own_niceness(*, report, cancel):
    return os.getpriority(os.PRIO_PROCESS, 0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="niceness is per thread only on Linux")
def test_a_worker_started_from_a_background_thread_is_niced_once_not_twice():
    from desktop_app.core.priority import BACKGROUND_NICENESS, lower_thread_priority

    seen = {}

    def background():
        lower_thread_priority()
        seen["thread"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        seen["child"] = run_isolated(own_niceness)

    worker = threading.Thread(target=background)
    worker.start()
    worker.join()
    assert seen == {"thread": BACKGROUND_NICENESS, "child": BACKGROUND_NICENESS}

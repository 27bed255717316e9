"""Run a core function in a child process, with the same ``report=`` and ``cancel=`` contract.

Why: reading a million-row workbook is Python work, and some of it cannot be cut into short
slices — python-calamine frees a parsed sheet (≈ 15 million cells) in one 90 ms call that holds
the GIL. In the desktop app every GIL hold is a frozen window, so Excel stages 2 and 3 (pure
file → file work that never touches the warehouse) run in a child process with its own GIL, at
lower CPU priority, and their memory is returned to the system when it exits.

Progress and the result travel back over a pipe; cancelling sends a message that the child turns
into its own ``CancelToken`` (interrupting DuckDB), and a child that does not stop within
``CANCEL_GRACE_S`` is terminated — its SIGTERM handler unwinds, so ``atomic_target`` still removes
its temporary file — and killed a second later if native code (a sheet being parsed) holds it. The
child is spawned (not forked: threads and Qt do not survive a fork); a frozen app must call
``multiprocessing.freeze_support()`` first thing.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from desktop_app.core.errors import AppError, Cancelled
from desktop_app.core.priority import BACKGROUND_NICENESS, lower_thread_priority
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Report

CANCEL_GRACE_S = 3.0  # a cancelled child normally stops at its next check or interrupted statement
TERMINATE_GRACE_S = 1.0  # then SIGTERM (unwinds, removing temp files), then SIGKILL


class WorkerDied(AppError):
    """The child process ended without a result (killed, out of memory, crashed)."""


def run_isolated(fn: Callable[..., Any], *args: Any, report: Report = NULL_REPORT, cancel: CancelToken = NEVER,
                 **kwargs: Any) -> Any:
    """``fn(*args, report=…, cancel=…, **kwargs)`` in a spawned child; returns its result or raises its error."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)  # child → parent: progress, then the result or the error
    stop_receiver, stop_sender = context.Pipe(duplex=False)  # parent → child: "cancel"
    process = context.Process(target=_child, args=(sender, stop_receiver, fn, args, kwargs), daemon=True,
                              name=f"oltp-olap {getattr(fn, '__name__', 'worker')}")
    process.start()
    sender.close()
    stop_receiver.close()
    remove = cancel.on_cancel(lambda: _send_quietly(stop_sender, "cancel"))
    try:
        return _serve(process, receiver, report, cancel)
    finally:
        remove()
        stop_sender.close()
        _reap(process)
        receiver.close()


def _send_quietly(connection, message) -> None:
    try:
        connection.send(message)
    except (OSError, ValueError):  # the child has already gone
        pass


def _serve(process, receiver, report: Report, cancel: CancelToken) -> Any:
    cancelled_at: float | None = None
    while True:
        if receiver.poll(0.05):
            try:
                kind, payload = receiver.recv()
            except EOFError:
                break
            if kind == "progress":
                report(payload)
            elif kind == "result":
                return payload
            else:
                raise payload
        elif not process.is_alive():
            break
        if cancel.cancelled:
            cancelled_at = cancelled_at or time.monotonic()
            waited = time.monotonic() - cancelled_at
            if waited > CANCEL_GRACE_S + TERMINATE_GRACE_S:  # stuck in native code: SIGTERM cannot run yet
                process.kill()
            elif waited > CANCEL_GRACE_S:
                process.terminate()
    if cancel.cancelled:
        raise Cancelled()
    process.join(CANCEL_GRACE_S)
    raise WorkerDied(f"The worker process stopped without finishing (exit code {process.exitcode}).",
                     "It may have run out of memory; close other programs and try again.")


def _reap(process) -> None:
    process.join(CANCEL_GRACE_S)
    if process.is_alive():
        process.terminate()
        process.join(TERMINATE_GRACE_S)
    if process.is_alive():
        process.kill()
        process.join()


def _child(sender, stop, fn, args, kwargs) -> None:
    """The child's whole life: run ``fn``, send back progress and then its result or its error."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # unwind, so temporary files are removed
    if not lower_thread_priority() and hasattr(os, "nice"):  # the interactive process keeps priority
        os.nice(BACKGROUND_NICENESS)  # a fresh process elsewhere: relative to the parent's 0
    token = CancelToken()

    def listen() -> None:
        try:
            if stop.recv() == "cancel":
                token.cancel()
        except (EOFError, OSError):  # the parent closed its end: the work is over
            pass

    threading.Thread(target=listen, daemon=True).start()

    def report(progress) -> None:
        sender.send(("progress", progress))

    try:
        result = fn(*args, report=report, cancel=token, **kwargs)
    except BaseException as error:  # every failure goes back to the parent
        sender.send(("error", _portable(error, traceback.format_exc())))
    else:
        sender.send(("result", result))
    finally:
        sender.close()


def _portable(error: BaseException, details: str) -> BaseException:
    """The error itself if it survives pickling, else an AppError with its text; either way it carries
    the child's traceback as a note, for the error dialog's details."""
    try:
        copy = pickle.loads(pickle.dumps(error))
        if str(copy) != str(error):
            raise TypeError("lossy")
    except Exception:  # any exception type may fail to pickle
        copy = AppError(f"{type(error).__name__}: {error}")
    if not isinstance(copy, Cancelled):
        copy.add_note(f"In the worker process:\n{details}")
    return copy

"""One worker abstraction: a ``Job`` runs a core function on a thread pool and reports back
through signals, in order: ``started``, ``progressed``…, exactly one of ``succeeded`` /
``failed`` / ``cancelled``, then ``finished``.

The core function receives ``report=`` and ``cancel=``; progress is throttled to at most ten
rounds of signals a second, always delivering the latest state of each target (the overall figure
and each table are separate targets: one must never hide another). ``JobRunner`` keeps every live
job referenced until it finishes, runs writers on a one-thread lane, can cancel and wait for all of
them at shutdown, and hands a failure that no handler takes to ``unhandledFailure``. ``JobSlot``
holds a widget's current job: starting another cancels it and its late signals never land.
"""

from __future__ import annotations

import itertools
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, QTimer, Signal

from desktop_app.core.errors import Cancelled
from desktop_app.core.priority import lower_thread_priority
from desktop_app.core.progress import CancelToken, Progress

PROGRESS_INTERVAL_S = 0.1


def yield_cpu_to_gui_thread() -> None:
    """Run this job thread below the GUI thread's priority (niceness on Linux, Qt's priority elsewhere)."""
    if not lower_thread_priority():
        QThread.currentThread().setPriority(QThread.Priority.LowPriority)


@dataclass(frozen=True)
class ErrorInfo:
    """A failure as the GUI needs it: the exception and its formatted traceback."""

    error: BaseException
    details: str


class JobSignals(QObject):
    started = Signal()
    progressed = Signal(object)  # Progress
    succeeded = Signal(object)
    failed = Signal(object)  # ErrorInfo
    cancelled = Signal()
    finished = Signal()


class Job(QRunnable):
    """``fn(*args, report=…, cancel=…, **kwargs)`` on a worker thread."""

    _ids = itertools.count(1)

    def __init__(self, fn: Callable[..., Any], *args: Any, title: str = "", **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the runner owns the lifetime, not the pool
        self.id = next(self._ids)
        self.title = title or getattr(fn, "__name__", "job")
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.signals = JobSignals()
        self.cancel_token = CancelToken()
        self.done = threading.Event()
        self.queued = True  # submitted, not yet handed to a thread
        self.lane = ""
        self.failure_handled = False
        self._last_emit = 0.0
        self._pending: dict[str, Progress] = {}
        self._pending_lock = threading.Lock()

    # sentence-like wiring: runner.submit(job).on_success(show).on_failure(explain)
    def on_success(self, slot: Callable[[Any], None]) -> Job:
        self.signals.succeeded.connect(slot)
        return self

    def on_failure(self, slot: Callable[[ErrorInfo], None]) -> Job:
        self.failure_handled = True
        self.signals.failed.connect(slot)
        return self

    def on_cancelled(self, slot: Callable[[], None]) -> Job:
        self.signals.cancelled.connect(slot)
        return self

    def on_progress(self, slot: Callable[[Progress], None]) -> Job:
        self.signals.progressed.connect(slot)
        return self

    def on_finished(self, slot: Callable[[], None]) -> Job:
        self.signals.finished.connect(slot)
        return self

    def cancel(self) -> None:
        self.cancel_token.cancel()

    def _report(self, progress: Progress) -> None:
        with self._pending_lock:  # several threads of one job may report (two tables at a time)
            self._pending[progress.target] = progress
            now = time.monotonic()
            if now - self._last_emit < PROGRESS_INTERVAL_S:
                return
            self._last_emit = now
        self._flush_progress()

    def _flush_progress(self) -> None:
        """Emit the latest progress of every target reported since the last round."""
        with self._pending_lock:
            pending, self._pending = list(self._pending.values()), {}
        for progress in pending:
            self.signals.progressed.emit(progress)

    def run(self) -> None:
        signals = self.signals
        yield_cpu_to_gui_thread()
        try:
            signals.started.emit()
            try:
                result = self.fn(*self.args, report=self._report, cancel=self.cancel_token, **self.kwargs)
            except Cancelled:
                self._flush_progress()
                signals.cancelled.emit()
            except BaseException as error:  # every failure must reach the GUI
                self._flush_progress()
                signals.failed.emit(ErrorInfo(error, traceback.format_exc()))
            else:
                self._flush_progress()
                signals.succeeded.emit(result)
        finally:
            self.done.set()
            signals.finished.emit()


class JobRunner(QObject):
    """Starts jobs on lanes (``writer``: one thread; ``read``: a small pool) and tracks live ones."""

    unhandledFailure = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lanes = {"writer": QThreadPool(self), "read": QThreadPool(self), "preview": QThreadPool(self)}
        self._lanes["writer"].setMaxThreadCount(1)
        self._lanes["read"].setMaxThreadCount(2)
        self._lanes["preview"].setMaxThreadCount(1)  # a preview's cursor is used by one thread in turn
        self._live: dict[int, Job] = {}
        self._closed = False

    @property
    def live_jobs(self) -> list[Job]:
        return list(self._live.values())

    @property
    def writing(self) -> list[Job]:
        """Live jobs that write (the ones closing the window would interrupt)."""
        return [job for job in self._live.values() if job.lane == "writer"]

    def submit(self, job: Job, lane: str = "read") -> Job:
        """Queue ``job``; it starts on the next turn of the event loop.

        Starting later lets the caller wire ``on_success``/``on_failure`` right after ``submit`` without
        a race: a fast job could otherwise finish (and emit) before its handlers are connected.
        After ``shutdown`` nothing new starts: a job submitted by a handler of a job that was just
        cancelled (a refresh after an ingest, say) is dropped, never run and never counted as live.
        """
        if self._closed:
            return job
        job.lane = lane
        self._live[job.id] = job
        job.signals.finished.connect(lambda job_id=job.id: self._live.pop(job_id, None))
        job.signals.failed.connect(lambda info, job=job: self._on_job_failed(job, info))
        QTimer.singleShot(0, lambda: self._start(job, lane))
        return job

    def _on_job_failed(self, job: Job, info: ErrorInfo) -> None:
        """A failure nobody handles is never swallowed: the window logs it and shows it."""
        if not job.failure_handled and not self._closed:
            self.unhandledFailure.emit(job, info)

    def _start(self, job: Job, lane: str) -> None:
        if self._closed or job.id not in self._live:
            return
        job.queued = False
        self._lanes[lane].start(job)

    def cancel_all(self) -> None:
        for job in self.live_jobs:
            job.cancel()

    def shutdown(self, timeout_s: float = 30.0) -> bool:
        """Cancel every job and wait for the threads; True if all stopped in time."""
        self._closed = True
        self.cancel_all()
        deadline = time.monotonic() + timeout_s
        ok = True
        for pool in self._lanes.values():
            remaining_ms = max(0, int((deadline - time.monotonic()) * 1000))
            ok = pool.waitForDone(remaining_ms) and ok
        # Their ``finished`` signals may still be queued for the GUI thread; the work itself has ended.
        self._live = {job_id: job for job_id, job in self._live.items() if not job.done.is_set() and not job.queued}
        return ok


class JobSlot(QObject):
    """A widget's one current job, the way Orange3's ``ConcurrentWidgetMixin`` keeps one task.

    ``start(job)`` cancels the job it held; handlers wired through the slot only ever hear from the
    current job, so a late answer of a cancelled or replaced job never lands on the widget.
    """

    def __init__(self, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.job: Job | None = None

    @property
    def busy(self) -> bool:
        return self.job is not None

    def start(self, job: Job, lane: str = "read", *, on_success=None, on_failure=None, on_progress=None,
              on_cancelled=None, on_finished=None) -> Job:
        self.cancel()
        self.job = job

        def current(slot):
            return lambda *args: slot(*args) if self.job is job else None

        if on_success:
            job.on_success(current(on_success))
        if on_failure:
            job.on_failure(current(on_failure))
        if on_progress:
            job.on_progress(current(on_progress))
        if on_cancelled:
            job.on_cancelled(current(on_cancelled))

        def finished() -> None:
            if self.job is job:
                self.job = None
                if on_finished:
                    on_finished()

        job.on_finished(finished)
        return self.runner.submit(job, lane=lane)

    def cancel(self) -> None:
        """Cancel the current job; it reports nothing more to the widget."""
        job, self.job = self.job, None
        if job is not None:
            job.cancel()

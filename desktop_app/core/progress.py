"""Progress reports and cooperative cancellation, as plain callbacks.

The core never emits Qt signals: it calls ``report(Progress(...))``. The service layer turns
that into a throttled signal, the CLI into rich progress bars, tests into a list.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from desktop_app.core.errors import Cancelled


@dataclass(frozen=True, slots=True)
class Progress:
    """One progress observation: ``done`` of ``total`` units (``total`` None = unknown)."""

    stage: str
    done: float
    total: float | None = None
    message: str = ""
    target: str = ""

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return max(0.0, min(1.0, self.done / self.total))


Report = Callable[[Progress], None]


def NULL_REPORT(progress: Progress) -> None:  # a constant-like default callback
    """Ignore progress (the default for callers that do not care)."""


def scaled(report: Report, start: float, end: float) -> Report:
    """Map a sub-step's 0..1 progress into the ``start``..``end`` slice of its parent."""

    def _report(progress: Progress) -> None:
        fraction = progress.fraction
        if fraction is None:
            report(progress)
            return
        report(Progress(progress.stage, start + (end - start) * fraction, 1.0, progress.message,
                        progress.target))

    return _report


class CancelToken:
    """A thread-safe cancel flag with hooks that interrupt a statement already running.

    Work checks ``raise_if_cancelled()`` between batches; a long SQL statement is stopped by an
    ``on_cancel`` hook such as ``duckdb_connection.interrupt``.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._hooks: list[Callable[[], object]] = []

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            hooks = list(self._hooks)
        for hook in hooks:
            try:
                hook()
            except Exception:  # an interrupt of a finished statement is harmless
                pass

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()

    def on_cancel(self, hook: Callable[[], object]) -> Callable[[], None]:
        """Register ``hook`` (called at once if already cancelled); returns a function that removes it."""
        with self._lock:
            already = self._event.is_set()
            if not already:
                self._hooks.append(hook)
        if already:
            hook()

        def remove() -> None:
            with self._lock:
                if hook in self._hooks:
                    self._hooks.remove(hook)

        return remove


class _NeverCancelled(CancelToken):
    """The default token: it cannot be cancelled, so shared code needs no None checks."""

    def cancel(self) -> None:
        raise RuntimeError("NEVER cannot be cancelled; create a CancelToken")


NEVER = _NeverCancelled()

"""Feedback for one long job: what it is doing, how far (a determinate bar when the work is
countable, a busy bar when not), the time elapsed, Cancel — and, after it ends, an end state that
stays visible until the next run: done (with a summary), cancelled, or failed.

Every long job of the window uses it (ingestion, model builds, the Excel stages, demo re-creation,
simulated activity, Run everything), so they all look and behave alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from desktop_app.core.progress import Progress
from desktop_app.services.jobs import ErrorInfo, Job
from desktop_app.ui import palette
from desktop_app.ui.icons import icon
from desktop_app.ui.widgets.elided_label import ElidedLabel

Describe = Callable[[Progress], "tuple[float | None, str] | None"]


def describe_progress(progress: Progress) -> tuple[float | None, str]:
    """The bar's fraction and the line's text for a progress report (any job)."""
    where = progress.target or progress.stage
    text = f"{where}: {progress.message}" if progress.message and where else (progress.message or where)
    return progress.fraction, text


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


class JobProgress(QWidget):
    """``track(job, "Building the models")``; ``finish_text`` turns a result into the end line."""


    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.job: Job | None = None
        self.title = ""
        self.started = 0.0
        self.state = "idle"  # idle | running | done | failed | cancelled
        self.label = ElidedLabel()
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setFormat("%p %")
        self.bar.setMaximumWidth(220)
        self.bar.setMinimumWidth(120)
        self.elapsed = QLabel()
        self.elapsed.setToolTip("Time elapsed")
        self.cancel_button = QPushButton(icon("cancel"), "Cancel")
        self.cancel_button.setToolTip("Stop this job (Esc); what it was writing is rolled back")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.elapsed)
        layout.addWidget(self.cancel_button)
        self._timer = QTimer(self, interval=500)
        self._timer.timeout.connect(self._tick)
        self._describe: Describe = describe_progress
        self._show_idle()

    def text(self) -> str:
        return self.label.text()

    def track(self, job: Job, title: str, *, describe: Describe | None = None,
              finish_text: Callable[[object], tuple[str, str]] | None = None) -> Job:
        """Follow ``job`` from now on (a job tracked before is no longer shown)."""
        self.job, self.title, self.started, self.state = job, title, time.monotonic(), "running"
        self._describe = describe or describe_progress
        self._set_line(f"{title} …", "running")
        self.bar.setRange(0, 0)  # busy until the first countable progress arrives
        self.bar.show()
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        self.elapsed.setText("0:00")
        self.elapsed.show()
        self._timer.start()

        def mine(slot):
            return lambda *args: slot(*args) if self.job is job else None

        job.on_progress(mine(self._on_progress))
        job.on_success(mine(lambda result: self._end("done", *(finish_text(result) if finish_text
                                                                 else (f"{title}: done", "ok")))))
        job.on_failure(mine(self._on_failed))
        job.on_cancelled(mine(lambda: self._end("cancelled", f"{title}: cancelled", "warn")))
        return job

    def cancel(self) -> None:
        if self.job is not None and self.state == "running":
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self._set_line(f"{self.title}: cancelling …", "warn")

    def _on_progress(self, progress: Progress) -> None:
        described = self._describe(progress)
        if described is None or self.state != "running":
            return
        fraction, text = described
        if fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(fraction * 1000))
        if text and self.cancel_button.isEnabled():
            self._set_line(text, "running")

    def _on_failed(self, info: ErrorInfo) -> None:
        from desktop_app.core.errors import AppError

        message = info.error.user_message if isinstance(info.error, AppError) else f"unexpected error: {info.error}"
        self._end("failed", f"{self.title} failed: {message}", "error")

    def _end(self, state: str, text: str, kind: str) -> None:
        self.state = state
        self._timer.stop()
        seconds = time.monotonic() - self.started
        self.bar.setRange(0, 1000)
        if state == "done":
            self.bar.setValue(1000)
        self.bar.setVisible(state == "done")
        self.cancel_button.hide()
        self.elapsed.setText(_clock(seconds))
        self._set_line(f"{text} (in {seconds:.1f} s)" if state == "done" else text, kind)

    def _tick(self) -> None:
        self.elapsed.setText(_clock(time.monotonic() - self.started))

    def _set_line(self, text: str, kind: str) -> None:
        self.label.setText(text)
        self.label.setStyleSheet(palette.css(kind) if kind != "running" else "")

    def _show_idle(self) -> None:
        self.bar.hide()
        self.cancel_button.hide()
        self.elapsed.hide()
        self.label.setText("")

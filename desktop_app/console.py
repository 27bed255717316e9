"""Console helpers for the headless commands: rich progress bars fed by the core's ``report``
callback, and the one place where an ``AppError`` becomes text on stderr."""

from __future__ import annotations

import sys
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from desktop_app.core.errors import AppError
from desktop_app.core.progress import Progress as CoreProgress

# Written to a file or a pipe, rich would assume 80 columns and cut table cells short ("231,7…"):
# there is no screen to fit, so give it room.
stdout = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
stderr = Console(stderr=True, highlight=False)


def print_error(error: AppError) -> None:
    stderr.print(f"[bold red]error:[/] {error.user_message}", markup=True, soft_wrap=True)
    if error.hint:
        stderr.print(f"  [dim]{error.hint}[/]", markup=True, soft_wrap=True)


@contextmanager
def progress_bars(enabled: bool = True):
    """Yield a ``report`` callback that draws one bar per target (table, stage) on stderr."""
    if not enabled or not sys.stderr.isatty():
        yield lambda progress: None
        return
    columns = (TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[note]}"), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True) as bars:
        tasks: dict[str, int] = {}

        def report(progress: CoreProgress) -> None:
            key = progress.target or progress.stage
            if key not in tasks:
                tasks[key] = bars.add_task(key, total=progress.total, note="")
            bars.update(tasks[key], completed=progress.done, total=progress.total, note=progress.message)

        yield report

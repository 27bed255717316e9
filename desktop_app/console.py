"""Console helpers for the headless commands: rich progress bars fed by the core's ``report``
callback, and the one place where an ``AppError`` becomes text on stderr.

Names and paths are never read as rich markup: both consoles have markup off, and styled output is
built from ``line(("error:", "red"), " ", text)`` parts, so a table called ``[red]`` or a path with
``[/]`` prints as itself (it used to crash the message or vanish).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from desktop_app.core.errors import AppError
from desktop_app.core.progress import Progress as CoreProgress

# Written to a file or a pipe, rich would assume 80 columns and cut table cells short ("231,7…"):
# there is no screen to fit, so give it room.
stdout = Console(highlight=False, markup=False, width=None if sys.stdout.isatty() else 200)
stderr = Console(stderr=True, highlight=False, markup=False)


def line(*parts: str | tuple[str, str]) -> Text:
    """Plain strings and ``(text, style)`` pairs as one line of text: nothing in them is markup."""
    return Text.assemble(*parts)


def print_error(error: AppError) -> None:
    stderr.print(line(("error:", "bold red"), " ", error.user_message), soft_wrap=True)
    if error.hint:
        stderr.print(line("  ", (error.hint, "dim")), soft_wrap=True)


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
                tasks[key] = bars.add_task(Text(key), total=progress.total, note="")
            bars.update(tasks[key], completed=progress.done, total=progress.total, note=Text(progress.message))

        yield report

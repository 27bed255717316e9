"""Safe workbook files: written under a temporary name and renamed, so a failure never leaves a
broken file at the target and never destroys the previous one; unwritable targets are refused
with words before any work is done."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from desktop_app.core.errors import ExportError
from desktop_app.core.leftovers import remove_stale, temp_name


def check_writable(target: Path) -> None:
    folder = target.parent
    if target.is_dir():
        raise ExportError(f"{target} is a folder.", "Choose a file name ending in .xlsx.")
    if not folder.exists():
        raise ExportError(f"The folder {folder} does not exist.", "Create it or choose another folder.")
    if not os.access(folder, os.W_OK):
        raise ExportError(f"Cannot write to {folder}: permission denied.", "Choose a folder you can write to.")
    if target.exists() and not os.access(target, os.W_OK):
        raise ExportError(f"{target} is read-only or locked.",
                          "Close it in your spreadsheet app or choose another name.")


@contextmanager
def atomic_target(target: Path):
    """Yield a temporary path beside ``target``; on success it replaces ``target`` in one rename."""
    target = Path(target)
    check_writable(target)
    remove_stale(target, "tmp")  # what a killed run left
    temp = temp_name(target, "tmp")
    try:
        yield temp
        if target.exists():  # a replaced workbook keeps its permissions; a new one follows the umask
            os.chmod(temp, target.stat().st_mode & 0o7777)
        try:
            os.replace(temp, target)
        except PermissionError:
            raise ExportError(f"Cannot replace {target}: it is open in another program.",
                              "Close it in your spreadsheet app and try again.") from None
    finally:
        temp.unlink(missing_ok=True)

"""Typed errors that carry words for the user.

The core raises these; the CLI and the GUI turn them into a message in exactly one place each.
``user_message`` says what is wrong, ``hint`` says what to do about it. Neither may contain a
password: build them from redacted URLs only.
"""

from __future__ import annotations


class AppError(Exception):
    """An expected failure the user can understand and usually fix."""

    def __init__(self, user_message: str, hint: str = "") -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.user_message} {self.hint}".strip() if self.hint else self.user_message


class SourceError(AppError):
    """The OLTP source cannot be opened or read."""


class WarehouseError(AppError):
    """The DuckDB warehouse cannot be opened, read or written."""


class ModelError(AppError):
    """The dbt-style project cannot be parsed, compiled or built."""


class ExportError(AppError):
    """A workbook cannot be read or written."""


class Cancelled(Exception):  # a state, not an error: cancelling is never an error dialog
    """The user cancelled the work; whatever was being written was rolled back."""

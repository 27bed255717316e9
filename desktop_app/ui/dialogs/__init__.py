"""Dialogs: opening a database by URL."""

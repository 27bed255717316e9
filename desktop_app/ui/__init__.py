"""Widgets only: the main window, one module per tab, dialogs. No SQL and no file parsing here;
all work goes through ``desktop_app.services`` jobs."""

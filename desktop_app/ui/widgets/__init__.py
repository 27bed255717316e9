"""Reusable widgets: charts, the DAG view, inline messages."""

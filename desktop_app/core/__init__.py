"""The Qt-free core: OLTP access, ingestion, the DuckDB warehouse, the model runner, Excel stages.

Nothing here imports Qt (an import-linter contract checks it). Long-running functions take
keyword-only ``report=`` and ``cancel=`` so the CLI, the tests and the GUI share one code path.
"""

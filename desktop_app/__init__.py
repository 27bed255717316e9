"""OLTP → OLAP Studio: move a transactional database into DuckDB and report on it two ways.

The package is layered: ``core`` is pure Python (no Qt), ``services`` bridges Qt to the core
through one job abstraction, ``ui`` holds the widgets, and ``cli`` runs the core headless.
"""

__version__ = "0.1.0"
APP_NAME = "OLTP → OLAP Studio"
APP_ID = "oltp-olap"

# Before any module imports sqlite3: SQLite's memory statistics cost more than half the speed of
# two tables ingested at once (see core/sqlite_memstatus.py).
from desktop_app.core.sqlite_memstatus import disable_memory_statistics  # noqa: E402

disable_memory_statistics()

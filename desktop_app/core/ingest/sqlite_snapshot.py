"""One consistent read of a SQLite file, through as many connections as there are readers.

A table is read in one read transaction, so nothing is lost or doubled while the application
keeps writing. One connection renders on one core; to read a big table on both, a second
connection must see exactly the same state, and Python's ``sqlite3`` has no snapshot API to hand
one over. ``PRAGMA data_version`` proves it instead: a watching connection reads the version
before the first read transaction starts and again after the sibling's has started; if no other
connection committed in between, both transactions began on the same state. In rollback-journal
mode a writer cannot commit while the first holds its shared lock anyway; in WAL mode a commit
in that window is possible, and then no sibling is used (the table is read by one connection).
``arrow_reader()`` proves the same of a reader of the ADBC driver (``core.ingest.adbc_sqlite``),
which keeps its own transaction for all its queries (in rollback-journal mode, ``main``'s shared
lock keeps writers out until the table is read). The driver's readers run in reader processes
(``core.ingest.adbc_process``): its own copy of SQLite must never open a file in this process.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def _begin(connection: sqlite3.Connection) -> sqlite3.Connection:
    connection.isolation_level = None
    connection.execute("BEGIN")
    connection.execute("SELECT count(*) FROM sqlite_master").fetchall()  # takes the snapshot now
    return connection


class Snapshot:
    """``main``: a read transaction on the file; ``sibling()``: another one proven to read the same state."""

    def __init__(self, path: str | os.PathLike) -> None:
        from desktop_app.core.oltp.source import connect_sqlite_readonly, sqlite_readonly_uri

        self._connect = lambda: connect_sqlite_readonly(Path(path))
        self._uri = sqlite_readonly_uri(Path(path))
        self._watch = self._connect()
        self._watch.isolation_level = None
        self._version = self._data_version()
        self.main = _begin(self._connect())
        self.siblings: list[sqlite3.Connection] = []
        self.arrow_readers: list = []

    def _data_version(self) -> int:
        return self._watch.execute("PRAGMA data_version").fetchone()[0]

    def sibling(self) -> sqlite3.Connection | None:
        """A second connection in the same snapshot as ``main``, or None when a commit came between."""
        connection = _begin(self._connect())
        if self._data_version() != self._version:
            connection.close()
            return None
        self.siblings.append(connection)
        return connection

    def arrow_reader(self):
        """A ``ProcessReader`` in the same snapshot as ``main``, or None (no driver, a commit came between,
        the file is locked, the reader process failed)."""
        from desktop_app.core.ingest.adbc_process import ArrowReadError, ProcessReader, available

        if not available():
            return None
        try:
            reader = ProcessReader(self._uri)
        except ArrowReadError:
            return None
        try:
            reader.query("SELECT count(*) FROM sqlite_master", 2)  # takes the snapshot now
        except ArrowReadError:
            reader.close()
            return None
        if self._data_version() != self._version:
            reader.close()
            return None
        self.arrow_readers.append(reader)
        return reader

    def close(self) -> None:
        for reader in self.arrow_readers:
            reader.close()
        for connection in (*self.siblings, self.main, self._watch):
            connection.close()

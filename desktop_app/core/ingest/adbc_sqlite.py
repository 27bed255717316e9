"""SQLite rows straight into Arrow, in C, on as many threads as there are readers.

Rendering rows as CSV text in SQLite and parsing it back in DuckDB (``sqlite_fast``) costs
``format()`` per row: on TPC-H's lineitem that alone is more CPU than DuckDB's own sqlite scanner
spends on the whole database. The Arrow ADBC SQLite driver (Apache Arrow's ``adbc-driver-sqlite``)
reads values with ``sqlite3_column_*`` into Arrow arrays instead. Its Python binding holds the GIL
while it reads, so two readers would take turns; this module calls the driver's C entry points
through ``ctypes``, which releases the GIL for every call, and hands each batch over as a
nanoarrow array (which DuckDB scans without copying to Python objects).

The driver infers each column's Arrow type from the first batch and refuses a later value of
another type (``ArrowReadError``); ``sqlite_typed`` makes the first row decide and falls back to
the rendered path for such a table.
"""

from __future__ import annotations

import ctypes
import importlib.util
import sys
from functools import cache
from pathlib import Path

from nanoarrow._array import CArray
from nanoarrow._array_stream import CArrayStream

_LIBRARY_NAMES = ("libadbc_driver_sqlite.so", "libadbc_driver_sqlite.dylib", "adbc_driver_sqlite.dll")


class ArrowReadError(Exception):
    """The driver refused the query or a value (e.g. a text in a column its first rows typed INT64)."""


class _Error(ctypes.Structure):  # struct AdbcError (ADBC 1.1)
    _fields_ = [("message", ctypes.c_char_p), ("vendor_code", ctypes.c_int32), ("sqlstate", ctypes.c_char * 5),
                ("release", ctypes.c_void_p), ("private_data", ctypes.c_void_p), ("private_driver", ctypes.c_void_p)]


class _Handle(ctypes.Structure):  # struct AdbcDatabase / AdbcConnection / AdbcStatement
    _fields_ = [("private_data", ctypes.c_void_p), ("private_driver", ctypes.c_void_p)]


_GET_NEXT = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
_LAST_ERROR = ctypes.CFUNCTYPE(ctypes.c_char_p, ctypes.c_void_p)
_RELEASE_ERROR = ctypes.CFUNCTYPE(None, ctypes.POINTER(_Error))


def library_path() -> Path | None:
    """The driver's shared library: in the installed wheel, or beside a PyInstaller bundle's modules.

    The package is located, not imported: its ``__init__`` imports the driver manager, which this
    module does not need (and the bundle leaves out).
    """
    folders = []
    spec = importlib.util.find_spec("adbc_driver_sqlite")
    if spec is not None and spec.submodule_search_locations:
        folders += [Path(p) for p in spec.submodule_search_locations]
    if hasattr(sys, "_MEIPASS"):
        folders.append(Path(sys._MEIPASS) / "adbc_driver_sqlite")
    for folder in folders:
        for name in _LIBRARY_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


@cache
def _library() -> ctypes.CDLL | None:
    path = library_path()
    if path is None:
        return None
    try:
        library = ctypes.CDLL(str(path))
    except OSError:
        return None
    for name in ("AdbcDatabaseNew", "AdbcDatabaseSetOption", "AdbcDatabaseInit", "AdbcDatabaseRelease",
                 "AdbcConnectionNew", "AdbcConnectionSetOption", "AdbcConnectionInit", "AdbcConnectionRelease",
                 "AdbcStatementNew", "AdbcStatementSetOption", "AdbcStatementSetSqlQuery",
                 "AdbcStatementExecuteQuery", "AdbcStatementRelease"):
        getattr(library, name).restype = ctypes.c_uint8  # AdbcStatusCode
    return library


def available() -> bool:
    """Whether the driver's library is installed and loads."""
    return _library() is not None


class ArrowReader:
    """One read-only connection of the driver to a SQLite file, in a transaction of its own.

    ``autocommit`` off makes the driver open a transaction, so every query of this reader sees the
    snapshot its first query took (``sqlite_snapshot`` proves that is the main connection's).
    One thread at a time.
    """

    def __init__(self, uri: str) -> None:
        library = _library()
        if library is None:
            raise ArrowReadError("the ADBC SQLite driver is not installed")
        self._lib = library
        self._error = _Error()
        self._database, self._connection = _Handle(), _Handle()
        self._opened: list[tuple[str, _Handle]] = []
        try:
            self._call("AdbcDatabaseNew", self._database)
            self._opened.append(("AdbcDatabaseRelease", self._database))
            self._call("AdbcDatabaseSetOption", self._database, b"uri", uri.encode())
            self._call("AdbcDatabaseInit", self._database)
            self._call("AdbcConnectionNew", self._connection)
            self._call("AdbcConnectionInit", self._connection, self._database)
            self._opened.insert(0, ("AdbcConnectionRelease", self._connection))
            self._call("AdbcConnectionSetOption", self._connection, b"adbc.connection.autocommit", b"false")
        except BaseException:
            self.close()
            raise

    def _call(self, function: str, handle: _Handle, *args) -> None:
        args = tuple(ctypes.byref(a) if isinstance(a, _Handle) else a for a in args)
        code = getattr(self._lib, function)(ctypes.byref(handle), *args, ctypes.byref(self._error))
        if code:
            raise ArrowReadError(self._take_message() or f"{function} failed ({code})")

    def _take_message(self) -> str:
        message = self._error.message.decode("utf-8", "replace") if self._error.message else ""
        if self._error.release:
            _RELEASE_ERROR(self._error.release)(ctypes.byref(self._error))
        self._error = _Error()
        return message

    def query(self, sql: str, batch_rows: int, stop=lambda: False) -> tuple[object, list[CArray]]:
        """(schema, batches) of a query's whole result; ``stop()`` is asked between batches."""
        statement = _Handle()
        self._call("AdbcStatementNew", self._connection, statement)
        try:
            self._call("AdbcStatementSetOption", statement, b"adbc.sqlite.query.batch_rows",
                       str(batch_rows).encode())
            self._call("AdbcStatementSetSqlQuery", statement, sql.encode())
            stream = CArrayStream.allocate()
            affected = ctypes.c_int64()
            self._call("AdbcStatementExecuteQuery", statement, ctypes.c_void_p(stream._addr()),
                       ctypes.byref(affected))
            return self._drain(stream, stop)
        finally:
            self._lib.AdbcStatementRelease(ctypes.byref(statement), ctypes.byref(self._error))
            self._error = _Error()

    @staticmethod
    def _drain(stream: CArrayStream, stop) -> tuple[object, list[CArray]]:
        # struct ArrowArrayStream: get_schema, get_next, get_last_error, release, private_data
        functions = ctypes.cast(stream._addr(), ctypes.POINTER(ctypes.c_void_p * 5)).contents
        get_next, last_error = _GET_NEXT(functions[1]), _LAST_ERROR(functions[2])
        schema = stream.get_schema()
        batches = []
        while not stop():
            batch = CArray.allocate(schema)
            if get_next(stream._addr(), batch._addr()):  # SQLite steps here, without the GIL
                message = last_error(stream._addr())
                raise ArrowReadError(message.decode("utf-8", "replace") if message else "reading failed")
            if not batch.is_valid():  # the end of the stream
                break
            batches.append(batch)
        return schema, batches

    def close(self) -> None:
        for function, handle in self._opened:
            getattr(self._lib, function)(ctypes.byref(handle), ctypes.byref(self._error))
        self._opened = []
        self._error = _Error()


def batches_stream(schema, batches: list[CArray]):
    """An object DuckDB can scan (the Arrow PyCapsule interface) over batches read by ``query``.

    DuckDB may ask for the stream more than once (for the schema, then to scan), so each request
    gets a new stream sharing the batches.
    """

    class Batches:
        def __arrow_c_stream__(self, requested_schema=None):
            return CArrayStream.from_c_arrays(batches, schema, validate=False).__arrow_c_stream__()

    return Batches()

"""Open the DuckDB warehouse file and keep its metadata schema (``_studio``).

One ``Warehouse`` owns one DuckDB connection; threads take their own ``cursor()``. Opening maps
DuckDB's failures to words: a file that is not a DuckDB database, a file another program holds
(DuckDB allows one writing process), a folder, an unwritable path.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import duckdb

from desktop_app.core.errors import WarehouseError
from desktop_app.core.identifiers import qualified, quote

RAW_SCHEMA = "raw"
META_SCHEMA = "_studio"
# The layout of _studio this code writes. Older warehouses are migrated on open (columns added); a newer
# layout, or one whose tables lack columns that cannot be added, is refused with words.
METADATA_VERSION = 1

METADATA_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA};
CREATE SCHEMA IF NOT EXISTS {META_SCHEMA};
CREATE SEQUENCE IF NOT EXISTS {META_SCHEMA}.run_ids;
CREATE TABLE IF NOT EXISTS {META_SCHEMA}.runs (
    run_id       BIGINT PRIMARY KEY,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    source       VARCHAR NOT NULL,
    mode         VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,   -- running | success | failed | cancelled
    error        VARCHAR
);
CREATE TABLE IF NOT EXISTS {META_SCHEMA}.table_loads (
    run_id         BIGINT NOT NULL,
    table_name     VARCHAR NOT NULL,
    mode           VARCHAR NOT NULL,  -- full | incremental
    strategy       VARCHAR NOT NULL,  -- watermark:<col> | key:<col> | full
    rows_read      BIGINT,
    rows_inserted  BIGINT,
    rows_updated   BIGINT,
    rows_deleted   BIGINT,
    seconds        DOUBLE,
    watermark      VARCHAR,
    status         VARCHAR NOT NULL,  -- success | failed | cancelled
    error          VARCHAR,
    notes          VARCHAR,
    PRIMARY KEY (run_id, table_name)
);
CREATE TABLE IF NOT EXISTS {META_SCHEMA}.table_state (
    table_name        VARCHAR PRIMARY KEY,
    strategy          VARCHAR NOT NULL,
    tracking_column   VARCHAR,
    watermark         VARCHAR,
    key_columns       VARCHAR,      -- JSON list
    source_columns    VARCHAR,      -- JSON list of the columns seen last time
    last_run_id       BIGINT,
    updated_at        TIMESTAMP
);
CREATE TABLE IF NOT EXISTS {META_SCHEMA}.layout (
    version      INTEGER NOT NULL,
    migrated_at  TIMESTAMP NOT NULL,
    note         VARCHAR
);
CREATE TABLE IF NOT EXISTS {META_SCHEMA}.reconciliations (
    run_id              BIGINT,            -- NULL for an on-demand `oltp-olap reconcile`
    table_name          VARCHAR NOT NULL,
    checked_at          TIMESTAMP NOT NULL,
    scope               VARCHAR NOT NULL,  -- full | keys
    source_rows         BIGINT,
    warehouse_rows      BIGINT,
    source_checksum     VARCHAR,
    warehouse_checksum  VARCHAR,
    status              VARCHAR NOT NULL,  -- equal | different
    detail              VARCHAR
);
"""


def _expected_columns(cursor) -> dict[str, dict[str, str]]:
    """The columns and types of each ``_studio`` table as METADATA_DDL creates them (read from a scratch
    database, so the layout is stated once, in the DDL)."""
    scratch = duckdb.connect()
    try:
        scratch.execute(METADATA_DDL)
        rows = scratch.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                               "WHERE table_schema = ? ORDER BY table_name, ordinal_position", [META_SCHEMA]).fetchall()
    finally:
        scratch.close()
    expected: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        expected.setdefault(table, {})[column] = kind
    expected.pop("layout", None)
    return expected


# DuckDB would otherwise fetch extensions from the internet on its own (given a SQLite file it tried to
# download sqlite_scanner and said so), and a user's warehouse must never make the app download code.
CONNECTION_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


def _refuse_other_formats(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        return  # a new file, or one DuckDB will explain
    if head.startswith(b"SQLite format 3"):
        raise WarehouseError(f"{path} is a SQLite file, not a DuckDB warehouse.",
                             "Give it as --oltp (the source); the warehouse is a .duckdb file.")


def _describe_open_error(path: Path, err: duckdb.Error) -> WarehouseError:
    text = str(err)
    lowered = text.lower()
    if "lock" in lowered and ("conflicting" in lowered or "could not set" in lowered):
        return WarehouseError(f"The warehouse {path} is in use by another program.",
                              "Close the other program (another oltp-olap, a DuckDB shell, dbt) and try again.")
    if "not a valid duckdb database" in lowered or "invalid" in lowered and "database" in lowered:
        return WarehouseError(f"{path} is not a DuckDB database file.",
                              "Choose a .duckdb file, or a new file name to create a warehouse.")
    if "permission" in lowered or "read-only" in lowered:
        return WarehouseError(f"Cannot write the warehouse {path}: permission denied.",
                              "Choose a folder you can write to.")
    first = text.splitlines()[0] if text else type(err).__name__
    return WarehouseError(f"Cannot open the warehouse {path}: {first}")


class Warehouse:
    """An open warehouse file. Use as a context manager, or call ``close()``."""

    def __init__(self, path: str | Path, *, read_only: bool = False, must_exist: bool = False,
                 ensure_metadata: bool = True) -> None:
        """``must_exist``: for work that reads a warehouse, so a mistyped path is an error instead of a new,
        empty warehouse file left behind. ``ensure_metadata``: create the raw and ``_studio`` schemas
        (work that only reads must not add them to someone else's warehouse)."""
        self.path = Path(path).expanduser()
        if self.path.is_dir():
            raise WarehouseError(f"{self.path} is a folder.", "Give a file name such as warehouse.duckdb.")
        if (read_only or must_exist) and not self.path.exists():
            raise WarehouseError(f"No warehouse at {self.path}.",
                                 "Check the path, or run `oltp-olap ingest` first to create it.")
        if not self.path.parent.exists():
            raise WarehouseError(f"The folder {self.path.parent} does not exist.", "Create it or choose another path.")
        _refuse_other_formats(self.path)
        try:
            self.connection = duckdb.connect(str(self.path), read_only=read_only, config=CONNECTION_CONFIG)
        except duckdb.Error as err:
            raise _describe_open_error(self.path, err) from None
        self.read_only = read_only
        self._local = threading.local()
        if not read_only and ensure_metadata:
            self._ensure_metadata()

    @classmethod
    def for_reading(cls, path: str | Path) -> Warehouse:
        """An existing warehouse, for work that only reads it.

        Opened writable without touching it, so it shares DuckDB's in-process database with a writer
        job of the window (DuckDB refuses a second, read-only configuration of a file a process has
        open); a file this user may not write is opened read-only instead of refused.
        """
        path = Path(path).expanduser()
        if path.exists() and not os.access(path, os.W_OK):
            return cls(path, read_only=True)
        return cls(path, must_exist=True, ensure_metadata=False)

    def _ensure_metadata(self) -> None:
        """Create the raw and metadata schemas if missing, and bring an older ``_studio`` up to this
        layout. Two jobs of one process may open the warehouse at the same moment; their identical DDL
        can then conflict in DuckDB's catalog, which is harmless: the other one created it, so try again
        once it committed."""
        for attempt in range(5):
            try:
                self.connection.execute(METADATA_DDL)
                break
            except duckdb.TransactionException:
                if attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))
        self._migrate_metadata()

    def _migrate_metadata(self) -> None:
        """Columns an older layout lacks are added (their old rows get NULL); a layout newer than this
        code, or a column whose type changed, is refused — history is never silently lost."""
        cursor = self.connection.cursor()
        try:
            versions = [r[0] for r in cursor.execute(
                f"SELECT version FROM {META_SCHEMA}.layout").fetchall()]  # noqa: S608 - a constant schema name
            if versions and max(versions) > METADATA_VERSION:
                raise WarehouseError(f"{self.path} was written by a newer version of the app (metadata layout "
                                     f"{max(versions)}; this one knows {METADATA_VERSION}).",
                                     "Update the app, or use another warehouse file.")
            if versions and max(versions) == METADATA_VERSION:
                return
            expected = _expected_columns(cursor)
            added = []
            for table, columns in expected.items():
                present = dict(cursor.execute(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
                    "AND table_name = ?", [META_SCHEMA, table]).fetchall())
                for column, kind in columns.items():
                    if column not in present:
                        cursor.execute(f"ALTER TABLE {qualified(META_SCHEMA, table)} ADD COLUMN {quote(column)} {kind}")
                        added.append(f"{table}.{column}")
                    elif present[column] != kind:
                        raise WarehouseError(
                            f"{self.path} has run history in a layout this app cannot read "
                            f"({META_SCHEMA}.{table}.{column} is {present[column]}, not {kind}).",
                            "Use a new warehouse file, or drop the _studio schema to start its history afresh.")
            cursor.execute(f"INSERT INTO {META_SCHEMA}.layout VALUES (?, now()::TIMESTAMP, ?)",  # noqa: S608
                           [METADATA_VERSION, f"added {', '.join(added)}" if added else None])
        finally:
            cursor.close()

    @property
    def catalog(self) -> str:
        """DuckDB's catalog name for the file (what dbt-duckdb calls the database)."""
        return self.connection.execute("select current_database()").fetchall()[0][0]

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread (DuckDB connections are not shared across threads)."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self.connection.cursor()
        return cursor

    def new_cursor(self) -> duckdb.DuckDBPyConnection:
        return self.connection.cursor()

    def table_exists(self, schema: str, table: str) -> bool:
        row = self.cursor().execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table]).fetchall()[0]
        return bool(row[0])

    def columns(self, schema: str, table: str) -> list[tuple[str, str]]:
        """(name, DuckDB type) of a table's columns, in order."""
        return [(r[0], r[1]) for r in self.cursor().execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position", [schema, table]).fetchall()]

    def raw_tables(self) -> list[str]:
        return [r[0] for r in self.cursor().execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1",
            [RAW_SCHEMA]).fetchall()]

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

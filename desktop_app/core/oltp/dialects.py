"""What differs between the source databases, in one place per dialect.

A dialect says how to take one consistent snapshot for a table's reads, how to stop a statement
that is running when the user cancels, which value loaders its driver needs, whether a primary key
keeps NULL out of its columns, and which of its error texts mean something the user can act on.
The rest of the app asks the dialect instead of testing the dialect's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True)
class Dialect:
    """The default: any SQLAlchemy dialect, read in one transaction at its default isolation."""

    name: str
    probe: str = "select 1"  # a cheap query that proves the source answers
    raw_cursor: bool = False  # read rows through the driver's own cursor (no per-row SQLAlchemy objects)
    # (a pattern of the driver's message, what it means, what to do): the first match wins; the texts may
    # use {label} (the source, never its password) and {text} (the driver's first line)
    error_words: tuple[tuple[str, str, str], ...] = ()

    def begin_snapshot(self, connection: sa.Connection) -> None:
        """Start the read transaction every read of one table happens in."""
        connection.begin()

    def interrupter(self, connection: sa.Connection) -> Callable[[], None]:
        """A function that stops the statement running on ``connection`` (from another thread)."""
        return lambda: None

    def on_engine(self, engine: sa.Engine) -> None:
        """Adjust a new engine (value loaders, session settings)."""

    def key_excludes_null(self, declared_type: str, primary_key: tuple[str, ...]) -> bool:
        """Whether a primary-key column holds no NULL although it is not declared NOT NULL."""
        return True

    def read_as_text(self, sa_type: Any) -> str | None:
        """The DuckDB type to cast a column's text to when the server's text is both exact and much cheaper
        than the driver's Python objects; None: read the driver's values."""
        return None

    def open_writers_since(self, connection: sa.Connection) -> tuple[Any, Any] | None:
        """(aware, naive in the session's zone) start time of the oldest transaction that has written and
        is still open, as seen from the snapshot; None when there is none or the database cannot say."""
        return None

    def explain(self, text: str) -> tuple[str, str] | None:
        """(what is wrong, what to do) for a driver message this dialect knows, else None."""
        for pattern, what, todo in self.error_words:
            if re.search(pattern, text, flags=re.IGNORECASE):
                return what, todo
        return None


class _SQLite(Dialect):
    def begin_snapshot(self, connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN")  # one read transaction = one WAL snapshot

    def interrupter(self, connection: sa.Connection) -> Callable[[], None]:
        return connection.connection.dbapi_connection.interrupt

    def key_excludes_null(self, declared_type: str, primary_key: tuple[str, ...]) -> bool:
        # Only the row id alias (a lone INTEGER PRIMARY KEY): SQLite's other key columns accept NULL.
        return len(primary_key) == 1 and declared_type.upper() == "INTEGER"


class _PostgreSQL(Dialect):
    def begin_snapshot(self, connection: sa.Connection) -> None:
        connection.begin()
        connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        # Dates and times are read as text (read_as_text): make it ISO whatever the server's DateStyle
        # ('SQL, DMY' writes 01/02/2025, which DuckDB would read as January 2nd).
        connection.exec_driver_sql("SET LOCAL DateStyle = 'ISO, YMD'")

    def interrupter(self, connection: sa.Connection) -> Callable[[], None]:
        raw: Any = connection.connection.dbapi_connection
        cancel = getattr(raw, "cancel", None)  # psycopg sends the server a cancel request
        return cancel if cancel is not None else (lambda: None)

    def read_as_text(self, sa_type: Any) -> str | None:
        # Timestamps and dates: PostgreSQL's ISO text (±infinity included) is what DuckDB casts exactly,
        # while psycopg's objects cost a Python call each (the ±infinity loaders) and a trip back to text:
        # 42 s against 6.5 s for pandas on a 2.4M-row shop, before this.
        if isinstance(sa_type, sa.DateTime):
            return "TIMESTAMPTZ" if getattr(sa_type, "timezone", False) else "TIMESTAMP"
        if isinstance(sa_type, sa.Date):
            return "DATE"
        return None

    def open_writers_since(self, connection: sa.Connection) -> tuple[Any, Any] | None:
        # Rows an open transaction stamped with now() (its start) are invisible to this snapshot and may
        # commit later: a mark at or below its start catches them. Other roles' sessions are visible only
        # with pg_read_all_stats; without it the look-back window is what protects the load.
        row = connection.exec_driver_sql(
            "select min(xact_start), min(xact_start) at time zone current_setting('TimeZone') "
            "from pg_stat_activity where backend_xid is not null and pid <> pg_backend_pid()").first()
        return (row[0], row[1]) if row is not None and row[0] is not None else None

    def on_engine(self, engine: sa.Engine) -> None:
        if engine.dialect.driver == "psycopg":
            from desktop_app.core.oltp import postgres

            sa.event.listen(engine, "connect", lambda connection, _record: postgres.register_loaders(connection))


class _MySQL(Dialect):
    """MySQL and MariaDB (InnoDB): one consistent snapshot per table, cancel by ``KILL QUERY``."""

    def begin_snapshot(self, connection: sa.Connection) -> None:
        connection.begin()
        connection.exec_driver_sql("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        # the snapshot is taken now, not at the first read, so every read of the table sees one moment
        connection.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")

    def interrupter(self, connection: sa.Connection) -> Callable[[], None]:
        """``KILL QUERY`` from a second connection: the server stops the statement, and the reading
        connection gets an error at once (a streamed read is otherwise only stopped between batches)."""
        raw: Any = connection.connection.dbapi_connection
        thread_id = raw.thread_id() if callable(getattr(raw, "thread_id", None)) else raw.connection_id
        engine = connection.engine

        def kill() -> None:
            try:
                with engine.connect() as other:
                    other.exec_driver_sql(f"KILL QUERY {int(thread_id)}")
            except sa.exc.SQLAlchemyError:
                pass  # the statement had ended, or the server is gone: nothing left to stop

        return kill

    def open_writers_since(self, connection: sa.Connection) -> tuple[Any, Any] | None:
        # InnoDB's open transactions that have written (a read-only one has no trx_rows_modified); the
        # list needs the PROCESS privilege: without it the look-back window protects the load.
        try:
            row = connection.exec_driver_sql(
                "SELECT MIN(trx_started) FROM information_schema.innodb_trx "
                "WHERE trx_mysql_thread_id <> CONNECTION_ID() AND trx_rows_modified > 0").first()
        except sa.exc.DBAPIError:
            return None
        return (row[0], row[0]) if row is not None and row[0] is not None else None


SQLITE_ERRORS = (
    ("database (table )?is locked", "{label} is locked by another program.",
     "Wait for it to finish writing (or close it), then try again."),
    ("malformed|not a database|disk image", "{label} is corrupt: {text}.",
     "Restore the file from a backup or re-create it."),
    ("readonly database|read-only database",
     "{label} has an unfinished write (a hot journal beside it) that only a writer can roll back, and sources "
     "are opened read-only.",
     "Open it once with its own application, or run `sqlite3 FILE 'PRAGMA quick_check'`, to finish that write; "
     "then try again."),
    ("unable to open", "Cannot open {label}: {text}.", "Check the path and its permissions."),
    ("could not decode to utf-8", "{label} holds text that is not valid UTF-8 ({text}).",
     "Correct that value in the source, or leave its table out of the load."),
)

# Said when connecting or while reading; other errors keep the driver's own words. The first match wins.
SERVER_ERRORS = (
    ("statement timeout|max_statement_time|maximum statement execution time",
     "{label} stopped the statement: it ran past the server's statement time limit ({text}).",
     "Raise the limit for this user (PostgreSQL statement_timeout, MySQL max_execution_time, MariaDB "
     "max_statement_time), or load the table when the server is less busy."),
    ("canceling statement due to user request|query execution was interrupted",
     "The statement on {label} was cancelled ({text}).", ""),
    ("server closed the connection|lost connection to (mysql|mariadb)? ?server|server has gone away|"
     "terminating connection due to administrator command|consuming input failed|connection is (lost|closed)",
     "The connection to {label} was lost while reading ({text}).",
     "Nothing of the table was kept (its load is one transaction): run the load again once the server is back."),
    ("password authentication failed|access denied for user", "{label} refused the user name or password.",
     "Check the user and password in the URL (the password is never shown)."),
    ('database "[^"]*" does not exist|unknown database', "{label}: {text}.", "Check the database name in the URL."),
    ("connection refused|can't connect|could not connect|could not translate host name|name or service not known",
     "Cannot connect to {label}: {text}", "Check that the server is running, and the host and port."),
)

SQLITE = _SQLite("sqlite", probe="select count(*) from sqlite_master", raw_cursor=True, error_words=SQLITE_ERRORS)
POSTGRESQL = _PostgreSQL("postgresql", error_words=SERVER_ERRORS)
MYSQL = _MySQL("mysql", error_words=SERVER_ERRORS)
MARIADB = _MySQL("mariadb", error_words=SERVER_ERRORS)
_KNOWN = {d.name: d for d in (SQLITE, POSTGRESQL, MYSQL, MARIADB)}


def dialect_named(name: str) -> Dialect:
    return _KNOWN.get(name) or Dialect(name, error_words=SERVER_ERRORS)

"""Open an OLTP source read-only and turn every way it can fail into words.

A source is a path to a SQLite file or any SQLAlchemy URL. SQLite files are checked before
SQLite sees them (exists, is a file, non-empty, has the SQLite header, is not truncated) and are
then opened with ``mode=ro`` so that inspecting or ingesting can never modify them. A URL's
password never appears in a message: messages use ``redacted`` forms only.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from desktop_app.core.errors import SourceError
from desktop_app.core.oltp.dialects import Dialect, dialect_named

SQLITE_HEADER = b"SQLite format 3\x00"
# Query parameters that carry a secret (libpq's password and sslpassword, MySQL's passwd, tokens …).
SECRET_PARAMETER_WORDS = ("pass", "pwd", "secret", "token", "credential", "api_key", "apikey", "auth")
BUSY_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class SourceSpec:
    """Where a source is: a SQLite file path or a SQLAlchemy URL (kept with its password)."""

    sqlite_path: Path | None = None
    url: sa.URL | None = None

    @property
    def label(self) -> str:
        """A display name that never contains a password."""
        if self.sqlite_path is not None:
            return str(self.sqlite_path)
        assert self.url is not None
        return redacted_url(self.url)

    @property
    def secrets(self) -> list[str]:
        """Every secret the URL carries (its password and secret query values), to scrub from messages."""
        if self.url is None:
            return []
        found = [str(self.url.password)] if self.url.password else []
        for key, value in self.url.query.items():
            if is_secret_parameter(key):
                found += [value] if isinstance(value, str) else list(value)
        return [s for s in found if s]

    @property
    def dialect(self) -> str:
        return "sqlite" if self.sqlite_path is not None else self.url.get_backend_name()

    @property
    def rules(self) -> Dialect:
        """How this dialect snapshots, cancels, loads values and words its errors."""
        return dialect_named(self.dialect)


def is_secret_parameter(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_PARAMETER_WORDS)


def redacted_url(url: sa.URL) -> str:
    """``url`` as text with its password and every secret-bearing query value shown as ``***``."""
    query = {key: ("***" if is_secret_parameter(key) else value) for key, value in url.query.items()}
    return url.set(query=query).render_as_string(hide_password=True)


def parse_source(text: str) -> SourceSpec:
    """Interpret ``text`` as a SQLAlchemy URL (``scheme://…``) or else as a SQLite file path."""
    text = text.strip()
    if not text:
        raise SourceError("No source given.", "Pass a SQLite file path or a database URL.")
    if "://" not in text:
        return SourceSpec(sqlite_path=Path(text).expanduser())
    try:
        url = sa.make_url(text)
    except (sa_exc.ArgumentError, ValueError):
        # The text itself may hold a password, so it is not echoed back.
        raise SourceError(
            "The database URL is malformed.",
            "Use the form dialect+driver://user:password@host:port/database, "
            "e.g. postgresql+psycopg://me@localhost/shop or sqlite:///shop.sqlite.",
        ) from None
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:":
            raise SourceError("A SQLite URL must name a database file.", "Example: sqlite:///shop.sqlite")
        return SourceSpec(sqlite_path=Path(database).expanduser())
    return SourceSpec(url=url)


def check_sqlite_file(path: Path) -> None:
    """Refuse anything that is not a readable, complete SQLite database file."""
    if not path.exists():
        raise SourceError(f"No such file: {path}", "Check the path, or create the demo shop with `oltp-olap seed`.")
    if path.is_dir():
        raise SourceError(f"{path} is a folder, not a database file.", "Choose the .sqlite/.db file inside it.")
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            header = handle.read(100)
    except PermissionError:
        raise SourceError(f"Permission denied reading {path}.", "Check the file's permissions.") from None
    except OSError as err:
        raise SourceError(f"Cannot read {path}: {err.strerror}.") from None
    if size == 0:
        raise SourceError(f"{path} is empty (0 bytes), not a SQLite database.",
                          "Choose another file, or create the demo shop with `oltp-olap seed`.")
    if not header.startswith(SQLITE_HEADER):
        raise SourceError(f"{path} is not a SQLite database (its header is wrong).",
                          "Choose a SQLite file, or pass a database URL instead.")
    if len(header) < 100:
        raise SourceError(f"{path} is truncated: its 100-byte header is incomplete.",
                          "Restore the file from a backup or re-create it.")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    page_count = int.from_bytes(header[28:32], "big")
    # The in-header page count is valid when the change counters agree (SQLite ≥ 3.7.0 writers).
    if header[24:28] == header[92:96] and page_count and size < page_size * page_count:
        raise SourceError(
            f"{path} is truncated: the header promises {page_size * page_count:,} bytes but the file "
            f"has {size:,}.",
            "Restore the file from a backup or re-create it.",
        )


def sqlite_readonly_uri(path: Path) -> str:
    """A ``file:`` URI that opens ``path`` read-only, with every special character escaped."""
    return "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"


def connect_sqlite_readonly(path: Path) -> sqlite3.Connection:
    """A raw read-only sqlite3 connection (after ``check_sqlite_file``)."""
    check_sqlite_file(path)
    connection = sqlite3.connect(sqlite_readonly_uri(path), uri=True, timeout=BUSY_TIMEOUT_S,
                                 check_same_thread=False)
    return connection


def create_engine(spec: SourceSpec) -> sa.Engine:
    """A SQLAlchemy engine for ``spec``; SQLite files are opened read-only."""
    if spec.sqlite_path is not None:
        path = spec.sqlite_path
        check_sqlite_file(path)
        uri = sqlite_readonly_uri(path)
        return sa.create_engine(
            "sqlite+pysqlite://",
            creator=lambda: sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False),
            poolclass=sa.pool.NullPool,
        )
    try:
        engine = sa.create_engine(spec.url, pool_pre_ping=True)
    except sa_exc.NoSuchModuleError:
        raise SourceError(f"Unknown database dialect {spec.url.drivername!r}.",
                          "Use e.g. postgresql+psycopg://, mysql+pymysql:// or sqlite:///.") from None
    except ModuleNotFoundError as err:
        raise SourceError(f"The database driver {err.name!r} for {spec.url.drivername} is not installed.",
                          "Install it into the environment or choose another driver.") from None
    spec.rules.on_engine(engine)
    return engine


def describe_db_error(err: BaseException, spec: SourceSpec) -> SourceError:
    """Translate a DBAPI/SQLAlchemy error into a ``SourceError`` that names the source, not its password."""
    original = getattr(err, "orig", None) or err
    text = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    for secret in spec.secrets:
        text = text.replace(secret, "***")
    label = spec.label
    known = spec.rules.explain(text)
    if known is not None:
        what, todo = known
        return SourceError(what.format(label=label, text=text), todo)
    if spec.url is not None:
        if isinstance(err, sa_exc.OperationalError | sa_exc.InterfaceError):
            return SourceError(f"Cannot connect to {label}: {text}",
                               "Check that the server is running and the host, port, user and password.")
    return SourceError(f"Database error on {label}: {text}")


def diagnose_sqlite(path: Path, err: BaseException) -> SourceError:
    """Words for a failure reading a SQLite file. A damaged page can surface as 'database disk image is
    malformed', as 'out of memory' (SQLite reads a corrupt length) or as text that is not UTF-8, so the
    file's own check decides: a file that fails ``PRAGMA quick_check`` is corrupt, whatever the symptom."""
    problem = None
    try:
        with sqlite3.connect(sqlite_readonly_uri(path), uri=True, timeout=BUSY_TIMEOUT_S) as db:
            found = [row[0] for row in db.execute("PRAGMA quick_check(3)").fetchall()]
        lines = [line for row in found for line in row.splitlines() if line and not line.startswith("***")]
        problem = None if found == ["ok"] else "; ".join(lines[:2]) + ("; …" if len(lines) > 2 else "")
    except (sqlite3.Error, MemoryError) as check_err:
        problem = str(check_err) or type(check_err).__name__
    if problem:
        return SourceError(f"{path} is corrupt: {problem}.", "Restore the file from a backup or re-create it.")
    return describe_db_error(err, SourceSpec(sqlite_path=path)) if isinstance(err, sqlite3.Error) else \
        SourceError(f"Reading {path} failed: {type(err).__name__}: {err}")


@contextmanager
def translated_errors(spec: SourceSpec):
    """Re-raise database errors inside the block as ``SourceError`` with words for the user."""
    try:
        yield
    except SourceError:
        raise
    except (sa_exc.DBAPIError, sa_exc.SQLAlchemyError, sqlite3.Error, MemoryError) as err:
        if spec.sqlite_path is not None and _may_be_damage(err):
            raise diagnose_sqlite(spec.sqlite_path, err) from None
        if isinstance(err, MemoryError):
            raise
        raise describe_db_error(err, spec) from None


def _may_be_damage(err: BaseException) -> bool:
    text = str(getattr(err, "orig", None) or err).lower()
    return isinstance(err, MemoryError) or any(word in text for word in ("malformed", "not a database", "utf-8",
                                                                          "out of memory", "disk image"))


class Source:
    """An open OLTP source: a spec plus its engine. Use as a context manager to dispose of it."""

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec
        self.engine = create_engine(spec)

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def dialect(self) -> str:
        return self.spec.dialect

    @property
    def rules(self) -> Dialect:
        return self.spec.rules

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(text_or_spec: str | Path | SourceSpec) -> Source:
    """Open a source and prove it answers (a cheap query), or raise ``SourceError``."""
    if isinstance(text_or_spec, SourceSpec):
        spec = text_or_spec
    elif isinstance(text_or_spec, Path):
        spec = SourceSpec(sqlite_path=text_or_spec)
    else:
        spec = parse_source(text_or_spec)
    source = Source(spec)
    try:
        with translated_errors(spec), source.engine.connect() as connection:
            # SQLite's touches the schema: it fails now on a corrupt or locked file, not mid-way later.
            connection.exec_driver_sql(spec.rules.probe).scalar()
    except BaseException:
        source.close()
        raise
    return source

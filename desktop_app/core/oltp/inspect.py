"""Schema inspection of any source through SQLAlchemy's inspector: tables, row counts,
columns (declared type, nullable, default), primary keys, foreign keys and indexes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import sqlalchemy as sa
from sqlalchemy.sql import quoted_name

from desktop_app.core.errors import SourceError
from desktop_app.core.oltp.source import Source, translated_errors
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Progress, Report


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    declared_type: str
    nullable: bool
    default: str | None
    primary_key: bool
    read_as: str | None = None  # read as the server's text and cast by DuckDB to this type (``dialects``)


@dataclass(frozen=True)
class ForeignKeyInfo:
    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]


@dataclass(frozen=True)
class TableInfo:
    name: str
    row_count: int | None
    columns: tuple[ColumnInfo, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKeyInfo, ...] = ()
    indexes: tuple[str, ...] = ()

    def column(self, name: str) -> ColumnInfo:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


@dataclass(frozen=True)
class SourceInfo:
    label: str
    dialect: str
    tables: tuple[TableInfo, ...] = field(default_factory=tuple)

    def table(self, name: str) -> TableInfo:
        for table in self.tables:
            if table.name == name:
                return table
        raise SourceError(f"No table {name!r} in {self.label}.",
                          f"Known tables: {', '.join(t.name for t in self.tables) or '(none)'}.")

    def to_dict(self) -> dict:
        return asdict(self)


def list_tables(source: Source) -> list[str]:
    """User tables of the source's default schema, in name order (SQLite internals excluded)."""
    with translated_errors(source.spec):
        names = sa.inspect(source.engine).get_table_names()
    return sorted(name for name in names if not name.startswith("sqlite_"))


def count_rows(source: Source, table: str, connection: sa.Connection | None = None) -> int:
    statement = sa.select(sa.func.count()).select_from(sa.table(quoted_name(table, True)))
    with translated_errors(source.spec):
        if connection is not None:
            return int(connection.execute(statement).scalar_one())
        with source.engine.connect() as own:
            return int(own.execute(statement).scalar_one())


def inspect_table(source: Source, name: str, *, with_count: bool = True,
                  inspector: sa.Inspector | None = None, connection: sa.Connection | None = None) -> TableInfo:
    """Describe one table; raises ``SourceError`` if it does not exist."""
    with translated_errors(source.spec):
        inspector = inspector or sa.inspect(source.engine)
        if not inspector.has_table(name):
            raise SourceError(f"No table {name!r} in {source.label}.", "Run `oltp-olap inspect` to list tables.")
        pk = tuple(inspector.get_pk_constraint(name).get("constrained_columns") or ())
        reflected = inspector.get_columns(name)
        columns = tuple(
            ColumnInfo(
                name=col["name"],
                declared_type=_declared_type(col["type"]),
                nullable=bool(col.get("nullable", True)) and not _key_excludes_null(source, col, pk),
                default=None if col.get("default") is None else str(col["default"]),
                primary_key=col["name"] in pk,
                read_as=source.rules.read_as_text(col["type"]),
            )
            for col in reflected
        )
        fks = tuple(
            ForeignKeyInfo(tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
            for fk in inspector.get_foreign_keys(name)
        )
        indexes = tuple(sorted(ix["name"] for ix in inspector.get_indexes(name) if ix.get("name")))
    row_count = count_rows(source, name, connection) if with_count else None
    return TableInfo(name, row_count, columns, pk, fks, indexes)


def inspect_source(source: Source, *, tables: list[str] | None = None, with_counts: bool = True,
                   report: Report = NULL_REPORT, cancel: CancelToken = NEVER) -> SourceInfo:
    """Describe the whole source (or the named tables), counting rows if asked."""
    names = tables if tables is not None else list_tables(source)
    with translated_errors(source.spec):
        inspector = sa.inspect(source.engine)
        infos = []
        with source.engine.connect() as connection:
            for index, name in enumerate(names):
                cancel.raise_if_cancelled()
                report(Progress("inspect", index, len(names), f"Inspecting {name}", name))
                infos.append(inspect_table(source, name, with_count=with_counts, inspector=inspector,
                                           connection=connection))
    report(Progress("inspect", len(names), len(names), "Inspected"))
    return SourceInfo(source.label, source.dialect, tuple(infos))


def _key_excludes_null(source: Source, column: dict, pk: tuple[str, ...]) -> bool:
    """Whether the primary key keeps NULL out of ``column`` although it is not declared NOT NULL: always
    outside SQLite; in SQLite only for the row id alias (a lone INTEGER PRIMARY KEY), since SQLite's
    other key columns do accept NULL."""
    if column["name"] not in pk:
        return False
    return source.rules.key_excludes_null(_declared_type(column["type"]), pk)


def _declared_type(sa_type: sa.types.TypeEngine) -> str:
    """The column's declared type as text; empty for a column declared without one (SQLite allows it,
    and SQLAlchemy's name for that, NULL, reads as if the column held only NULLs)."""
    if isinstance(sa_type, sa.types.NullType):
        return ""
    try:
        return str(sa_type)
    except Exception:  # some dialect types cannot render without a dialect
        return type(sa_type).__name__.upper()

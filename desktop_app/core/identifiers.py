"""The one place SQL names and literals are quoted, for SQLite, DuckDB and PostgreSQL alike.

All three follow the SQL standard: an identifier in double quotes with embedded quotes doubled, a
string literal in single quotes likewise. Everything the app composes into SQL text — table and
column names from a user's source, model relations, CSV column specs, file paths — goes through
these, so a name holding a quote can neither break a statement nor inject one. Values are bound
parameters wherever the statement allows them; ``literal`` is for the places it does not (DDL,
table functions' arguments).
"""

from __future__ import annotations


def quote(identifier: str) -> str:
    """``identifier`` as a quoted SQL identifier (``a"b`` → ``"a""b"``)."""
    return '"' + str(identifier).replace('"', '""') + '"'


def qualified(*parts: str) -> str:
    """A dotted name of quoted parts: ``qualified("raw", "orders")`` → ``"raw"."orders"``."""
    return ".".join(quote(part) for part in parts)


def literal(text: str) -> str:
    """``text`` as a SQL string literal (``it's`` → ``'it''s'``)."""
    return "'" + str(text).replace("'", "''") + "'"

"""What a column's *declared* type says, by SQLite's affinity rules — the one classifier.

SQLite keeps any value in any column, so a declared type is a hint, and the app reads it the way
SQLite itself does (``affinity``). From that hint come the optimistic types the fast path starts
with (``initial_types``; the data may still widen them) and the type a column falls back to when
its data says nothing — all NULL — or too little, a DECIMAL's precision (``declared_fallback``,
used for every dialect: PostgreSQL's and MySQL's type names follow the same words).
"""

from __future__ import annotations

from desktop_app.core.ingest.types import VARCHAR


def affinity(declared: str) -> str:
    """SQLite's affinity for a declared type, by its own rules in its order: INTEGER, TEXT (stores no
    numbers: they are converted on insert), BLOB (none: no type, or BLOB), REAL, else NUMERIC."""
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in upper or not upper:
        return "BLOB"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def numbers_possible(info: list[tuple[str, str, int]], columns: list[str]) -> frozenset[str]:
    """The columns (of ``info``: name, declared type, pk) whose affinity lets SQLite store a number as
    it came, so a text column among them may hold REALs (stored as numbers, not converted to text)."""
    return frozenset(name for name, declared, _ in info if name in columns and affinity(declared) != "TEXT")


def declared_fallback(declared: str) -> str:
    """A warehouse type from a declared type alone: for all-NULL columns, and for the precision of
    DECIMAL columns (the data alone would give the precision of the widest value seen so far)."""
    upper = declared.upper()
    if upper.startswith(("NUMERIC(", "DECIMAL(")) and "," in upper:
        precision, scale = (int(x) for x in upper[upper.find("(") + 1:upper.find(")")].split(","))
        if precision <= 38:
            return f"DECIMAL({precision},{scale})"
    kind = affinity(declared)
    if kind == "INTEGER":
        return "BIGINT"
    if kind == "REAL":
        return "DOUBLE"
    if kind == "BLOB":
        return "BLOB" if "BLOB" in upper else VARCHAR
    if kind == "NUMERIC" and "BOOL" in upper:
        return "BOOLEAN"
    return VARCHAR


def initial_types(declared: dict[str, str]) -> dict[str, str]:
    """The fast path's optimistic column types (the data may still widen them): a column of no declared
    type, or one like DATETIME, starts as text."""
    types = {}
    for name, text in declared.items():
        kind, upper = affinity(text), text.upper()
        if kind == "INTEGER" or "BOOL" in upper:
            types[name] = "BIGINT"
        elif kind == "BLOB" and upper:
            types[name] = "BLOB"
        elif kind == "REAL" or "NUMERIC" in upper or "DECIMAL" in upper:
            types[name] = "DOUBLE"
        else:
            types[name] = VARCHAR
    return types

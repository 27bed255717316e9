"""Column types: how a warehouse column widens when the data disagrees.

SQLite stores any value in any column, so a batch's type (from ``core.arrow_rows``) is a fact
about the data, not the schema. A column's warehouse type is the join of every batch's type on a small lattice:
``BIGINT`` + ``DOUBLE`` → ``DOUBLE``; anything else that disagrees → ``VARCHAR`` (which holds
every value exactly). Nothing is ever coerced away.
"""

from __future__ import annotations

VARCHAR = "VARCHAR"


def widen(current: str | None, incoming: str | None) -> str | None:
    """The narrowest type that holds every value of both."""
    if current is None:
        return incoming
    if incoming is None or incoming == current:
        return current
    pair = {current, incoming}
    if pair == {"BIGINT", "DOUBLE"}:
        return "DOUBLE"
    if pair == {"DATE", "TIMESTAMP"}:
        return "TIMESTAMP"
    if current.startswith("DECIMAL") and incoming == "BIGINT":
        return current
    if current.startswith("DECIMAL") and incoming.startswith("DECIMAL"):
        scale = max(_scale(current), _scale(incoming))
        return f"DECIMAL(38,{scale})"
    return VARCHAR


def _scale(decimal_type: str) -> int:
    inner = decimal_type[decimal_type.find("(") + 1:decimal_type.find(")")]
    return int(inner.split(",")[1]) if "," in inner else 0

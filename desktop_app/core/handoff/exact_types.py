"""Columns as a file format can hold them exactly: the casts an export makes, and why.

Parquet has no 128-bit integer (DuckDB's writer would turn a HUGEINT — what SUM of a BIGINT gives —
into DOUBLE); Hyper's oldest file format has no 128-bit numeric (a DECIMAL(38, s) from a SUM), no
32-bit float, and no nested or UUID types. Each such column is cast to the narrowest exact type its
values fit — measured on the data, never DOUBLE — or, when nothing narrower holds them, kept wide with a
note (for Hyper: file format 3, Tableau 2022.4.1 and newer), or written as its exact text.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.core.identifiers import quote

EXACT_DIGITS_64 = 18  # a 64-bit numeric holds 18 digits
WIDE_INTEGERS = ("HUGEINT", "UHUGEINT", "UBIGINT")
AS_TEXT = ("STRUCT", "MAP", "UNION", "UUID", "INTERVAL", "TIMESTAMP_NS", "BIT", "VARINT", "BIGNUM", "JSON")


@dataclass(frozen=True)
class ExactColumns:
    select: str  # SQL selecting the relation's columns as the format holds them
    types: dict[str, str]  # column -> DuckDB type as exported
    notes: list[str]
    needs_128_bit: bool


def exact_columns(cursor, relation: str, columns: list[tuple[str, str]], *, for_hyper: bool) -> ExactColumns:
    parts, types, notes, wide = [], {}, [], False
    decimals = [c for c, t in columns if for_hyper and t.upper().startswith("DECIMAL")]
    integers = [c for c, t in columns if t.upper() in (WIDE_INTEGERS if for_hyper else WIDE_INTEGERS[:2])]
    ranges: dict[str, object] = {}
    if decimals or integers:
        probes = [f"max(abs({quote(c)}))" for c in decimals] + [f"min({quote(c)}), max({quote(c)})" for c in integers]
        values = list(cursor.execute(f"SELECT {', '.join(probes)} FROM {relation}").fetchall()[0])
        for column in decimals:
            ranges[column] = values.pop(0)
        for column in integers:
            ranges[column] = (values.pop(0), values.pop(0))
    for column, kind in columns:
        q, upper = quote(column), kind.upper()
        target = kind
        if column in decimals:
            precision, scale = (int(x) for x in upper[8:-1].split(","))
            digits = max(len(str(int(abs(ranges[column] or 0)))), 1) + scale
            if precision > EXACT_DIGITS_64:
                if digits <= EXACT_DIGITS_64:
                    target = f"DECIMAL({max(digits, scale + 1)},{scale})"
                else:
                    wide = True
                    notes.append(f"{column} needs {digits} digits: kept as a 128-bit numeric (Tableau 2022.4.1 or "
                                 "newer opens this file)")
        elif column in integers:
            low, high = ranges[column]
            if low is None or (-(2 ** 63) <= low and high < 2 ** 63):
                target = "BIGINT"
            else:
                target, wide = "DECIMAL(38,0)", True
                notes.append(f"{column} holds integers beyond 64 bits: written as a 38-digit decimal")
        elif for_hyper and upper == "FLOAT":
            target = "DOUBLE"
        elif for_hyper and (upper.startswith(AS_TEXT) or "[" in upper or upper.startswith(("ENUM", "TIME WITH"))):
            target = "VARCHAR"
            notes.append(f"{column} ({kind}) exported as text: Tableau has no such type")
        parts.append(q if target == kind else f"CAST({q} AS {target}) AS {q}")
        types[column] = target
    return ExactColumns(", ".join(parts), types, notes, wide)

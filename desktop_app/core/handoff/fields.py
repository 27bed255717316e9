"""What a column is to a BI tool: a readable caption, a dimension or a measure, how it aggregates and
how it is shown — money as currency, counts as whole numbers, dates as dates.

Decided from the column's type and name, the way an analyst would set it up by hand: keys (``*_id``),
text, flags and dates are dimensions; numbers are measures summed, or averaged when they are a rate or
an average; an exact two-place decimal named like money is currency. A model's YAML can say
otherwise through ``meta: {bi_role: dimension|measure, bi_format: currency|count|number|percent}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MONEY_WORDS = ("revenue", "amount", "price", "cost", "total", "value", "margin", "spend", "discount", "tax",
               "shipping", "subtotal", "sales", "profit")
AVERAGE_WORDS = ("avg", "average", "mean", "rate", "ratio", "pct", "percent", "share")


@dataclass(frozen=True)
class Field:
    name: str
    duck_type: str
    caption: str
    role: str  # dimension | measure
    kind: str  # nominal | ordinal | quantitative (Tableau's type)
    datatype: str  # string | integer | real | date | datetime | boolean
    aggregation: str | None = None  # Sum | Avg (measures)
    number_format: str | None = None  # currency | count | number | percent
    description: str = ""


def caption(name: str) -> str:
    """``order_month`` → ``Order Month``; ``customer_id`` → ``Customer ID``."""
    words = [w for w in re.split(r"[_\s]+", name) if w]
    return " ".join(w.upper() if w.lower() in ("id", "sku", "url", "uuid") else w[:1].upper() + w[1:]
                    for w in words) or name


def datatype(duck_type: str) -> str:
    upper = duck_type.upper()
    if upper in ("BOOLEAN", "BOOL"):
        return "boolean"
    if upper == "DATE":
        return "date"
    if upper.startswith("TIMESTAMP"):
        return "datetime"
    if upper in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT") or re.fullmatch(r"DECIMAL\(\d+,\s*0\)", upper):
        return "integer"
    if upper in ("FLOAT", "REAL", "DOUBLE") or upper.startswith("DECIMAL"):
        return "real"
    return "string"


def field_of(name: str, duck_type: str, description: str = "", meta: dict | None = None) -> Field:
    meta = meta or {}
    lowered = name.lower()
    kind_of_data = datatype(duck_type)
    is_key = lowered == "id" or lowered.endswith("_id") or lowered.endswith("_key") or lowered.endswith("_sku")
    role = meta.get("bi_role") or ("measure" if kind_of_data in ("integer", "real") and not is_key else "dimension")
    if role == "dimension":
        kind = "ordinal" if kind_of_data in ("date", "datetime", "integer") else "nominal"
        return Field(name, duck_type, caption(name), role, kind, kind_of_data, description=description)
    averaged = any(word in lowered for word in AVERAGE_WORDS)
    money = duck_type.upper().startswith("DECIMAL") and duck_type.replace(" ", "").endswith(",2)") and \
        any(word in lowered for word in MONEY_WORDS)
    number_format = meta.get("bi_format") or ("currency" if money else "count" if kind_of_data == "integer"
                                              else "percent" if any(w in lowered for w in ("pct", "percent"))
                                              else "number")
    return Field(name, duck_type, caption(name), "measure", "quantitative", kind_of_data,
                 "Avg" if averaged else "Sum", number_format, description)

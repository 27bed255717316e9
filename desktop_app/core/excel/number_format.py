"""Show a cell's value the way its Excel number format does, for previews of the workbooks.

Only the formats the workbooks use need to be exact — thousands separators, fixed decimals, a
currency in brackets (``#,##0.00 [$€-x-euro2]``), percentages, and date/time patterns (``mmm yyyy``,
``yyyy-mm-dd hh:mm:ss``); anything else falls back to Excel's General form. Never a grid of
``1.5e+06`` or ``None``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

_CURRENCY = re.compile(r"\[\$([^\]-]*)(?:-[^\]]*)?\]")
_QUOTED = re.compile(r'"([^"]*)"')
_DATE_TOKENS = (("yyyy", "%Y"), ("yy", "%y"), ("mmmm", "%B"), ("mmm", "%b"), ("dddd", "%A"), ("ddd", "%a"),
                ("dd", "%d"), ("hh", "%H"), ("ss", "%S"), ("AM/PM", "%p"))


def format_value(value, number_format: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    fmt = (number_format or "General").split(";")[0]
    if isinstance(value, datetime | date | time):
        return _format_date(value, fmt)
    if isinstance(value, int | float):
        return _format_number(value, fmt)
    return str(value)


def _format_number(value: float, fmt: str) -> str:
    if fmt == "General" or not any(ch in fmt for ch in "0#"):
        return _general(value)
    currency = _CURRENCY.search(fmt)
    symbol = currency.group(1) if currency else ""
    literal = "".join(_QUOTED.findall(fmt))
    core = _CURRENCY.sub("", _QUOTED.sub("", fmt)).strip()
    percent = "%" in core
    if percent:
        value *= 100
    decimals = len(core.split(".", 1)[1].rstrip("%").rstrip()) if "." in core else 0
    grouped = "," in core
    text = f"{value:{',' if grouped else ''}.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    text += "%" if percent else ""
    if symbol:
        text = f"{text} {symbol}" if fmt.find(currency.group(0)) > fmt.find("0") else f"{symbol}{text}"
    return f"{text}{literal}" if literal else text


def _general(value: float) -> str:
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return str(int(value))
    text = f"{value:.10g}"
    return text if "e" not in text else f"{value:.6E}"


def _format_date(value, fmt: str) -> str:
    if fmt == "General" or not any(ch in fmt.lower() for ch in "ymdhs"):
        if isinstance(value, datetime):
            return value.isoformat(" ", "seconds") if value.time() != time() else value.date().isoformat()
        return value.isoformat()
    pattern = fmt.replace("\\", "")
    # "mm" means minutes after an hour or before seconds, else months (Excel's own rule).
    pattern = re.sub(r"(h+[^a-zA-Z]*)mm", r"\1%M", pattern)
    pattern = re.sub(r"mm([^a-zA-Z]*s)", r"%M\1", pattern)
    for token, code in _DATE_TOKENS:
        pattern = pattern.replace(token, code)
    pattern = re.sub(r"(?<!%)mm", "%m", pattern)
    # A lone m or d: the number without a leading zero (strftime's %-m is not portable).
    pattern = re.sub(r"(?<![%a-zA-Z])m(?![a-zA-Z])", "\x01", pattern)
    pattern = re.sub(r"(?<![%a-zA-Z])d(?![a-zA-Z])", "\x02", pattern)
    try:
        text = value.strftime(pattern)
    except ValueError:
        return value.isoformat()
    if isinstance(value, date):
        text = text.replace("\x01", str(value.month)).replace("\x02", str(value.day))
    return text

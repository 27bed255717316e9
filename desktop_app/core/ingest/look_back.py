"""The look-back window of a watermark load: why it exists and how far back a load reads.

A watermark load reads the rows stamped at or after the last mark. A row stamped *before* the last
load read the table but committed *after* it (a long transaction on a server; on SQLite, an
application whose timestamps are not in commit order) is stamped below the mark and would be missed
for ever. So every incremental load re-reads a window before the mark; rows re-read unchanged are
neither counted nor rewritten (the merge writes only rows that differ). Where the database can name
its open writers (PostgreSQL), the mark itself also stops below the oldest open writer's start
(``dialects``), so a long transaction is caught whatever the window.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

DEFAULT_LOOK_BACK = 300  # seconds; see docs/ingestion.md for what it costs


def read_from(last, seconds: int):
    """The lower bound an incremental load reads from: ``last`` moved back by ``seconds``.

    Datetimes and ISO text move back by the window (text keeps its own form, so text comparison in
    the source still orders it); dates by whole days; numbers are not moved (their unit is unknown).
    """
    if not seconds or last is None:
        return last
    if isinstance(last, datetime):
        return last - timedelta(seconds=seconds)
    if isinstance(last, date):
        return last - timedelta(days=math.ceil(seconds / 86400))
    if isinstance(last, str):
        return _iso_text_back(last, seconds)
    return last


def covers(last) -> bool:
    """Whether a watermark of this kind can be moved back (a note says so when it cannot)."""
    return isinstance(last, datetime | date) or (isinstance(last, str) and _iso_text_back(last, 1) != last)


def _iso_text_back(text: str, seconds: int) -> str:
    """ISO text moved back, written in the same form: separator, fraction digits and zone suffix."""
    body, zone = (text[:-1], "Z") if text.endswith("Z") else (text, "")
    try:
        value = datetime.fromisoformat(body)
    except ValueError:
        return text
    if len(body) == 10:  # a date as text
        return (value - timedelta(days=math.ceil(seconds / 86400))).date().isoformat()
    separator = body[10] if len(body) > 10 and body[10] in "T " else "T"
    time_part = body[11:]
    digits = len(time_part.split(".", 1)[1].split("+")[0].split("-")[0]) if "." in time_part else 0
    spec = "minutes" if time_part.count(":") == 1 and "." not in time_part else \
        {0: "seconds", 3: "milliseconds", 6: "microseconds"}.get(digits)
    if spec is None:
        return text  # an unusual precision: do not guess its form
    return (value - timedelta(seconds=seconds)).isoformat(sep=separator, timespec=spec) + zone


def describe(seconds: int) -> str:
    if not seconds:
        return "no look-back"
    return f"look-back {seconds // 60} min" if seconds % 60 == 0 else f"look-back {seconds} s"


def below_open_writers(mark, since: tuple[datetime, datetime] | None):
    """The mark kept at or below the start of the oldest open writing transaction, so what it stamped
    with ``now()`` is read next time even when it commits after this load."""
    if since is None or not isinstance(mark, datetime):
        return mark
    aware, naive = since
    start = aware if mark.tzinfo is not None else naive
    return min(mark, start) if isinstance(start, datetime) else mark

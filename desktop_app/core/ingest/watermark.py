"""The watermark codec: the last tracking value a table was loaded up to, stored as typed JSON.

A watermark must come back as the same Python value it was read as (a datetime compares as a
datetime, not as its text), so ``_studio.table_state`` keeps its type beside it; PostgreSQL's
±infinity is kept as the word, which PostgreSQL reads back.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from desktop_app.core.oltp.postgres import InfiniteDate, InfiniteDatetime


def encode_watermark(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, InfiniteDatetime | InfiniteDate):
        return json.dumps({"type": "str", "value": value.word})
    if isinstance(value, datetime):
        return json.dumps({"type": "datetime", "value": value.isoformat()})
    if isinstance(value, date):
        return json.dumps({"type": "date", "value": value.isoformat()})
    if isinstance(value, int | float | str):
        return json.dumps({"type": type(value).__name__, "value": value})
    return json.dumps({"type": "str", "value": str(value)})


def decode_watermark(text: str | None) -> Any:
    if text is None:
        return None
    data = json.loads(text)
    kind, value = data["type"], data["value"]
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    return value


def display_watermark(text: str | None) -> str | None:
    return None if text is None else str(decode_watermark(text))

"""A "wide and messy" SQLite shop, unlike the demo shop, for ``bench/ingest.py --messy SCALE``.

What real application databases look like and the demo shop does not: ``REAL`` money,
``DATETIME``-declared timestamps with microseconds and a 'T', ``NUMERIC`` and ``DECIMAL`` columns,
a 34-column table with JSON-ish text, mostly-NULL columns and booleans, an ``INTEGER`` column that
turns dirty (text) late in the table, a composite key, a ``WITHOUT ROWID`` table and row ids with
gaps. Scale 1 is about 2.5M rows; cached in bench/.cache.
"""

from __future__ import annotations

import sqlite3

from bench.side_env import CACHE

WIDE_EXTRA = 24  # attribute columns of the wide table beyond its ten named ones


def messy_sqlite(scale: float) -> str:
    target = CACHE / f"messy-{scale}.sqlite"
    if target.exists():
        return str(target)
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    events, items, sessions = int(1_000_000 * scale), int(1_200_000 * scale), int(300_000 * scale)
    db = sqlite3.connect(partial)
    db.execute("PRAGMA journal_mode = WAL")
    numbers = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {}) "
    extra = ", ".join(f"attr_{k} {('REAL', 'TEXT', 'INTEGER', 'BOOLEAN')[k % 4]}" for k in range(WIDE_EXTRA))
    db.execute(f"""CREATE TABLE events (id INTEGER PRIMARY KEY, session_id INTEGER, kind VARCHAR(20),
        occurred_at DATETIME, amount REAL, score NUMERIC, payload TEXT, referrer TEXT, is_bot BOOLEAN,
        legacy_code INTEGER, {extra})""")
    extra_values = ", ".join(
        (f"iif(i % {k + 3} = 0, NULL, (i % 1000) * 0.01 + {k})", f"iif(i % {k + 2} = 0, NULL, 'v{k}-' || (i % 97))",
         f"i % {k + 7}", "i % 2")[k % 4] for k in range(WIDE_EXTRA))
    db.execute(f"""INSERT INTO events {numbers.format(events)}
        SELECT i * 3 + (i % 7), i % 50000, 'kind-' || (i % 4),
               strftime('%Y-%m-%dT%H:%M:%f', '2021-03-01', '+' || (i * 7.123457) || ' seconds')
                 || printf('%03d', i % 1000),
               round((i % 100000) * 0.37 + 0.01, 2), iif(i % 5 = 0, i % 100, (i % 1000) / 8.0),
               '{{"page": "/p/' || (i % 5000) || '", "ua": "Mozilla/5.0 (X11; Linux x86_64) ' || (i % 13)
                 || '", "tags": ["a", "b", "' || (i % 17) || '"]}}',
               iif(i % 3 = 0, NULL, 'https://example.com/ref?id=' || i), i % 97 = 0,
               iif(i > {events} * 0.8 AND i % 50000 = 0, 'N/A', i % 1000), {extra_values}
        FROM n""")
    db.execute("""CREATE TABLE order_lines (order_id INTEGER, line_no INTEGER, sku TEXT, qty NUMERIC,
        unit_price DECIMAL(12,2), discount REAL, shipped DATE, note TEXT, PRIMARY KEY (order_id, line_no))""")
    db.execute(f"""INSERT INTO order_lines {numbers.format(items)}
        SELECT i / 3, i % 3, 'SKU-' || printf('%06d', i % 80000), 1 + i % 5, round(1 + (i % 9999) * 0.13, 2),
               iif(i % 4 = 0, 0.1, 0.0), date('2019-01-01', '+' || (i % 1800) || ' days'),
               iif(i % 9 = 0, 'gift wrap, note: ''' || i || '''', NULL) FROM n""")
    db.execute("DELETE FROM order_lines WHERE order_id % 10 = 3")  # gaps in the row ids
    db.execute("""CREATE TABLE sessions (token TEXT PRIMARY KEY, user_id INTEGER, started DATETIME,
        seconds REAL, device TEXT) WITHOUT ROWID""")
    db.execute(f"""INSERT INTO sessions {numbers.format(sessions)}
        SELECT hex(randomblob(8)) || i, i % 40000, datetime('2022-01-01', '+' || i || ' minutes'),
               (i % 3600) / 3.0, 'device-' || (i % 3) FROM n""")
    db.commit()
    db.close()
    partial.rename(target)
    return str(target)

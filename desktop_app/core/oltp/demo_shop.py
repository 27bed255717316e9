"""Generate the built-in demo shop: a deterministic, realistic e-commerce SQLite database.

Everything is drawn from one ``numpy`` generator seeded by ``seed``, in a fixed order, so the
same ``(scale, seed)`` always gives a byte-for-byte identical database. Rows are generated and
inserted in blocks of orders, so memory stays flat whatever the scale; the file is built under a
temporary name and renamed into place only when complete, so a failure or a cancel never leaves
a half-written shop (and never destroys the previous one).

Scale 1 is ~1,000,000 order items (~400,000 orders, ~100,000 customers, ~5,000 products).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.errors import Cancelled, SourceError
from desktop_app.core.leftovers import remove_stale, temp_name
from desktop_app.core.oltp import shop_schema as schema
from desktop_app.core.oltp.shop_generator import ShopGenerator
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Progress, Report


@dataclass(frozen=True)
class ShopSize:
    """How many entities a scale gives (order items follow from orders: ~2.5 per order)."""

    customers: int
    products: int
    orders: int

    @classmethod
    def for_scale(cls, scale: float) -> ShopSize:
        if not (MIN_SCALE <= scale <= MAX_SCALE):  # also NaN and infinity
            raise SourceError(f"Scale must be a number from {MIN_SCALE} to {MAX_SCALE:g}, got {scale}.",
                              f"Scale 1 is about 1,000,000 order items (335 MB); {MAX_SCALE:g} is {MAX_SCALE:g} times "
                              "that. Try --scale 0.05.")
        return cls(customers=max(50, round(100_000 * scale)), products=max(40, round(5_000 * scale)),
                   orders=max(100, round(400_000 * scale)))


@dataclass(frozen=True)
class SeedReport:
    path: Path
    scale: float
    seed: int
    row_counts: dict[str, int]
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


MIN_SCALE, MAX_SCALE = 0.001, 100.0  # 100: ~100M order items, ~34 GB; beyond is not a demo
SCALE_UNIT = 1_000_000  # the scale is kept in the file's user_version, in millionths


def demo_shop_scale(path: str | Path) -> float | None:
    """The scale a demo shop was created with: from its ``user_version``, or for a shop made before
    that was kept, estimated from its products (which simulated activity never adds); None for a
    file that is not a demo shop."""
    from desktop_app.core.oltp.source import connect_sqlite_readonly

    try:
        db = connect_sqlite_readonly(Path(path))
    except SourceError:
        return None
    try:
        kept = db.execute("PRAGMA user_version").fetchone()[0]
        if kept:
            return kept / SCALE_UNIT
        products = db.execute("SELECT count(*) FROM products").fetchone()[0]
        return round(products / 5_000, 4) if products > 40 else None
    except sqlite3.Error:
        return None
    finally:
        db.close()


def create_shop(path: str | Path, *, scale: float = 0.05, seed: int = 42, force: bool = False,
                report: Report = NULL_REPORT, cancel: CancelToken = NEVER) -> SeedReport:
    """Create the demo shop at ``path``; refuses to overwrite an existing file unless ``force``."""
    import time

    started = time.perf_counter()
    path = Path(path).expanduser()
    size = ShopSize.for_scale(scale)
    if path.is_dir():
        raise SourceError(f"{path} is a folder.", "Give a file name, e.g. shop.sqlite.")
    if path.exists() and not force:
        raise SourceError(f"{path} already exists; it was left untouched.", "Pass --force to replace it.")
    if not path.parent.exists():
        raise SourceError(f"The folder {path.parent} does not exist.", "Create it first or choose another path.")
    remove_stale(path, "building")  # what a killed run left
    temp = temp_name(path, "building")
    try:
        connection = sqlite3.connect(temp, isolation_level=None)
    except sqlite3.Error as err:
        raise SourceError(f"Cannot create {path}: {err}.", "Check that the folder is writable.") from None
    # A cancel stops the statement running (index creation takes seconds at scale 1) and is checked after
    # every step up to the rename: until then the previous shop is untouched, and then it is replaced whole.
    remove = cancel.on_cancel(connection.interrupt)
    try:
        connection.execute("PRAGMA journal_mode = OFF")  # a fresh temp file: nothing to protect yet
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA foreign_keys = OFF")
        connection.executescript(schema.CREATE_TABLES)
        counts = ShopGenerator(connection, size, seed, report, cancel).write()
        cancel.raise_if_cancelled()
        report(Progress("seed", 0.97, 1.0, "Creating indexes"))
        connection.executescript(schema.CREATE_INDEXES)
        cancel.raise_if_cancelled()
        problems = connection.execute("PRAGMA foreign_key_check").fetchall()
        if problems:  # a generator bug must never ship a broken shop
            raise RuntimeError(f"generated data violates foreign keys: {problems[:3]}")
        cancel.raise_if_cancelled()
        connection.execute(f"PRAGMA user_version = {round(scale * SCALE_UNIT)}")  # read by demo_shop_scale
        connection.execute("PRAGMA journal_mode = WAL")  # what a live web shop runs: readers never block writers
        connection.close()
        cancel.raise_if_cancelled()
        for suffix in ("-wal", "-shm"):  # a stale WAL of the old file must never be replayed onto the new one
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.replace(temp, path)
    except sqlite3.OperationalError as err:
        connection.close()
        temp.unlink(missing_ok=True)
        if cancel.cancelled and "interrupt" in str(err):
            raise Cancelled() from None
        raise
    except BaseException:
        connection.close()
        temp.unlink(missing_ok=True)
        raise
    finally:
        remove()
    report(Progress("seed", 1.0, 1.0, "Demo shop ready"))
    return SeedReport(path, scale, seed, counts, time.perf_counter() - started)

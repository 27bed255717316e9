"""Apply realistic OLTP traffic to a demo shop: what incremental ingestion is tested against.

New customers sign up and place orders; orders move through their life cycle
(placed → paid → shipped → delivered, or cancelled / returned) with the payments and shipments
that go with each step; prices change; a clean-up job hard-deletes abandoned orders and
customers who asked to be forgotten. Every write bumps ``updated_at``. Work is committed in
transactions of ``BATCH`` events, as a web application would.

Timestamps come from a simulated clock that starts one second after the newest ``updated_at``
in the shop and moves forward a few seconds per event, so a run is reproducible for a seed and
always lands after everything already loaded (which is what an ``updated_at`` watermark needs).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop_app.core.errors import SourceError
from desktop_app.core.oltp import shop_schema as schema
from desktop_app.core.oltp.shop_generator import COUNTRIES, FIRST_NAMES, LAST_NAMES, PHONE_PREFIX, ascii_slug, iso
from desktop_app.core.oltp.source import check_sqlite_file, diagnose_sqlite
from desktop_app.core.progress import NEVER, NULL_REPORT, CancelToken, Progress, Report

BATCH = 500

# Where an order may go next, and what that step writes besides the order itself.
NEXT_STATUS = {
    "placed": (("paid", 0.85), ("cancelled", 0.15)),
    "paid": (("shipped", 0.95), ("cancelled", 0.05)),
    "shipped": (("delivered", 1.0),),
    "delivered": (("returned", 1.0),),
}


@dataclass
class SimulationReport:
    """What the simulation changed, per table and kind of change."""

    inserted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(schema.TABLES, 0))
    updated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(schema.TABLES, 0))
    deleted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(schema.TABLES, 0))
    transitions: dict[str, int] = field(default_factory=dict)
    clock_start: str = ""
    clock_end: str = ""


class _Clock:
    def __init__(self, start: int, rng: np.random.Generator) -> None:
        self.now = start
        self.rng = rng

    def tick(self) -> str:
        self.now += int(self.rng.integers(1, 20))
        return iso(np.array([self.now]))[0]


def simulate_activity(path: str | Path, *, orders: int = 100, updates: int = 200, deletes: int = 10,
                      seed: int | None = None, report: Report = NULL_REPORT,
                      cancel: CancelToken = NEVER) -> SimulationReport:
    """Place ``orders`` new orders, make ``updates`` updates and ``deletes`` hard deletes."""
    path = Path(path).expanduser()
    check_sqlite_file(path)
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=10)
        db.execute("PRAGMA foreign_keys = ON")
        missing = set(schema.TABLES) - {r[0] for r in db.execute("select name from sqlite_master where type='table'")}
    except sqlite3.Error as err:
        raise SourceError(f"Cannot open {path} for writing: {err}.", "Close other programs using it.") from None
    if missing:
        db.close()
        raise SourceError(f"{path} is not a demo shop (missing tables: {', '.join(sorted(missing))}).",
                          "Simulate activity only on a shop created with `oltp-olap seed`.")
    # Writing into a damaged file makes it worse: check it first (0.8 s for a scale-1 shop).
    report(Progress("simulate", 0, None, "Checking the shop's file"))
    try:
        healthy = db.execute("PRAGMA quick_check(1)").fetchone()[0] == "ok"
    except (sqlite3.DatabaseError, MemoryError):
        healthy = False
    if not healthy:
        db.close()
        raise diagnose_sqlite(path, sqlite3.DatabaseError("quick_check failed"))
    try:
        return _Simulator(db, np.random.default_rng(seed), report, cancel).run(orders, updates, deletes)
    except sqlite3.OperationalError as err:
        if "locked" in str(err):
            raise SourceError(f"{path} is locked by another program.", "Try again when it is free.") from None
        if "readonly" in str(err) or "read-only" in str(err):
            raise SourceError(f"Cannot write {path}: it is read-only (or its folder is).",
                              "Make the file and its folder writable, or simulate on a copy.") from None
        raise diagnose_sqlite(path, err) from None
    except (sqlite3.DatabaseError, MemoryError) as err:
        raise diagnose_sqlite(path, err) from None
    finally:
        db.close()


class _Simulator:
    def __init__(self, db: sqlite3.Connection, rng: np.random.Generator, report: Report,
                 cancel: CancelToken) -> None:
        self.db, self.rng, self.report, self.cancel = db, rng, report, cancel
        newest = max(db.execute(f"select coalesce(max(updated_at), '') from {t}").fetchone()[0]  # noqa: S608
                     for t in schema.TABLES)
        start = np.datetime64(newest or "2026-01-01T00:00:00", "s").astype(np.int64) + 1
        self.clock = _Clock(int(start), rng)
        self.result = SimulationReport(clock_start=iso(np.array([start]))[0])

    def run(self, orders: int, updates: int, deletes: int) -> SimulationReport:
        plan = ["order"] * orders + ["update"] * updates + ["delete"] * deletes
        order = self.rng.permutation(len(plan))
        total = len(plan)
        for start in range(0, total, BATCH):
            self.cancel.raise_if_cancelled()
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for done, index in enumerate(order[start:start + BATCH].tolist(), start):
                    getattr(self, f"_{plan[index]}")()
                    if done % 50 == 0:  # within a transaction too: a window shows it moving
                        self.report(Progress("simulate", done, total, "Simulating shop activity"))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.report(Progress("simulate", min(total, start + BATCH), total, "Simulating shop activity"))
        self.result.clock_end = iso(np.array([self.clock.now]))[0]
        return self.result

    # -- helpers --------------------------------------------------------------------------------
    def _one(self, sql: str, *params):
        return self.db.execute(sql, params).fetchone()

    def _random_id(self, table: str, key: str, where: str = "1=1", params: tuple = ()):
        """A random existing key matching ``where``: seek from a random point of the key range.

        An index seek instead of ``OFFSET`` keeps each event O(log n) on a million-row table; keys
        that follow a gap are a little more likely, which is harmless for a simulation.
        """
        # Two queries, not one: SQLite answers a lone min() or max() from the index in O(log n), but
        # min() and max() together scan every matching entry (300,000 delivered orders per event).
        low = self._one(f"select min({key}) from {table} where {where}", *params)[0]  # noqa: S608
        high = self._one(f"select max({key}) from {table} where {where}", *params)[0]  # noqa: S608
        if low is None:
            return None
        pivot = int(self.rng.integers(low, high + 1))
        for bound in (pivot, low):
            row = self._one(f"select {key} from {table} where {key} >= ? and ({where}) "  # noqa: S608
                            f"order by {key} limit 1", bound, *params)
            if row:
                return row[0]
        return None

    def _count(self, kind: str, table: str, n: int = 1) -> None:
        getattr(self.result, kind)[table] += n

    # -- events ---------------------------------------------------------------------------------
    def _new_customer(self, now: str) -> tuple[int, int]:
        rng = self.rng
        first, last = FIRST_NAMES[rng.integers(len(FIRST_NAMES))], LAST_NAMES[rng.integers(len(LAST_NAMES))]
        country = COUNTRIES[rng.integers(len(COUNTRIES))]
        customer_id = self._one("select coalesce(max(customer_id), 0) + 1 from customers")[0]
        phone = None if rng.random() < 0.35 else f"{PHONE_PREFIX[country]} {rng.integers(10**8, 10**9)}"
        self.db.execute(
            "insert into customers values (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)",
            (customer_id, f"{ascii_slug(first)}.{ascii_slug(last)}.{customer_id}@example.com", first, last, phone,
             country, int(rng.random() < 0.4), now, now))
        address_id = self._one("select coalesce(max(address_id), 0) + 1 from addresses")[0]
        self.db.execute(
            "insert into addresses values (?, ?, 'shipping', ?, null, 'Berlin', ?, ?, 1, ?, ?)",
            (address_id, customer_id, f"Neue Straße {rng.integers(1, 200)}", str(rng.integers(10000, 99999)),
             country, now, now))
        self._count("inserted", "customers")
        self._count("inserted", "addresses")
        return customer_id, address_id

    def _order(self) -> None:
        now = self.clock.tick()
        rng = self.rng
        if rng.random() < 0.2:
            customer_id, address_id = self._new_customer(now)
        else:
            customer_id = self._random_id("customers", "customer_id", "status = 'active'")
            row = self._one("select address_id from addresses where customer_id = ? and kind = 'shipping' "
                            "order by address_id limit 1", customer_id)
            address_id = row[0] if row else None
        order_id = self._one("select coalesce(max(order_id), 0) + 1 from orders")[0]
        item_id = self._one("select coalesce(max(order_item_id), 0) + 1 from order_items")[0]
        lines, subtotal = [], 0
        for line_number in range(1, int(rng.choice([1, 2, 3, 4], p=[0.4, 0.3, 0.2, 0.1])) + 1):
            product_id = self._random_id("products", "product_id", "status = 'active'")
            price = self._one("select price_cents from products where product_id = ?", product_id)[0]
            quantity = int(rng.choice([1, 2, 3], p=[0.75, 0.2, 0.05]))
            discount = int(round(price * quantity * 0.1)) if rng.random() < 0.1 else 0
            subtotal += quantity * price - discount
            lines.append((item_id + line_number - 1, order_id, line_number, product_id, quantity, price, discount,
                          now, now))
        shipping = 0 if subtotal >= 5000 else 495
        tax = round(subtotal * 0.19)
        self.db.execute("insert into orders values (?, ?, ?, 'placed', 'EUR', ?, 0, ?, ?, ?, null, ?, ?, ?)",
                        (order_id, customer_id, address_id, subtotal, shipping, tax, subtotal + shipping + tax,
                         now, now, now))
        self.db.executemany("insert into order_items values (?, ?, ?, ?, ?, ?, ?, ?, ?)", lines)
        self._count("inserted", "orders")
        self._count("inserted", "order_items", len(lines))

    def _update(self) -> None:
        roll = self.rng.random()
        if roll < 0.75:
            self._transition()
        elif roll < 0.9:
            self._price_change()
        else:
            self._customer_change()

    def _transition(self) -> None:
        now = self.clock.tick()
        # Most traffic moves open orders along; a few delivered orders come back as returns.
        status_pool = "delivered" if self.rng.random() < 0.1 else str(self.rng.choice(["placed", "paid", "shipped"]))
        order_id = self._random_id("orders", "order_id", "status = ?", (status_pool,))
        if order_id is None:
            return
        status, total = self._one("select status, total_cents from orders where order_id = ?", order_id)
        choices = NEXT_STATUS[status]
        new = choices[int(self.rng.choice(len(choices), p=[p for _, p in choices]))][0]
        self.db.execute("update orders set status = ?, updated_at = ? where order_id = ?", (new, now, order_id))
        self._count("updated", "orders")
        key = f"{status}->{new}"
        self.result.transitions[key] = self.result.transitions.get(key, 0) + 1
        if new == "paid":
            payment_id = self._one("select coalesce(max(payment_id), 0) + 1 from payments")[0]
            method = schema.PAYMENT_METHODS[int(self.rng.integers(len(schema.PAYMENT_METHODS)))]
            self.db.execute("insert into payments values (?, ?, ?, 'captured', ?, ?, ?, ?, ?)",
                            (payment_id, order_id, method, total, f"psp_{self.rng.integers(10**11, 10**12)}",
                             now, now, now))
            self._count("inserted", "payments")
        elif new == "shipped":
            shipment_id = self._one("select coalesce(max(shipment_id), 0) + 1 from shipments")[0]
            self.db.execute("insert into shipments values (?, ?, 'DHL', ?, 'in_transit', ?, null, ?, ?)",
                            (shipment_id, order_id, f"DH{self.rng.integers(10**9, 10**10)}", now, now, now))
            self._count("inserted", "shipments")
        elif new in ("delivered", "returned"):
            changed = self.db.execute(
                "update shipments set status = ?, delivered_at = coalesce(delivered_at, ?), updated_at = ? "
                "where order_id = ?", (new, now, now, order_id)).rowcount
            self._count("updated", "shipments", changed)
        if new in ("returned", "cancelled"):
            changed = self.db.execute("update payments set status = 'refunded', updated_at = ? "
                                      "where order_id = ? and status = 'captured'", (now, order_id)).rowcount
            self._count("updated", "payments", changed)

    def _price_change(self) -> None:
        now = self.clock.tick()
        product_id = self._random_id("products", "product_id")
        factor = float(self.rng.choice([0.8, 0.9, 1.05, 1.1, 1.2]))
        self.db.execute("update products set price_cents = cast(round(price_cents * ?) as integer), "
                        "updated_at = ? where product_id = ?", (factor, now, product_id))
        self._count("updated", "products")

    def _customer_change(self) -> None:
        now = self.clock.tick()
        customer_id = self._random_id("customers", "customer_id")
        opt_in = int(self.rng.random() < 0.5)
        self.db.execute("update customers set marketing_opt_in = ?, updated_at = ? where customer_id = ?",
                        (opt_in, now, customer_id))
        self._count("updated", "customers")

    def _delete(self) -> None:
        self.clock.tick()
        if self.rng.random() < 0.7:
            order_id = self._random_id("orders", "order_id", "status = 'cancelled'")
            if order_id is None:
                return
            for table in ("shipments", "payments", "order_items"):
                removed = self.db.execute(f"delete from {table} where order_id = ?", (order_id,)).rowcount  # noqa: S608
                self._count("deleted", table, removed)
            self.db.execute("delete from orders where order_id = ?", (order_id,))
            self._count("deleted", "orders")
        else:  # "forget me": only customers without orders can be erased outright
            customer_id = self._random_id(
                "customers", "customer_id",
                "not exists (select 1 from orders o where o.customer_id = customers.customer_id)")
            if customer_id is None:
                return
            removed = self.db.execute("delete from addresses where customer_id = ?", (customer_id,)).rowcount
            self._count("deleted", "addresses", removed)
            self.db.execute("delete from customers where customer_id = ?", (customer_id,))
            self._count("deleted", "customers")

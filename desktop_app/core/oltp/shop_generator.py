"""Draw the demo shop's rows: every table from one ``numpy`` generator, in a fixed order.

The same ``(size, seed)`` always gives the same rows. The words the shop is made of live here too —
names, countries, products, coupons — including a few that look like spreadsheet formulas, so the
Excel road's formula-injection defence is exercised by the demo data itself. Rows are drawn and
inserted in blocks of orders, so memory stays flat whatever the scale.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from typing import TYPE_CHECKING

import numpy as np

from desktop_app.core.oltp import shop_schema as schema
from desktop_app.core.progress import CancelToken, Progress, Report

if TYPE_CHECKING:
    from desktop_app.core.oltp.demo_shop import ShopSize

HISTORY_START = np.datetime64("2023-01-01T00:00:00", "s")
HISTORY_END = np.datetime64("2026-01-01T00:00:00", "s")  # fixed, so a seed means the same data any day
ORDERS_PER_BLOCK = 20_000
DAY = 86_400

FIRST_NAMES = (
    "Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Mia", "Elias", "Sofia", "Mateo", "Zoë", "José",
    "Chloé", "Björn", "Åsa", "Søren", "Łukasz", "Małgorzata", "Jürgen", "Renée", "François", "Inês",
    "Nuño", "Dvořák", "Ayşe", "Çağan", "Ólafur", "Siobhán", "Hana", "Yuki", "Wei", "Mei", "Aarav",
    "Priya", "Ömer", "Zoltán", "Ilse", "Tomás", "Anaïs", "Kirsi", "Jan", "Marie", "Paul", "Anna",
    "David", "Sara", "Leon", "Lea", "Felix", "Nina", "Max", "Julia", "Ben", "Laura", "Jonas", "Eva",
)
LAST_NAMES = (
    "Müller", "Smith", "García", "Martín", "Rossi", "Dubois", "Novák", "Kowalski", "Jensen", "Nieminen",
    "O'Brien", "van der Berg", "Schröder", "Núñez", "Gonçalves", "Øvergård", "Ångström", "Şahin",
    "Yılmaz", "Papadopoulos", "Nakamura", "Tanaka", "Wang", "Li", "Kim", "Patel", "Singh", "Andersson",
    "Johansson", "Bauer", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann", "Koch", "Richter", "Klein",
    "Wolf", "Neumann", "Brown", "Jones", "Taylor", "Wilson", "Moreau", "Lefèvre", "Bianchi", "Costa",
)
COUNTRIES = ("DE", "FR", "NL", "BE", "AT", "ES", "IT", "PL", "SE", "DK", "FI", "PT", "IE", "GB", "CZ")
COUNTRY_WEIGHTS = (22, 14, 9, 5, 5, 9, 9, 6, 4, 3, 2, 3, 2, 5, 2)
PHONE_PREFIX = {"DE": "+49", "FR": "+33", "NL": "+31", "BE": "+32", "AT": "+43", "ES": "+34", "IT": "+39",
                "PL": "+48", "SE": "+46", "DK": "+45", "FI": "+358", "PT": "+351", "IE": "+353",
                "GB": "+44", "CZ": "+420"}
CITIES = ("Berlin", "München", "Köln", "Paris", "Lyon", "Amsterdam", "Utrecht", "Bruxelles", "Wien",
          "Madrid", "Sevilla", "Milano", "Roma", "Kraków", "Göteborg", "København", "Helsinki", "Porto",
          "Dublin", "London", "Praha", "Zürich", "Łódź", "Málaga")
STREETS = ("Hauptstraße", "Rue de la Paix", "Kerkstraat", "Calle Mayor", "Via Roma", "High Street",
           "Storgatan", "Ulica Długa", "Bahnhofstraße", "Avenue Victor Hugo", "Nørregade", "Rua Augusta")
ADJECTIVES = ("Classic", "Pro", "Eco", "Deluxe", "Compact", "Smart", "Vintage", "Ultra", "Essential",
              "Nordic", "Urban", "Café", "Crème", "Premium", "Lite", "Original")
NOUNS = {
    "Phones": ("Phone", "Case", "Charger"), "Laptops": ("Laptop", "Sleeve", "Dock"),
    "Audio": ("Headphones", "Speaker", "Earbuds"), "Cameras": ("Camera", "Lens", "Tripod"),
    "Cookware": ("Pan", "Pot", "Knife Set"), "Lighting": ("Lamp", "Bulb", "Lantern"),
    "Furniture": ("Chair", "Desk", "Shelf"), "Women": ("Dress", "Blouse", "Coat"),
    "Men": ("Shirt", "Jacket", "Chinos"), "Shoes": ("Sneakers", "Boots", "Sandals"),
    "Accessories": ("Scarf", "Belt", "Wallet"), "Cycling": ("Helmet", "Bike Light", "Saddle"),
    "Camping": ("Tent", "Sleeping Bag", "Stove"), "Fitness": ("Yoga Mat", "Dumbbell", "Kettlebell"),
    "Fiction": ("Novel", "Thriller", "Saga"), "Non-fiction": ("Biography", "Cookbook", "Atlas"),
    "Children's": ("Picture Book", "Fairy Tales", "Activity Book"), "Skincare": ("Cream", "Serum", "Cleanser"),
    "Fragrance": ("Eau de Parfum", "Cologne", "Body Mist"), "Board games": ("Board Game", "Card Game", "Chess Set"),
    "Puzzles": ("Puzzle 1000", "Puzzle 500", "3D Puzzle"), "Outdoor toys": ("Kite", "Frisbee", "Water Gun"),
    "Coffee & Tea": ("Espresso Beans", "Green Tea", "Filter Coffee"), "Snacks": ("Chocolate", "Crackers", "Nuts"),
    "Pantry": ("Olive Oil", "Pasta", "Honey"),
}
DEPARTMENT_PRICE_CENTS = {  # median price per department
    "Electronics": 14_900, "Home & Kitchen": 5_900, "Fashion": 4_900, "Sports & Outdoors": 5_500,
    "Books": 1_800, "Beauty": 2_900, "Toys & Games": 2_900, "Café & Épicerie": 900,
}
# Text that a spreadsheet would run as a formula unless stored as text: a real shop receives such input.
INJECTION_FIRST_NAMES = ('=HYPERLINK("http://example.invalid","Click")', "@SUM(1+1)", "-Dash", "+Plus")
INJECTION_PRODUCT_NAMES = ("=1+2 Combo Pack", "+Plus Size Parka", "-40% Clearance Bundle", "@Home Desk Lamp")
COUPONS = ("WELCOME10", "SPRING15", "BLACKFRIDAY20", "-10OFF")
COUPON_PERCENT = {"WELCOME10": 10, "SPRING15": 15, "BLACKFRIDAY20": 20, "-10OFF": 10}
CARRIERS = ("DHL", "UPS", "PostNL", "La Poste", "DPD", "GLS")


def iso(seconds: np.ndarray) -> list[str]:
    """Epoch seconds → ISO 8601 text ``YYYY-MM-DDTHH:MM:SS``."""
    return np.datetime_as_string(np.asarray(seconds, dtype="datetime64[s]"), unit="s").tolist()


def _epoch(value: np.datetime64) -> int:
    return int(value.astype("datetime64[s]").astype(np.int64))


def ascii_slug(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isalnum() and c.isascii()).lower()


class ShopGenerator:
    """Draws every table from one generator, in a fixed order, and inserts it."""

    def __init__(self, connection: sqlite3.Connection, size: ShopSize, seed: int, report: Report,
                 cancel: CancelToken) -> None:
        self.db = connection
        self.size = size
        self.rng = np.random.default_rng(seed)
        self.report = report
        self.cancel = cancel
        self.counts = dict.fromkeys(schema.TABLES, 0)
        self.start = _epoch(HISTORY_START)
        self.end = _epoch(HISTORY_END)

    def insert(self, table: str, rows: list[tuple]) -> None:
        if not rows:
            return
        marks = ", ".join("?" * len(rows[0]))
        self.db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608 - fixed table names
        self.counts[table] += len(rows)

    def write(self) -> dict[str, int]:
        self.db.execute("BEGIN")
        self.categories()
        self.customers_and_addresses()
        self.products()
        self.db.execute("COMMIT")
        self.orders()
        return self.counts

    # -- reference data -------------------------------------------------------------------------
    def categories(self) -> None:
        created = iso(np.full(1, self.start))[0]
        rows, leaf_ids, leaf_department = [], [], []
        next_id = 1
        for department, leaves in schema.CATEGORY_TREE.items():
            department_id = next_id
            rows.append((department_id, None, department, _slug(department), created, created))
            next_id += 1
            for leaf in leaves:
                rows.append((next_id, department_id, leaf, _slug(f"{department}-{leaf}"), created, created))
                leaf_ids.append(next_id)
                leaf_department.append((department, leaf))
                next_id += 1
        self.insert("categories", rows)
        self.leaf_ids = np.array(leaf_ids)
        self.leaf_info = leaf_department

    def customers_and_addresses(self) -> None:
        n, rng = self.size.customers, self.rng
        created = np.sort(rng.integers(self.start, self.end - 30 * DAY, n))
        updated = created + (rng.random(n) < 0.3) * rng.integers(0, 200 * DAY, n)
        updated = np.minimum(updated, self.end - DAY)
        first = rng.integers(0, len(FIRST_NAMES), n)
        last = rng.integers(0, len(LAST_NAMES), n)
        weights = np.array(COUNTRY_WEIGHTS, dtype=float)
        country = rng.choice(len(COUNTRIES), n, p=weights / weights.sum())
        phone_missing = rng.random(n) < 0.35
        phone_digits = rng.integers(100_000_000, 999_999_999, n)
        opt_in = (rng.random(n) < 0.42).astype(int)
        disabled = rng.random(n) < 0.02
        injected = rng.choice(n, size=min(len(INJECTION_FIRST_NAMES), n), replace=False)
        first_names = [FIRST_NAMES[i] for i in first.tolist()]
        for slot, name in zip(injected.tolist(), INJECTION_FIRST_NAMES, strict=False):
            first_names[slot] = name
        created_iso, updated_iso = iso(created), iso(updated)
        rows = []
        for i in range(n):
            code = COUNTRIES[country[i]]
            surname = LAST_NAMES[last[i]]
            email = f"{ascii_slug(first_names[i]) or 'customer'}.{ascii_slug(surname)}.{i + 1}@example.com"
            phone = None if phone_missing[i] else f"{PHONE_PREFIX[code]} {phone_digits[i]}"
            rows.append((i + 1, email, first_names[i], surname, phone, code, int(opt_in[i]),
                         "disabled" if disabled[i] else "active", created_iso[i], updated_iso[i]))
        self.insert("customers", rows)
        self.customer_created = created
        self.customer_country = country
        # Addresses: every customer has a default shipping address; ~40% a separate billing one.
        has_billing = rng.random(n) < 0.4
        owners = np.concatenate([np.arange(n), np.flatnonzero(has_billing)])
        kinds = ["shipping"] * n + ["billing"] * int(has_billing.sum())
        m = len(owners)
        street = rng.integers(0, len(STREETS), m)
        number = rng.integers(1, 250, m)
        line2_missing = rng.random(m) < 0.8
        flat = rng.integers(1, 40, m)
        city = rng.integers(0, len(CITIES), m)
        postal = rng.integers(10_000, 99_999, m)
        addr_created = iso(created[owners])
        rows = []
        for j in range(m):
            owner = int(owners[j])
            rows.append((j + 1, owner + 1, kinds[j], f"{STREETS[street[j]]} {number[j]}",
                         None if line2_missing[j] else f"Apt {flat[j]}", CITIES[city[j]], str(postal[j]),
                         COUNTRIES[country[owner]], 1, addr_created[j], addr_created[j]))
        self.insert("addresses", rows)
        self.shipping_address = np.arange(1, n + 1)  # shipping addresses were inserted first, in order

    def products(self) -> None:
        n, rng = self.size.products, self.rng
        leaf = rng.integers(0, len(self.leaf_ids), n)
        adjective = rng.integers(0, len(ADJECTIVES), n)
        noun = rng.integers(0, 3, n)
        median = np.array([DEPARTMENT_PRICE_CENTS[self.leaf_info[k][0]] for k in leaf.tolist()], dtype=float)
        price = np.maximum(99, np.round(median * rng.lognormal(0, 0.5, n) / 10) * 10 - 1).astype(np.int64)
        cost = np.round(price * rng.uniform(0.35, 0.7, n)).astype(np.int64)
        created = rng.integers(self.start - 365 * DAY, self.start + 600 * DAY, n)
        updated = np.minimum(created + rng.integers(0, 400 * DAY, n), self.end - DAY)
        discontinued = rng.random(n) < 0.04
        description_missing = rng.random(n) < 0.25
        stock = rng.integers(0, 500, n)
        names = []
        for i in range(n):
            subcategory = self.leaf_info[leaf[i]][1]
            names.append(f"{ADJECTIVES[adjective[i]]} {NOUNS[subcategory][noun[i]]} {i + 1:05d}")
        for slot, name in zip(rng.choice(n, size=min(4, n), replace=False).tolist(), INJECTION_PRODUCT_NAMES,
                              strict=False):
            names[slot] = name
        created_iso, updated_iso = iso(created), iso(updated)
        rows = []
        for i in range(n):
            description = None if description_missing[i] else f"{names[i]} — {self.leaf_info[leaf[i]][1].lower()}."
            rows.append((i + 1, int(self.leaf_ids[leaf[i]]), f"SKU-{i + 1:06d}", names[i], description,
                         int(price[i]), int(cost[i]), "EUR", "discontinued" if discontinued[i] else "active",
                         int(stock[i]), created_iso[i], updated_iso[i]))
        self.insert("products", rows)
        self.price = price
        popularity = 1.0 / (np.arange(n) + 10.0) ** 0.9
        rng.shuffle(popularity)
        self.popularity = popularity / popularity.sum()

    # -- transactions ---------------------------------------------------------------------------
    def orders(self) -> None:
        total = self.size.orders
        next_ids = {"order": 1, "item": 1, "payment": 1, "shipment": 1}
        done = 0
        while done < total:
            self.cancel.raise_if_cancelled()
            count = min(ORDERS_PER_BLOCK, total - done)
            self.db.execute("BEGIN")
            self._order_block(count, next_ids)
            self.db.execute("COMMIT")
            done += count
            self.report(Progress("seed", 0.05 + 0.9 * done / total, 1.0,
                                 f"{done:,} of {total:,} orders", "orders"))

    def _order_block(self, n: int, next_ids: dict[str, int]) -> None:
        rng = self.rng
        customer = rng.integers(0, self.size.customers, n)
        earliest = self.customer_created[customer]
        placed = earliest + (rng.random(n) ** 0.7 * (self.end - DAY - earliest)).astype(np.int64)
        age_days = (self.end - placed) / DAY
        recent = age_days < 14
        old_status = rng.choice([3, 5, 4], n, p=[0.87, 0.06, 0.07])  # delivered / returned / cancelled
        new_status = rng.choice([0, 1, 2, 3, 4], n, p=[0.15, 0.25, 0.35, 0.2, 0.05])
        status = np.where(recent, new_status, old_status)
        last_change = np.minimum(placed + rng.integers(60, 10 * DAY, n), self.end - 1)
        order_ids = np.arange(next_ids["order"], next_ids["order"] + n)
        # Items: 1..6 lines, mean ~2.5.
        lines = rng.choice([1, 2, 3, 4, 5, 6], n, p=[0.3, 0.27, 0.2, 0.12, 0.07, 0.04])
        m = int(lines.sum())
        item_order = np.repeat(np.arange(n), lines)
        line_number = np.arange(m) - np.repeat(np.cumsum(lines) - lines, lines) + 1
        product = rng.choice(len(self.price), m, p=self.popularity)
        quantity = rng.choice([1, 2, 3, 4, 5], m, p=[0.7, 0.18, 0.07, 0.03, 0.02])
        unit = self.price[product]
        discounted = rng.random(m) < 0.1
        discount = np.where(discounted, np.round(unit * quantity * rng.uniform(0.05, 0.2, m)), 0).astype(np.int64)
        line_total = quantity * unit - discount
        subtotal = np.bincount(item_order, weights=line_total, minlength=n).astype(np.int64)
        coupon_index = rng.integers(0, len(COUPONS), n)
        has_coupon = rng.random(n) < 0.08
        percent = np.array([COUPON_PERCENT[c] for c in COUPONS])[coupon_index]
        order_discount = np.where(has_coupon, subtotal * percent // 100, 0)
        shipping = np.where(subtotal >= 5_000, 0, 495)
        tax = np.round((subtotal - order_discount) * 0.19).astype(np.int64)
        total = subtotal - order_discount + shipping + tax
        placed_iso, changed_iso = iso(placed), iso(last_change)
        status_names = schema.ORDER_STATUSES
        rows = []
        for i in range(n):
            rows.append((int(order_ids[i]), int(customer[i]) + 1, int(self.shipping_address[customer[i]]),
                         status_names[status[i]], "EUR", int(subtotal[i]), int(order_discount[i]),
                         int(shipping[i]), int(tax[i]), int(total[i]),
                         COUPONS[coupon_index[i]] if has_coupon[i] else None, placed_iso[i], placed_iso[i],
                         changed_iso[i]))
        self.insert("orders", rows)
        item_ids = np.arange(next_ids["item"], next_ids["item"] + m)
        item_rows = list(zip(item_ids.tolist(), order_ids[item_order].tolist(), line_number.tolist(),
                             (product + 1).tolist(), quantity.tolist(), unit.tolist(), discount.tolist(),
                             [placed_iso[i] for i in item_order.tolist()],
                             [placed_iso[i] for i in item_order.tolist()], strict=True))
        self.insert("order_items", item_rows)
        next_ids["order"] += n
        next_ids["item"] += m
        self._payments(order_ids, status, placed, last_change, total, next_ids)
        self._shipments(order_ids, status, placed, last_change, next_ids)

    def _payments(self, order_ids, status, placed, last_change, total, next_ids) -> None:
        rng = self.rng
        n = len(order_ids)
        method = rng.choice(len(schema.PAYMENT_METHODS), n, p=[0.55, 0.25, 0.12, 0.08])
        failed_first = rng.random(n) < 0.03
        paid = (status == 1) | (status == 2) | (status == 3) | (status == 5)
        cancelled_after_failure = (status == 4) & (rng.random(n) < 0.5)
        paid_at = placed + rng.integers(30, 3_600, n)
        paid_iso, placed_iso, changed_iso = iso(paid_at), iso(placed), iso(last_change)
        refs = rng.integers(10**11, 10**12 - 1, n)
        rows = []
        payment_id = next_ids["payment"]
        for i in range(n):
            order_id = int(order_ids[i])
            if (paid[i] and failed_first[i]) or cancelled_after_failure[i]:
                rows.append((payment_id, order_id, schema.PAYMENT_METHODS[method[i]], "failed", int(total[i]),
                             f"psp_{refs[i]}f", None, placed_iso[i], placed_iso[i]))
                payment_id += 1
            if paid[i]:
                refunded = status[i] == 5
                rows.append((payment_id, order_id, schema.PAYMENT_METHODS[method[i]],
                             "refunded" if refunded else "captured", int(total[i]), f"psp_{refs[i]}",
                             paid_iso[i], placed_iso[i], changed_iso[i] if refunded else paid_iso[i]))
                payment_id += 1
        self.insert("payments", rows)
        next_ids["payment"] = payment_id

    def _shipments(self, order_ids, status, placed, last_change, next_ids) -> None:
        rng = self.rng
        shipped = np.flatnonzero((status == 2) | (status == 3) | (status == 5))
        k = len(shipped)
        carrier = rng.integers(0, len(CARRIERS), k)
        tracking = rng.integers(10**9, 10**10 - 1, k)
        shipped_at = placed[shipped] + rng.integers(DAY // 2, 3 * DAY, k)
        shipped_at = np.minimum(shipped_at, last_change[shipped])
        shipped_iso, changed_iso = iso(shipped_at), iso(last_change[shipped])
        state = {2: "in_transit", 3: "delivered", 5: "returned"}
        rows = []
        for j, i in enumerate(shipped.tolist()):
            s = int(status[i])
            delivered = changed_iso[j] if s in (3, 5) else None
            rows.append((next_ids["shipment"] + j, int(order_ids[i]), CARRIERS[carrier[j]],
                         f"{CARRIERS[carrier[j]][:2].upper()}{tracking[j]}", state[s], shipped_iso[j], delivered,
                         shipped_iso[j], changed_iso[j]))
        self.insert("shipments", rows)
        next_ids["shipment"] += k


def _slug(text: str) -> str:
    out = []
    for char in unicodedata.normalize("NFKD", text.lower()):
        if char.isascii() and char.isalnum():
            out.append(char)
        elif out and out[-1] != "-" and not unicodedata.combining(char):
            out.append("-")
    return "".join(out).strip("-")

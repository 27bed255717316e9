"""The demo shop's schema: a normalised e-commerce database as a real web shop stores it.

Money is integer cents, timestamps are ISO 8601 text (``YYYY-MM-DDTHH:MM:SS``, UTC), statuses are
enums guarded by CHECK constraints, and every child row has a declared foreign key. Indexes are
created after the bulk load, as a migration tool would, because that is several times faster.
"""

from __future__ import annotations

ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned")
PAYMENT_METHODS = ("card", "paypal", "bank_transfer", "gift_card")
PAYMENT_STATUSES = ("authorized", "captured", "refunded", "failed")
SHIPMENT_STATUSES = ("in_transit", "delivered", "returned")
CUSTOMER_STATUSES = ("active", "disabled")
PRODUCT_STATUSES = ("active", "discontinued")

TABLES = ("categories", "customers", "addresses", "products", "orders", "order_items", "payments", "shipments")


def _enum(column: str, values: tuple[str, ...]) -> str:
    return f"CHECK ({column} IN ({', '.join(repr(v) for v in values)}))"


CREATE_TABLES = f"""
CREATE TABLE categories (
    category_id   INTEGER PRIMARY KEY,
    parent_id     INTEGER REFERENCES categories (category_id),
    name          TEXT    NOT NULL,
    slug          TEXT    NOT NULL UNIQUE,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE TABLE customers (
    customer_id      INTEGER PRIMARY KEY,
    email            TEXT    NOT NULL UNIQUE,
    first_name       TEXT    NOT NULL,
    last_name        TEXT    NOT NULL,
    phone            TEXT,
    country_code     TEXT    NOT NULL,
    marketing_opt_in INTEGER NOT NULL DEFAULT 0 CHECK (marketing_opt_in IN (0, 1)),
    status           TEXT    NOT NULL DEFAULT 'active' {_enum("status", CUSTOMER_STATUSES)},
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);
CREATE TABLE addresses (
    address_id    INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers (customer_id),
    kind          TEXT    NOT NULL CHECK (kind IN ('shipping', 'billing')),
    line1         TEXT    NOT NULL,
    line2         TEXT,
    city          TEXT    NOT NULL,
    postal_code   TEXT    NOT NULL,
    country_code  TEXT    NOT NULL,
    is_default    INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE TABLE products (
    product_id    INTEGER PRIMARY KEY,
    category_id   INTEGER NOT NULL REFERENCES categories (category_id),
    sku           TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    description   TEXT,
    price_cents   INTEGER NOT NULL CHECK (price_cents >= 0),
    cost_cents    INTEGER NOT NULL CHECK (cost_cents >= 0),
    currency      TEXT    NOT NULL DEFAULT 'EUR',
    status        TEXT    NOT NULL DEFAULT 'active' {_enum("status", PRODUCT_STATUSES)},
    stock_qty     INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE TABLE orders (
    order_id             INTEGER PRIMARY KEY,
    customer_id          INTEGER NOT NULL REFERENCES customers (customer_id),
    shipping_address_id  INTEGER REFERENCES addresses (address_id),
    status               TEXT    NOT NULL {_enum("status", ORDER_STATUSES)},
    currency             TEXT    NOT NULL DEFAULT 'EUR',
    subtotal_cents       INTEGER NOT NULL,
    discount_cents       INTEGER NOT NULL DEFAULT 0,
    shipping_cents       INTEGER NOT NULL DEFAULT 0,
    tax_cents            INTEGER NOT NULL DEFAULT 0,
    total_cents          INTEGER NOT NULL,
    coupon_code          TEXT,
    placed_at            TEXT    NOT NULL,
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL
);
CREATE TABLE order_items (
    order_item_id     INTEGER PRIMARY KEY,
    order_id          INTEGER NOT NULL REFERENCES orders (order_id),
    line_number       INTEGER NOT NULL,
    product_id        INTEGER NOT NULL REFERENCES products (product_id),
    quantity          INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents  INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    discount_cents    INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    UNIQUE (order_id, line_number)
);
CREATE TABLE payments (
    payment_id    INTEGER PRIMARY KEY,
    order_id      INTEGER NOT NULL REFERENCES orders (order_id),
    method        TEXT    NOT NULL {_enum("method", PAYMENT_METHODS)},
    status        TEXT    NOT NULL {_enum("status", PAYMENT_STATUSES)},
    amount_cents  INTEGER NOT NULL,
    provider_ref  TEXT,
    paid_at       TEXT,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE TABLE shipments (
    shipment_id      INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES orders (order_id),
    carrier          TEXT    NOT NULL,
    tracking_number  TEXT    NOT NULL,
    status           TEXT    NOT NULL {_enum("status", SHIPMENT_STATUSES)},
    shipped_at       TEXT    NOT NULL,
    delivered_at     TEXT,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);
"""

CREATE_INDEXES = """
CREATE INDEX ix_categories_parent ON categories (parent_id);
CREATE INDEX ix_customers_updated ON customers (updated_at);
CREATE INDEX ix_addresses_customer ON addresses (customer_id);
CREATE INDEX ix_products_category ON products (category_id);
CREATE INDEX ix_products_updated ON products (updated_at);
CREATE INDEX ix_orders_customer ON orders (customer_id);
CREATE INDEX ix_orders_status ON orders (status);
CREATE INDEX ix_orders_updated ON orders (updated_at);
CREATE INDEX ix_order_items_product ON order_items (product_id);
CREATE INDEX ix_order_items_updated ON order_items (updated_at);
CREATE INDEX ix_payments_order ON payments (order_id);
CREATE INDEX ix_payments_updated ON payments (updated_at);
CREATE INDEX ix_shipments_order ON shipments (order_id);
CREATE INDEX ix_shipments_updated ON shipments (updated_at);
"""

# Departments and their leaf categories. Products hang off the leaves.
CATEGORY_TREE: dict[str, tuple[str, ...]] = {
    "Electronics": ("Phones", "Laptops", "Audio", "Cameras"),
    "Home & Kitchen": ("Cookware", "Lighting", "Furniture"),
    "Fashion": ("Women", "Men", "Shoes", "Accessories"),
    "Sports & Outdoors": ("Cycling", "Camping", "Fitness"),
    "Books": ("Fiction", "Non-fiction", "Children's"),
    "Beauty": ("Skincare", "Fragrance"),
    "Toys & Games": ("Board games", "Puzzles", "Outdoor toys"),
    "Café & Épicerie": ("Coffee & Tea", "Snacks", "Pantry"),
}

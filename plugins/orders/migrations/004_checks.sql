-- destek: foreign_keys off
-- `x IN ('a', 'b', 'c')` in a CHECK is coded by SQLite as a temporary index built again for every row it checks (a
-- B-tree and a page per list, per row): every webhook wrote three of them (the order's status and payment status,
-- the delivery log's outcome) and more per shipment. The same rules as comparisons cost nothing. A CHECK cannot be
-- altered in place, so the tables are rebuilt (SQLite's ALTER TABLE procedure; the host runs this step with foreign
-- keys off and checks them after). Columns, rows, ids and indexes are the same.

CREATE TABLE orders_orders_new (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,                         -- woocommerce, shopify, api, csv
  source_id INTEGER NOT NULL DEFAULT 0,         -- orders_sources.id; 0 for the generic API and CSV
  external_id TEXT NOT NULL,                    -- the source's id (the number for the API and CSV)
  status TEXT NOT NULL CHECK (status = 'pending' OR status = 'processing' OR status = 'on_hold'
                              OR status = 'shipped' OR status = 'completed' OR status = 'cancelled'
                              OR status = 'refunded' OR status = 'failed'),
  source_status TEXT,                           -- the source's own word ("wc-kargo-verildi", "paid"/"fulfilled")
  payment_status TEXT NOT NULL CHECK (payment_status = 'pending' OR payment_status = 'authorized'
                                      OR payment_status = 'partially_paid' OR payment_status = 'paid'
                                      OR payment_status = 'partially_refunded' OR payment_status = 'refunded'
                                      OR payment_status = 'voided' OR payment_status = 'failed'),
  currency TEXT NOT NULL,
  total_minor INTEGER NOT NULL DEFAULT 0,
  shipping_minor INTEGER NOT NULL DEFAULT 0,
  discount_minor INTEGER NOT NULL DEFAULT 0,
  placed_at TEXT,
  paid_at TEXT,
  cancelled_at TEXT,
  email TEXT,                                   -- lower case
  phone TEXT,                                   -- digits only, 90 5xx... for Turkish mobiles
  customer_name TEXT,
  contact_id INTEGER REFERENCES core_contacts(id), -- the core's contact (host->contact_resolve); NULL: none
  ship_name TEXT,
  ship_province TEXT,
  ship_district TEXT,
  ship_address TEXT,
  ship_country TEXT,
  shipping_method TEXT,
  promised_dispatch_date TEXT,                  -- YYYY-MM-DD
  source_updated_at TEXT NOT NULL,              -- the source's modified time (UTC): a staler version is refused
  content_sha TEXT NOT NULL,                    -- SHA-256 of the canonical order: the same content changes nothing
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  search_text TEXT,                             -- folded words for the orders list (003)
  UNIQUE (source_id, external_id)
);
INSERT INTO orders_orders_new(id, number, source, source_id, external_id, status, source_status, payment_status,
    currency, total_minor, shipping_minor, discount_minor, placed_at, paid_at, cancelled_at, email, phone,
    customer_name, contact_id, ship_name, ship_province, ship_district, ship_address, ship_country, shipping_method,
    promised_dispatch_date, source_updated_at, content_sha, created_at, updated_at, search_text)
  SELECT id, number, source, source_id, external_id, status, source_status, payment_status, currency, total_minor,
    shipping_minor, discount_minor, placed_at, paid_at, cancelled_at, email, phone, customer_name, contact_id,
    ship_name, ship_province, ship_district, ship_address, ship_country, shipping_method, promised_dispatch_date,
    source_updated_at, content_sha, created_at, updated_at, search_text FROM orders_orders;
DROP TABLE orders_orders;
ALTER TABLE orders_orders_new RENAME TO orders_orders;
CREATE INDEX orders_orders_email ON orders_orders(email);
CREATE INDEX orders_orders_phone ON orders_orders(phone);
CREATE INDEX orders_orders_contact ON orders_orders(contact_id);
CREATE INDEX orders_orders_status ON orders_orders(status, id);
CREATE INDEX orders_orders_search_missing ON orders_orders(id) WHERE search_text IS NULL;
CREATE INDEX orders_orders_payment ON orders_orders(payment_status, id);
CREATE INDEX orders_orders_source ON orders_orders(source, id);
CREATE INDEX orders_orders_placed ON orders_orders(placed_at);

CREATE TABLE orders_shipments_new (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders_orders(id) ON DELETE CASCADE,
  ref TEXT NOT NULL,                            -- the source's fulfilment id, else the tracking number
  carrier TEXT,                                 -- orders_carriers.code when recognised
  carrier_name TEXT,                            -- as the source wrote it
  tracking_number TEXT,
  source_url TEXT,                              -- a tracking URL the source sent (used when the carrier is unknown)
  status TEXT NOT NULL DEFAULT 'Pending' CHECK (status = 'Pending' OR status = 'InfoReceived'
                                                OR status = 'InTransit' OR status = 'OutForDelivery'
                                                OR status = 'AttemptFail' OR status = 'Delivered'
                                                OR status = 'AvailableForPickup' OR status = 'Exception'
                                                OR status = 'Expired'),
  shipped_at TEXT,
  delivered_at TEXT,
  source TEXT NOT NULL,                         -- shopify, woocommerce, agent, api
  source_updated_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (order_id, ref)
);
INSERT INTO orders_shipments_new(id, order_id, ref, carrier, carrier_name, tracking_number, source_url, status,
    shipped_at, delivered_at, source, source_updated_at, created_at, updated_at)
  SELECT id, order_id, ref, carrier, carrier_name, tracking_number, source_url, status, shipped_at, delivered_at,
    source, source_updated_at, created_at, updated_at FROM orders_shipments;
DROP TABLE orders_shipments;
ALTER TABLE orders_shipments_new RENAME TO orders_shipments;
CREATE INDEX orders_shipments_status ON orders_shipments(status, order_id);
CREATE INDEX orders_shipments_carrier ON orders_shipments(carrier, order_id);

CREATE TABLE orders_deliveries_new (
  id INTEGER PRIMARY KEY,
  source_id INTEGER NOT NULL,
  topic TEXT,
  dedupe_key TEXT,
  outcome TEXT NOT NULL CHECK (outcome = 'kept' OR outcome = 'failed' OR outcome = 'duplicate'
                               OR outcome = 'stale' OR outcome = 'ping'),
  detail TEXT,
  order_number TEXT,
  received_at TEXT NOT NULL
);
INSERT INTO orders_deliveries_new(id, source_id, topic, dedupe_key, outcome, detail, order_number, received_at)
  SELECT id, source_id, topic, dedupe_key, outcome, detail, order_number, received_at FROM orders_deliveries;
DROP TABLE orders_deliveries;
ALTER TABLE orders_deliveries_new RENAME TO orders_deliveries;
CREATE UNIQUE INDEX orders_deliveries_key ON orders_deliveries(source_id, dedupe_key)
  WHERE dedupe_key IS NOT NULL AND outcome IN ('kept', 'stale');
CREATE INDEX orders_deliveries_source ON orders_deliveries(source_id, id);

CREATE TABLE orders_ticket_links_new (
  ticket_id INTEGER NOT NULL,
  order_id INTEGER NOT NULL REFERENCES orders_orders(id) ON DELETE CASCADE,
  how TEXT NOT NULL CHECK (how = 'form' OR how = 'text' OR how = 'agent'),
  user_id INTEGER,                              -- the agent who linked it (how = agent)
  created_at TEXT NOT NULL,
  PRIMARY KEY (ticket_id, order_id)
) WITHOUT ROWID;
INSERT INTO orders_ticket_links_new(ticket_id, order_id, how, user_id, created_at)
  SELECT ticket_id, order_id, how, user_id, created_at FROM orders_ticket_links;
DROP TABLE orders_ticket_links;
ALTER TABLE orders_ticket_links_new RENAME TO orders_ticket_links;
CREATE INDEX orders_ticket_links_order ON orders_ticket_links(order_id, ticket_id);

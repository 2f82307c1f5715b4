-- The orders module's store: orders from the shop (webhooks, polling, the generic API, CSV), their line items and
-- shipments with a checkpoint timeline, the shop connections ("sources") with their secrets, every delivery a
-- receiver took, and the carriers' tracking-page templates. Money is kept in integer minor units (kuruş).

CREATE TABLE orders_sources (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('woocommerce', 'shopify')),
  name TEXT NOT NULL,
  webhook_secret TEXT SECRET NOT NULL,          -- the key of the platform's HMAC signature
  api_url TEXT,                                 -- WooCommerce: the shop's home URL, for REST polling
  api_key TEXT SECRET,                          -- WooCommerce REST consumer key
  api_secret TEXT SECRET,                       -- WooCommerce REST consumer secret
  poll_minutes INTEGER NOT NULL DEFAULT 0,      -- 0: no polling
  poll_cursor TEXT,                             -- orders modified after this were not swept yet (UTC, the shop's clock)
  poll_page INTEGER NOT NULL DEFAULT 1,         -- the page the unfinished sweep goes on from
  poll_sweep_start TEXT,                        -- the shop's clock when the unfinished sweep began: its next cursor
  polled_at TEXT,
  poll_error TEXT,
  active INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE orders_orders (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,                         -- woocommerce, shopify, api, csv
  source_id INTEGER NOT NULL DEFAULT 0,         -- orders_sources.id; 0 for the generic API and CSV
  external_id TEXT NOT NULL,                    -- the source's id (the number for the API and CSV)
  status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'on_hold', 'shipped', 'completed', 'cancelled',
                                         'refunded', 'failed')),
  source_status TEXT,                           -- the source's own word ("wc-kargo-verildi", "paid"/"fulfilled")
  payment_status TEXT NOT NULL CHECK (payment_status IN ('pending', 'authorized', 'partially_paid', 'paid',
                                      'partially_refunded', 'refunded', 'voided', 'failed')),
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
  UNIQUE (source_id, external_id)
);
CREATE INDEX orders_orders_email ON orders_orders(email);
CREATE INDEX orders_orders_phone ON orders_orders(phone);
CREATE INDEX orders_orders_contact ON orders_orders(contact_id);
CREATE INDEX orders_orders_status ON orders_orders(status, id);

CREATE TABLE orders_items (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders_orders(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  sku TEXT,
  name TEXT NOT NULL,
  variant TEXT,
  quantity INTEGER NOT NULL,
  price_minor INTEGER NOT NULL
);
CREATE INDEX orders_items_order ON orders_items(order_id, position);

CREATE TABLE orders_carriers (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  url_template TEXT NOT NULL,                   -- {n} is the tracking number
  verified INTEGER NOT NULL DEFAULT 0,          -- 1: the template was seen working in several public sources
  aliases TEXT NOT NULL,                        -- folded names the shops send, "|"-separated
  updated_at TEXT
);
INSERT INTO orders_carriers(code, name, url_template, verified, aliases) VALUES
  ('yurtici', 'Yurtiçi Kargo', 'https://www.yurticikargo.com/tr/online-servisler/gonderi-sorgula?code={n}', 1,
   'yurtici|yurtici kargo|yurtici cargo|yk'),
  ('aras', 'Aras Kargo', 'https://kargotakip.araskargo.com.tr/mainpage.aspx?code={n}', 0,
   'aras|aras kargo|aras cargo'),
  ('mng', 'MNG Kargo / DHL eCommerce', 'https://www.dhlecommerce.com.tr/gonderitakip?gonderino={n}', 0,
   'mng|mng kargo|dhl ecommerce|dhl e-commerce|dhl ecommerce turkiye'),
  ('ptt', 'PTT Kargo', 'https://gonderitakip.ptt.gov.tr/Track/Verify?q={n}', 0, 'ptt|ptt kargo|ptt kargo takip'),
  ('surat', 'Sürat Kargo', 'https://www.suratkargo.com.tr/KargoTakip/?kargotakipno={n}', 0,
   'surat|surat kargo'),
  ('hepsijet', 'HepsiJet', 'https://www.hepsijet.com/gonderi-takibi/{n}', 0, 'hepsijet|hepsi jet'),
  ('trendyol', 'Trendyol Express', 'https://kargotakip.trendyol.com/?orderNumber={n}', 0,
   'trendyol|trendyol express|trendyolexpress|tex'),
  ('kolaygelsin', 'Kolay Gelsin', 'https://esube.kolaygelsin.com/shipments?trackingId={n}', 0,
   'kolaygelsin|kolay gelsin'),
  ('ups', 'UPS Türkiye', 'https://www.ups.com/track?loc=tr_TR&tracknum={n}', 0, 'ups|ups kargo|ups turkiye|ups tr');

CREATE TABLE orders_shipments (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders_orders(id) ON DELETE CASCADE,
  ref TEXT NOT NULL,                            -- the source's fulfilment id, else the tracking number
  carrier TEXT,                                 -- orders_carriers.code when recognised
  carrier_name TEXT,                            -- as the source wrote it
  tracking_number TEXT,
  source_url TEXT,                              -- a tracking URL the source sent (used when the carrier is unknown)
  status TEXT NOT NULL DEFAULT 'Pending' CHECK (status IN ('Pending', 'InfoReceived', 'InTransit', 'OutForDelivery',
         'AttemptFail', 'Delivered', 'AvailableForPickup', 'Exception', 'Expired')),
  shipped_at TEXT,
  delivered_at TEXT,
  source TEXT NOT NULL,                         -- shopify, woocommerce, agent, api
  source_updated_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (order_id, ref)
);

CREATE TABLE orders_checkpoints (
  id INTEGER PRIMARY KEY,
  shipment_id INTEGER NOT NULL REFERENCES orders_shipments(id) ON DELETE CASCADE,
  at TEXT NOT NULL,
  status TEXT NOT NULL,
  message TEXT,
  location TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX orders_checkpoints_shipment ON orders_checkpoints(shipment_id, at);

-- Every delivery a receiver took. A kept or stale delivery holds its dedupe key (WooCommerce: order id and
-- date_modified_gmt; Shopify: topic and event id), so a redelivery finds it and is logged as a duplicate.
CREATE TABLE orders_deliveries (
  id INTEGER PRIMARY KEY,
  source_id INTEGER NOT NULL,
  topic TEXT,
  dedupe_key TEXT,
  outcome TEXT NOT NULL CHECK (outcome IN ('kept', 'failed', 'duplicate', 'stale', 'ping')),
  detail TEXT,
  order_number TEXT,
  received_at TEXT NOT NULL
);
CREATE UNIQUE INDEX orders_deliveries_key ON orders_deliveries(source_id, dedupe_key)
  WHERE dedupe_key IS NOT NULL AND outcome IN ('kept', 'stale');
CREATE INDEX orders_deliveries_source ON orders_deliveries(source_id, id);

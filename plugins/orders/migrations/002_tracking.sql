-- Tracking (issue 12, second part): carrier adapters, polling with backoff, the ETA table and its holidays, notices.

-- A carrier's generic JSON adapter (tracking.c): {url, headers, status_path, status_map, checkpoints_path,
-- checkpoint: {at, status, message, location}}; NULL: none (a Lua policy tracking.carrier:<code> may still exist).
ALTER TABLE orders_carriers ADD COLUMN adapter TEXT;

-- One row per shipment that is tracked by polling: when to ask next, how long the wait is now, why it stopped.
CREATE TABLE orders_tracking (
  shipment_id INTEGER PRIMARY KEY REFERENCES orders_shipments(id) ON DELETE CASCADE,
  carrier TEXT NOT NULL,                        -- orders_carriers.code
  next_at INTEGER NOT NULL,                     -- unix seconds of the next poll
  interval_s INTEGER NOT NULL DEFAULT 10800,    -- the wait after the next poll that changes nothing (doubles to 24 h)
  started_at INTEGER NOT NULL,                  -- tracking began (it stops 30 days later)
  changed_at INTEGER,                           -- the last poll that changed something
  polled_at INTEGER,
  polls INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,          -- polls in a row that failed
  last_error TEXT,
  stopped TEXT                                  -- NULL: running; 'final' (Delivered/Expired), 'expired' (30 days)
);
CREATE INDEX orders_tracking_due ON orders_tracking(next_at) WHERE stopped IS NULL;

-- Transit times in business days per carrier ('*': any) and destination province ('*': any other).
CREATE TABLE orders_eta (
  carrier TEXT NOT NULL,
  province TEXT NOT NULL,
  days INTEGER NOT NULL CHECK (days BETWEEN 0 AND 60),
  updated_at TEXT,
  PRIMARY KEY (carrier, province)
);
-- Defaults (not facts: the merchant edits them): 2 business days anywhere, 3 for the eastern and south-eastern
-- provinces far from the big hubs.
INSERT INTO orders_eta(carrier, province, days) VALUES ('*', '*', 2);
INSERT INTO orders_eta(carrier, province, days) VALUES
  ('*', 'Ağrı', 3), ('*', 'Ardahan', 3), ('*', 'Batman', 3), ('*', 'Bingöl', 3), ('*', 'Bitlis', 3),
  ('*', 'Diyarbakır', 3), ('*', 'Hakkari', 3), ('*', 'Iğdır', 3), ('*', 'Kars', 3), ('*', 'Mardin', 3),
  ('*', 'Muş', 3), ('*', 'Siirt', 3), ('*', 'Şanlıurfa', 3), ('*', 'Şırnak', 3), ('*', 'Tunceli', 3), ('*', 'Van', 3);

-- Days carriers do not count (Turkish public holidays; half days count as holidays too).
CREATE TABLE orders_holidays (
  day TEXT PRIMARY KEY,                         -- YYYY-MM-DD
  name TEXT NOT NULL
);
INSERT INTO orders_holidays(day, name) VALUES
  ('2025-01-01', 'Yılbaşı'), ('2025-03-29', 'Ramazan Bayramı arifesi'), ('2025-03-30', 'Ramazan Bayramı'),
  ('2025-03-31', 'Ramazan Bayramı'), ('2025-04-01', 'Ramazan Bayramı'), ('2025-04-23', 'Ulusal Egemenlik ve Çocuk Bayramı'),
  ('2025-05-01', 'Emek ve Dayanışma Günü'), ('2025-05-19', 'Atatürk''ü Anma, Gençlik ve Spor Bayramı'),
  ('2025-06-05', 'Kurban Bayramı arifesi'), ('2025-06-06', 'Kurban Bayramı'), ('2025-06-07', 'Kurban Bayramı'),
  ('2025-06-08', 'Kurban Bayramı'), ('2025-06-09', 'Kurban Bayramı'), ('2025-07-15', 'Demokrasi ve Millî Birlik Günü'),
  ('2025-08-30', 'Zafer Bayramı'), ('2025-10-28', 'Cumhuriyet Bayramı arifesi'), ('2025-10-29', 'Cumhuriyet Bayramı'),
  ('2026-01-01', 'Yılbaşı'), ('2026-03-19', 'Ramazan Bayramı arifesi'), ('2026-03-20', 'Ramazan Bayramı'),
  ('2026-03-21', 'Ramazan Bayramı'), ('2026-03-22', 'Ramazan Bayramı'), ('2026-04-23', 'Ulusal Egemenlik ve Çocuk Bayramı'),
  ('2026-05-01', 'Emek ve Dayanışma Günü'), ('2026-05-19', 'Atatürk''ü Anma, Gençlik ve Spor Bayramı'),
  ('2026-05-26', 'Kurban Bayramı arifesi'), ('2026-05-27', 'Kurban Bayramı'), ('2026-05-28', 'Kurban Bayramı'),
  ('2026-05-29', 'Kurban Bayramı'), ('2026-05-30', 'Kurban Bayramı'), ('2026-07-15', 'Demokrasi ve Millî Birlik Günü'),
  ('2026-08-30', 'Zafer Bayramı'), ('2026-10-28', 'Cumhuriyet Bayramı arifesi'), ('2026-10-29', 'Cumhuriyet Bayramı'),
  ('2027-01-01', 'Yılbaşı'), ('2027-03-08', 'Ramazan Bayramı arifesi'), ('2027-03-09', 'Ramazan Bayramı'),
  ('2027-03-10', 'Ramazan Bayramı'), ('2027-03-11', 'Ramazan Bayramı'), ('2027-04-23', 'Ulusal Egemenlik ve Çocuk Bayramı'),
  ('2027-05-01', 'Emek ve Dayanışma Günü'), ('2027-05-15', 'Kurban Bayramı arifesi'), ('2027-05-16', 'Kurban Bayramı'),
  ('2027-05-17', 'Kurban Bayramı'), ('2027-05-18', 'Kurban Bayramı'), ('2027-05-19', 'Kurban Bayramı; Atatürk''ü Anma, Gençlik ve Spor Bayramı'),
  ('2027-07-15', 'Demokrasi ve Millî Birlik Günü'), ('2027-08-30', 'Zafer Bayramı'),
  ('2027-10-28', 'Cumhuriyet Bayramı arifesi'), ('2027-10-29', 'Cumhuriyet Bayramı');

-- Notices: each (order, shipment, kind) once. 'baseline' rows stand for statuses that passed before the order was
-- imported (never mailed).
CREATE TABLE orders_notices (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders_orders(id) ON DELETE CASCADE,
  shipment_id INTEGER NOT NULL DEFAULT 0,       -- 0: about the order (not_shipped)
  kind TEXT NOT NULL,                           -- shipped, out_for_delivery, delivered, exception, not_shipped, no_scan, past_eta
  state TEXT NOT NULL DEFAULT 'pending',        -- pending, mailed, skipped (switched off / no address), baseline, failed
  detail TEXT,
  note_ticket_id INTEGER,
  created_at TEXT NOT NULL,
  mailed_at TEXT,
  UNIQUE (order_id, shipment_id, kind)
);

-- ikas and IdeaSoft sources (platform_ikas.c, platform_ideasoft.c): the kind's CHECK grows, so the table is rebuilt
-- (nothing references it).
CREATE TABLE orders_sources_new (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('woocommerce', 'shopify', 'ikas', 'ideasoft')),
  name TEXT NOT NULL,
  webhook_secret TEXT SECRET NOT NULL,          -- the key of the platform's HMAC signature (ikas, IdeaSoft: the app's client secret)
  api_url TEXT,                                 -- WooCommerce: the shop's home URL, for REST polling; IdeaSoft: the shop's address
  api_key TEXT SECRET,                          -- WooCommerce REST consumer key; IdeaSoft: an Admin API access token
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
INSERT INTO orders_sources_new(id, kind, name, webhook_secret, api_url, api_key, api_secret, poll_minutes, poll_cursor,
  poll_page, poll_sweep_start, polled_at, poll_error, active, created_at, updated_at)
  SELECT id, kind, name, webhook_secret, api_url, api_key, api_secret, poll_minutes, poll_cursor, poll_page,
    poll_sweep_start, polled_at, poll_error, active, created_at, updated_at FROM orders_sources;
DROP TABLE orders_sources;
ALTER TABLE orders_sources_new RENAME TO orders_sources;

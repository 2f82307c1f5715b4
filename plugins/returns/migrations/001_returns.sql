-- returns: return and exchange requests for orders (issue 13). Orders are the orders module's: a return keeps the
-- order's number and reads the order through the orders.find service, never from orders_* tables.
CREATE TABLE returns_returns (
  id              INTEGER PRIMARY KEY,
  code            TEXT NOT NULL UNIQUE,          -- the return's approval number, "IA-7K3F9Q" (İADE ONAY NO)
  order_number    TEXT NOT NULL,
  order_id        INTEGER,                       -- the orders module's id, as orders.find answered it
  contact_id      INTEGER,                       -- core_contacts, as the order names it
  email           TEXT,
  phone           TEXT,
  customer_name   TEXT,
  lang            TEXT NOT NULL DEFAULT 'tr',
  status          TEXT NOT NULL,                 -- requested approved shipped_back received inspected refunded
                                                 -- exchanged credited rejected
  reason_summary  TEXT NOT NULL,                 -- the first item's reason: the queue's filter
  review          INTEGER NOT NULL DEFAULT 0,    -- the policy asked for a person
  policy_note     TEXT,
  reject_reason   TEXT,
  cod             INTEGER NOT NULL DEFAULT 0,    -- paid at the door: the refund goes to iban
  iban            TEXT SECRET,                   -- full IBAN; agents see it masked
  iban_holder     TEXT,
  ship_by         INTEGER,                       -- approved_at + 10 days
  tracking_number TEXT,                          -- the return shipment's number (carrier scans match it)
  carrier         TEXT,
  ticket_id       INTEGER,
  refund_due_at   INTEGER NOT NULL,              -- notice + 14 days (the law's refund limit)
  refund_minor    INTEGER,
  refund_method   TEXT,
  refunded_at     INTEGER,
  exchange_tracking TEXT,
  delivered_at    INTEGER,                       -- the order's last delivery when requested (NULL: not delivered)
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);
CREATE INDEX returns_returns_status ON returns_returns(status, id);
CREATE INDEX returns_returns_reason ON returns_returns(reason_summary, id);
CREATE INDEX returns_returns_order ON returns_returns(order_number);
CREATE INDEX returns_returns_contact ON returns_returns(contact_id, id);
CREATE INDEX returns_returns_tracking ON returns_returns(tracking_number) WHERE tracking_number IS NOT NULL;
CREATE INDEX returns_returns_ticket ON returns_returns(ticket_id) WHERE ticket_id IS NOT NULL;

CREATE TABLE returns_items (
  id           INTEGER PRIMARY KEY,
  return_id    INTEGER NOT NULL REFERENCES returns_returns(id),
  line         INTEGER NOT NULL,                 -- 1-based position in the order's items
  sku          TEXT,
  name         TEXT NOT NULL,
  variant      TEXT,
  quantity     INTEGER NOT NULL,
  price_minor  INTEGER NOT NULL DEFAULT 0,
  reason       TEXT NOT NULL,                    -- damaged wrong_item not_as_described defective changed_mind exchange_size
  comment      TEXT,
  outcome      TEXT NOT NULL,                    -- refund exchange credit
  exchange_variant TEXT,
  condition    TEXT,                             -- inspection: as_new opened damaged missing
  condition_note TEXT
);
CREATE INDEX returns_items_return ON returns_items(return_id);

CREATE TABLE returns_photos (
  id         INTEGER PRIMARY KEY,
  return_id  INTEGER NOT NULL REFERENCES returns_returns(id),
  item_id    INTEGER REFERENCES returns_items(id),
  file_id    TEXT NOT NULL,
  filename   TEXT,
  type       TEXT NOT NULL,
  size       INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX returns_photos_return ON returns_photos(return_id);

-- Every change of a return: the page's history and the agents' timeline.
CREATE TABLE returns_history (
  id         INTEGER PRIMARY KEY,
  return_id  INTEGER NOT NULL REFERENCES returns_returns(id),
  status     TEXT NOT NULL,                      -- the status after the change
  action     TEXT NOT NULL,                      -- requested approved rejected shipped_back received inspected refunded
                                                 -- exchanged credited message scan note
  actor      TEXT NOT NULL,                      -- "customer", "user:7", "system", "carrier"
  note       TEXT,
  at         INTEGER NOT NULL
);
CREATE INDEX returns_history_return ON returns_history(return_id, id);

-- Products excepted from the withdrawal right (Mesafeli Sözleşmeler Yönetmeliği art. 15), by SKU.
CREATE TABLE returns_product_flags (
  sku        TEXT PRIMARY KEY,
  flags      TEXT NOT NULL,                      -- comma-separated: personalised,perishable,hygiene,digital,...
  updated_at INTEGER NOT NULL
);

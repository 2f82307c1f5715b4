-- destek: foreign_keys off
-- `x IN ('a', 'b', 'c')` in a CHECK is coded by SQLite as a temporary index built again for every row it checks; the
-- same rule written as comparisons costs nothing. Deliveries are written for every event and updated on every
-- attempt, identities for every new person: both tables are rebuilt with the comparisons (SQLite's ALTER TABLE
-- procedure; the host runs this step with foreign keys off and checks them after). Columns, rows, ids and indexes
-- are the same.
CREATE TABLE core_deliveries_new (
  id              INTEGER PRIMARY KEY,
  uid             TEXT NOT NULL UNIQUE,       -- stable across retries (X-Destek-Delivery)
  event_id        INTEGER NOT NULL REFERENCES core_outbox(id),
  subscriber      TEXT NOT NULL,              -- "<plugin>:<event>" or "webhook:<id>"
  subject         TEXT NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status = 'pending' OR status = 'delivered' OR status = 'dead'),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_at         INTEGER NOT NULL,           -- unix seconds
  last_error      TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  delivered_at    TEXT,
  response_status INTEGER                     -- a sink's last HTTP status (004)
);
INSERT INTO core_deliveries_new(id, uid, event_id, subscriber, subject, status, attempts, next_at, last_error,
                                created_at, updated_at, delivered_at, response_status)
  SELECT id, uid, event_id, subscriber, subject, status, attempts, next_at, last_error, created_at, updated_at,
         delivered_at, response_status
    FROM core_deliveries;
DROP TABLE core_deliveries;
ALTER TABLE core_deliveries_new RENAME TO core_deliveries;
CREATE INDEX core_deliveries_due ON core_deliveries(status, next_at);
CREATE INDEX core_deliveries_order ON core_deliveries(subscriber, subject, status, id);
CREATE INDEX core_deliveries_event ON core_deliveries(event_id);

CREATE TABLE core_contact_identities_new (
  id         INTEGER PRIMARY KEY,
  contact_id INTEGER NOT NULL REFERENCES core_contacts(id),
  kind       TEXT NOT NULL CHECK (kind = 'email' OR kind = 'phone' OR kind = 'whatsapp'),
  value      TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (kind, value)
);
INSERT INTO core_contact_identities_new(id, contact_id, kind, value, created_at)
  SELECT id, contact_id, kind, value, created_at FROM core_contact_identities;
DROP TABLE core_contact_identities;
ALTER TABLE core_contact_identities_new RENAME TO core_contact_identities;
CREATE INDEX core_contact_identities_contact ON core_contact_identities(contact_id, kind, id);

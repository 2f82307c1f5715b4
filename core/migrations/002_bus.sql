-- Event bus (outbox and deliveries), one-shot timers, settings.
CREATE TABLE core_outbox (
  id         INTEGER PRIMARY KEY,
  event      TEXT NOT NULL,
  subject    TEXT NOT NULL,
  payload    TEXT NOT NULL,                -- JSON object
  created_at TEXT NOT NULL
);

-- One row per (event, async subscriber or sink target), written in the emitting transaction.
CREATE TABLE core_deliveries (
  id           INTEGER PRIMARY KEY,
  uid          TEXT NOT NULL UNIQUE,       -- stable across retries (X-Destek-Delivery)
  event_id     INTEGER NOT NULL REFERENCES core_outbox(id),
  subscriber   TEXT NOT NULL,              -- "<plugin>:<event>" or "webhook:<id>"
  subject      TEXT NOT NULL,
  status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts     INTEGER NOT NULL DEFAULT 0,
  next_at      INTEGER NOT NULL,           -- unix seconds
  last_error   TEXT,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  delivered_at TEXT
);
CREATE INDEX core_deliveries_due ON core_deliveries(status, next_at);
CREATE INDEX core_deliveries_order ON core_deliveries(subscriber, subject, status, id);
CREATE INDEX core_deliveries_event ON core_deliveries(event_id);

CREATE TABLE core_timers (
  id         INTEGER PRIMARY KEY,
  kind       TEXT NOT NULL,                -- "<plugin>.<kind>"
  key        TEXT NOT NULL,
  due_at     INTEGER NOT NULL,             -- unix seconds
  payload    TEXT NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  UNIQUE (kind, key)
);
CREATE INDEX core_timers_due ON core_timers(due_at);

CREATE TABLE core_settings (
  name       TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- Webhooks: URLs that receive signed POSTs of events (core/webhooks.c). Their deliveries are rows of
-- core_deliveries with subscriber 'webhook:<id>'.
CREATE TABLE core_webhooks (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: deliveries name "webhook:<id>"
  url         TEXT NOT NULL,                -- http:// or https://; checked against private addresses when called
  events      TEXT NOT NULL,                -- JSON array of event names and patterns: "ticket.created", "ticket.*", "*"
  secret      TEXT NOT NULL,                -- HMAC-SHA256 key of X-Destek-Signature; never shown after creation
  description TEXT NOT NULL DEFAULT '',
  active      INTEGER NOT NULL DEFAULT 1,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE INDEX core_webhooks_active ON core_webhooks(active);

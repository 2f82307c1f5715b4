-- The campaigns module's store (plugins/campaigns): contact tags for segments, saved segments, campaigns, one row per
-- recipient of a campaign with what became of them, and the consent imports. Times are Unix seconds (UTC). Consent
-- itself is the core's (core_consent); a message is the core's (core_messages), queued through consent.send.

-- Tags a shop gives its contacts for segments ("vip", "toptan"): the module's own, keyed by the core's contact id.
CREATE TABLE campaigns_tags (
  contact_id INTEGER NOT NULL,
  tag TEXT NOT NULL,
  PRIMARY KEY (contact_id, tag)
) WITHOUT ROWID;
CREATE INDEX campaigns_tags_tag ON campaigns_tags(tag, contact_id);

-- A saved segment: its rules as JSON (see segments.lua).
CREATE TABLE campaigns_segments (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  rules TEXT NOT NULL,
  created_by INTEGER,
  created_at INTEGER NOT NULL
);

CREATE TABLE campaigns_campaigns (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel = 'email'),
  rules TEXT NOT NULL,                  -- the segment's rules, copied when the campaign was made
  subject_tr TEXT NOT NULL,
  body_tr TEXT NOT NULL,
  subject_en TEXT NOT NULL,
  body_en TEXT NOT NULL,
  per_second INTEGER NOT NULL CHECK (per_second BETWEEN 1 AND 2000),
  status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'done')),
  scheduled_at INTEGER,
  collected INTEGER NOT NULL DEFAULT 0, -- 1 once the recipients were gathered
  collect_after INTEGER NOT NULL DEFAULT 0,
  sec INTEGER NOT NULL DEFAULT 0,       -- the throttle: the second being filled and how many went in it
  sec_count INTEGER NOT NULL DEFAULT 0,
  ticks INTEGER NOT NULL DEFAULT 0,     -- the sending timer's runs (each schedules the next under a new key)
  buyers_done INTEGER NOT NULL DEFAULT 0, -- bit 1: the "bought" window gathered, bit 2: the "not bought" one
  buyers_after INTEGER NOT NULL DEFAULT 0,
  created_by INTEGER,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER
);

-- Who a campaign is for, and what became of each: queued (to be handed to the core), sent (queued in the core's
-- send path: message_id), skipped (reason: no_consent, no_address, erased). A row's change and the core's queued
-- message commit together, so a restart or kill -9 neither sends twice nor skips anyone.
CREATE TABLE campaigns_recipients (
  id INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL REFERENCES campaigns_campaigns(id),
  contact_id INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'skipped')),
  reason TEXT,
  message_id INTEGER,
  at INTEGER,
  UNIQUE (campaign_id, contact_id)
);
CREATE INDEX campaigns_recipients_queued ON campaigns_recipients(campaign_id, status, id);
CREATE INDEX campaigns_recipients_contact ON campaigns_recipients(contact_id);
CREATE INDEX campaigns_recipients_sent ON campaigns_recipients(at) WHERE status = 'sent';

-- Buyers found through orders.buyers while a campaign's recipients are gathered (a rule on orders in a window).
-- kind 1: bought in the rule's window, 2: the window of "not bought"; campaign_id 0 is a count's scratch (emptied in
-- the same transaction).
CREATE TABLE campaigns_buyers (
  campaign_id INTEGER NOT NULL,
  kind INTEGER NOT NULL CHECK (kind IN (1, 2)),
  contact_id INTEGER NOT NULL,
  PRIMARY KEY (campaign_id, kind, contact_id)
) WITHOUT ROWID;

-- Consent imports: who imported how many rows, from what.
CREATE TABLE campaigns_imports (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  rows INTEGER NOT NULL,
  created_by INTEGER,
  created_at INTEGER NOT NULL
);

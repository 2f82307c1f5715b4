-- The reports module's own copy of the figures other modules publish (README.md, "The contract"). Nothing here is
-- read from another module's tables: every row comes from a <module>.report_facts service, refreshed on the
-- module's events and rebuilt on demand.

-- One fact per entity (a ticket, a return, an order, a rating ...): when it counts (at, unix seconds; day, the
-- shop's local day number since 1970-01-01), whether it is still open, its dimensions and its measures (JSON).
CREATE TABLE reports_facts (
  kind      TEXT NOT NULL,
  entity_id INTEGER NOT NULL,
  ref       TEXT,
  at        INTEGER NOT NULL,
  day       INTEGER NOT NULL,
  open      INTEGER NOT NULL DEFAULT 0,
  dims      TEXT NOT NULL DEFAULT '{}',
  vals      TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (kind, entity_id)
) WITHOUT ROWID;
CREATE INDEX reports_facts_day ON reports_facts(kind, day);
CREATE INDEX reports_facts_open ON reports_facts(kind, open, at);

-- The roll-ups, kept up to date incrementally (a changed fact takes its old share out and puts the new one in): for
-- each day (or month) and measure, how many facts had the measure (n) and its sum. reports_totals holds the totals
-- (with the duration buckets "<m>:b0".."<m>:b3": 0-1 h, 1-4 h, 4-24 h, 24 h+), reports_daily each dimension value per
-- day and reports_monthly the same per month (year * 12 + month - 1), so that a year reads twelve months and the
-- days at its two ends.
CREATE TABLE reports_totals (
  kind    TEXT NOT NULL,
  day     INTEGER NOT NULL,
  measure TEXT NOT NULL,
  n       INTEGER NOT NULL,
  sum     REAL NOT NULL,
  PRIMARY KEY (kind, day, measure)
) WITHOUT ROWID;
CREATE TABLE reports_daily (
  kind    TEXT NOT NULL,
  day     INTEGER NOT NULL,
  dim     TEXT NOT NULL,
  value   TEXT NOT NULL,
  measure TEXT NOT NULL,
  n       INTEGER NOT NULL,
  sum     REAL NOT NULL,
  PRIMARY KEY (kind, day, dim, value, measure)
) WITHOUT ROWID;
CREATE TABLE reports_monthly (
  kind    TEXT NOT NULL,
  month   INTEGER NOT NULL,
  dim     TEXT NOT NULL,
  value   TEXT NOT NULL,
  measure TEXT NOT NULL,
  n       INTEGER NOT NULL,
  sum     REAL NOT NULL,
  PRIMARY KEY (kind, month, dim, value, measure)
) WITHOUT ROWID;

-- Every duration, for exact medians over any range (walked in value order, no sort).
CREATE TABLE reports_values (
  kind      TEXT NOT NULL,
  measure   TEXT NOT NULL,
  value     REAL NOT NULL,
  day       INTEGER NOT NULL,
  entity_id INTEGER NOT NULL,
  PRIMARY KEY (kind, measure, value, day, entity_id)
) WITHOUT ROWID;

-- Display names of dimension values (a team's or an agent's name), as the source last gave them.
CREATE TABLE reports_labels (
  kind  TEXT NOT NULL,
  dim   TEXT NOT NULL,
  value TEXT NOT NULL,
  label TEXT NOT NULL,
  PRIMARY KEY (kind, dim, value)
) WITHOUT ROWID;

-- The sources seen, with their last rebuild.
CREATE TABLE reports_sources (
  kind        TEXT PRIMARY KEY,
  service     TEXT NOT NULL,
  durations   TEXT NOT NULL DEFAULT '[]',
  rebuilt_at  INTEGER,
  rebuild_ms  INTEGER,
  facts       INTEGER
);

-- The weekly digests sent (one per ISO week).
CREATE TABLE reports_digests (
  week    TEXT PRIMARY KEY,
  sent_at INTEGER NOT NULL,
  sent_to INTEGER NOT NULL
);

-- The entities whose facts changed and are not refreshed yet: noted by reports' subscribers inside the event's own
-- transaction (one row per entity, however many events touched it; seq: the latest event's id), taken in batches by
-- the flush job, each batch refreshed in one short transaction and its rows deleted when their seq is unchanged.
CREATE TABLE reports_pending (
  kind      TEXT NOT NULL,
  entity_id INTEGER NOT NULL,
  seq       INTEGER NOT NULL,
  PRIMARY KEY (kind, entity_id)
) WITHOUT ROWID;

-- A rebuild goes page by page into a shadow key ("<kind>~" or "<kind>") while the dashboard reads the live one
-- (store; NULL: the kind itself), then swaps: building is the shadow while it runs, cursor the last entity id built,
-- built how many facts so far, build_started when it began (unix seconds).
ALTER TABLE reports_sources ADD COLUMN store TEXT;
ALTER TABLE reports_sources ADD COLUMN building TEXT;
ALTER TABLE reports_sources ADD COLUMN cursor INTEGER;
ALTER TABLE reports_sources ADD COLUMN built INTEGER;
ALTER TABLE reports_sources ADD COLUMN build_started INTEGER;

-- Triggers may run on ticket.rated (rating.c: a module tells a ticket its customer's score, ticketing.rate). SQLite
-- cannot change a CHECK in place: the table is rebuilt with the same rows.
CREATE TABLE tkt_triggers_new (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  position   INTEGER NOT NULL,
  active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  event      TEXT NOT NULL CHECK (event IN ('ticket.created', 'message.added', 'ticket.updated', 'ticket.rated')),
  conditions TEXT NOT NULL DEFAULT '{}',
  actions    TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
INSERT INTO tkt_triggers_new SELECT id, name, position, active, event, conditions, actions, created_at, updated_at FROM tkt_triggers;
DROP TABLE tkt_triggers;
ALTER TABLE tkt_triggers_new RENAME TO tkt_triggers;
CREATE INDEX tkt_triggers_event ON tkt_triggers(event, position, id);

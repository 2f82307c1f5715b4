-- Acknowledgements are limited per recipient address (mail.ack_limit an hour, counted in core_rate_hits): one held
-- back is recorded as a tkt_mail_out row with status 'withheld' and why in last_error, so that mail-status shows
-- it beside the ticket. SQLite cannot change a CHECK constraint in place: the table is rebuilt (nothing references
-- it).
CREATE TABLE tkt_mail_out_new (
  id                INTEGER PRIMARY KEY,
  event_id          INTEGER NOT NULL,
  kind              TEXT NOT NULL CHECK (kind IN ('ack', 'reply', 'solved', 'merged')),
  ticket_id         INTEGER NOT NULL REFERENCES tkt_tickets(id),
  message_id        INTEGER REFERENCES tkt_messages(id),
  to_address        TEXT NOT NULL,
  message_id_header TEXT NOT NULL,
  status            TEXT NOT NULL DEFAULT 'sending' CHECK (status IN ('sending', 'sent', 'dead', 'withheld')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  last_error        TEXT,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  sent_at           TEXT,
  UNIQUE (event_id, kind)
);
INSERT INTO tkt_mail_out_new SELECT id, event_id, kind, ticket_id, message_id, to_address, message_id_header, status,
  attempts, last_error, created_at, updated_at, sent_at FROM tkt_mail_out;
DROP TABLE tkt_mail_out;
ALTER TABLE tkt_mail_out_new RENAME TO tkt_mail_out;
CREATE INDEX tkt_mail_out_ticket ON tkt_mail_out(ticket_id, id);

-- The public form's and replies' limits are counted in core_rate_hits now (core/ratelimit.c: checked and counted in
-- one step), no longer here.
DROP TABLE tkt_public_hits;

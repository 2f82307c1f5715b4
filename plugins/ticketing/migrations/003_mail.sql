-- The e-mail channel (mail_out.c): outbound mails and their delivery state, and the Message-IDs that thread mail.

-- One row per mail sent for an event (acknowledgement, agent reply, solved notice, merge notice). event_id and
-- kind make it idempotent across the bus's retries; message_id_header is chosen before the first attempt so that a
-- retried mail keeps it. status: sending (an attempt is under way or failed and will be retried), sent, dead.
CREATE TABLE tkt_mail_out (
  id                INTEGER PRIMARY KEY,
  event_id          INTEGER NOT NULL,
  kind              TEXT NOT NULL CHECK (kind IN ('ack', 'reply', 'solved', 'merged')),
  ticket_id         INTEGER NOT NULL REFERENCES tkt_tickets(id),
  message_id        INTEGER REFERENCES tkt_messages(id),
  to_address        TEXT NOT NULL,
  message_id_header TEXT NOT NULL,
  status            TEXT NOT NULL DEFAULT 'sending' CHECK (status IN ('sending', 'sent', 'dead')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  last_error        TEXT,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  sent_at           TEXT,
  UNIQUE (event_id, kind)
);
CREATE INDEX tkt_mail_out_ticket ON tkt_mail_out(ticket_id, id);

-- Every Message-ID seen or sent for a ticket, for threading replies (In-Reply-To/References) both ways.
-- direction: in (from the customer) or out (sent by us).
CREATE TABLE tkt_mail_ids (
  id                INTEGER PRIMARY KEY,
  message_id_header TEXT NOT NULL UNIQUE,
  ticket_id         INTEGER NOT NULL REFERENCES tkt_tickets(id),
  message_id        INTEGER REFERENCES tkt_messages(id),
  direction         TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  created_at        TEXT NOT NULL
);
CREATE INDEX tkt_mail_ids_ticket ON tkt_mail_ids(ticket_id, id);

-- The e-mail channel, inbound (mail_in.c): messages that did not become part of a ticket are kept raw for an
-- admin, never dropped. reason: unparsable, no sender, an automatic message that opens nothing, a bounce of an
-- unknown message. source: "cli" (destek mail import) or "imap".
CREATE TABLE tkt_mail_unparsed (
  id         INTEGER PRIMARY KEY,
  reason     TEXT NOT NULL,
  source     TEXT NOT NULL,
  raw        BLOB NOT NULL,
  created_at TEXT NOT NULL
);

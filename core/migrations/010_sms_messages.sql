-- destek: foreign_keys off
-- Messages to contacts by SMS beside e-mail (consent.c): the channel's CHECK widens to 'sms', so the table is rebuilt
-- (SQLite's ALTER TABLE procedure; the host runs this step with foreign keys off and checks them after). Columns, rows,
-- ids and indexes stay; new: gateway_ref, what the SMS gateway answered when it took the message (its job id), for
-- the provider's own records and delivery reports. An SMS has no subject (''); to_addr is the number (+90...).
CREATE TABLE core_messages_new (
  id          INTEGER PRIMARY KEY,
  contact_id  INTEGER NOT NULL REFERENCES core_contacts(id),
  channel     TEXT NOT NULL CHECK (channel = 'email' OR channel = 'sms'),
  to_addr     TEXT NOT NULL,
  subject     TEXT NOT NULL,
  body        TEXT NOT NULL,
  commercial  INTEGER NOT NULL CHECK (commercial = 0 OR commercial = 1),
  unsub_token TEXT UNIQUE,               -- commercial mail: the one-click unsubscribe token (opaque, random)
  sender      TEXT NOT NULL,             -- the module that asked
  status      TEXT NOT NULL DEFAULT 'pending' CHECK (status = 'pending' OR status = 'sent' OR status = 'failed'
                                                         OR status = 'withheld'),
  attempts    INTEGER NOT NULL DEFAULT 0,
  next_at     INTEGER NOT NULL DEFAULT 0, -- unix seconds: the next attempt
  last_error  TEXT,
  created_at  TEXT NOT NULL,
  sent_at     TEXT,
  gateway_ref TEXT                       -- SMS: the gateway's id for the message (Netgsm's jobid)
);
INSERT INTO core_messages_new(id, contact_id, channel, to_addr, subject, body, commercial, unsub_token, sender, status,
                              attempts, next_at, last_error, created_at, sent_at)
  SELECT id, contact_id, channel, to_addr, subject, body, commercial, unsub_token, sender, status, attempts, next_at,
         last_error, created_at, sent_at
    FROM core_messages;
DROP TABLE core_messages;
ALTER TABLE core_messages_new RENAME TO core_messages;
CREATE INDEX core_messages_pending ON core_messages(next_at) WHERE status = 'pending';
CREATE INDEX core_messages_contact ON core_messages(contact_id);

-- WhatsApp Business (Cloud API): a thread per WhatsApp user (wa_id), whose current ticket has the channel whatsapp;
-- every message in or out, keyed by its wamid (a webhook delivered twice adds nothing), with the delivery status of
-- what went out.
CREATE TABLE chat_wa_threads (
  id                 INTEGER PRIMARY KEY,
  wa_id              TEXT NOT NULL UNIQUE,         -- the user's WhatsApp id (their number, digits only)
  contact_id         INTEGER NOT NULL,             -- core_contacts.id
  ticket_id          INTEGER,                      -- the current ticket (channel whatsapp)
  last_inbound_unix  INTEGER NOT NULL DEFAULT 0,   -- the user's last message: the 24-hour window runs from it
  created_at         TEXT NOT NULL
);
CREATE INDEX chat_wa_threads_ticket ON chat_wa_threads(ticket_id);

CREATE TABLE chat_wa_messages (
  id                 INTEGER PRIMARY KEY,
  thread_id          INTEGER NOT NULL REFERENCES chat_wa_threads(id),
  direction          TEXT NOT NULL CHECK (direction = 'in' OR direction = 'out'),
  wamid              TEXT UNIQUE,                  -- WhatsApp's message id (an outbound one once the Graph API gave it)
  kind               TEXT NOT NULL,                -- text, image, document, audio, location, interactive, button, template
  body               TEXT NOT NULL,
  ticket_id          INTEGER,
  ticket_message_id  INTEGER,
  status             TEXT NOT NULL,                -- in: received; out: queued, sent, delivered, read, failed
  error_code         INTEGER,
  error_title        TEXT,
  status_unix        INTEGER,
  created_at         TEXT NOT NULL
);
CREATE INDEX chat_wa_messages_ticket ON chat_wa_messages(ticket_id, id);

-- The consent ledger (consent.c): every ONAY (consent given) and RET (consent refused or withdrawn) a contact gave for
-- a channel, append-only. The current state of (contact, channel) is derived: the record with the latest `at` wins, a
-- RET winning a tie; records of contacts merged into a contact count as its own.
--
-- Nothing here is ever updated or deleted, whoever asks (a C module's SQL included; a Lua plugin cannot write core_*
-- tables at all), with one exception: KVKK erasure. Once the contact is erased (core_contacts.erased_at set), its
-- records may be changed once, and only to blank what identifies the person (address, ip) and set erased_at; the
-- channel, status, source, times and the text shown stay as the non-identifying proof that an ONAY or a RET existed.
CREATE TABLE core_consent (
  id          INTEGER PRIMARY KEY,
  contact_id  INTEGER NOT NULL REFERENCES core_contacts(id),
  channel     TEXT NOT NULL CHECK (channel = 'email' OR channel = 'sms' OR channel = 'call' OR channel = 'whatsapp'),
  status      TEXT NOT NULL CHECK (status IN ('ONAY', 'RET')),
  source      TEXT NOT NULL CHECK (source IN ('web_form', 'checkout', 'call_centre', 'import', 'iys',
                                              'unsubscribe_link', 'reply')),
  text_shown  TEXT NOT NULL DEFAULT '',
  address     TEXT,                      -- the e-mail address or phone number the consent is about
  ip          TEXT,                      -- where it came from, when it came over the network
  recorded_by TEXT NOT NULL,             -- "user:<id>", "plugin:<name>", "unsubscribe_link"
  at          TEXT NOT NULL,             -- when the person gave it (UTC, ISO 8601)
  recorded_at TEXT NOT NULL,             -- when it was written here (UTC)
  erased_at   TEXT                       -- KVKK erasure blanked address and ip
);
CREATE INDEX core_consent_contact ON core_consent(contact_id, channel, at, id);

CREATE TRIGGER core_consent_no_delete BEFORE DELETE ON core_consent
BEGIN
  SELECT RAISE(ABORT, 'core_consent is append-only: consent records are never deleted');
END;

CREATE TRIGGER core_consent_no_update BEFORE UPDATE ON core_consent
WHEN NOT (
  OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL
  AND NEW.address IS NULL AND NEW.ip IS NULL
  AND NEW.id = OLD.id AND NEW.contact_id = OLD.contact_id AND NEW.channel = OLD.channel
  AND NEW.status = OLD.status AND NEW.source = OLD.source AND NEW.text_shown = OLD.text_shown
  AND NEW.recorded_by = OLD.recorded_by AND NEW.at = OLD.at AND NEW.recorded_at = OLD.recorded_at
  AND EXISTS (SELECT 1 FROM core_contacts c WHERE c.id = OLD.contact_id AND c.erased_at IS NOT NULL)
)
BEGIN
  SELECT RAISE(ABORT, 'core_consent is append-only: only KVKK erasure may blank an erased person''s address and ip');
END;

-- Messages modules send to contacts through the core (consent.c, host->message_send): queued in the sender's
-- transaction, delivered after commit by the core's mail sender, retried with backoff. commercial=1 was checked
-- against the ledger when queued (refused without a current ONAY) and is checked again just before sending.
CREATE TABLE core_messages (
  id          INTEGER PRIMARY KEY,
  contact_id  INTEGER NOT NULL REFERENCES core_contacts(id),
  channel     TEXT NOT NULL CHECK (channel IN ('email')),
  to_addr     TEXT NOT NULL,
  subject     TEXT NOT NULL,
  body        TEXT NOT NULL,
  commercial  INTEGER NOT NULL CHECK (commercial IN (0, 1)),
  unsub_token TEXT UNIQUE,               -- commercial mail: the one-click unsubscribe token (opaque, random)
  sender      TEXT NOT NULL,             -- the module that asked
  status      TEXT NOT NULL DEFAULT 'pending' CHECK (status = 'pending' OR status = 'sent' OR status = 'failed'
                                                         OR status = 'withheld'),
  attempts    INTEGER NOT NULL DEFAULT 0,
  next_at     INTEGER NOT NULL DEFAULT 0, -- unix seconds: the next attempt
  last_error  TEXT,
  created_at  TEXT NOT NULL,
  sent_at     TEXT
);
CREATE INDEX core_messages_pending ON core_messages(next_at) WHERE status = 'pending';
CREATE INDEX core_messages_contact ON core_messages(contact_id);

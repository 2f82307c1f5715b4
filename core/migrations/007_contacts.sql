-- Contacts (contacts.c): one person across e-mail addresses, phone numbers and WhatsApp ids, shared by every module.
-- Modules refer to a contact by id (ticketing's tkt_tickets.customer_id); a contact merged into another keeps its row
-- as a pointer (merged_into) with its identities moved to the survivor; an erased one (KVKK) keeps its row and id, so
-- that counts and references stay, with its name anonymised and its identities gone.
--
-- email and phone are the contact's first identity of that kind, kept here by contacts.c for lists, joins and
-- display; core_contact_identities is what matching reads.
CREATE TABLE core_contacts (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL DEFAULT '',
  lang        TEXT NOT NULL DEFAULT 'tr' CHECK (lang IN ('tr', 'en')),
  email       TEXT,
  phone       TEXT,
  merged_into INTEGER REFERENCES core_contacts(id),
  erased_at   TEXT,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE INDEX core_contacts_merged_into ON core_contacts(merged_into) WHERE merged_into IS NOT NULL;

-- value is normalised: e-mails lower-cased, phones in E.164 ("0532 123 45 67" -> "+905321234567"), WhatsApp ids as
-- phones. One identity belongs to one contact: the live one (merging moves it, erasing deletes it).
CREATE TABLE core_contact_identities (
  id         INTEGER PRIMARY KEY,
  contact_id INTEGER NOT NULL REFERENCES core_contacts(id),
  kind       TEXT NOT NULL CHECK (kind IN ('email', 'phone', 'whatsapp')),
  value      TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (kind, value)
);
CREATE INDEX core_contact_identities_contact ON core_contact_identities(contact_id, kind, id);

-- HTML mail parts and bounces of the core's own messages (consent.c; issue 17's "opened" and "bounced").
-- body_html: the sanitised HTML alternative of an e-mail (mail_html_sanitize_mail_new at queue time), sent as
-- multipart/alternative with body (the text part); NULL: text only.
ALTER TABLE core_messages ADD COLUMN body_html TEXT;
-- A delivery status notification for the message (consent.bounce, from the mail-in path): 'hard' (5.x.x, or a failure
-- without a status), 'soft' (4.x.x: delayed or temporarily refused); when, and the report's diagnostic.
ALTER TABLE core_messages ADD COLUMN bounce TEXT CHECK (bounce IS NULL OR bounce IN ('hard', 'soft'));
ALTER TABLE core_messages ADD COLUMN bounced_at TEXT;
ALTER TABLE core_messages ADD COLUMN bounce_error TEXT;

-- Addresses that bounced hard: the sender withholds commercial e-mail to them (a mailbox that does not exist is not
-- tried again and again, which providers count against the sender). Kept by address (lower case), with the contact
-- it was learnt for (KVKK erasure removes the row).
CREATE TABLE core_mail_bounces (
  address    TEXT PRIMARY KEY,
  contact_id INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  at         TEXT NOT NULL,
  error      TEXT
) WITHOUT ROWID;
CREATE INDEX core_mail_bounces_contact ON core_mail_bounces(contact_id);

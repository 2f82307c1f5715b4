-- Issue 11: one sender per mailbox, UIDVALIDITY tracking, drafts' files kept on the server.

-- Each saved mailbox sends as itself: its From address and name (empty: mail.from / mail.from_name), optionally
-- through its own SMTP server (empty smtp_url: the mail.smtp_* settings), and says how TLS is used for IMAP and
-- SMTP: 'auto' (the URL's scheme decides; STARTTLS when offered), 'starttls' (required), 'implicit' (TLS from
-- the first byte), 'none' (never; loopback hosts only unless mail.allow_plaintext).
ALTER TABLE tkt_mailboxes ADD COLUMN from_address TEXT NOT NULL DEFAULT '';
ALTER TABLE tkt_mailboxes ADD COLUMN from_name TEXT NOT NULL DEFAULT '';
ALTER TABLE tkt_mailboxes ADD COLUMN imap_tls TEXT NOT NULL DEFAULT 'auto'
  CHECK (imap_tls IN ('auto', 'starttls', 'implicit', 'none'));
ALTER TABLE tkt_mailboxes ADD COLUMN smtp_url TEXT NOT NULL DEFAULT '';
ALTER TABLE tkt_mailboxes ADD COLUMN smtp_user TEXT NOT NULL DEFAULT '';
ALTER TABLE tkt_mailboxes ADD COLUMN smtp_password TEXT NOT NULL DEFAULT '';
ALTER TABLE tkt_mailboxes ADD COLUMN smtp_tls TEXT NOT NULL DEFAULT 'auto'
  CHECK (smtp_tls IN ('auto', 'starttls', 'implicit', 'none'));

-- The mailbox a ticket came in on (NULL: the settings mailbox, the web form, the API): mail about the ticket goes
-- out from it. A deleted mailbox's tickets fall back to the default sender.
ALTER TABLE tkt_tickets ADD COLUMN mailbox_id INTEGER REFERENCES tkt_mailboxes(id) ON DELETE SET NULL;

-- What the poller knows of each IMAP mailbox (channel "imap" or "mailbox:<id>"): its UIDVALIDITY (RFC 3501 2.3.1.1)
-- as last seen under url/user. When it changes under the same url and user, the UIDs known before mean nothing:
-- pending rows are dropped and the mailbox is swept from UID 1 (resync_after: the last UID swept; NULL when not
-- re-syncing), every message filed unless its Message-ID (or, without one, the sha256 of its bytes) is known.
CREATE TABLE tkt_mail_imap_state (
  channel          TEXT PRIMARY KEY,
  url              TEXT NOT NULL,
  user             TEXT NOT NULL,
  uidvalidity      INTEGER NOT NULL,
  previous         INTEGER,
  changed_at       TEXT,
  changes          INTEGER NOT NULL DEFAULT 0,
  resync_after     INTEGER,
  updated_at       TEXT NOT NULL
) WITHOUT ROWID;

-- Inbound messages without a Message-ID, by the sha256 of their raw bytes: the same bytes are not filed twice.
CREATE TABLE tkt_mail_raw_seen (
  sha256     TEXT PRIMARY KEY,
  ticket_id  INTEGER,
  created_at TEXT NOT NULL
) WITHOUT ROWID;

-- Files attached to an agent's draft reply on a ticket, before it is sent: stored under <data>/attachments/ like
-- a message's, so sending moves the row to tkt_attachments with the same file (no second upload or copy).
-- Discarding the draft deletes them; a job deletes those untouched for 30 days.
CREATE TABLE tkt_draft_files (
  id           INTEGER PRIMARY KEY,
  ticket_id    INTEGER NOT NULL REFERENCES tkt_tickets(id),
  user_id      INTEGER NOT NULL,
  filename     TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size         INTEGER NOT NULL,
  sha256       TEXT NOT NULL,
  storage      TEXT NOT NULL UNIQUE,
  created_at   TEXT NOT NULL
);
CREATE INDEX tkt_draft_files_owner ON tkt_draft_files(ticket_id, user_id, id);
CREATE INDEX tkt_draft_files_age ON tkt_draft_files(created_at);

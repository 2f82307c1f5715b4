-- Further IMAP mailboxes (mailboxes.c), polled beside the one in the mail.imap_* settings. imap_password is
-- write-only through the API (GET answers imap_password_set). team_id and tags are applied to the tickets a
-- mailbox opens; a team's deletion unsets it here. AUTOINCREMENT: a deleted mailbox's id is never reused, so the
-- UID bookkeeping of one mailbox (tkt_mail_imap_pending, key "mailbox:<id>") can never be read as another's.
CREATE TABLE tkt_mailboxes (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
  imap_url      TEXT NOT NULL,
  imap_user     TEXT NOT NULL DEFAULT '',
  imap_password TEXT NOT NULL DEFAULT '',
  poll_seconds  INTEGER NOT NULL DEFAULT 60 CHECK (poll_seconds > 0),
  active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  team_id       INTEGER REFERENCES tkt_teams(id) ON DELETE SET NULL,
  tags          TEXT NOT NULL DEFAULT '[]',   -- JSON array of tags
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
-- What the mail channel last did, per channel: "smtp" (outgoing), "imap" (the settings mailbox), "mailbox:<id>".
-- last_ok says whether the last attempt succeeded; count is mails sent (smtp) or messages filed (mailboxes), the
-- latter bumped in the transaction that files the message.
CREATE TABLE tkt_mail_status (
  channel         TEXT PRIMARY KEY,
  last_attempt_at TEXT,
  last_ok         INTEGER,
  last_success_at TEXT,
  last_error      TEXT,
  last_error_at   TEXT,
  count           INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- The IMAP poller (mail_imap.c): messages fetched from a mailbox whose ticket has not been committed yet. Fetching a
-- message marks it \Seen on the server; a row here says it must be fetched again (after a crash or a failed
-- import) even though it no longer shows as UNSEEN. Deleted in the transaction that files the message.
CREATE TABLE tkt_mail_imap_pending (
  mailbox    TEXT NOT NULL,
  uid        INTEGER NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  PRIMARY KEY (mailbox, uid)
) WITHOUT ROWID;

-- Credentials declared where their tables are made (see core's 005_secret_columns.sql): the key that signs
-- customers' ticket links (tkt_secrets.value) and the mailboxes' IMAP passwords read as NULL to Lua plugins. Both
-- tables are rebuilt with the declaration, their rows kept; tkt_mailboxes keeps its AUTOINCREMENT high-water mark, so
-- that a deleted mailbox's id is still never reused.
CREATE TABLE tkt_secrets_new (
  name  TEXT PRIMARY KEY,
  value TEXT SECRET NOT NULL
);
INSERT INTO tkt_secrets_new(name, value) SELECT name, value FROM tkt_secrets;
DROP TABLE tkt_secrets;
ALTER TABLE tkt_secrets_new RENAME TO tkt_secrets;

CREATE TABLE tkt_mailboxes_new (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
  imap_url      TEXT NOT NULL,
  imap_user     TEXT NOT NULL DEFAULT '',
  imap_password TEXT SECRET NOT NULL DEFAULT '',
  poll_seconds  INTEGER NOT NULL DEFAULT 60 CHECK (poll_seconds > 0),
  active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  team_id       INTEGER REFERENCES tkt_teams(id) ON DELETE SET NULL,
  tags          TEXT NOT NULL DEFAULT '[]',   -- JSON array of tags
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
INSERT INTO tkt_mailboxes_new(id, name, imap_url, imap_user, imap_password, poll_seconds, active, team_id, tags,
                              created_at, updated_at)
  SELECT id, name, imap_url, imap_user, imap_password, poll_seconds, active, team_id, tags, created_at, updated_at
    FROM tkt_mailboxes;
DELETE FROM sqlite_sequence WHERE name = 'tkt_mailboxes_new';
INSERT INTO sqlite_sequence(name, seq) SELECT 'tkt_mailboxes_new', seq FROM sqlite_sequence WHERE name = 'tkt_mailboxes';
DROP TABLE tkt_mailboxes;
ALTER TABLE tkt_mailboxes_new RENAME TO tkt_mailboxes;

-- CC and BCC of an agent's reply (JSON arrays of addresses; NULL: none), mailed with it (mail_out.c).
ALTER TABLE tkt_messages ADD COLUMN cc TEXT;
ALTER TABLE tkt_messages ADD COLUMN bcc TEXT;
-- Signatures (sending.c): each agent's own, and each mailbox's (which may say {{agent.name}}), added under an agent's
-- reply when it is written: the agent's first, then the mailbox's.
CREATE TABLE tkt_signatures (
  user_id    INTEGER PRIMARY KEY,                   -- core_users.id
  text       TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
ALTER TABLE tkt_mailboxes ADD COLUMN signature TEXT NOT NULL DEFAULT '';

-- destek: foreign_keys off
-- The CHECKs of the two tables every new ticket writes say `x IN ('a', 'b', ...)`: SQLite codes a constant list of
-- three or more as a temporary index and builds it again for every row it checks (a B-tree, a page, three times
-- per ticket). The same rules written as comparisons cost nothing. A CHECK cannot be altered in place, so both
-- tables are rebuilt (SQLite's ALTER TABLE procedure; the host runs this step with foreign keys off and checks them
-- after). Nothing else changes: columns, rows, ids and indexes are the same.
CREATE TABLE tkt_tickets_new (
  id                INTEGER PRIMARY KEY,
  reference         INTEGER NOT NULL UNIQUE,
  subject           TEXT NOT NULL,
  status            TEXT NOT NULL DEFAULT 'new'
                    CHECK (status = 'new' OR status = 'open' OR status = 'pending' OR status = 'on_hold'
                           OR status = 'solved' OR status = 'closed'),
  priority          TEXT NOT NULL DEFAULT 'normal'
                    CHECK (priority = 'low' OR priority = 'normal' OR priority = 'high' OR priority = 'urgent'),
  channel           TEXT NOT NULL
                    CHECK (channel = 'email' OR channel = 'web' OR channel = 'api' OR channel = 'chat'
                           OR channel = 'whatsapp' OR channel = 'phone'),
  customer_id       INTEGER NOT NULL REFERENCES core_contacts(id),
  assignee_id       INTEGER,                       -- core_users.id
  team_id           INTEGER REFERENCES tkt_teams(id),
  custom_fields     TEXT NOT NULL DEFAULT '{}',    -- JSON object of string/number/bool
  order_number      TEXT,
  merged_into       INTEGER REFERENCES tkt_tickets(id),
  first_response_at TEXT,
  solved_at         TEXT,
  closed_at         TEXT,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  seq               INTEGER NOT NULL UNIQUE,
  tags_json         TEXT NOT NULL DEFAULT '[]',
  mailbox_id        INTEGER REFERENCES tkt_mailboxes(id) ON DELETE SET NULL
);
INSERT INTO tkt_tickets_new(id, reference, subject, status, priority, channel, customer_id, assignee_id, team_id,
                            custom_fields, order_number, merged_into, first_response_at, solved_at, closed_at,
                            created_at, updated_at, seq, tags_json, mailbox_id)
  SELECT id, reference, subject, status, priority, channel, customer_id, assignee_id, team_id, custom_fields,
         order_number, merged_into, first_response_at, solved_at, closed_at, created_at, updated_at, seq, tags_json,
         mailbox_id
    FROM tkt_tickets;
DROP TABLE tkt_tickets;
ALTER TABLE tkt_tickets_new RENAME TO tkt_tickets;
CREATE INDEX tkt_tickets_status ON tkt_tickets(status, seq);
CREATE INDEX tkt_tickets_assignee ON tkt_tickets(assignee_id, seq);
CREATE INDEX tkt_tickets_customer ON tkt_tickets(customer_id, seq);
CREATE INDEX tkt_tickets_team ON tkt_tickets(team_id);
CREATE INDEX tkt_tickets_priority_rank ON tkt_tickets(
  (CASE priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2 WHEN 'normal' THEN 1 ELSE 0 END), seq);
CREATE INDEX tkt_tickets_merged_into ON tkt_tickets(merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE tkt_messages_new (
  id                 INTEGER PRIMARY KEY,
  ticket_id          INTEGER NOT NULL REFERENCES tkt_tickets(id),
  kind               TEXT NOT NULL CHECK (kind = 'reply' OR kind = 'customer' OR kind = 'note'),
  author_user_id     INTEGER,
  author_customer_id INTEGER REFERENCES core_contacts(id),
  body               TEXT NOT NULL,
  body_html          TEXT,                         -- stored as given; never rendered by this module
  created_at         TEXT NOT NULL,
  mail_with_ack      INTEGER NOT NULL DEFAULT 0,
  part_ticket_id     INTEGER REFERENCES tkt_tickets(id),
  notice             TEXT
);
INSERT INTO tkt_messages_new(id, ticket_id, kind, author_user_id, author_customer_id, body, body_html, created_at,
                             mail_with_ack, part_ticket_id, notice)
  SELECT id, ticket_id, kind, author_user_id, author_customer_id, body, body_html, created_at, mail_with_ack,
         part_ticket_id, notice
    FROM tkt_messages;
DROP TABLE tkt_messages;
ALTER TABLE tkt_messages_new RENAME TO tkt_messages;
CREATE INDEX tkt_messages_ticket ON tkt_messages(ticket_id, id);
CREATE INDEX tkt_messages_author_customer ON tkt_messages(author_customer_id) WHERE author_customer_id IS NOT NULL;

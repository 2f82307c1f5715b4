-- Ticketing: customers, teams, tickets, their thread, attachments, history and the search index.

-- One record per person across channels, matched by e-mail (stored lower-case) or phone (+ and digits).
-- A customer merged into another keeps its row with merged_into set and its e-mail/phone released.
CREATE TABLE tkt_customers (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL DEFAULT '',
  email       TEXT UNIQUE COLLATE NOCASE,
  phone       TEXT UNIQUE,
  lang        TEXT NOT NULL DEFAULT 'tr' CHECK (lang IN ('tr', 'en')),
  merged_into INTEGER REFERENCES tkt_customers(id),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);

CREATE TABLE tkt_teams (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- seq is bumped on every change to a ticket: the list's "newest updated first" order and its cursor.
CREATE TABLE tkt_tickets (
  id                INTEGER PRIMARY KEY,
  reference         INTEGER NOT NULL UNIQUE,
  subject           TEXT NOT NULL,
  status            TEXT NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new', 'open', 'pending', 'on_hold', 'solved', 'closed')),
  priority          TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
  channel           TEXT NOT NULL CHECK (channel IN ('email', 'web', 'api', 'chat', 'whatsapp', 'phone')),
  customer_id       INTEGER NOT NULL REFERENCES tkt_customers(id),
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
  seq               INTEGER NOT NULL UNIQUE
);
CREATE INDEX tkt_tickets_status ON tkt_tickets(status, seq);
CREATE INDEX tkt_tickets_assignee ON tkt_tickets(assignee_id, seq);
CREATE INDEX tkt_tickets_customer ON tkt_tickets(customer_id, seq);
CREATE INDEX tkt_tickets_team ON tkt_tickets(team_id);

CREATE TABLE tkt_ticket_tags (
  ticket_id INTEGER NOT NULL REFERENCES tkt_tickets(id),
  tag       TEXT NOT NULL,
  PRIMARY KEY (ticket_id, tag)
) WITHOUT ROWID;
CREATE INDEX tkt_ticket_tags_tag ON tkt_ticket_tags(tag, ticket_id);

-- kind: reply (an agent's public answer), customer (from the customer), note (internal, agents only).
CREATE TABLE tkt_messages (
  id                 INTEGER PRIMARY KEY,
  ticket_id          INTEGER NOT NULL REFERENCES tkt_tickets(id),
  kind               TEXT NOT NULL CHECK (kind IN ('reply', 'customer', 'note')),
  author_user_id     INTEGER,
  author_customer_id INTEGER REFERENCES tkt_customers(id),
  body               TEXT NOT NULL,
  body_html          TEXT,                         -- stored as given; never rendered by this module
  created_at         TEXT NOT NULL
);
CREATE INDEX tkt_messages_ticket ON tkt_messages(ticket_id, id);

-- Files live under <data>/attachments/<storage>; the row says what they are.
CREATE TABLE tkt_attachments (
  id           INTEGER PRIMARY KEY,
  ticket_id    INTEGER NOT NULL REFERENCES tkt_tickets(id),
  message_id   INTEGER NOT NULL REFERENCES tkt_messages(id),
  filename     TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size         INTEGER NOT NULL,
  sha256       TEXT NOT NULL,
  storage      TEXT NOT NULL UNIQUE,
  created_at   TEXT NOT NULL
);
CREATE INDEX tkt_attachments_message ON tkt_attachments(message_id);

-- Every change: who (actor "user:3", "customer:7" or "system"), what field, old -> new (text or JSON), when.
CREATE TABLE tkt_history (
  id         INTEGER PRIMARY KEY,
  ticket_id  INTEGER NOT NULL REFERENCES tkt_tickets(id),
  actor      TEXT NOT NULL,
  field      TEXT NOT NULL,
  old_value  TEXT,
  new_value  TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX tkt_history_ticket ON tkt_history(ticket_id, id);

-- Per-install secrets (the key that signs customers' ticket links).
CREATE TABLE tkt_secrets (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- Accepted public submissions per client address, for the rate limit.
CREATE TABLE tkt_public_hits (
  ip   TEXT NOT NULL,
  kind TEXT NOT NULL,
  at   INTEGER NOT NULL
);
CREATE INDEX tkt_public_hits_ip ON tkt_public_hits(ip, kind, at);

-- Folded (Turkish-aware, see fold.c) text of each ticket, rowid = ticket id; kept in step by the C code.
CREATE VIRTUAL TABLE tkt_search USING fts5(subject, body, customer, tokenize = 'unicode61 remove_diacritics 2');

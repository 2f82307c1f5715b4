-- destek: foreign_keys off
-- Customers move to the core's contact store (core_contacts, issue 10): every customer becomes the contact with the
-- same id (URLs, references and events keep working), its e-mail and phone its identities, phones now in E.164
-- ("05321234567" -> "+905321234567"). Where two customers' phones become one number the older customer keeps it as an
-- identity (the other still shows it, and an agent can merge them). Tickets and messages are rebuilt to refer to
-- core_contacts (SQLite's ALTER TABLE procedure; the host runs this step with foreign keys off and checks them
-- after), and tkt_customers is dropped: the core holds the person from now on. Numbered after 017 (which adds
-- tkt_tickets.mailbox_id, kept here): a desk already at 017 would skip a lower step.
INSERT INTO core_contacts(id, name, lang, email, phone, merged_into, created_at, updated_at)
  SELECT id, name, lang, lower(email),
         CASE WHEN phone GLOB '0[1-9]*' AND length(phone) = 11 THEN '+90' || substr(phone, 2)
              WHEN phone GLOB '5*' AND length(phone) = 10 THEN '+90' || phone
              WHEN phone GLOB '90*' AND length(phone) = 12 THEN '+' || phone
              WHEN phone GLOB '00*' THEN '+' || substr(phone, 3)
              ELSE phone END,
         merged_into, created_at, updated_at
    FROM tkt_customers ORDER BY id;
INSERT OR IGNORE INTO core_contact_identities(contact_id, kind, value, created_at)
  SELECT id, 'email', email, created_at FROM core_contacts WHERE email IS NOT NULL ORDER BY id;
INSERT OR IGNORE INTO core_contact_identities(contact_id, kind, value, created_at)
  SELECT id, 'phone', phone, created_at FROM core_contacts WHERE phone IS NOT NULL ORDER BY id;

CREATE TABLE tkt_tickets_new (
  id                INTEGER PRIMARY KEY,
  reference         INTEGER NOT NULL UNIQUE,
  subject           TEXT NOT NULL,
  status            TEXT NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new', 'open', 'pending', 'on_hold', 'solved', 'closed')),
  priority          TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
  channel           TEXT NOT NULL CHECK (channel IN ('email', 'web', 'api', 'chat', 'whatsapp', 'phone')),
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
  kind               TEXT NOT NULL CHECK (kind IN ('reply', 'customer', 'note')),
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

DROP TABLE tkt_customers;

-- Files of erased people's messages (KVKK erasure, contacts.c in ticketing): the rows go in the erasing
-- transaction, the files right after it commits, and whatever a crash left here is removed by the next sweep.
CREATE TABLE tkt_files_to_delete (
  storage TEXT PRIMARY KEY
) WITHOUT ROWID;

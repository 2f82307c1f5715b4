-- Live chat (plugins/chat/README.md). A shop is a site that embeds the widget with its site key; a visitor is a browser
-- (anonymous) or a shop's signed-in customer (identified by the shop backend's HMAC); a conversation is one ticket of
-- ticketing with the channel "chat", and its messages carry a per-conversation sequence and the client's message id.
CREATE TABLE chat_shops (
  id              INTEGER PRIMARY KEY,
  site_key        TEXT NOT NULL UNIQUE,
  name            TEXT NOT NULL,
  identity_secret TEXT SECRET NOT NULL,           -- HMAC key the shop's backend signs its customers' identity with
  origins         TEXT NOT NULL DEFAULT '',       -- allowed page origins, one per line ("https://shop.example")
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);

CREATE TABLE chat_visitors (
  id           INTEGER PRIMARY KEY,
  shop_id      INTEGER NOT NULL REFERENCES chat_shops(id),
  external_id  TEXT,                               -- the shop's user id, only from a verified signature
  contact_id   INTEGER,                            -- core_contacts.id once an e-mail is known
  email        TEXT,
  name         TEXT,
  lang         TEXT NOT NULL DEFAULT 'tr' CHECK (lang = 'tr' OR lang = 'en'),
  created_at   TEXT NOT NULL,
  UNIQUE (shop_id, external_id)
);

-- A visitor's browsers: the token is kept only as its SHA-256.
CREATE TABLE chat_tokens (
  token_hash  TEXT PRIMARY KEY,
  visitor_id  INTEGER NOT NULL REFERENCES chat_visitors(id),
  created_at  TEXT NOT NULL
);
CREATE INDEX chat_tokens_visitor ON chat_tokens(visitor_id);

CREATE TABLE chat_conversations (
  id                 INTEGER PRIMARY KEY,
  shop_id            INTEGER NOT NULL REFERENCES chat_shops(id),
  visitor_id         INTEGER NOT NULL REFERENCES chat_visitors(id),
  ticket_id          INTEGER NOT NULL UNIQUE,      -- ticketing's ticket (channel chat)
  status             TEXT NOT NULL DEFAULT 'open' CHECK (status = 'open' OR status = 'ended'),
  last_seq           INTEGER NOT NULL DEFAULT 0,
  visitor_read_seq   INTEGER NOT NULL DEFAULT 0,
  agent_read_seq     INTEGER NOT NULL DEFAULT 0,
  created_at         TEXT NOT NULL,
  ended_at           TEXT,
  transcript_sent_at TEXT
);
CREATE INDEX chat_conversations_visitor ON chat_conversations(visitor_id, id);

CREATE TABLE chat_messages (
  id                 INTEGER PRIMARY KEY,
  conversation_id    INTEGER NOT NULL REFERENCES chat_conversations(id),
  seq                INTEGER NOT NULL,
  sender             TEXT NOT NULL CHECK (sender = 'visitor' OR sender = 'agent'),
  client_id          TEXT,                         -- the visitor's message id: a retry finds its message
  body               TEXT NOT NULL,
  ticket_message_id  INTEGER,
  author_user_id     INTEGER,
  created_at         TEXT NOT NULL,
  UNIQUE (conversation_id, seq),
  UNIQUE (conversation_id, client_id)
);

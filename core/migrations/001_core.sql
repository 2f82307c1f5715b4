-- Core tables: users, sessions, API tokens, audit log, key/value state.
CREATE TABLE core_users (
  id            INTEGER PRIMARY KEY,
  email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name          TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
  lang          TEXT NOT NULL DEFAULT 'tr' CHECK (lang IN ('tr', 'en')),
  password_hash TEXT NOT NULL,
  active        INTEGER NOT NULL DEFAULT 1,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);

CREATE TABLE core_sessions (
  id           INTEGER PRIMARY KEY,
  user_id      INTEGER NOT NULL REFERENCES core_users(id) ON DELETE CASCADE,
  token_hash   TEXT NOT NULL UNIQUE,       -- sha256 of the cookie value; the value itself is never stored
  csrf_token   TEXT NOT NULL,
  created_at   INTEGER NOT NULL,           -- unix seconds
  last_seen_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,           -- absolute expiry
  ip           TEXT,
  user_agent   TEXT
);
CREATE INDEX core_sessions_user ON core_sessions(user_id);

CREATE TABLE core_tokens (
  id           INTEGER PRIMARY KEY,
  user_id      INTEGER NOT NULL REFERENCES core_users(id),   -- who created it; it acts with their identity
  name         TEXT NOT NULL,
  token_hash   TEXT NOT NULL UNIQUE,
  prefix       TEXT NOT NULL,              -- first characters, to recognise a token in a list
  scopes       TEXT NOT NULL,              -- JSON array of scope names
  created_at   TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at   TEXT
);

CREATE TABLE core_audit (
  id         INTEGER PRIMARY KEY,
  at         TEXT NOT NULL,
  at_unix    INTEGER NOT NULL,
  actor_id   INTEGER,                      -- user id, NULL for anonymous
  actor      TEXT NOT NULL,                -- e-mail or "anonymous", kept even when the user is gone
  action     TEXT NOT NULL,
  target     TEXT,
  ip         TEXT,
  detail     TEXT                          -- JSON object
);
CREATE INDEX core_audit_action ON core_audit(action, target, at_unix);
CREATE INDEX core_audit_ip ON core_audit(action, ip, at_unix);

CREATE TABLE core_kv (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

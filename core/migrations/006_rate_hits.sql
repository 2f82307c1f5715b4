-- Rate limits (ratelimit.c): one row per counted attempt — a sign-in, a password check, a public form or reply, an
-- acknowledgement mailed to an address. A limit is checked and its row written in one step on the writer, so that
-- requests running in parallel cannot all see the same free slot; rows older than their window are deleted as new
-- ones come.
CREATE TABLE core_rate_hits (
  id    INTEGER PRIMARY KEY,
  kind  TEXT NOT NULL,      -- what is counted: "login.account", "login.ip", "tkt.form", "tkt.ack", ...
  key   TEXT NOT NULL,      -- whose: an e-mail address, a client address, "user:<id>"
  at    INTEGER NOT NULL    -- unix seconds
);
CREATE INDEX core_rate_hits_key ON core_rate_hits(kind, key, at);
CREATE INDEX core_rate_hits_age ON core_rate_hits(kind, at);

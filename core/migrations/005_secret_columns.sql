-- Credentials are declared where their table is made: a column whose declared type carries the word SECRET reads as
-- NULL to Lua plugins (core/lua_sql.c), and its affinity is unchanged (TEXT SECRET is TEXT). core_settings holds the
-- SMTP and IMAP passwords and every plugin's secret settings, core_kv the setup token's hash: both are rebuilt with
-- the declaration, their rows kept. (core_users.password_hash, token_hash, csrf_token and core_webhooks.secret are
-- credentials by their names too; those tables are left as they are, since others' foreign keys point at them.)
CREATE TABLE core_settings_new (
  name       TEXT PRIMARY KEY,
  value      TEXT SECRET NOT NULL,
  updated_at TEXT NOT NULL
);
INSERT INTO core_settings_new(name, value, updated_at) SELECT name, value, updated_at FROM core_settings;
DROP TABLE core_settings;
ALTER TABLE core_settings_new RENAME TO core_settings;

CREATE TABLE core_kv_new (
  key   TEXT PRIMARY KEY,
  value TEXT SECRET NOT NULL
);
INSERT INTO core_kv_new(key, value) SELECT key, value FROM core_kv;
DROP TABLE core_kv;
ALTER TABLE core_kv_new RENAME TO core_kv;

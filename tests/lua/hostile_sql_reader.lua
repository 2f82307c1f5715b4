-- Test-only plugin (not shipped), for tests/api/lua-sandbox-sql.test.mjs: a plugin that tries, through db.query and
-- db.exec, to reach native code through SQLite (fts3_tokenizer, load_extension, the fts5() pointer, R-Tree's blob
-- parsers, internal virtual tables, pragmas) and to read other owners' credentials. Each probe reports what it got.
local destek = require "destek"

local function try(fn, ...)
  local ok, a, b, c = pcall(fn, ...)
  if not ok then return { ok = false, err = tostring(a) } end
  return { ok = true, rows = a, err = b, kind = c }
end

local q, x = destek.db.query, destek.db.exec

return {
  name = "hostile_sql_reader",
  version = "1.0.0",
  init = function()
    -- The same SQL texts as sql_legit's /sql-legit/run, which its prepared-statement cache must never hand over here.
    destek.route("POST", "/hostile-sql/run", "public", function(req)
      local j = req.json
      if j.write_first then x("SELECT 1") end   -- takes the call's writer: the query below runs on it
      return 200, try(j.mode == "exec" and x or q, j.sql)
    end)
    destek.route("POST", "/hostile-sql/native", "public", function()
      return 200, {
        tokenizer_pointer = try(q, "SELECT hex(fts3_tokenizer('simple')) AS p"),
        tokenizer_pointer_bound = try(q, "SELECT hex(fts3_tokenizer(?1)) AS p", "simple"),
        -- what the review did: register a tokenizer whose "module pointer" is the bytes of a Lua string
        tokenizer_register_bound = try(q, "SELECT fts3_tokenizer(?1, ?2) AS p", "evil", "AAAAAAAA"),
        tokenizer_register_exec = try(x, "SELECT fts3_tokenizer(?1, ?2)", "evil2", "BBBBBBBB"),
        tokenizer_nested = try(q, "SELECT (SELECT hex(fts3_tokenizer('porter'))) AS p"),
        load_extension = try(q, "SELECT load_extension(?1) AS p", "/tmp/none.so"),
        fts5_pointer = try(q, "SELECT fts5(?1) AS p", "x"),
        compileoption = try(q, "SELECT sqlite_compileoption_get(0) AS p"),
        dbstat = try(q, "SELECT name, pageno FROM dbstat LIMIT 1"),
        sqlite_stmt = try(q, "SELECT sql FROM sqlite_stmt LIMIT 1"),
        sqlite_dbpage = try(q, "SELECT data FROM sqlite_dbpage LIMIT 1"),
        pragma_functions = try(q, "SELECT name FROM pragma_function_list LIMIT 1"),
        pragma_compile = try(q, "PRAGMA compile_options"),
        writable_schema = try(x, "PRAGMA writable_schema = ON"),
        savepoint = try(x, "SAVEPOINT sp1"),
      }
    end)
    destek.route("GET", "/hostile-sql/secrets", "public", function()
      return 200, {
        imap = try(q, "SELECT name, imap_password FROM tkt_mailboxes ORDER BY id"),
        imap_star = try(q, "SELECT * FROM tkt_mailboxes ORDER BY id"),
        imap_oracle = try(q, "SELECT count(*) AS n FROM tkt_mailboxes WHERE imap_password = ?1", "imap pw 42"),
        imap_json = try(q, "SELECT json_group_array(imap_password) AS p FROM tkt_mailboxes"),
        imap_subquery = try(q, "SELECT (SELECT imap_password FROM tkt_mailboxes LIMIT 1) AS p"),
        link_key = try(q, "SELECT name, value FROM tkt_secrets WHERE name = 'link_key'"),
        link_key_length = try(q, "SELECT length(value) AS n FROM tkt_secrets WHERE name = 'link_key'"),
        settings = try(q, "SELECT name, value FROM core_settings WHERE name = 'mail.smtp_password'"),
        kv = try(q, "SELECT key, value FROM core_kv"),
        webhooks = try(q, "SELECT url, secret FROM core_webhooks"),
        sessions = try(q, "SELECT user_id, token_hash, csrf_token FROM core_sessions LIMIT 1"),
        users = try(q, "SELECT email, password_hash FROM core_users ORDER BY id LIMIT 1"),
        other_plugin = try(q, "SELECT k FROM sql_legit_keys"),
      }
    end)
    destek.route("POST", "/hostile-sql/bookkeeping", "public", function()
      return 200, {
        sequence = try(x, "UPDATE sqlite_sequence SET seq = 0"),
        analyze = try(x, "ANALYZE"),
        migrations = try(x, "DELETE FROM schema_migrations WHERE owner = 'ticketing'"),
      }
    end)
  end,
}

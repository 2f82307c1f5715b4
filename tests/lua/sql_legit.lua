-- Test-only plugin (not shipped), for tests/api/lua-sandbox-sql.test.mjs: what a well-behaved plugin does with SQL,
-- which the limits on plugins' SQL must keep working: its own tables, indexes, defaults, CHECKs and foreign keys, an
-- FTS5 table searched with bm25/snippet/highlight, triggers and views on its own tables, a SECRET column it reads
-- itself, ALTER TABLE and ANALYZE of its own tables; reading core tables; JSON, date and window functions.
local destek = require "destek"

return {
  name = "sql_legit",
  version = "1.0.0",
  migrations = {
    [[CREATE TABLE sql_legit_notes (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        body       TEXT NOT NULL,
        meta       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(meta)),
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        day        TEXT GENERATED ALWAYS AS (substr(created_at, 1, 10)) VIRTUAL
      );
      CREATE INDEX sql_legit_notes_day ON sql_legit_notes(day, lower(body));
      CREATE TABLE sql_legit_log (id INTEGER PRIMARY KEY,
                                  note_id INTEGER REFERENCES sql_legit_notes(id) ON DELETE CASCADE, what TEXT);
      CREATE TRIGGER sql_legit_notes_ai AFTER INSERT ON sql_legit_notes BEGIN
        INSERT INTO sql_legit_log(note_id, what) VALUES (new.id, 'created ' || coalesce(new.meta ->> '$.tag', '-'));
      END;
      CREATE TRIGGER sql_legit_notes_au AFTER UPDATE OF body ON sql_legit_notes WHEN old.body <> new.body BEGIN
        INSERT INTO sql_legit_log(note_id, what) VALUES (new.id, 'edited');
      END;
      CREATE VIEW sql_legit_recent AS
        SELECT n.id, n.body, l.what, row_number() OVER (PARTITION BY n.id ORDER BY l.id) AS nth
          FROM sql_legit_notes n JOIN sql_legit_log l ON l.note_id = n.id]],
    [[CREATE VIRTUAL TABLE sql_legit_search USING fts5(body, tokenize = 'unicode61 remove_diacritics 2');
      CREATE TRIGGER sql_legit_notes_fts AFTER INSERT ON sql_legit_notes BEGIN
        INSERT INTO sql_legit_search(rowid, body) VALUES (new.id, new.body);
      END;
      CREATE TRIGGER sql_legit_notes_fts_del AFTER DELETE ON sql_legit_notes BEGIN
        DELETE FROM sql_legit_search WHERE rowid = old.id;
      END]],
    [[CREATE TABLE sql_legit_keys (k TEXT SECRET NOT NULL);
      INSERT INTO sql_legit_keys(k) VALUES ('own secret');
      ALTER TABLE sql_legit_notes ADD COLUMN score REAL NOT NULL DEFAULT 0;
      ANALYZE sql_legit_keys]],
    "ALTER TABLE sql_legit_log RENAME TO sql_legit_history",
  },
  init = function()
    -- Runs the SQL text it is sent (tests of the prepared-statement cache: the same texts run in hostile_sql_reader).
    destek.route("POST", "/sql-legit/run", "public", function(req)
      local j = req.json
      if j.write_first then destek.db.exec("SELECT 1") end
      local ok, rows, err = pcall(j.mode == "exec" and destek.db.exec or destek.db.query, j.sql)
      if not ok then return 200, { ok = false, err = tostring(rows) } end
      return 200, { ok = true, rows = rows, err = err }
    end)
    destek.route("POST", "/sql-legit/notes", "public", function(req)
      local r = destek.db.exec("INSERT INTO sql_legit_notes(body, meta) VALUES (?1, json_object('tag', ?2))",
        req.json.body, req.json.tag)
      if req.json.edit then destek.db.exec("UPDATE sql_legit_notes SET body = ?2 WHERE id = ?1", r.last_id, req.json.edit) end
      return 201, { id = r.last_id }
    end)
    destek.route("GET", "/sql-legit/search", "public", function(req)
      return 200, { items = destek.db.query([[
        SELECT rowid AS id, bm25(sql_legit_search) AS score, snippet(sql_legit_search, 0, '[', ']', '…', 4) AS snip,
               highlight(sql_legit_search, 0, '<', '>') AS hl
          FROM sql_legit_search WHERE sql_legit_search MATCH ?1 ORDER BY bm25(sql_legit_search)]], req.query.q) }
    end)
    destek.route("GET", "/sql-legit/misc", "public", function()
      local one = function(sql, ...) return destek.db.query(sql, ...)[1] end
      return 200, {
        users = one("SELECT count(*) AS n, min(email) AS first, max(role) AS role FROM core_users"),
        tickets = one("SELECT count(*) AS n FROM tkt_tickets"),
        mailbox = one("SELECT name, imap_url FROM tkt_mailboxes ORDER BY id LIMIT 1"),
        json = one([[SELECT json_object('a', 1, 'b', json_array(1, 2)) AS o, '{"x":{"y":7}}' ->> '$.x.y' AS y,
                            (SELECT group_concat(value, ',') FROM json_each('[3,4,5]')) AS each,
                            json_extract('{"k":"v"}', '$.k') AS k, json_valid('nope') AS bad]]),
        dates = one([[SELECT date('2026-03-01', '-1 day') AS d, strftime('%Y', 'now') >= '2026' AS now_ok,
                             unixepoch('2026-01-01 00:00:00') AS u, julianday('2026-01-02') - julianday('2026-01-01') AS days]]),
        math = one("SELECT round(pi(), 3) AS pi, abs(-2) AS a, printf('%05.1f', 3.14159) AS f, upper('ışık') AS up"),
        own_secret = one("SELECT k FROM sql_legit_keys"),
        recent = destek.db.query("SELECT id, body, what, nth FROM sql_legit_recent ORDER BY id, nth"),
        window = destek.db.query([[SELECT id, sum(id) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run
                                     FROM sql_legit_notes ORDER BY id]]),
        columns = destek.db.query("SELECT name, type FROM pragma_table_info('sql_legit_keys')"),
        cte = one([[WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT sum(i) AS s FROM n]]),
        stat = one("SELECT count(*) AS n FROM sqlite_stat1 WHERE tbl = 'sql_legit_keys'"),
      }
    end)
  end,
}

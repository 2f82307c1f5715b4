-- Test-only plugin (not shipped), for tests/api/lua-sandbox-more.test.mjs: SQL that allocates outside the Lua state's
-- memory cap (values up to SQLite's 1 GB limit, sorts on the writer), runs for ever, or is interrupted in the middle of
-- a call's writes. Each probe reports what it got.
local destek = require "destek"

local function try(fn, ...)
  local ok, a, b = pcall(fn, ...)
  if not ok then return { ok = false, err = tostring(a) } end
  return { ok = true, rows = a, err = b }
end

local q, x = destek.db.query, destek.db.exec
local FOREVER = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) "
local BIG_ROWS = "WITH RECURSIVE c(x, b) AS (SELECT 1, zeroblob(8000000) UNION ALL"
  .. " SELECT x + 1, zeroblob(8000000) FROM c WHERE x < 12) "

return {
  name = "hostile_sqlmem",
  version = "1.0.0",
  migrations = { "CREATE TABLE hostile_sqlmem_t (id INTEGER PRIMARY KEY, n INTEGER)" },
  init = function()
    destek.route("POST", "/hostile-more/sql/values", "public", function()
      return 200, {
        printf_precision = try(q, "SELECT length(printf('%.*c', 900000000, 'x')) AS n"),
        format_text_arg = try(q, "SELECT length(format('%.*c', ?1, 'x')) AS n", "900000000"),
        printf_literal = try(q, "SELECT length(printf('%.900000000c', 'x')) AS n"),
        zeroblob = try(q, "SELECT zeroblob(100000000) AS b"),
        randomblob = try(q, "SELECT length(randomblob(100000000)) AS n"),
        group_concat = try(q, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 40)"
          .. " SELECT length(group_concat(printf('%.*c', 1000000, 'x'), '')) AS n FROM c"),
        replace = try(q, "SELECT length(replace(printf('%.*c', 1000000, 'x'), 'x', printf('%.*c', 100, 'y'))) AS n"),
        ordinary = try(q, "SELECT printf('%05.1f|%-3s|%c', 2.25, 'ab', 'çx') AS s, length(zeroblob(1000)) AS z,"
          .. " length(printf('%.*c', 1000000, 'x')) AS m, format('%d-%s', 7, 'a') AS f"),
      }
    end)
    -- After a write the call holds the writer, where SQLite sorts in memory: twelve 8 MB rows to sort.
    destek.route("POST", "/hostile-more/sql/sort", "public", function()
      x("INSERT INTO hostile_sqlmem_t(n) VALUES (1)")
      return 409, { sort = try(q, "SELECT count(*) AS n FROM (SELECT x FROM (" .. BIG_ROWS .. "SELECT x, b FROM c)"
        .. " ORDER BY b, x)") }
    end)
    -- A write interrupted by the time limit: SQLite rolls the whole transaction back; what the call writes after
    -- must not commit on its own, nor may its answer say it did.
    destek.route("POST", "/hostile-more/sql/lost", "public", function()
      x("INSERT INTO hostile_sqlmem_t(n) VALUES (2)")
      local forever = try(x, "INSERT INTO hostile_sqlmem_t(n) " .. FOREVER .. "SELECT n FROM c")
      local after = try(x, "INSERT INTO hostile_sqlmem_t(n) VALUES (3)")
      return 200, { forever = forever, after = after }
    end)
    destek.route("GET", "/hostile-more/sql/count", "public", function()
      return 200, q("SELECT count(*) AS n, coalesce(sum(n = 2), 0) AS twos, coalesce(sum(n = 3), 0) AS threes"
        .. " FROM hostile_sqlmem_t")[1]
    end)
    destek.route("GET", "/hostile-more/sql/forever", "public", function()
      return 200, { forever = try(q, FOREVER .. "SELECT count(*) AS n FROM c") }
    end)
    -- No LIMIT: rows until the state's 64 MiB are gone.
    destek.route("GET", "/hostile-more/sql/rows", "public", function()
      local rows = q(FOREVER .. "SELECT n, printf('%.*c', 20000, 'r') AS pad FROM c")
      return 200, { n = #rows }
    end)
  end,
}

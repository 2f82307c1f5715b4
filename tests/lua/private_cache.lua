-- Test-only plugin (not shipped), for tests/api/lua-private-cache.test.mjs: routes declared with private_cache (an
-- agent's GET answer kept by the host per role or per user, dropped when the plugin writes, or at valid_until), and
-- destek.db.json (a statement's rows as JSON text in one C pass). Each answer carries `run`, a number made anew each
-- time the handler runs, so that a test can tell a kept answer from a fresh one.
local destek = require "destek"

local function run() return math.random(1, 1000000000) end

return {
  name = "pcache",
  version = "1.0.0",
  migrations = {
    [[CREATE TABLE pcache_items (id INTEGER PRIMARY KEY, name TEXT, flag INTEGER, meta TEXT, price REAL, data BLOB);
      CREATE TABLE pcache_log (id INTEGER PRIMARY KEY, item_id INTEGER);
      CREATE TRIGGER pcache_items_ai BEFORE INSERT ON pcache_items WHEN new.name = 'trigger-only' BEGIN
        INSERT INTO pcache_log(item_id) VALUES (new.id);
      END]],
  },
  init = function()
    local function count()
      return destek.db.query("SELECT (SELECT count(*) FROM pcache_items) + (SELECT count(*) FROM pcache_log) AS n")[1].n
    end
    destek.route("GET", "/api/v1/pcache/role", "agent", function(req)
      return 200, { role = req.user.role, n = count(), run = run(), q = req.query.q }
    end, { private_cache = "role" })
    destek.route("GET", "/api/v1/pcache/user", "agent", function(req)
      return 200, { id = req.user.id, n = count(), run = run() }
    end, { private_cache = "user" })
    destek.route("GET", "/api/v1/pcache/admin", "admin", function(req)
      return 200, { role = req.user.role, run = run() }
    end, { private_cache = "role" })
    destek.route("GET", "/api/v1/pcache/until", "agent", function(req)
      destek.cache.valid_until(os.time() + 2)
      return 200, { run = run() }
    end, { private_cache = "role" })
    destek.route("GET", "/api/v1/pcache/fails", "agent", function(req)
      return 404, { run = run() }
    end, { private_cache = "role" })
    destek.route("POST", "/api/v1/pcache/items", "agent", function(req)
      local b = req.json or {}
      destek.db.exec("INSERT INTO pcache_items(name, flag, meta, price, data) VALUES (?1, ?2, ?3, ?4, NULL)",
                     b.name, b.flag, b.meta, b.price)
      return 201, {}
    end)
    -- a statement that changes nothing keeps the answers; one that fails after a trigger wrote drops them
    destek.route("POST", "/api/v1/pcache/noop", "agent", function(req)
      destek.db.exec("UPDATE pcache_items SET name = name WHERE id < 0")
      return 200, {}
    end)
    -- INSERT OR IGNORE of an id that exists changes no row itself, but its BEFORE trigger writes pcache_log
    destek.route("POST", "/api/v1/pcache/trigger", "agent", function(req)
      destek.db.exec("INSERT OR IGNORE INTO pcache_items(id, name) VALUES (1, 'trigger-only')")
      return 200, {}
    end)
    destek.route("POST", "/api/v1/pcache/rollback", "agent", function(req)
      destek.db.exec("INSERT INTO pcache_items(name) VALUES ('gone')")
      error(destek.error(409, "conflict", "taken back"))
    end)
    destek.route("POST", "/api/v1/pcache/blob", "agent", function(req)
      destek.db.exec("INSERT INTO pcache_items(name, data) VALUES ('blob', x'00ff')")
      return 201, {}
    end)
    destek.route("GET", "/api/v1/pcache/json", "agent", function(req)
      local text, n, last, low, lowid = destek.db.json("SELECT id, name, flag AS \"flag:bool\", meta AS \"meta:json\"," ..
        " price, price AS \"low:min\", id AS \"lowid:min\" FROM pcache_items WHERE data IS NULL ORDER BY id DESC LIMIT ?1",
        math.tointeger(tonumber(req.query.limit or "100")))
      return 200, '{"items":' .. text .. ',"n":' .. n .. ',"last":' .. destek.json.encode(last or destek.json.null) ..
        ',"low":' .. destek.json.encode(low or destek.json.null) .. ',"lowid":' .. destek.json.encode(lowid or destek.json.null) ..
        ',"lowid_int":' .. tostring(math.type(lowid) == "integer") .. '}',
             { ["Content-Type"] = "application/json" }
    end)
    destek.route("GET", "/api/v1/pcache/json-text-last", "agent", function(req)
      local text, n, last = destek.db.json("SELECT name, id FROM pcache_items WHERE data IS NULL ORDER BY id LIMIT 2")
      return 200, { n = n, last = last, text = text }
    end)
    destek.route("GET", "/api/v1/pcache/json-blob", "agent", function(req)
      local ok, err = pcall(destek.db.json, "SELECT data FROM pcache_items WHERE data IS NOT NULL")
      local ok2, err2 = pcall(destek.db.json, "SELECT name AS \"x:json\" FROM pcache_items WHERE name IS NOT NULL LIMIT 1")
      local ok3, err3 = pcall(destek.db.json, "DELETE FROM pcache_items")
      return 200, { blob = tostring(err), json = tostring(err2), write = tostring(err3), ok = ok or ok2 or ok3 }
    end)
  end,
}

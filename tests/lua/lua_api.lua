-- Test-only plugin (not shipped): exercises every function of the destek module for tests/api/lua.test.mjs.
local destek = require "destek"

local function json_error(status, code, message)
  return status, { error = { code = code, message = message } }
end

-- db.exec / db.query wrapped, to report what a refused statement says.
local function try(fn, ...)
  local ok, a, b, c = pcall(fn, ...)
  if not ok then return { ok = false, err = tostring(a) } end
  return { ok = true, result = a, err = b, kind = c }
end

return {
  name = "lua_api",
  version = "1.2.3",
  events = { "lua_item" },                 -- it emits lua_item.created besides lua_api.* events
  migrations = {
    "CREATE TABLE lua_api_items (id INTEGER PRIMARY KEY, title TEXT NOT NULL UNIQUE, n INTEGER)",
    [[CREATE TABLE lua_api_seen (id INTEGER PRIMARY KEY, event TEXT, item TEXT, attempt INTEGER);
      CREATE INDEX lua_api_seen_item ON lua_api_seen(item)]],
    "CREATE TABLE lua_api_ticks (id INTEGER PRIMARY KEY, at INTEGER)",
  },
  settings = {
    { name = "lua_api.greeting", type = "string", default = "merhaba", description = "what /lua/settings says" },
    { name = "lua_api.limit", type = "int", default = 3, description = "a number" },
    { name = "lua_api.loud", type = "bool", default = false, description = "a switch" },
    { name = "lua_api.token", type = "string", secret = true, description = "a secret" },
  },
  i18n = {
    tr = { hello = "Merhaba", only_tr = "Sadece Türkçe" },
    en = { hello = "Hello", only_en = "English only" },
  },
  init = function(d)
    assert(d == destek, "init gets the module")

    -- the request table ------------------------------------------------------------------------------------
    destek.route("GET", "/lua/echo/{id}", "public", function(req)
      return 200, { method = req.method, path = req.path, params = req.params, query = req.query,
                    header = req.headers["x-test"], user = req.user, body = req.body, json = req.json }
    end, "id:int")
    destek.route("POST", "/lua/echo", "public", function(req)
      return 201, { body = req.body, json = req.json, ctype = req.headers["content-type"] }
    end)
    destek.route("GET", "/lua/me", "agent", function(req) return 200, { user = req.user } end)
    destek.route("GET", "/lua/admin-only", "admin", function(req) return 200, { role = req.user.role } end)

    -- responses --------------------------------------------------------------------------------------------
    destek.route("GET", "/lua/text", "public", function() return 200, "düz metin" end)
    destek.route("GET", "/lua/html", "public", function()
      return 200, "<b>x</b>", { ["Content-Type"] = "text/html; charset=utf-8", ["X-Plugin"] = "lua_api" }
    end)
    destek.route("GET", "/lua/empty", "public", function() return 204 end)
    destek.route("GET", "/lua/teapot", "public", function() return json_error(418, "teapot", "short and stout") end)
    destek.route("GET", "/lua/bad-return", "public", function() return "nope" end)
    destek.route("GET", "/lua/bad-body", "public", function() return 200, { f = function() end } end)
    destek.route("GET", "/lua/error", "public", function() error("deliberate failure") end)
    destek.route("GET", "/lua/array", "public", function() return 200, { 1, 2, 3 } end)

    -- data and events in one transaction ------------------------------------------------------------------
    destek.route("POST", "/lua/items", "public", function(req)
      local b = req.json or {}
      local r, err, kind = destek.db.exec("INSERT INTO lua_api_items(title, n) VALUES (?1, ?2)", b.title, b.n)
      if not r then return json_error(409, kind or "failed", err) end
      destek.emit("lua_item.created", { id = r.last_id, title = b.title }, "item:" .. r.last_id)
      return 201, { id = r.last_id, changes = r.changes }
    end)
    -- the same, but the veto is caught and answered by the plugin itself
    destek.route("POST", "/lua/items-catch", "public", function(req)
      local b = req.json or {}
      local r = destek.db.exec("INSERT INTO lua_api_items(title, n) VALUES (?1, ?2)", b.title, b.n)
      local ok, err = pcall(destek.emit, "lua_item.created", { id = r.last_id, title = b.title })
      return 200, { ok = ok, code = type(err) == "table" and err.code or nil, message = tostring(err) }
    end)
    destek.route("GET", "/lua/items", "public", function()
      return 200, { items = destek.db.query("SELECT id, title, n FROM lua_api_items ORDER BY id") }
    end)
    destek.route("GET", "/lua/outbox", "public", function()
      return 200, { items = destek.db.query(
        "SELECT event, subject, payload FROM core_outbox WHERE event LIKE 'lua_item.%' ORDER BY id") }
    end)
    destek.on("lua_item.created", function(payload, name, ev)
      assert(name == "lua_item.created" and ev.id > 0)
      if payload.title == "forbidden" then return nil, "bu başlık yasak" end
      if payload.title == "falsy" then return false end
      if payload.title == "raise" then error("raised a veto") end
    end)
    destek.on_async("lua_item.created", function(payload, name, ev)
      destek.db.exec("INSERT INTO lua_api_seen(event, item, attempt) VALUES (?1, ?2, ?3)", name, payload.title,
                     ev.attempt)
      if payload.title == "flaky" and ev.attempt < 2 then error("not yet") end
    end)
    destek.route("GET", "/lua/seen", "public", function()
      return 200, { items = destek.db.query("SELECT event, item, attempt FROM lua_api_seen ORDER BY id") }
    end)

    -- what SQL a plugin may run --------------------------------------------------------------------------
    destek.route("POST", "/lua/sql", "public", function(req)
      local out = {
        own_write = try(destek.db.exec, "UPDATE lua_api_items SET n = n WHERE id = -1"),
        core_write = try(destek.db.exec, "UPDATE core_users SET name = 'pwned'"),
        other_write = try(destek.db.exec, "INSERT INTO lua_other_notes(text) VALUES ('x')"),
        create = try(destek.db.exec, "CREATE TABLE lua_api_runtime (x)"),
        drop = try(destek.db.exec, "DROP TABLE lua_api_items"),
        begin = try(destek.db.exec, "COMMIT"),
        attach = try(destek.db.exec, "ATTACH DATABASE '/tmp/x.db' AS x"),
        pragma = try(destek.db.exec, "PRAGMA foreign_keys = OFF"),
        two = try(destek.db.exec, "DELETE FROM lua_api_items WHERE id = -1; DELETE FROM core_users"),
        params = try(destek.db.query, "SELECT ?1, ?2", 1),
        table_param = try(destek.db.query, "SELECT ?1", {}),
        write_in_query = try(destek.db.query, "DELETE FROM lua_api_items WHERE id = -1"),
        read_core = try(destek.db.query, "SELECT email, password_hash FROM core_users ORDER BY id LIMIT 1"),
        bind_types = try(destek.db.query, "SELECT ?1 AS i, ?2 AS f, ?3 AS s, ?4 AS b, ?5 AS n, ?6 AS j",
                         7, 2.5, "ç", true, nil, destek.json.null),
        constraint = try(destek.db.exec, "INSERT INTO lua_api_items(title) VALUES (NULL)"),
      }
      return 200, out
    end)

    -- policies ------------------------------------------------------------------------------------------
    destek.policy("lua.discount", function(total)
      if total >= 100 then return true, 10 end
      return false, 0
    end)
    destek.policy("lua.who", function() return "lua_api" end)
    destek.route("GET", "/lua/decide", "public", function(req)
      local ok, pct = destek.decide("lua.discount", tonumber(req.query.total))
      local r_ok = destek.decide("returns.eligible", { delivered_days_ago = 3 }, {}, "damaged")
      local r_late, r_msg = destek.decide("returns.eligible", { delivered_days_ago = 40 }, {}, "changed_mind")
      return 200, { ok = ok, pct = pct, who = destek.decide("lua.who"), none = destek.decide("lua.none") == nil,
                    returns_ok = r_ok, returns_late = r_late, returns_msg = r_msg }
    end)

    -- jobs ----------------------------------------------------------------------------------------------
    destek.every(1, function()
      destek.db.exec("INSERT INTO lua_api_ticks(at) VALUES (?1)", os.time())
    end)
    destek.route("GET", "/lua/ticks", "public", function()
      return 200, destek.db.query("SELECT count(*) AS n FROM lua_api_ticks")[1]
    end)

    -- outbound HTTP -------------------------------------------------------------------------------------
    destek.route("POST", "/lua/fetch", "public", function(req)
      local j = req.json
      local res, err = destek.http.request { method = j.method, url = j.url, headers = j.headers, body = j.body,
                                             timeout = j.timeout }
      if not res then return json_error(502, "upstream_failed", err) end
      return 200, { status = res.status, body = res.body, headers = res.headers }
    end)
    destek.route("POST", "/lua/fetch-after-write", "public", function(req)
      destek.db.exec("UPDATE lua_api_items SET n = n WHERE id = -1")
      local ok, err = pcall(destek.http.request, { url = req.json.url })
      return 200, { ok = ok, err = tostring(err) }
    end)

    -- json ----------------------------------------------------------------------------------------------
    destek.route("GET", "/lua/json", "public", function()
      local t = destek.json.decode('{"a":[1,2,{"b":null}],"c":"ç","d":1.5,"e":true}')
      local bad, err = destek.json.decode("{nope")
      return 200, {
        a2 = t.a[2], c = t.c, d = t.d, e = t.e, null_ok = t.a[3].b == destek.json.null,
        round = destek.json.decode(destek.json.encode(t)).a[3].b == destek.json.null,
        bad = bad == nil, err = err,
        empty_array = destek.json.encode(destek.json.array()), empty_object = destek.json.encode({}),
        encoded = destek.json.encode({ x = { 1, "two", false } }),
        cycle = select(2, pcall(function() local c = {} c.c = c return destek.json.encode(c) end)),
      }
    end)

    -- log -----------------------------------------------------------------------------------------------
    destek.route("GET", "/lua/log", "public", function()
      destek.log.info("info line", 42)
      destek.log.warn("warn line")
      destek.log.error("error line", true)
      print("printed line")
      return 200, { ok = true }
    end)

    -- settings ------------------------------------------------------------------------------------------
    destek.route("GET", "/lua/settings", "admin", function()
      return 200, { greeting = destek.setting("lua_api.greeting"), limit = destek.setting("lua_api.limit"),
                    loud = destek.setting("lua_api.loud"), token = destek.setting("lua_api.token"),
                    unknown = destek.setting("nope.nope") == nil }
    end)

    -- translations --------------------------------------------------------------------------------------
    destek.route("GET", "/lua/t", "public", function()
      return 200, { tr = destek.t("hello", "tr"), en = destek.t("hello", "en"), fallback = destek.t("only_en", "tr"),
                    only_tr_in_en = destek.t("only_tr", "en"), missing = destek.t("missing", "tr"),
                    caller = destek.t("hello") }
    end)

    -- declarations only from init
    destek.route("GET", "/lua/late", "public", function()
      local ok, err = pcall(destek.route, "GET", "/lua/later", "public", function() end)
      return 200, { ok = ok, err = tostring(err) }
    end)
  end,
}

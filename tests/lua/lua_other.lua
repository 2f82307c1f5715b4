-- Test-only plugin (not shipped): a second plugin for tests/api/lua.test.mjs. It owns lua_other_notes, overrides
-- the policy lua.who (it loads after lua_api), tries to write lua_api's table, and keeps serving while its
-- neighbours fail.
local destek = require "destek"

-- A global in this plugin's environment: lua_api must not see it.
shared_secret = "lua_other"

return {
  name = "lua_other",
  version = "0.1.0",
  migrations = { "CREATE TABLE lua_other_notes (id INTEGER PRIMARY KEY, text TEXT)" },
  init = function()
    destek.policy("lua.who", function() return "lua_other" end)
    destek.route("GET", "/lua-other/ping", "public", function() return 200, { pong = true } end)
    destek.route("POST", "/lua-other/notes", "public", function(req)
      local r = destek.db.exec("INSERT INTO lua_other_notes(text) VALUES (?1)", req.json.text)
      local ok, err = pcall(destek.db.exec, "INSERT INTO lua_api_items(title) VALUES ('from other')")
      return 201, { id = r.last_id, foreign_ok = ok, foreign_err = tostring(err) }
    end)
    destek.route("GET", "/lua-other/globals", "public", function()
      return 200, { mine = shared_secret, string_ok = string.rep("a", 2) }
    end)
  end,
}

-- Test-only plugin (not shipped), for tests/api/lua-sandbox-lua.test.mjs: an ordinary plugin whose query rows and
-- request another (hostile_lua_forge.lua) tries to forge, and which shows what a request hands it.
local destek = require "destek"

return {
  name = "hostile_victim",
  version = "1.0.0",
  init = function()
    destek.route("GET", "/hostile/victim", "public", function()
      local rows = destek.db.query("SELECT id, email FROM core_users WHERE 0")
      return 200, { first = rows[1] or destek.json.null, count = #rows }
    end)
    local function headers(req)
      return 200, { headers = req.headers, user = req.user and req.user.email or destek.json.null,
                    query = req.query }
    end
    destek.route("GET", "/hostile/headers", "public", headers)
    destek.route("GET", "/hostile/headers-agent", "agent", headers)
  end,
}

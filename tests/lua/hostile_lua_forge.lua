-- Test-only plugin (not shipped), for tests/api/lua-sandbox-lua.test.mjs: tries to reach the metatables the host
-- shares between plugins. Every attempt is caught, so the plugin loads whether or not the sandbox stops it.
local destek = require "destek"

local tried = {}
local function try(what, f)
  local ok, err = pcall(f)
  tried[what] = ok and "changed" or tostring(err)
end

return {
  name = "hostile_forge",
  version = "1.0.0",
  init = function()
    -- Issue 9: every JSON array of the state (json.array(), db.query rows) shared one metatable, so an __index set
    -- here answered rows[1] of another plugin's empty query with a forged row.
    try("array_index", function()
      getmetatable(destek.json.array()).__index = function(_, k)
        if k == 1 then return { id = 666, email = "forged@example.com" } end
      end
    end)
    destek.on("hostile_forge.vetoed", function() return false, "no" end)
    destek.route("GET", "/hostile/forge", "public", function(req)
      try("request_index", function()
        getmetatable(req).__index = function() return { cookie = "forged" } end
      end)
      local _, veto = pcall(destek.emit, "hostile_forge.vetoed", {})
      try("veto_index", function() getmetatable(veto).__index = function() return "forged" end end)
      try("rows_setmetatable", function() setmetatable(destek.db.query("SELECT 1 AS n"), {}) end)
      try("array_gc", function() getmetatable(destek.json.array()).__gc = function() end end)
      return 200, {
        tried = tried,
        metatables = {
          array = type(getmetatable(destek.json.array())),
          rows = type(getmetatable(destek.db.query("SELECT 1 AS n"))),
          decoded = type(getmetatable(destek.json.decode("[1]"))),
          request = type(getmetatable(req)),
          veto = type(getmetatable(veto)),
          string = type(getmetatable("")),
        },
      }
    end)
  end,
}

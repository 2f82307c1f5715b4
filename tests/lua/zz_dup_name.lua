-- Test-only plugin (not shipped): the same name as lua_api.lua, loaded after it; skipped.
local destek = require "destek"
return {
  name = "lua_api",
  version = "9.9.9",
  init = function() destek.route("GET", "/lua/dup", "public", function() return 200, {} end) end,
}

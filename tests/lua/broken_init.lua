-- Test-only plugin (not shipped): init raises; the server skips it (its route must not exist) and serves the others.
local destek = require "destek"
return {
  name = "broken_init",
  version = "1.0.0",
  init = function()
    destek.route("GET", "/broken/init", "public", function() return 200, {} end)
    local t = nil
    return t.field
  end,
}

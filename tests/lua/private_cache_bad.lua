-- Test-only plugin (not shipped), for tests/api/lua-private-cache.test.mjs: private_cache on a public route is refused
-- at load (one copy for anyone would be served to strangers).
local destek = require "destek"
return {
  name = "badpcache",
  version = "1.0.0",
  init = function()
    destek.route("GET", "/api/v1/pcache-bad", "public", function() return 200, {} end, { private_cache = "role" })
  end,
}

-- Test-only plugin (not shipped) for tests/bench/lua_route.sh: the trivial Lua route measured against the C route
-- of tests/plugins/bench_c.c.
local destek = require "destek"
return {
  name = "bench_lua",
  version = "1.0.0",
  init = function()
    destek.route("GET", "/bench/lua", "public", function() return 200, { ok = true } end)
  end,
}

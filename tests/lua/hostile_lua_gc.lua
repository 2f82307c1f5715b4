-- Test-only plugin (not shipped), for tests/api/lua-sandbox-lua.test.mjs: issue 9's finalizer. With the JSON array
-- metatable open, a __gc put there marked every later array for finalization, and Lua runs finalizers with hooks
-- off: at every state's teardown (each reload, each worker thread at exit) this loop ran outside any budget.
local destek = require "destek"

local keep = {}
return {
  name = "hostile_gc",
  version = "1.0.0",
  init = function()
    pcall(function()
      getmetatable(destek.json.array()).__gc = function()
        local x = 0
        for i = 1, 4e8 do x = x + i end
      end
    end)
    keep[1] = destek.json.array()
    local ok = pcall(setmetatable, {}, { __gc = function() end })
    destek.route("GET", "/hostile/gc", "public", function()
      return 200, { array_mt = type(getmetatable(destek.json.array())), setmetatable_gc = ok }
    end)
  end,
}

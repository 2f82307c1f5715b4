-- Test-only plugin (not shipped), for tests/api/lua-sandbox-lua.test.mjs: a plugin table whose version comes from an
-- __index that answers once and then loops. The host read the version a second time after loading, outside any
-- call, where no budget applied: the server never finished starting.
local n = 0
return setmetatable({
  name = "hostile_spec",
  init = function() end,
}, {
  __index = function(_, k)
    if k ~= "version" then return nil end
    n = n + 1
    if n > 1 then while true do end end
    return "1.0.0"
  end,
})

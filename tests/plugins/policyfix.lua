-- A test-only Lua plugin: the policy capi.c asks for through host->decide_new.
local destek = require "destek"
return {
  name = "policyfix",
  version = "1.0.0",
  init = function()
    destek.policy("capi.double", function(n) return n * 2 end)
  end,
}

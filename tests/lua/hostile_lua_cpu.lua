-- Test-only plugin (not shipped), for tests/api/lua-sandbox-lua.test.mjs: single library calls that ran long, or
-- grew memory outside the state's cap, where the instruction hook could not see them. Each route must end in a
-- budget error (500 plugin_error) or a clear refusal, quickly, while the server serves others.
local destek = require "destek"

local function dag(levels, pad)   -- a table holding the previous level twice: 2^levels leaves as JSON
  local t = {}
  for _ = 1, levels do t = { a = t, b = t, pad = pad } end
  return t
end
local PAD = ("x"):rep(32768)      -- one string in Lua, a copy per node in JSON

return {
  name = "hostile_cpu",
  version = "1.0.0",
  init = function()
    local r = function(path, fn) destek.route("GET", "/hostile/" .. path, "public", fn) end
    -- issue 9: 139 s of CPU in one call
    r("find", function() return 200, { string.find(("a"):rep(300), ("a-"):rep(4) .. "b") } end)
    r("find-method", function() return 200, { (("a"):rep(300)):find(("a-"):rep(4) .. "b") } end)
    r("match", function() return 200, { (("a"):rep(300)):match(("a-"):rep(4) .. "b") } end)
    r("gsub", function() return 200, { (("a"):rep(300)):gsub(("a-"):rep(4) .. "b", "") } end)
    r("gmatch", function()
      for m in (("a"):rep(300)):gmatch(("a-"):rep(4) .. "b") do return 200, { m } end
      return 200, {}
    end)
    r("pcall-find", function()
      local ok = pcall(string.find, ("a"):rep(300), ("a-"):rep(4) .. "b")
      return 200, { caught = not ok }
    end)
    -- a loop of calls that each take milliseconds: the hook looks only every 1000 instructions
    r("rep-loop", function() for _ = 1, 1e6 do local _ = ("x"):rep(2 ^ 23) end return 200, {} end)
    r("collect-loop", function()
      local big = {}
      for i = 1, 3e5 do big[i] = { i } end
      for _ = 1, 1e9 do collectgarbage() end
      return 200, { #big }
    end)
    r("sort", function()
      local t = {}
      for i = 1, 2e6 do t[i] = (i * 7919) % 1000003 end
      table.sort(t)
      return 200, { t[1] }
    end)
    r("rep-empty", function() return 200, { #string.rep("", math.maxinteger) } end)
    r("made-up-length", function()
      local huge = { __len = function() return 1e15 end }
      local strings = { __len = function() return 1e15 end, __index = tostring }   -- a C function: no hook
      local out = {}
      out.remove = select(2, pcall(table.remove, setmetatable({}, huge), 1))
      out.insert = select(2, pcall(table.insert, setmetatable({}, huge), 1, "x"))
      out.concat = select(2, pcall(table.concat, setmetatable({}, strings)))
      out.concat_range = select(2, pcall(table.concat, setmetatable({}, { __index = tostring }), "", 1, 1e12))
      return 200, out
    end)
    r("sort-cfunction", function()
      local t = {}
      for i = 1, 1e6 do t[i] = i end
      table.sort(t, rawequal)   -- a C comparator: the library calls it n log n times
      return 200, {}
    end)
    r("move", function() table.move({}, 1, math.maxinteger - 1, 2) return 200, {} end)
    r("date", function() return 200, { #os.date(("%c"):rep(1e6)) } end)
    r("load", function()
      local f, err = load(("x = 1 "):rep(200000))
      local pieces = 0
      local g, err2 = load(function() pieces = pieces + 1 if pieces < 100 then return ("-- 1234567\n"):rep(6000) end end)
      return 200, { loaded = f ~= nil, err = err, loaded_fn = g ~= nil, err_fn = err2 }
    end)
    -- JSON
    r("json-cycle", function() local t = {} t.a = t t.b = t return 200, t end)
    r("json-dag", function() return 200, dag(11, PAD) end)
    r("json-dag-encode", function()
      local ok, err = pcall(destek.json.encode, dag(11, PAD))
      return 200, { ok = ok, err = err }
    end)
    r("json-dag-deep", function() return 200, dag(19) end)
    r("json-decode-big", function()
      local ok, err = pcall(destek.json.decode, "[" .. ("0,"):rep(2e6) .. "0]")
      return 200, { ok = ok, err = err }
    end)
    -- what must keep working
    r("ordinary", function()
      local text = ("  Merhaba dünya, kargo nerede? 12345 ürün iade.  "):rep(400)
      local words = 0
      for _ in text:gmatch("%a+") do words = words + 1 end
      local digits = select(2, text:gsub("%d+", "#"))
      local nums = {}
      for i = 1, 20000 do nums[i] = (i * 7919) % 20011 end
      table.sort(nums)
      local sorted = true
      for i = 2, #nums do if nums[i - 1] > nums[i] then sorted = false end end
      local doc = {}
      for i = 1, 1000 do doc[i] = { id = i, name = "ürün " .. i, tags = { "a", "b" } } end
      local json = destek.json.encode(doc)
      local shared = { 1, 2 }
      return 200, {
        trimmed = #text:match("^%s*(.-)%s*$"), words = words, digits = digits,
        sorted = sorted, first = nums[1] .. "," .. nums[20000],
        json_len = #json, back = #destek.json.decode(json),
        shared_twice = destek.json.encode({ x = shared, y = shared }),
        moved = #table.move({ 1, 2, 3 }, 1, 3, 2),
        date = #os.date("%Y-%m-%d"),
        loaded = load("return 1 + 1")(),
      }
    end)
  end,
}

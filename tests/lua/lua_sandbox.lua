-- Test-only plugin (not shipped): the sandbox's limits for tests/api/lua.test.mjs. Each route breaks a rule; the
-- server must answer 500 plugin_error (or report the refusal) and keep serving.
local destek = require "destek"

local BYTECODE = "\27LuaT\0\25\147\r\n\26\n\4\8\8\120\86\0\0\0\0\0\0\0\0\0\0\0\40\119\64\1"

return {
  name = "lua_sandbox",
  version = "1.0.0",
  init = function()
    destek.route("GET", "/sandbox/loop", "public", function() while true do end end)
    destek.route("GET", "/sandbox/pcall-loop", "public", function()
      while true do pcall(function() while true do end end) end
    end)
    destek.route("GET", "/sandbox/coroutine-loop", "public", function()
      while true do coroutine.resume(coroutine.create(function() while true do end end)) end
    end)
    destek.route("GET", "/sandbox/memory", "public", function()
      local t, s = {}, string.rep("x", 1024)
      while true do s = s .. s; t[#t + 1] = s end
    end)
    destek.route("GET", "/sandbox/memory-tables", "public", function()
      local t, i = {}, 0
      while true do i = i + 1; t[i] = { i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i } end
    end)
    destek.route("GET", "/sandbox/sql-loop", "public", function()
      return 200, destek.db.query(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c")
    end)
    destek.route("GET", "/sandbox/os-execute", "public", function()
      os.execute("touch /tmp/destek-sandbox-escaped")
      return 200, { escaped = true }
    end)
    destek.route("GET", "/sandbox/io-open", "public", function()
      local f = io.open("/etc/passwd")
      return 200, { escaped = f ~= nil }
    end)
    destek.route("GET", "/sandbox/require-c", "public", function()
      local m = require("lpeg")
      return 200, { escaped = m ~= nil }
    end)
    destek.route("GET", "/sandbox/bytecode", "public", function()
      local f = assert(load(BYTECODE, "x", "b"))
      return 200, { escaped = f ~= nil }
    end)
    -- {t, t} forty deep: a few hundred bytes of Lua, 2^40 values as JSON (tests/fuzz/fuzz_lua_json.c)
    local function shared_tables()
      local t = {}
      for _ = 1, 40 do t = { t, t } end
      return t
    end
    destek.route("GET", "/sandbox/json-shared", "public", function() return 200, shared_tables() end)
    destek.route("GET", "/sandbox/json-encode-shared", "public", function()
      local ok, err = pcall(destek.json.encode, shared_tables())
      return 200, { ok = ok, err = tostring(err) }
    end)
    destek.route("GET", "/sandbox/probe", "public", function()
      local f1, e1 = load(BYTECODE)
      local f2, e2 = load(BYTECODE, "x", "b")
      local ok_gc = pcall(setmetatable, {}, { __gc = function() end })
      local ok_gen = pcall(collectgarbage, "generational")
      local ok_req, e_req = pcall(require, "io")
      return 200, {
        io = type(io), debug = type(debug), package = type(package), dofile = type(dofile),
        loadfile = type(loadfile), loadstring = type(loadstring),
        os_execute = type(os.execute), os_exit = type(os.exit), os_getenv = type(os.getenv),
        os_remove = type(os.remove), os_time = type(os.time), os_date = type(os.date), os_clock = type(os.clock),
        string_dump = type(string.dump), meta_dump = type(("").dump), string_meta = getmetatable(""),
        bytecode_t = f1 == nil, bytecode_t_err = e1, bytecode_b = f2 == nil, bytecode_b_err = e2,
        text_load = load("return 1 + 1")(), gc_refused = not ok_gc, generational_refused = not ok_gen,
        gc_count = type(collectgarbage("count")),
        require_io = not ok_req, require_err = tostring(e_req), require_destek = require("destek") == destek,
        other_global = shared_secret == nil, g_is_env = _G.destek == nil and _G.string == string,
      }
    end)
  end,
}

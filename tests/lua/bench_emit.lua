-- Test-only plugin (not shipped) for tests/bench/events.sh: each request emits many events cheaply, so that the
-- benchmark measures delivery rather than HTTP. POST /api/v1/bench_emit/emit?n=N&from=K emits N events
-- "bench_emit.ticked" with payload {i = K..K+N-1}. Admins only.
local destek = require "destek"

return {
  name = "bench_emit",
  version = "1.0.0",
  init = function()
    destek.route("POST", "/api/v1/bench_emit/emit", "admin", function(req)
      local q = req.query or {}
      local n = math.tointeger(tonumber(q.n)) or 100
      local from = math.tointeger(tonumber(q.from)) or 1
      if n < 1 or n > 1000 then return 422, { error = { code = "invalid_field", field = "n", message = "n is 1..1000" } } end
      for i = from, from + n - 1 do
        destek.emit("bench_emit.ticked", { i = i })
      end
      return 200, { emitted = n }
    end)
  end,
}

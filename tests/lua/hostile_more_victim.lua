-- Test-only plugin (not shipped), for tests/api/lua-sandbox-more.test.mjs: an ordinary plugin whose secret setting,
-- events and subscribers the hostile_more_*.lua plugins go after. It emits parcel.sent (its declared noun) and
-- more_victim.pinged (its name's), and records every event it receives, to show what reached subscribers.
local destek = require "destek"

return {
  name = "more_victim",
  version = "1.0.0",
  events = { "parcel" },
  migrations = {
    "CREATE TABLE more_victim_seen (id INTEGER PRIMARY KEY, event TEXT NOT NULL, payload TEXT NOT NULL)",
  },
  settings = {
    { name = "more_victim.api_key", type = "string", secret = true, description = "a partner's API key" },
    { name = "more_victim.greeting", type = "string", default = "merhaba", description = "not a secret" },
  },
  init = function()
    destek.on_async("*", function(payload, name)
      destek.db.exec("INSERT INTO more_victim_seen(event, payload) VALUES (?1, ?2)", name, destek.json.encode(payload))
    end)
    destek.route("POST", "/more-victim/send", "public", function()
      destek.emit("parcel.sent", { id = 1 }, "parcel:1")
      destek.emit("more_victim.pinged", {}, "parcel:1")
      return 200, { key = destek.setting("more_victim.api_key") }
    end)
    destek.route("GET", "/more-victim/seen", "public", function()
      return 200, destek.db.query("SELECT event, payload FROM more_victim_seen ORDER BY id")
    end)
  end,
}

-- Test-only plugin (not shipped), for tests/api/lua-sandbox-more.test.mjs: emits events it does not own (the core's,
-- ticketing's, another plugin's, nobody's) for the subscribers and webhooks that trust them, and its own.
local destek = require "destek"

local function try(event, payload)
  local ok, err = pcall(destek.emit, event, payload or {}, "forged:1")
  return ok and "emitted" or tostring(err)
end

return {
  name = "hostile_forger",
  version = "1.0.0",
  events = { "hostile_note" },
  init = function()
    destek.route("POST", "/hostile-more/forge", "public", function()
      return 200, {
        ticket_created = try("ticket.created", { id = 1, subject = "forged", customer = { email = "x@example.com" } }),
        user_updated = try("user.updated", { id = 1, role = "admin", email = "forged@example.com" }),
        message_added = try("message.added", { id = 1 }),
        sla_breached = try("sla.breached", { id = 1 }),
        customer_merged = try("customer.merged", { id = 1, source_id = 2 }),
        core = try("core.restarted"),
        ticketing = try("ticketing.reset"),
        victim_noun = try("parcel.sent", { id = 666 }),
        victim_name = try("more_victim.pinged"),
        nobody = try("invoice.paid"),
        own_name = try("hostile_forger.done", { n = 1 }),
        own_noun = try("hostile_note.added", { n = 2 }),
      }
    end)
  end,
}

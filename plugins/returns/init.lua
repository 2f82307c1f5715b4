-- returns: returns and exchanges under Turkish law, linked to the ticket (issue 13). A module written in Lua on the
-- module API: it reads orders only through the orders module's services (orders.find, orders.ship), talks to the
-- customer through ticketing's (ticketing.open, .reply, .customer_message, .note, .get), and asks the policy
-- returns.eligible (policy.lua: the law's defaults, declared here; a merchant's plugin that declares it replaces it).
--
-- flow.lua: storage, the state machine, events and notices; order.lua: the order as orders.find answers it;
-- policy decisions go through flow.decide; portal.lua: the customer's pages under /returns; api.lua: the agents'
-- routes; iban.lua: IBAN checks; demo.lua: `destek demo`'s returns.
local destek = require "destek"
local flow = require "flow"
local api = require "api"
local portal = require "portal"
local policy = require "policy"

return {
  name = "returns",
  version = "1.0.0",
  events = { "return" },
  settings = {
    { name = "returns.withdrawal_days", type = "int", default = 14,
      description = "Days after delivery within which a customer may withdraw without a reason (the law: 14)" },
    { name = "returns.address", type = "string", default = "",
      description = "The address customers send returns to (shown with the approval)" },
    { name = "returns.carrier", type = "string", default = "",
      description = "The carrier contracted for returns (e.g. \"Aras Kargo\"); with returns.carrier_code the customer ships at no cost" },
    { name = "returns.carrier_code", type = "string", default = "",
      description = "The shop's agreement code with the returns carrier (anlaşma kodu)" },
    { name = "returns.ship_days", type = "int", default = 10,
      description = "Days the customer has to ship an approved return (the law: 10)" },
    { name = "returns.refund_days", type = "int", default = 14,
      description = "Days from the customer's notice within which the refund is due (the law: 14)" },
    { name = "returns.review_hours", type = "int", default = 24,
      description = "Hours within which a request that needs a review is answered (told to the customer)" },
    { name = "returns.lookup_limit", type = "int", default = 10,
      description = "Order lookups on /returns per address per window" },
    { name = "returns.lookup_number_limit", type = "int", default = 20,
      description = "Lookups of one order number on /returns per window, from any address" },
    { name = "returns.lookup_window_seconds", type = "int", default = 600, description = "The lookups' window" },
    { name = "returns.auto_approve", type = "bool", default = true,
      description = "Approve at once the requests the policy needs no person for (withdrawals within the period)" },
  },
  init = function()
    policy.register()
    api.register()
    portal.register()
    require("report").register()
    -- A refund whose legal limit is 3 days away: a note on the ticket (the screens show the warning by themselves).
    destek.timer("returns.refund_due", function(key, payload)
      local r = flow.get(math.tointeger(payload.id) or 0)
      if not r or flow.FINAL[r.status] then return end
      local text = flow.fmt("note_refund_due", "tr", r.code, flow.date(r.refund_due_at))
      flow.add_history(r.id, r.status, "note", "system", text, os.time())
      flow.note(r, text)
    end)
    destek.live.events("return.*", function(p) return { return_id = p.id, status = p.status, ticket_id = p.ticket_id } end)
    destek.service("returns.demo", function(args) return require("demo").fill(args) end)
    destek.service("returns.find", function(args)
      local tid = math.tointeger(args.ticket_id)
      local rows = destek.db.query("SELECT id, code, status, order_number FROM returns_returns WHERE ticket_id = ?1" ..
                                   " ORDER BY id DESC LIMIT 20", tid or 0)
      return { items = destek.json.array(rows) }
    end)
    -- KVKK: a person's returns follow a merge, are part of the export, and lose what names them on erasure.
    destek.service("returns.contact_merged", function(a)
      destek.db.exec("UPDATE returns_returns SET contact_id = ?1 WHERE contact_id = ?2", a.id, a.source_id)
      return {}
    end)
    destek.service("returns.contact_export", function(a)
      local rows = destek.db.query("SELECT id, code, order_number, status, reason_summary, iban_holder, tracking_number," ..
                                   " created_at, updated_at FROM returns_returns WHERE contact_id = ?1 ORDER BY id", a.id)
      for _, r in ipairs(rows) do
        r.items = destek.json.array(flow.items(r.id))
        r.history = destek.json.array(flow.history(r.id))
      end
      return { returns = destek.json.array(rows) }
    end)
    destek.service("returns.contact_erase", function(a)
      for _, p in ipairs(destek.db.query("SELECT p.file_id FROM returns_photos p JOIN returns_returns r ON r.id = p.return_id" ..
                                         " WHERE r.contact_id = ?1", a.id)) do
        destek.files.delete(p.file_id)
      end
      destek.db.exec("DELETE FROM returns_photos WHERE return_id IN (SELECT id FROM returns_returns WHERE contact_id = ?1)", a.id)
      destek.db.exec("UPDATE returns_returns SET email = NULL, phone = NULL, customer_name = NULL, iban = NULL," ..
                     " iban_holder = NULL WHERE contact_id = ?1", a.id)
      destek.db.exec("UPDATE returns_items SET comment = NULL WHERE return_id IN" ..
                     " (SELECT id FROM returns_returns WHERE contact_id = ?1)", a.id)
      destek.db.exec("UPDATE returns_history SET note = NULL WHERE action = 'message' AND return_id IN" ..
                     " (SELECT id FROM returns_returns WHERE contact_id = ?1)", a.id)
      return {}
    end)
  end,
}

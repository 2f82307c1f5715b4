-- An example carrier adapter for the orders module (plugins/orders/README.md, "Carrier adapters").
--
-- Copy it to <data>/plugins/, change BASE, KEY and the mapping to your contract's tracking API, and rename the
-- policy to your carrier's code (GET /api/v1/order-carriers lists them: yurtici, aras, mng, ptt, surat, hepsijet,
-- trendyol, kolaygelsin, ups). The orders module calls the policy for each tracked shipment of that carrier with
--   {carrier, tracking_number, order_number, status}
-- and expects, in AfterShip's terms,
--   {status = "InTransit", checkpoints = {{at = "2026-11-02T09:30:00+03:00", status = "InTransit",
--                                          message = "Transfer merkezinde", location = "İstanbul"}, ...}}
-- or {error = "why"} (the poll counts as failed and backs off). Statuses: Pending, InfoReceived, InTransit,
-- OutForDelivery, AttemptFail, Delivered, AvailableForPickup, Exception, Expired.
-- destek.http.request goes through the server's guard: a carrier API on a private address needs --allow-private-net.
-- The API below is imaginary (GET BASE/v1/shipments/<number> answering {"state": ..., "movements": [...]}).
local destek = require "destek"

local BASE = "https://api.example-kargo.com.tr"
local KEY = "your-api-key"

local STATES = {
  CREATED = "InfoReceived", ACCEPTED = "InTransit", IN_TRANSFER = "InTransit", ON_COURIER = "OutForDelivery",
  NOT_DELIVERED = "AttemptFail", DELIVERED = "Delivered", AT_BRANCH = "AvailableForPickup", DAMAGED = "Exception",
  RETURNED = "Exception",
}

local function enc(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

return {
  name = "tracking_carrier_example",
  version = "1.0.0",
  init = function()
    destek.policy("tracking.carrier:aras", function(shipment)
      local res, err = destek.http.request { method = "GET", url = BASE .. "/v1/shipments/" .. enc(shipment.tracking_number),
                                             headers = { ["Authorization"] = "Bearer " .. KEY,
                                                         ["Accept"] = "application/json" }, timeout = 15 }
      if not res then return { error = err } end
      if res.status ~= 200 then return { error = "HTTP " .. res.status } end
      local doc = destek.json.decode(res.body)
      if type(doc) ~= "table" then return { error = "not JSON" } end
      local out = { status = STATES[doc.state], checkpoints = {} }
      for _, m in ipairs(doc.movements or {}) do
        out.checkpoints[#out.checkpoints + 1] = { at = m.date, status = STATES[m.state], message = m.description,
                                                  location = m.branch }
      end
      return out
    end)
  end,
}

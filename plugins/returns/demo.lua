-- returns/demo.lua: `destek demo` runs returns.demo after the orders module's demo: returns in every state for the
-- demo shop's orders (AT-10401 ...), written through the module's own flow so tickets, history and events are what
-- the portal and the agents make.
local destek = require "destek"
local flow = require "flow"
local order = require "order"

local demo = {}

local PATHS = {
  requested = {}, approved = { "approved" }, shipped_back = { "approved", "shipped_back" },
  received = { "approved", "shipped_back", "received" },
  inspected = { "approved", "shipped_back", "received", "inspected" },
  refunded = { "approved", "shipped_back", "received", "inspected", "refunded" },
  exchanged = { "approved", "shipped_back", "received", "inspected", "exchanged" },
  credited = { "approved", "shipped_back", "received", "inspected", "credited" },
  rejected = { "rejected" },
}
local COMMENTS = {
  "Kutu ezik geldi, ürünün köşesi kırık.", "Siparişim M beden ama L geldi.", "Fotoğraftaki renkle aynı değil.",
  "İki gün kullandım, şarj olmuyor.", "Vazgeçtim, ihtiyacım kalmadı.", "Bir beden büyüğüyle değiştirmek istiyorum.",
}

-- One call does it all (the host runs returns.demo once), within a Lua call's time limit even on a busy machine: two
-- returns in each state, and no notices mailed to the demo's customers (flow.quiet).
local function fill(args)
  local n = destek.db.query("SELECT count(*) AS n FROM returns_returns")[1].n
  if n > 0 and not args.force then return { message = "returns: left as they are" } end
  local made, k = 0, 0
  local now = os.time()
  for _, status in ipairs(flow.STATUSES) do
    for copy = 1, 2 do
      local o
      while not o and k < 120 do
        k = k + 1
        local cand = order.find("AT-" .. (10400 + k))
        if cand and cand.items and #cand.items > 0 and cand.status ~= "cancelled" and not cand.status:find("refund") then
          o = cand
        end
      end
      if not o then break end
      local ri = (made % #flow.REASONS) + 1
      local reason = flow.REASONS[ri]
      local outcome = status == "exchanged" and "exchange" or status == "credited" and "credit" or
                      (reason == "exchange_size" and "exchange" or "refund")
      local it = o.items[1]
      local request = { lang = "tr", actor = "customer", items = { {
        line = 1, quantity = 1, reason = reason, outcome = outcome, comment = COMMENTS[ri],
        variant = outcome == "exchange" and "L" or nil } } }
      local t0 = now - (12 - copy) * 86400 - made * 3600
      local r = flow.create(o, request, { review = true, policy_note = "demo", delivered_at = nil }, t0)
      local at = t0
      for _, step in ipairs(PATHS[status]) do
        at = at + 86400 // 2
        r = flow.get(r.id)
        if step == "approved" then r = flow.approve(r, "system", nil, at)
        elseif step == "rejected" then r = flow.reject(r, "system", "Ürün kullanılmış ve etiketi çıkarılmış; iade koşullarına uymuyor.", at)
        elseif step == "shipped_back" then r = flow.move(r, "shipped_back", "customer", nil, { tracking_number = "RT" .. (700000 + r.id) }, at)
        elseif step == "received" then r = flow.move(r, "received", "carrier", nil, nil, at)
        elseif step == "inspected" then
          destek.db.exec("UPDATE returns_items SET condition = 'as_new' WHERE return_id = ?1", r.id)
          r = flow.move(r, "inspected", "system", "as_new", nil, at)
        elseif step == "refunded" then
          r = flow.move(r, "refunded", "system", nil, { refund_minor = it.price_minor or 0, refund_method = "original", refunded_at = at }, at)
        elseif step == "credited" then
          r = flow.move(r, "credited", "system", nil, { refund_minor = it.price_minor or 0, refund_method = "store_credit", refunded_at = at }, at)
        elseif step == "exchanged" then
          r = flow.move(r, "exchanged", "system", nil, { exchange_tracking = "EX" .. (800000 + r.id) }, at)
        end
      end
      made = made + 1
    end
  end
  return { message = string.format("returns: %d returns in every state", made) }
end

function demo.fill(args)
  flow.quiet = true
  local ok, res = pcall(fill, args)
  flow.quiet = false
  if not ok then error(res) end
  return res
end

return demo

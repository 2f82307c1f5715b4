-- campaigns.report_facts — the campaigns' figures for the reports module, by its module-neutral contract
-- (plugins/reports/README.md, "The contract"): one fact per campaign that began sending, from the module's own
-- results (send.results: the recipients, the core's messages by status, refusals through the message's link).
--   {describe = true} -> {kind = "campaign", subjects = {"campaign"}, watch = {"campaign.*"}, refresh_open = 60}
-- Live while it sends: send.lua emits campaign.progress after gathering recipients and after each batch sent (the
-- reports refresh the fact within a second); the core's deliveries and failures have no event: the open facts are
-- asked again every minute (refresh_open).
--   {after, limit} -> {items, next};  {ids = {...}} -> {items}
-- A fact: {id, ref (the name), at (sending began), open (1 while sending, and for 7 days after it ended: deliveries
--   and refusals still come in; reports asks open facts again every refresh_open seconds), dims = {campaign, channel},
--   labels = {campaign = name}, values = {campaigns = 1, recipients, sent (handed to the send path), delivered,
--   failed, withheld (skipped before sending, or refused by the send path when the consent was gone),
--   withheld_<reason> (each skip reason; withheld_at_send for the send path's), unsubscribed (refused through the
--   message's link after it was sent)}}
--   E-mail campaigns add clicked and clicks (tracked links), opened and opens (the HTML's image, where the mail client
--   loads it), bounced (the core's bounces, followed by the consent.bounced event), and, with the orders module,
--   orders and order_recipients (orders after the campaign, tracking.lua). Opens and clicks have no event: refresh_open.
local destek = require "destek"
local send = require "send"
local tracking = require "tracking"

local M = {}

local SQL = "SELECT * FROM campaigns_campaigns x WHERE x.started_at IS NOT NULL"
local OPEN_AFTER = 7 * 86400

local function fact(c)
  local r = send.results(c)
  local m = r.messages or {}
  local values = {
    campaigns = 1, recipients = r.recipients or 0, sent = r.sent or 0, delivered = m.delivered or 0,
    failed = m.failed or 0, withheld = (r.skipped or 0) + (m.withheld or 0), unsubscribed = r.unsubscribed or 0,
  }
  for reason, n in pairs(r.skipped_by_reason or {}) do
    if type(reason) == "string" and reason:match("^[a-z0-9_]+$") then values["withheld_" .. reason] = n end
  end
  if (m.withheld or 0) > 0 then values.withheld_at_send = m.withheld end
  if c.channel == "email" then
    local t = tracking.results(c)
    values.clicked, values.clicks = t.clicked or 0, t.clicks or 0
    values.opened, values.opens, values.bounced = r.opened or 0, r.opens or 0, r.bounced or 0
    if type(t.orders) == "table" then values.orders, values.order_recipients = t.orders.count, t.orders.recipients end
  end
  local now = os.time()
  local open = (c.status ~= "done" or (c.finished_at or 0) + OPEN_AFTER > now) and 1 or 0
  return {
    id = c.id, ref = c.name, at = c.started_at, open = open,
    dims = { campaign = tostring(c.id), channel = c.channel }, labels = { campaign = c.name },
    values = values,
  }
end

function M.register()
  destek.service("campaigns.report_facts", function(args)
    if args.describe then
      return { kind = "campaign", subjects = { "campaign" }, watch = { "campaign.*" }, refresh_open = 60,
               durations = destek.json.array({}) }
    end
    local items = {}
    if args.ids then
      for i, id in ipairs(args.ids) do
        if i > 500 then break end
        local rows = destek.db.query(SQL .. " AND x.id = ?1", math.tointeger(id) or 0)
        if rows[1] then items[#items + 1] = fact(rows[1]) end
      end
      return { items = destek.json.array(items) }
    end
    local limit = math.tointeger(args.limit) or 100
    if limit < 1 or limit > 100 then limit = 100 end
    local rows = destek.db.query(SQL .. " AND x.id > ?1 ORDER BY x.id LIMIT ?2", math.tointeger(args.after) or 0, limit)
    for _, r in ipairs(rows) do items[#items + 1] = fact(r) end
    return { items = destek.json.array(items), next = #rows == limit and rows[#rows].id or nil }
  end)
end

return M

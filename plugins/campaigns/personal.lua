-- campaigns/personal.lua: what one recipient's message carries beyond the template: the special day's once-a-year
-- mark, a single-use coupon code, and tracked links. Everything here is written in the sending run's transaction,
-- together with the recipient's row and the core's queued message (send.lua): a restart or kill -9 keeps all of it
-- or none of it.
local destek = require "destek"
local coupons = require "coupons"
local tracking = require "tracking"

local personal = {}

-- Per sending run: the template's texts with their links marked ({{link:<id>}}), and the special day's year.
function personal.context(c)
  local ctx = { subject_tr = c.subject_tr, subject_en = c.subject_en,
                body_tr = tracking.mark(c, c.body_tr), body_en = tracking.mark(c, c.body_en) }
  local send = require "send"
  local h_tr, h_en = send.html_of(c, false), send.html_of(c, true)
  ctx.html_tr = h_tr and tracking.mark_html(c, h_tr)
  ctx.html_en = h_en and tracking.mark_html(c, h_en)
  if c.occasion_id and c.occasion_day then ctx.year = tonumber(c.occasion_day:sub(1, 4)) end
  return ctx
end

-- Gives back what personal.message took for recipient r (its message was not queued).
function personal.undo(c, r, ctx)
  if c.pool_id then coupons.give_back(r.id) end
  if ctx.year then
    destek.db.exec("DELETE FROM campaigns_occasion_sent WHERE occasion_id = ?1 AND year = ?2 AND contact_id = ?3" ..
                   " AND recipient_id = ?4", c.occasion_id, ctx.year, r.contact_id, r.id)
  end
end

-- Recipient r's subject, body and HTML (nil: text only; after the reason) (r: the recipient's row joined with its
-- contact), or nil and the reason it is withheld: already_sent (the special day went to this contact this year),
-- no_coupon (the pool is empty). The HTML carries the open image when opens are tracked.
function personal.message(c, r, ctx)
  local send = require "send"
  local extra = {}
  if ctx.year then
    local ins = destek.db.exec("INSERT OR IGNORE INTO campaigns_occasion_sent(occasion_id, year, contact_id, recipient_id)" ..
                               " VALUES (?1, ?2, ?3, ?4)", c.occasion_id, ctx.year, r.contact_id, r.id)
    if ins.changes == 0 then return nil, nil, "already_sent" end
  end
  if c.pool_id then
    local code = coupons.take(c.pool_id, r.id, r.contact_id)
    if not code then
      personal.undo(c, r, ctx)
      return nil, nil, "no_coupon"
    end
    extra.coupon = code
  end
  local en = r.lang == "en"
  local body = en and ctx.body_en or ctx.body_tr
  local html = en and ctx.html_en or ctx.html_tr
  for id in body:gmatch("{{link:(%d+)}}") do extra["link:" .. id] = tracking.link(r.id, id) end
  if html then
    for id in html:gmatch("{{link:(%d+)}}") do extra["link:" .. id] = tracking.link(r.id, id) end
    html = send.render(html, r, extra, true) .. tracking.pixel(r.id)
  end
  return send.render(en and ctx.subject_en or ctx.subject_tr, r, extra), send.render(body, r, extra), nil, html
end

return personal

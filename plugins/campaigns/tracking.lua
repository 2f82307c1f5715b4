-- campaigns/tracking.lua: what recipients did after a campaign's e-mail.
--
-- Clicks. Each http(s) link of the template's text (the campaign's own links, never text a contact's fields brought
-- in) is kept in campaigns_links and written, per recipient, as <public address>/cl/<recipient>/<link>/<signature>.
-- The redirect looks the link up by its id and goes only to the URL stored for the recipient's campaign: a URL is
-- never read from the request, so it cannot be made to go anywhere else (no open redirect); a bad signature, or a
-- link of another campaign, is 404. A GET (a person, or a mail scanner following links) counts a click and changes
-- nothing else (no consent, no unsubscribe). Links are written only when a public address is set (mail.public_url)
-- and campaigns.track_clicks is on; SMS texts are left as they are.
--
-- Opens. An HTML campaign mail carries a 1x1 image <public address>/op/<recipient>/<signature> (HMAC by the module's
-- key, as the links) when campaigns.track_opens is on and mail.public_url is set. A GET counts an open (opened:
-- recipients, opens: every GET) and answers a transparent GIF that is never cached; a bad signature gets the same
-- GIF and counts nothing (the answer tells nothing). Mail clients that block images are not counted.
--
-- Bounces. The core learns that one of its messages bounced (the mail-in path asks consent.bounce) and emits
-- consent.bounced; a campaign's recipient of that message is marked (bounce: hard or soft) and counted in `bounced`.
--
-- Orders after a campaign. When the orders module is present, each order.created (and order.updated) is matched to
-- the campaigns whose message went to its contact within campaigns.order_days before the order was placed (cancelled,
-- refunded and failed orders not counted, and taken out when they become so); absent otherwise (orders = null).
local destek = require "destek"
local util = require "util"

local tracking = {}

local URL = "https?://[%w%-%._~:/%?#%[%]@!%$&'%(%)%*%+,;=%%]+"

local function public_base()
  local u = destek.setting("mail.public_url")
  if type(u) ~= "string" or not u:match("^https?://[%w%.%-:%[%]]+") then return nil end
  return (u:gsub("/+$", ""))
end

local function base()
  if not destek.setting("campaigns.track_clicks") then return nil end
  return public_base()
end

-- A transparent 1x1 GIF (43 bytes).
local GIF = "GIF89a\1\0\1\0\128\0\0\0\0\0\255\255\255\33\249\4\1\0\0\0\0\44\0\0\0\0\1\0\1\0\0\2\2\68\1\0\59"

-- Trailing punctuation of a sentence is not part of the link ("bakın: https://x.example/a.").
local function trim(u)
  local tail = ""
  while #u > 0 and u:sub(-1):match("[%.,;:!%?%)'\"]") do
    tail = u:sub(-1) .. tail
    u = u:sub(1, -2)
  end
  return u, tail
end

-- The template text with each link replaced by {{link:<id>}} (ids of campaigns_links, made as needed, in the call's
-- transaction), for send.render to fill per recipient. Text unchanged when links are not tracked.
function tracking.mark(c, text)
  if c.channel ~= "email" or not base() then return text end
  return (text:gsub(URL, function(found)
    local u, tail = trim(found)
    if #u > 2000 or #u < 10 then return found end
    destek.db.exec("INSERT OR IGNORE INTO campaigns_links(campaign_id, url) VALUES (?1, ?2)", c.id, u)
    local id = destek.db.query("SELECT id FROM campaigns_links WHERE campaign_id = ?1 AND url = ?2", c.id, u)[1].id
    return "{{link:" .. id .. "}}" .. tail
  end))
end

-- The template's HTML (made safe when it was saved) with each http(s) href replaced by {{link:<id>}}, as mark does
-- for the text; images and the text between tags are left as they are. The stored URL is the attribute's value
-- unescaped (the sanitiser wrote & as &amp;).
function tracking.mark_html(c, html)
  if c.channel ~= "email" or not base() then return html end
  return (html:gsub('(href=")(https?://[^"]+)(")', function(a, found, z)
    local u = found:gsub("&quot;", '"'):gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&#39;", "'"):gsub("&amp;", "&")
    if #u > 2000 or #u < 10 then return nil end
    destek.db.exec("INSERT OR IGNORE INTO campaigns_links(campaign_id, url) VALUES (?1, ?2)", c.id, u)
    local id = destek.db.query("SELECT id FROM campaigns_links WHERE campaign_id = ?1 AND url = ?2", c.id, u)[1].id
    return a .. "{{link:" .. id .. "}}" .. z
  end))
end

-- The open image for recipient rid ("" when opens are not tracked).
function tracking.pixel(rid)
  local b = destek.setting("campaigns.track_opens") and public_base()
  if not b then return "" end
  return '<img src="' .. b .. "/op/" .. rid .. "/" .. destek.sign("op:" .. rid) ..
         '" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px">'
end

-- The address of link id for recipient rid.
function tracking.link(rid, id)
  local b = base()
  if not b then return nil end
  return b .. "/cl/" .. rid .. "/" .. id .. "/" .. destek.sign("cl:" .. rid .. ":" .. id)
end

-- A campaign's figures: clicked (recipients who clicked a link), clicks (every GET through a link), orders (null when
-- the orders module is absent): {count, recipients, totals = {TRY = minor units, ...}}.
function tracking.results(c)
  local k = destek.db.query("SELECT count(DISTINCT recipient_id) AS clicked, coalesce(sum(count), 0) AS clicks" ..
    " FROM campaigns_clicks WHERE campaign_id = ?1", c.id)[1]
  local out = { clicked = k.clicked, clicks = k.clicks, orders = destek.json.null }
  local probe, err = destek.call("orders.find", { number = "0" })
  if probe or (err and err.status ~= 501) then
    local o = destek.db.query("SELECT count(*) AS n, count(DISTINCT recipient_id) AS who FROM campaigns_orders" ..
                              " WHERE campaign_id = ?1", c.id)[1]
    local totals = {}
    for _, row in ipairs(destek.db.query("SELECT coalesce(currency, '') AS cur, sum(total_minor) AS t FROM campaigns_orders" ..
                                         " WHERE campaign_id = ?1 GROUP BY 1", c.id)) do
      totals[row.cur] = row.t
    end
    out.orders = { count = o.n, recipients = o.who, totals_minor = totals, days = destek.setting("campaigns.order_days") }
  end
  return out
end

-- "2025-03-01T14:05:11+03:00", "…Z", "….123Z" -> Unix seconds, or nil.
local function order_time(s)
  if type(s) ~= "string" then return nil end
  local d, t, rest = s:match("^(%d%d%d%d%-%d%d%-%d%d)T(%d%d:%d%d:%d%d)(.*)$")
  if not d then return nil end
  local base_t = util.parse_time(d .. "T" .. t .. "Z")
  if not base_t then return nil end
  rest = rest:gsub("^%.%d+", "")
  if rest == "" or rest == "Z" then return base_t end
  local sign, hh, mm = rest:match("^([%+%-])(%d%d):?(%d%d)$")
  if not sign then return nil end
  local off = tonumber(hh) * 3600 + tonumber(mm) * 60
  return sign == "+" and base_t - off or base_t + off
end

local function on_order(o)
  if type(o) ~= "table" or type(o.customer) ~= "table" then return end
  local cid = math.tointeger(o.customer.contact_id)
  local placed = order_time(o.placed_at)
  if not cid or not placed or not math.tointeger(o.id) then return end
  if o.status == "cancelled" or o.status == "refunded" or o.status == "failed" then
    destek.db.exec("DELETE FROM campaigns_orders WHERE order_id = ?1", math.tointeger(o.id))   -- counted before: no more
    return
  end
  local days = destek.setting("campaigns.order_days") or 7
  -- Read first: an order after no campaign's message (nearly every order) writes nothing, so the bus marks its
  -- delivery done together with the others of its batch, not in a write transaction of its own (core/bus.c).
  if not destek.db.query("SELECT 1 AS hit FROM campaigns_recipients WHERE contact_id = ?1 AND status = 'sent'" ..
                         " AND at <= ?2 AND at > ?2 - ?3 LIMIT 1", cid, placed, days * 86400)[1] then
    return
  end
  destek.db.exec("INSERT OR IGNORE INTO campaigns_orders(campaign_id, order_id, recipient_id, total_minor, currency, placed_at)" ..
    " SELECT r.campaign_id, ?2, r.id, ?3, ?4, ?5 FROM campaigns_recipients r WHERE r.contact_id = ?1 AND r.status = 'sent'" ..
    " AND r.at <= ?5 AND r.at > ?5 - ?6", cid, math.tointeger(o.id), math.tointeger(o.total_minor) or 0,
    type(o.currency) == "string" and o.currency or nil, placed, days * 86400)
end

function tracking.register()
  -- A link of a campaign's mail: counted, then redirected to the campaign's own URL for that link.
  destek.route("GET", "/cl/{rid}/{lid}/{sig}", "public", function(req)
    local rid, lid = math.tointeger(tonumber(req.params.rid)), math.tointeger(tonumber(req.params.lid))
    local sig = req.params.sig or ""
    if not rid or not lid or not destek.verify("cl:" .. rid .. ":" .. lid, sig) then
      return destek.error(404, "not_found", "no such link")
    end
    local link = destek.db.query("SELECT l.url, l.campaign_id FROM campaigns_links l JOIN campaigns_recipients r ON" ..
                                 " r.campaign_id = l.campaign_id WHERE l.id = ?1 AND r.id = ?2", lid, rid)[1]
    if not link then return destek.error(404, "not_found", "no such link") end
    destek.db.exec("INSERT INTO campaigns_clicks(campaign_id, recipient_id, link_id, first_at) VALUES (?4, ?1, ?2, ?3)" ..
                   " ON CONFLICT(campaign_id, recipient_id, link_id) DO UPDATE SET count = count + 1", rid, lid, os.time(),
                   link.campaign_id)
    return 302, nil, { Location = link.url, ["Cache-Control"] = "no-store" }
  end, { params = "rid:int lid:int" })

  -- The open image: counted when the signature is the recipient's; the same GIF in every case, never cached (each
  -- fetch reaches here) and nothing in the answer says whether it counted.
  destek.route("GET", "/op/{rid}/{sig}", "public", function(req)
    local rid, sig = math.tointeger(tonumber(req.params.rid)), req.params.sig or ""
    if rid and destek.verify("op:" .. rid, sig) then
      destek.db.exec("INSERT INTO campaigns_opens(recipient_id, campaign_id, first_at) SELECT id, campaign_id, ?2" ..
                     " FROM campaigns_recipients WHERE id = ?1 AND status = 'sent'" ..
                     " ON CONFLICT(recipient_id) DO UPDATE SET count = count + 1", rid, os.time())
    end
    return 200, GIF, { ["Content-Type"] = "image/gif", ["Cache-Control"] = "no-store, no-cache, max-age=0, private",
                       ["Pragma"] = "no-cache" }
  end)

  -- A bounce of one of this module's messages (the core's event): the recipient marked, the reports told.
  destek.on_async("consent.bounced", function(p)
    if type(p) ~= "table" or p.sender ~= "campaigns" or not math.tointeger(p.message_id) then return end
    local kind = p.kind == "soft" and "soft" or "hard"
    local r = destek.db.query("SELECT id, campaign_id FROM campaigns_recipients WHERE message_id = ?1",
                              math.tointeger(p.message_id))[1]
    if not r then return end   -- a test send or a consent confirmation: no recipient
    destek.db.exec("UPDATE campaigns_recipients SET bounce = ?2 WHERE id = ?1 AND (bounce IS NULL OR bounce = 'soft')",
                   r.id, kind)
    destek.emit("campaign.progress", { id = r.campaign_id }, "campaign:" .. r.campaign_id)
  end)

  destek.on_async("order.created", on_order)
  destek.on_async("order.updated", on_order)   -- cancelled or refunded later: taken out; a contact found later: counted
end

return tracking

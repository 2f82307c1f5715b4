-- campaigns/send.lua: a campaign from its draft to its last recipient. A campaign is sent by a timer
-- (campaigns.send): each run first gathers the recipients (orders.buyers pages for rules on orders, then the
-- contacts chunk by chunk), then hands at most the throttle's share of queued recipients to the core's commercial
-- send path (consent.send, commercial): the core queues the e-mail only with a current ONAY, and adds the one-click
-- refusal. The recipient's row and the core's queued message commit together: a restart or kill -9 between two runs
-- sends no one twice and skips no one; pausing stops the runs, resuming starts them where they stopped.
local destek = require "destek"
local util = require "util"
local seg = require "segments"
local personal = require "personal"

local send = {}

local CHUNK = 5000      -- contacts looked at per gathering run (20,000 took ~0.35 s of CPU at 100,000: over a call's budget)
local PER_RUN = 1000    -- most recipients handed to the core in one run (one consent.send_many call, unmetered)

function send.campaign_of(id)
  return destek.db.query("SELECT * FROM campaigns_campaigns WHERE id = ?1", id)[1]
end

-- {{name}}, {{first_name}}, {{email}} in a campaign's text, from the contact; {{coupon}} and {{link:<id>}} from extra
-- (personal.lua). One pass: what a value brings in is not filled again. html: the text is HTML, every value goes in
-- HTML-escaped (a contact's name cannot bring markup into the mail).
function send.render(text, contact, extra, html)
  local name = (contact.name ~= nil and contact.name ~= destek.json.null) and contact.name or ""
  local vars = { name = name, first_name = name:match("^(%S+)") or "",
                 email = (contact.email ~= nil and contact.email ~= destek.json.null) and contact.email or "" }
  return (text:gsub("{{%s*([%w_:]+)%s*}}", function(k)
    local v = vars[k] or (extra and extra[k])
    if v and html then v = destek.html.escape(v) end
    return v
  end))
end

-- A campaign's HTML body in a language, or nil (text only).
function send.html_of(c, en)
  local h = en and c.body_html_en or c.body_html_tr
  if type(h) ~= "string" or h == "" then return nil end
  return h
end

-- The subject, text and HTML (nil: none) of campaign c for contact (its language's version); a coupon shows as a
-- sample code. Without a text body the text is the HTML's rendering, as the core makes it.
function send.message(c, contact)
  local en = contact.lang == "en"
  local extra = { coupon = "KUPON-ORNEK" }
  local h = send.html_of(c, en)
  local html = h and send.render(h, contact, extra, true) or nil
  local body = send.render(en and c.body_en or c.body_tr, contact, extra)
  if body == "" and html then body = destek.html.text(html) end
  return send.render(en and c.subject_en or c.subject_tr, contact, extra), body, html
end

local function schedule(c, when)
  destek.db.exec("UPDATE campaigns_campaigns SET ticks = ticks + 1 WHERE id = ?1", c.id)
  destek.timer_at("campaigns.send", c.id .. ":" .. (c.ticks + 1), when, { id = c.id })
end
send.schedule = schedule

-- How many more may go today under campaigns.daily_cap (0: no cap), across campaigns.
local function daily_left()
  local cap = destek.setting("campaigns.daily_cap") or 0
  if cap <= 0 then return math.maxinteger end
  local n = destek.db.query("SELECT count(*) AS n FROM campaigns_recipients WHERE status = 'sent' AND at >= ?1",
                            util.today_tr())[1].n
  return cap - n
end

-- Gathering: buyers of the windows, then the contacts. true when there is more to gather.
local function gather(c)
  local rules = destek.json.decode(c.rules)
  for kind, win in pairs({ [1] = rules.bought, [2] = rules.not_bought }) do
    if c.buyers_done & kind == 0 then
      local started = os.clock()
      local after = c.buyers_after
      repeat
        after = seg.buyers_page(c.id, kind, win, after)
      until not after or os.clock() - started > 0.05
      if after then
        destek.db.exec("UPDATE campaigns_campaigns SET buyers_after = ?2 WHERE id = ?1", c.id, after)
      else
        destek.db.exec("UPDATE campaigns_campaigns SET buyers_after = 0, buyers_done = buyers_done | ?2 WHERE id = ?1",
                       c.id, kind)
      end
      return true
    end
  end
  local hi = seg.collect(c, rules, c.collect_after, CHUNK)
  if hi then
    destek.db.exec("UPDATE campaigns_campaigns SET collect_after = ?2 WHERE id = ?1", c.id, hi)
  else
    destek.db.exec("UPDATE campaigns_campaigns SET collected = 1 WHERE id = ?1", c.id)
    destek.db.exec("DELETE FROM campaigns_buyers WHERE campaign_id = ?1", c.id)
  end
  return true
end

local SKIP = { no_consent = "no_consent", no_address = "no_address", not_found = "erased" }

-- One run of the sending timer.
local function tick(_, payload)
  local c = send.campaign_of(math.tointeger(payload.id))
  if not c then return end
  local now = os.time()
  if c.status == "scheduled" and c.scheduled_at <= now then
    destek.db.exec("UPDATE campaigns_campaigns SET status = 'sending', started_at = ?2 WHERE id = ?1", c.id, now)
    c.status = "sending"
  end
  if c.status ~= "sending" then return end   -- paused, done, or moved to later (its own timer comes then)
  if c.collected == 0 then
    gather(c)
    -- Followers (the reports) see the recipients gathered so far and every batch sent, while it sends.
    destek.emit("campaign.progress", { id = c.id }, "campaign:" .. c.id)
    schedule(c, now)
    return
  end
  -- The throttle: per_second in each second, and the daily cap across campaigns.
  local used = (c.sec == now) and c.sec_count or 0
  local quota = math.min(c.per_second - used, PER_RUN, daily_left())
  if quota <= 0 then
    if daily_left() <= 0 then
      destek.log.info("campaign " .. c.id .. ": the daily cap (campaigns.daily_cap) is reached; it goes on tomorrow")
      schedule(c, util.today_tr() + 86400)
    else
      schedule(c, now + 1)
    end
    return
  end
  local rows = destek.db.query("SELECT r.id, r.contact_id, c.name, c.email, c.phone, c.lang FROM campaigns_recipients r" ..
    " JOIN core_contacts c ON c.id = r.contact_id WHERE r.campaign_id = ?1 AND r.status = 'queued' ORDER BY r.id LIMIT ?2",
    c.id, quota)
  -- Each recipient's message is made here (its coupon taken, personal.lua), then the run's messages go to the core in one
  -- call (consent.send_many: each queued or refused as consent.send does, in this run's transaction, so a recipient's
  -- row and its message still commit together).
  local handled = 0
  local ctx = personal.context(c)
  local started = os.clock()
  local msgs, index, withheld_of = {}, {}, {}
  for i, r in ipairs(rows) do
    -- a slow machine (or a sanitizer build) hands fewer a run rather than run past the call's time limit, which would
    -- roll the whole run back and retry it; os.clock is the process's CPU time, so this errs on the short side
    if handled > 0 and os.clock() - started > 0.15 then break end
    handled = handled + 1
    local subject, body, withheld, html = personal.message(c, r, ctx)
    if subject then
      msgs[#msgs + 1] = { contact_id = r.contact_id, subject = subject, body = body, html = html }
      index[#msgs] = i
    else
      withheld_of[i] = withheld
    end
  end
  local out = #msgs > 0 and destek.call("consent.send_many", { commercial = true, channel = c.channel,
                                                              messages = destek.json.array(msgs) }) or { results = {} }
  if not out then error("consent.send_many failed") end
  local res_of = {}
  for k, i in ipairs(index) do res_of[i] = out.results[k] or {} end
  for i = 1, handled do
    local r, res = rows[i], res_of[i]
    if res and res.id then
      destek.db.exec("UPDATE campaigns_recipients SET status = 'sent', message_id = ?2, at = ?3 WHERE id = ?1", r.id, res.id, now)
    elseif withheld_of[i] then
      destek.db.exec("UPDATE campaigns_recipients SET status = 'skipped', reason = ?2, at = ?3 WHERE id = ?1", r.id,
                     withheld_of[i], now)
    elseif res and SKIP[res.code] then
      personal.undo(c, r, ctx)
      destek.db.exec("UPDATE campaigns_recipients SET status = 'skipped', reason = ?2, at = ?3 WHERE id = ?1", r.id,
                     SKIP[res.code], now)
    else
      error(destek.error(409, res and res.code or "not_queued", "the core refused a campaign message: " ..
                         tostring(res and res.code)))
    end
  end
  destek.db.exec("UPDATE campaigns_campaigns SET sec = ?2, sec_count = ?3 WHERE id = ?1", c.id, now, used + handled)
  if handled > 0 then destek.emit("campaign.progress", { id = c.id }, "campaign:" .. c.id) end
  if handled == #rows and #rows < quota then
    destek.db.exec("UPDATE campaigns_campaigns SET status = 'done', finished_at = ?2 WHERE id = ?1", c.id, now)
    destek.emit("campaign.finished", { id = c.id }, "campaign:" .. c.id)
    return
  end
  schedule(c, (used + handled >= c.per_second) and now + 1 or now)
end

function send.register()
  destek.timer("campaigns.send", tick)
end

-- What became of a campaign: recipients by status and skip reason, the core's messages by status (delivered to the
-- SMTP server, failed, withheld when the ONAY was gone at sending time), and refusals through the message's link.
function send.results(c)
  -- Every query here reads an index or starts from few rows: at 50,000 recipients the older form (a count, a table walk
  -- for the reasons, a ledger probe per recipient for the unsubscribes) ran past a call's CPU budget under load.
  local r = { recipients = 0, queued = 0, sent = 0, skipped = 0 }
  local skipped = {}
  for _, row in ipairs(destek.db.query("SELECT status, reason, count(*) AS n FROM campaigns_recipients WHERE campaign_id = ?1" ..
                                       " GROUP BY status, reason", c.id)) do
    r.recipients = r.recipients + row.n
    r[row.status] = (r[row.status] or 0) + row.n
    if row.status == "skipped" and type(row.reason) == "string" then skipped[row.reason] = (skipped[row.reason] or 0) + row.n end
  end
  local m = { pending = 0, delivered = 0, failed = 0, withheld = 0 }
  local names = { pending = "pending", sent = "delivered", failed = "failed", withheld = "withheld" }
  -- SMS delivery reports (the gateway's word on the handset; core/sms_report.c): delivered, undelivered, pending, unknown
  local reports = { delivered = 0, undelivered = 0, pending = 0, unknown = 0 }
  for _, row in ipairs(destek.db.query("SELECT m.status, m.delivery, count(*) AS n FROM campaigns_recipients r JOIN core_messages m" ..
                                       " ON m.id = r.message_id WHERE r.campaign_id = ?1 AND r.status = 'sent'" ..
                                       " GROUP BY m.status, m.delivery", c.id)) do
    local k = names[row.status] or row.status
    m[k] = (m[k] or 0) + row.n
    if type(row.delivery) == "string" then reports[row.delivery] = (reports[row.delivery] or 0) + row.n end
  end
  -- From the one-click unsubscribes (few; the core's partial index) to this campaign's recipients.
  local unsub = destek.db.query("SELECT count(DISTINCT k.contact_id) AS n FROM core_consent k CROSS JOIN campaigns_recipients r" ..
    " WHERE k.source = 'unsubscribe_link' AND k.channel = 'email' AND k.status = 'RET' AND r.campaign_id = ?1 AND" ..
    " r.contact_id = k.contact_id AND r.status = 'sent' AND k.recorded_at >= strftime('%Y-%m-%dT%H:%M:%SZ', r.at, 'unixepoch')",
    c.id)[1].n
  -- Bounces the core learnt of (consent.bounced, followed in tracking.lua) and opens of the HTML mail's image.
  local b = destek.db.query("SELECT count(*) AS n, coalesce(sum(bounce = 'hard'), 0) AS hard FROM campaigns_recipients" ..
                            " WHERE campaign_id = ?1 AND bounce IS NOT NULL", c.id)[1]
  local o = destek.db.query("SELECT count(*) AS n, coalesce(sum(count), 0) AS opens FROM campaigns_opens WHERE campaign_id = ?1",
                            c.id)[1]
  return { recipients = r.recipients, queued = r.queued, sent = r.sent, skipped = r.skipped, skipped_by_reason = skipped,
           messages = m, unsubscribed = unsub, sms_reports = reports, bounced = b.n, bounced_hard = b.hard,
           opened = o.n, opens = o.opens }
end

return send

-- campaigns/segments.lua: who a campaign is for. A segment is a set of rules over the core's contacts:
--
--   { tags = {"vip", ...},                           any of these tags (campaigns_tags)
--     lang = "tr" | "en",                            the contact's language
--     bought = {from = "2026-11-01", to = "..."},    bought in the window (the orders module's orders.buyers)
--     not_bought = {from = ..., to = ...},           did not buy in the window
--     birthday_month = 5 }                           born in May (the birthdays the module keeps, specialdays.lua)
--
-- Only live contacts (not erased, not merged away) are in a segment. Whether a contact may get the campaign is the
-- consent ledger's: the count says how many have an address and a current ONAY for the channel; the others are
-- recorded as skipped with the reason, and the core refuses a commercial message without ONAY whoever asks.
local destek = require "destek"
local util = require "util"

local seg = {}

seg.CHANNELS = { "email", "sms" }

-- The current state of (contact c, channel) in the core's ledger, as consent.c derives it: the latest record wins, a
-- RET winning a tie; records of contacts merged into c count as c's. channel is "email" or "sms" (never user text).
function seg.consent_sql(channel)
  return "coalesce((SELECT k.status FROM core_consent k WHERE k.channel = '" .. channel .. "' AND (k.contact_id = c.id" ..
    " OR k.contact_id IN (SELECT m.id FROM core_contacts m WHERE m.merged_into = c.id)) ORDER BY k.at DESC," ..
    " k.status = 'RET' DESC, k.id DESC LIMIT 1), '') = 'ONAY'"
end
-- The contact has an address for the channel: an e-mail address, or a phone number for SMS.
function seg.address_sql(channel)
  return channel == "sms" and "coalesce(c.phone, '') <> ''" or "coalesce(c.email, '') <> ''"
end
seg.CONSENT_SQL = seg.consent_sql("email")
seg.ADDRESS_SQL = seg.address_sql("email")

local function window(v, field)
  if v == nil or v == destek.json.null then return nil end
  if type(v) ~= "table" then util.fail(field, field .. " is {from, to}") end
  local from, to = util.time_arg(v.from, field .. ".from"), util.time_arg(v.to, field .. ".to")
  if from >= to then util.fail(field, field .. ".to must be after " .. field .. ".from") end
  return { from = util.iso(from), to = util.iso(to) }
end

-- Checked rules (a new table), or raises a 422 error value naming the field.
function seg.check(r)
  if r == nil or r == destek.json.null then r = {} end
  if type(r) ~= "table" then util.fail("rules", "rules is an object") end
  local out = {}
  if r.tags ~= nil and r.tags ~= destek.json.null then
    if type(r.tags) ~= "table" or #r.tags > 50 then util.fail("rules.tags", "rules.tags is a list of at most 50 tags") end
    local tags = {}
    for _, t in ipairs(r.tags) do tags[#tags + 1] = util.tag(t, "rules.tags") end
    if #tags > 0 then out.tags = tags end
  end
  if r.lang ~= nil and r.lang ~= destek.json.null then
    if r.lang ~= "tr" and r.lang ~= "en" then util.fail("rules.lang", "rules.lang is tr or en") end
    out.lang = r.lang
  end
  if r.birthday_month ~= nil and r.birthday_month ~= destek.json.null then
    local m = util.int(r.birthday_month)
    if not m or m < 1 or m > 12 then util.fail("rules.birthday_month", "rules.birthday_month is a month, 1 to 12") end
    out.birthday_month = m
  end
  out.bought = window(r.bought, "rules.bought")
  out.not_bought = window(r.not_bought, "rules.not_bought")
  for k in pairs(r) do
    if k ~= "tags" and k ~= "lang" and k ~= "bought" and k ~= "not_bought" and k ~= "birthday_month" then
      util.fail("rules." .. tostring(k), "rules." .. tostring(k) .. " is not a rule (tags, lang, bought, not_bought," ..
                " birthday_month)")
    end
  end
  return out
end

-- The WHERE clause over core_contacts c for rules, and its arguments (buyers of scope in campaigns_buyers).
function seg.where(rules, scope)
  local w, a = { "c.erased_at IS NULL", "c.merged_into IS NULL" }, {}
  local function p(v) a[#a + 1] = v; return "?" .. #a end
  if rules.lang then w[#w + 1] = "c.lang = " .. p(rules.lang) end
  if rules.tags then
    w[#w + 1] = "EXISTS (SELECT 1 FROM campaigns_tags t WHERE t.contact_id = c.id AND t.tag IN (SELECT value FROM" ..
      " json_each(" .. p(destek.json.encode(rules.tags)) .. ")))"
  end
  if rules.birthday_month then   -- born in that month (campaigns_birthdays, specialdays.lua)
    w[#w + 1] = "EXISTS (SELECT 1 FROM campaigns_birthdays bm WHERE bm.contact_id = c.id AND bm.md >= " ..
      p(string.format("%02d-00", rules.birthday_month)) .. " AND bm.md <= " .. p(string.format("%02d-99", rules.birthday_month)) .. ")"
  end
  if rules.birthday_md then   -- a special day's run (specialdays.lua): contacts whose birthday is one of these "MM-DD"
    w[#w + 1] = "EXISTS (SELECT 1 FROM campaigns_birthdays bd WHERE bd.contact_id = c.id AND bd.md IN (SELECT value FROM" ..
      " json_each(" .. p(destek.json.encode(rules.birthday_md)) .. ")))"
  end
  if rules.bought then
    w[#w + 1] = "EXISTS (SELECT 1 FROM campaigns_buyers b WHERE b.campaign_id = " .. p(scope) ..
      " AND b.kind = 1 AND b.contact_id = c.id)"
  end
  if rules.not_bought then
    w[#w + 1] = "NOT EXISTS (SELECT 1 FROM campaigns_buyers b WHERE b.campaign_id = " .. p(scope) ..
      " AND b.kind = 2 AND b.contact_id = c.id)"
  end
  return table.concat(w, " AND "), a
end

-- Gathers a page of buyers of a window into campaigns_buyers(scope, kind) through orders.buyers. Returns the next
-- page's `after` (nil when done). Raises a 409 when the orders module is not installed.
function seg.buyers_page(scope, kind, win, after)
  local page, err = destek.call("orders.buyers", { from = win.from, to = win.to, after = after, limit = 500 })
  if not page then
    if err.status == 501 then
      error(destek.error(409, "orders_unavailable", "a rule on orders needs the orders module, which is not installed"))
    end
    error(err)
  end
  for _, b in ipairs(page.items) do
    destek.db.exec("INSERT OR IGNORE INTO campaigns_buyers(campaign_id, kind, contact_id) VALUES (?1, ?2, ?3)",
                   scope, kind, b.contact_id)
  end
  local nxt = page.next_after
  if nxt == destek.json.null then return nil end
  return nxt
end

-- How many contacts the rules match, how many of them have an address, and how many may get a commercial message now
-- (address and a current ONAY), for channel (the top-level figures; default e-mail) and per channel (by_channel).
-- Buyers are gathered into scratch rows (scope 0) that this call deletes again.
function seg.count(rules, channel)
  local MAX_PAGES = 200   -- 100,000 buyers
  for kind, win in pairs({ [1] = rules.bought, [2] = rules.not_bought }) do
    local after, pages = 0, 0
    repeat
      after = seg.buyers_page(0, kind, win, after)
      pages = pages + 1
      if pages > MAX_PAGES then
        error(destek.error(422, "too_many_buyers", "more than 100000 buyers in the window: count it by making the campaign"))
      end
    until not after
  end
  local where, args = seg.where(rules, 0)
  local cols = {}
  for _, ch in ipairs(seg.CHANNELS) do
    cols[#cols + 1] = "coalesce(sum(" .. seg.address_sql(ch) .. "), 0) AS " .. ch .. "_address, coalesce(sum(" ..
      seg.address_sql(ch) .. " AND " .. seg.consent_sql(ch) .. "), 0) AS " .. ch .. "_sendable"
  end
  local row = destek.db.query("SELECT count(*) AS matched, " .. table.concat(cols, ", ") .. " FROM core_contacts c WHERE " ..
    where, table.unpack(args))[1]
  if rules.bought or rules.not_bought then destek.db.exec("DELETE FROM campaigns_buyers WHERE campaign_id = 0") end
  local by = {}
  for _, ch in ipairs(seg.CHANNELS) do
    local a, s = row[ch .. "_address"], row[ch .. "_sendable"]
    by[ch] = { with_address = a, sendable = s, no_consent = a - s, no_address = row.matched - a }
  end
  local c = by[channel or "email"]
  return { channel = channel or "email", matched = row.matched, with_address = c.with_address, sendable = c.sendable,
           no_consent = c.no_consent, no_address = c.no_address, by_channel = by }
end

-- Adds the next chunk of the segment's contacts (by contact id, `chunk` of core_contacts at a time) to the campaign's
-- recipients: queued when they have an address and a current ONAY, else skipped with the reason. Returns the last
-- contact id looked at, or nil when every contact was.
function seg.collect(campaign, rules, after, chunk)
  local hi = destek.db.query("SELECT max(id) AS hi FROM (SELECT id FROM core_contacts WHERE id > ?1 ORDER BY id LIMIT ?2)",
                             after, chunk)[1].hi
  if not hi or hi == destek.json.null then return nil end
  local where, args = seg.where(rules, campaign.id)
  local n = #args
  args[n + 1], args[n + 2], args[n + 3], args[n + 4] = campaign.id, os.time(), after, hi
  local ch = campaign.channel == "sms" and "sms" or "email"
  local address, consent = seg.address_sql(ch), seg.consent_sql(ch)
  destek.db.exec("INSERT OR IGNORE INTO campaigns_recipients(campaign_id, contact_id, status, reason, at)" ..
    " SELECT ?" .. (n + 1) .. ", c.id, CASE WHEN NOT (" .. address .. ") OR NOT (" .. consent ..
    ") THEN 'skipped' ELSE 'queued' END, CASE WHEN NOT (" .. address .. ") THEN 'no_address' WHEN NOT (" ..
    consent .. ") THEN 'no_consent' END, ?" .. (n + 2) .. " FROM core_contacts c WHERE c.id > ?" .. (n + 3) ..
    " AND c.id <= ?" .. (n + 4) .. " AND " .. where, table.unpack(args))
  return hi
end

return seg

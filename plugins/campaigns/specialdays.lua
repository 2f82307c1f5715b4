-- campaigns/specialdays.lua: special days. An occasion is each contact's birthday, or a date the shop chooses (every
-- year "05-10" for a shop's anniversary, or once "2026-05-10" for Anneler Günü, which moves); on the day (Turkey
-- time), from its hour, a run sends its template to the segment's contacts with consent (and, for a birthday, only
-- those born that day; 29 February birthdays on 28 February in other years).
--
-- A run is a campaign of the occasion for that day (campaigns_campaigns.occasion_id, occasion_day; one per day, a
-- UNIQUE index), sent by send.lua like any campaign: throttled, paused and resumed, results per recipient, restart-
-- and kill -9-safe. A contact gets an occasion once a year: campaigns_occasion_sent (occasion, year, contact) is
-- written in the transaction that queues the message. Runs are started by a persistent one-shot timer per occasion
-- (campaigns.occasion, key "<id>:<day>"), each run scheduling the next; a timer that comes due while the server is
-- down fires after the restart, and the day it was for is still sent if that was today or yesterday (Turkey time);
-- older days are logged and left.
local destek = require "destek"
local util = require "util"
local coupons = require "coupons"

local sd = {}

local TR = 3 * 3600

local function day_of(t) return os.date("!%Y-%m-%d", t + TR) end
local function start_of(day, hour) return util.parse_time(day) - TR + hour * 3600 end
local function leap(y) return (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0 end
local function next_day(day) return day_of(util.parse_time(day) + 86400 + 3600) end

-- The "MM-DD" birthdays a day greets: its own, and 29 February on 28 February of a year without it.
local function birthday_mds(day)
  local md = day:sub(6)
  if md == "02-28" and not leap(tonumber(day:sub(1, 4))) then return { "02-28", "02-29" } end
  return { md }
end

local function matches(o, day)
  if o.kind == "birthday" then return true end
  if #o.date == 10 then return o.date == day end
  if o.date == day:sub(6) then return true end
  return o.date == "02-29" and day:sub(6) == "02-28" and not leap(tonumber(day:sub(1, 4)))
end

-- The first day from `day` (inclusive) the occasion is on, or nil (a one-off date that is past).
local function next_match(o, day)
  if o.kind == "date" and #o.date == 10 then return o.date >= day and o.date or nil end
  local d = day
  for _ = 1, 370 do
    if matches(o, d) then return d end
    d = next_day(d)
  end
  return nil
end

function sd.occasion_of(id)
  return destek.db.query("SELECT * FROM campaigns_occasions WHERE id = ?1", id)[1]
end

-- Schedules the occasion's next run (from today, today's too unless it has one), replacing the one scheduled before.
local function plan(o, from_day)
  if o.next_day and o.next_day ~= destek.json.null then destek.timer_cancel("campaigns.occasion", o.id .. ":" .. o.next_day) end
  local day = from_day or day_of(os.time())
  while true do
    day = o.enabled == 1 and next_match(o, day) or nil
    if not day then break end
    local done = destek.db.query("SELECT 1 AS x FROM campaigns_campaigns WHERE occasion_id = ?1 AND occasion_day = ?2",
                                 o.id, day)[1]
    if not done then break end
    day = next_day(day)
  end
  destek.db.exec("UPDATE campaigns_occasions SET next_day = ?2 WHERE id = ?1", o.id, day)
  if day then
    destek.timer_at("campaigns.occasion", o.id .. ":" .. day, math.max(start_of(day, o.hour), os.time()), { id = o.id, day = day })
  end
  return day
end

-- A run of occasion o for day: a campaign that send.lua sends. Returns its id, or nil when there is no one to greet.
local function start_run(o, day)
  local send = require "send"
  local rules = destek.json.decode(o.rules)
  if o.kind == "birthday" then
    rules.birthday_md = birthday_mds(day)
    local any = destek.db.query("SELECT 1 AS x FROM campaigns_birthdays WHERE md IN (SELECT value FROM json_each(?1)) LIMIT 1",
                                destek.json.encode(rules.birthday_md))[1]
    if not any then return nil end
  end
  local now = os.time()
  local r = destek.db.exec("INSERT INTO campaigns_campaigns(name, channel, rules, subject_tr, body_tr, subject_en, body_en," ..
    " per_second, status, scheduled_at, started_at, created_by, created_at, pool_id, occasion_id, occasion_day)" ..
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'sending', ?9, ?9, ?10, ?9, ?11, ?12, ?13)",
    o.name .. " " .. day, o.channel, destek.json.encode(rules), o.subject_tr, o.body_tr, o.subject_en, o.body_en,
    o.per_second, now, o.created_by, o.pool_id, o.id, day)
  local c = send.campaign_of(r.last_id)
  send.schedule(c, now)
  destek.emit("campaign.started", { id = c.id, occasion_id = o.id, day = day }, "campaign:" .. c.id)
  return c.id
end

local function on_timer(_, payload)
  local o = sd.occasion_of(math.tointeger(payload.id))
  if not o or o.enabled ~= 1 or o.next_day ~= payload.day then return end   -- gone, off, or replaced by a later plan
  local day, today = payload.day, day_of(os.time())
  if day < day_of(os.time() - 86400) then
    destek.log.warn("special day " .. o.id .. " (" .. o.name .. ") for " .. day .. " was missed (the server was down); not sent late")
  elseif matches(o, day) then
    start_run(o, day)
  end
  o.next_day = nil    -- this timer is the one that fired
  plan(o, day < today and today or next_day(day))
end

-- Fields of an occasion from a request body (all for a new one; those given for a change).
local function fields(b, partial, campaign_fields, channel)
  local f = campaign_fields(b, partial, channel)
  if not partial or b.kind ~= nil then
    if b.kind ~= "birthday" and b.kind ~= "date" then util.fail("kind", "kind is birthday or date") end
    f.kind = b.kind
  end
  if not partial or b.date ~= nil or b.kind ~= nil then
    if (f.kind or b.kind) == "date" then
      local d = b.date
      local ok = type(d) == "string" and ((#d == 10 and util.parse_time(d)) or
                 (#d == 5 and d:match("^%d%d%-%d%d$") and util.parse_time("2024-" .. d)))
      if not ok then util.fail("date", "date is a day every year (\"05-10\") or one day (\"2026-05-10\")") end
      f.date = d
    else
      f.date = destek.json.null
    end
  end
  if not partial or b.hour ~= nil then
    local h = b.hour == nil and 10 or util.int(b.hour)
    if not h or h < 0 or h > 23 then util.fail("hour", "hour is 0 to 23 (Turkey time)") end
    f.hour = h
  end
  if not partial or b.enabled ~= nil then
    if b.enabled ~= nil and type(b.enabled) ~= "boolean" then util.fail("enabled", "enabled is true or false") end
    f.enabled = b.enabled == false and 0 or 1
  end
  return f
end

local function out(o)
  local runs = destek.db.query("SELECT id, occasion_day, status FROM campaigns_campaigns WHERE occasion_id = ?1" ..
                               " ORDER BY id DESC LIMIT 10", o.id)
  for i, r in ipairs(runs) do runs[i] = { campaign_id = r.id, day = r.occasion_day, status = r.status } end
  local pool = o.pool_id and coupons.pool_of(o.pool_id)
  return { id = o.id, name = o.name, kind = o.kind, date = o.date or destek.json.null, hour = o.hour, channel = o.channel,
           rules = destek.json.decode(o.rules), subject_tr = o.subject_tr, body_tr = o.body_tr, subject_en = o.subject_en,
           body_en = o.body_en, per_second = o.per_second, pool_id = o.pool_id or destek.json.null,
           coupons = pool and coupons.out(pool) or destek.json.null, enabled = o.enabled == 1,
           next_day = o.next_day or destek.json.null, runs = destek.json.array(runs), created_at = util.iso(o.created_at) }
end

local function body_of(req)
  if type(req.json) ~= "table" then error(destek.error(400, "bad_json", "send a JSON object")) end
  return req.json
end

-- "1990-05-14", "05-14" -> "05-14", or nil.
local function md_of(v)
  if type(v) ~= "string" then return nil end
  local md = v:match("^%d%d%d%d%-(%d%d%-%d%d)$") or v:match("^(%d%d%-%d%d)$")
  if not md or not util.parse_time("2024-" .. md) then return nil end
  if #v == 10 and not util.parse_time(v) then return nil end
  return md
end

-- campaign_fields: init.lua's checks of a campaign's fields (name, rules, texts, per_second, channel).
function sd.register(campaign_fields)
  destek.timer("campaigns.occasion", on_timer)

  destek.route("GET", "/api/v1/campaign-occasions", "agent", function(req)
    local limit, after = destek.cursor(req)
    local rows = destek.db.query("SELECT * FROM campaigns_occasions WHERE (?1 = 0 OR id < ?1) ORDER BY id DESC LIMIT ?2",
                                 after, limit + 1)
    local next_after
    if #rows > limit then rows[#rows] = nil; next_after = rows[#rows].id end
    for i, o in ipairs(rows) do rows[i] = out(o) end
    return 200, destek.list(rows, next_after)
  end)

  destek.route("POST", "/api/v1/campaign-occasions", "admin", function(req)
    local b = body_of(req)
    local f = fields(b, false, campaign_fields)
    f.pool_id = coupons.check_pool(b, { tr = f.subject_tr .. f.body_tr, en = f.subject_en .. f.body_en })
    local r = destek.db.exec("INSERT INTO campaigns_occasions(name, kind, date, hour, channel, rules, subject_tr, body_tr," ..
      " subject_en, body_en, per_second, pool_id, enabled, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8," ..
      " ?9, ?10, ?11, ?12, ?13, ?14, ?15)", f.name, f.kind, f.date ~= destek.json.null and f.date or nil, f.hour, f.channel,
      f.rules, f.subject_tr, f.body_tr, f.subject_en, f.body_en, f.per_second, f.pool_id, f.enabled, req.user.id, os.time())
    local o = sd.occasion_of(r.last_id)
    plan(o)
    destek.audit("campaigns.occasion_created", "occasion:" .. o.id)
    return 201, out(sd.occasion_of(o.id))
  end, { max_body = 256 * 1024 })

  destek.route("GET", "/api/v1/campaign-occasions/{id}", "agent", function(req)
    local o = sd.occasion_of(math.tointeger(req.params.id))
    if not o then return destek.error(404, "not_found", "no such special day") end
    return 200, out(o)
  end, { params = "id:int" })

  -- A change applies from the next run; a run already started goes on as it was made.
  destek.route("PATCH", "/api/v1/campaign-occasions/{id}", "admin", function(req)
    local o = sd.occasion_of(math.tointeger(req.params.id))
    if not o then return destek.error(404, "not_found", "no such special day") end
    local b = body_of(req)
    if b.kind ~= nil and b.date == nil and b.kind == "date" then b.date = o.date end
    local f = fields(b, true, campaign_fields, o.channel)
    if f.kind == nil and b.date ~= nil and o.kind ~= "date" then util.fail("date", "a birthday has no date") end
    local texts = { tr = (f.subject_tr or o.subject_tr) .. (f.body_tr or o.body_tr),
                    en = (f.subject_en or o.subject_en) .. (f.body_en or o.body_en) }
    if b.pool_id ~= nil then f.pool_id = coupons.check_pool(b, texts) or destek.json.null
    else coupons.check_pool({ pool_id = o.pool_id }, texts) end
    for _, k in ipairs({ "name", "kind", "date", "hour", "rules", "subject_tr", "body_tr", "subject_en", "body_en",
                         "per_second", "pool_id", "enabled" }) do
      if f[k] ~= nil then
        local v = f[k]
        if v == destek.json.null then v = nil end
        destek.db.exec("UPDATE campaigns_occasions SET " .. k .. " = ?2 WHERE id = ?1", o.id, v)
      end
    end
    local fresh = sd.occasion_of(o.id)
    fresh.next_day = o.next_day
    plan(fresh)
    destek.audit("campaigns.occasion_changed", "occasion:" .. o.id)
    return 200, out(sd.occasion_of(o.id))
  end, { params = "id:int", max_body = 256 * 1024 })

  -- Birthdays from the shop's customer list: {csv} with the columns contact (an e-mail address or a phone number) and
  -- birthday ("1990-05-14", "14.05.1990" as Turkish spreadsheets write it, or "05-14"); a header row is skipped;
  -- commas or semicolons. All or nothing: an unknown contact or a bad date refuses the file with every such line.
  destek.route("POST", "/api/v1/campaign-birthdays", "admin", function(req)
    local b = body_of(req)
    if type(b.csv) ~= "string" or b.csv == "" then util.fail("csv", "csv is the file's text: contact,birthday a line") end
    local rows, problems, line = {}, {}, 0
    for raw in (b.csv:gsub("^\239\187\191", "") .. "\n"):gmatch("([^\n]*)\n") do
      line = line + 1
      local who, day = raw:gsub("\r$", ""):match("^%s*\"?([^,;\"]*)\"?%s*[,;]%s*\"?([^,;\"]*)\"?")
      who = who and who:gsub("^%s+", ""):gsub("%s+$", "")
      if who and who ~= "" and not (line == 1 and who:lower() == "contact") then
        local d, m, y = (day or ""):match("^(%d%d)%.(%d%d)%.(%d%d%d%d)$")
        local md = d and md_of(y .. "-" .. m .. "-" .. d) or md_of(day)
        local c = destek.call("contacts.find", { kind = who:find("@") and "email" or "phone", value = who })
        if not md then problems[#problems + 1] = { line = line, column = "birthday", message = "not a date" }
        elseif not c then problems[#problems + 1] = { line = line, column = "contact", message = "no such contact" }
        else rows[#rows + 1] = { c.merged_into ~= destek.json.null and c.merged_into or c.id, md } end
        if #rows + #problems > 5000 then util.fail("csv", "at most 5000 lines a file") end
      end
    end
    if #problems > 0 then
      return 422, { error = { code = "invalid_rows", message = #problems .. " line(s) of the file are refused; nothing was" ..
                    " imported", rows = problems } }
    end
    if #rows == 0 then util.fail("csv", "the file has no birthdays") end
    destek.db.exec("INSERT INTO campaigns_birthdays(contact_id, md) SELECT json_extract(value, '$[0]'), json_extract(value," ..
                   " '$[1]') FROM json_each(?1) WHERE 1 ON CONFLICT(contact_id) DO UPDATE SET md = excluded.md",
                   destek.json.encode(rows))
    destek.audit("campaigns.birthdays_imported", "birthdays", { rows = #rows })
    return 201, { rows = #rows }
  end, { max_body = 1024 * 1024 })

  -- A contact's birthday ({birthday: "1990-05-14" or "05-14", or null to forget it).
  destek.route("GET", "/api/v1/campaign-birthdays/{contact_id}", "agent", function(req)
    local id = math.tointeger(req.params.contact_id)
    local r = destek.db.query("SELECT md FROM campaigns_birthdays WHERE contact_id = ?1", id)[1]
    return 200, { contact_id = id, birthday = r and r.md or destek.json.null }
  end, { params = "contact_id:int" })

  destek.route("PUT", "/api/v1/campaign-birthdays/{contact_id}", "agent", function(req)
    local id = math.tointeger(req.params.contact_id)
    local b = body_of(req)
    local c = destek.call("contacts.get", { id = id })
    if not c or (c.erased_at and c.erased_at ~= destek.json.null) then return destek.error(404, "not_found", "no such contact") end
    if b.birthday == destek.json.null then
      destek.db.exec("DELETE FROM campaigns_birthdays WHERE contact_id = ?1", id)
      return 200, { contact_id = id, birthday = destek.json.null }
    end
    local md = md_of(b.birthday)
    if not md then util.fail("birthday", "birthday is a date (\"1990-05-14\") or a month and day (\"05-14\")") end
    destek.db.exec("INSERT INTO campaigns_birthdays(contact_id, md) VALUES (?1, ?2) ON CONFLICT(contact_id) DO UPDATE" ..
                   " SET md = excluded.md", id, md)
    return 200, { contact_id = id, birthday = md }
  end, { params = "contact_id:int", max_body = 1024 })
end

-- KVKK: a merged contact's birthday follows the survivor (unless it has one), as do its coupon codes and special days
-- sent; export; erasure forgets the birthday.
function sd.contact_merged(m)
  destek.db.exec("UPDATE OR IGNORE campaigns_birthdays SET contact_id = ?1 WHERE contact_id = ?2", m.id, m.source_id)
  destek.db.exec("DELETE FROM campaigns_birthdays WHERE contact_id = ?1", m.source_id)
  -- what the merged-away contact was given counts as the survivor's: its codes, and its special days this year
  destek.db.exec("UPDATE campaigns_coupons SET contact_id = ?1 WHERE contact_id = ?2", m.id, m.source_id)
  destek.db.exec("UPDATE OR IGNORE campaigns_occasion_sent SET contact_id = ?1 WHERE contact_id = ?2", m.id, m.source_id)
  destek.db.exec("DELETE FROM campaigns_occasion_sent WHERE contact_id = ?1", m.source_id)
end
function sd.contact_export(p)
  local r = destek.db.query("SELECT md FROM campaigns_birthdays WHERE contact_id = ?1", p.id)[1]
  return r and r.md or destek.json.null
end
function sd.contact_erase(p)
  destek.db.exec("DELETE FROM campaigns_birthdays WHERE contact_id = ?1", p.id)
end

return sd

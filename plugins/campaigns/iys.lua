-- campaigns/iys.lua: the consent ledger kept in step with İYS (İleti Yönetim Sistemi), the national registry law 6563
-- requires: every ONAY and RET collected outside İYS (web form, checkout, call centre, import, unsubscribe link, reply)
-- is pushed to İYS, and changes made on İYS (a citizen's RET through e-Devlet, the İYS app or SMS to 3338) are pulled
-- into the ledger (source "iys", never pushed back). The law gives 3 business days to record a consent collected outside
-- İYS: the sync runs every minute (and on demand), and a record still not accepted after 3 business days is "overdue"
-- in the status.
--
-- The adapter is a policy, consent.registry:iys (a merchant's plugin may replace it): decide("consent.registry:iys",
-- "push", {records}) and ("pull", {after}). It speaks İYS's documented API (wave2-facts §4): POST /oauth2/token
-- (password grant), POST /sps/{iysCode}/brands/{brandCode}/consents {recipient, recipientType, type, source, status,
-- consentDate}, GET .../consents/changes. The shape of the changes answer is not documented publicly: taken as
-- {list: [{recipient, type, status, consentDate, source, transactionId}], after}. Requests go through the core's guard
-- (destek.http.request: private addresses refused unless the server runs with --allow-private-net).
local destek = require "destek"
local util = require "util"

local iys = {}

local TYPE = { email = "EPOSTA", sms = "MESAJ", call = "ARAMA" }
local CHANNEL = { EPOSTA = "email", MESAJ = "sms", ARAMA = "call" }
local SOURCE = { web_form = "HS_WEB", checkout = "HS_WEB", call_centre = "HS_CAGRI_MERKEZI", import = "HS_FIZIKSEL_ORTAM",
                 unsubscribe_link = "HS_EPOSTA", reply = "HS_EPOSTA" }

-- "2026-12-04T20:45:47Z" (UTC) -> "2026-12-04 23:45:47" (Turkey time, UTC+3 all year), as İYS wants it.
local function tr_time(at)
  local t = util.parse_time(at)
  return t and os.date("!%Y-%m-%d %H:%M:%S", t + 3 * 3600) or nil
end

-- "2026-12-04 23:45:47" (Turkey time) -> "2026-12-04T20:45:47Z".
local function utc_time(s)
  local d, h = tostring(s or ""):match("^(%d%d%d%d%-%d%d%-%d%d)[ T](%d%d:%d%d:%d%d)")
  local t = d and util.parse_time(d .. "T" .. h .. "Z")
  return t and util.iso(t - 3 * 3600) or nil
end

-- Business days: Monday to Friday (public holidays are not counted: a record is overdue a little early, never late).
local function business_days_since(t, now)
  local n, day = 0, t - t % 86400 + 86400
  while day <= now and n < 10 do
    local wday = tonumber(os.date("!%w", day + 3 * 3600))
    if wday ~= 0 and wday ~= 6 then n = n + 1 end
    day = day + 86400
  end
  return n
end

local function base()
  return (destek.setting("campaigns.iys_url") or ""):gsub("/+$", "")
end

local function path()
  return "/sps/" .. destek.setting("campaigns.iys_code") .. "/brands/" .. destek.setting("campaigns.iys_brand_code")
end

local function token()
  local r, err = destek.http.request { method = "POST", url = base() .. "/oauth2/token",
    body = { username = destek.setting("campaigns.iys_username"), password = destek.setting("campaigns.iys_password"),
             grant_type = "password" }, timeout = 10 }
  if not r then return nil, "İYS token: " .. tostring(err) end
  local ok, j = pcall(destek.json.decode, r.body)
  if r.status ~= 200 or not ok or type(j) ~= "table" or type(j.access_token) ~= "string" then
    return nil, "İYS token: HTTP " .. r.status
  end
  return j.access_token
end

-- The default adapter.
local function adapter(action, data)
  local tok, terr = token()
  if action == "push" then
    local results = {}
    for i, rec in ipairs(data.records) do
      if not tok then
        results[i] = { consent_id = rec.id, ok = false, error = terr }
      else
        local body = { recipient = rec.address, recipientType = "BIREYSEL", type = TYPE[rec.channel],
                       source = SOURCE[rec.source] or "HS_WEB", status = rec.status, consentDate = tr_time(rec.at) }
        local r, err = destek.http.request { method = "POST", url = base() .. path() .. "/consents", body = body,
          headers = { Authorization = "Bearer " .. tok }, timeout = 10 }
        local ok, j = pcall(destek.json.decode, r and r.body or "")
        if r and r.status >= 200 and r.status < 300 then
          results[i] = { consent_id = rec.id, ok = true, transaction_id = ok and type(j) == "table" and j.transactionId or nil }
        else
          local msg = r and ("HTTP " .. r.status .. (ok and type(j) == "table" and j.message and (": " .. tostring(j.message)) or ""))
            or tostring(err)
          results[i] = { consent_id = rec.id, ok = false, error = msg, final = r and r.status >= 400 and r.status < 500 and r.status ~= 401 and r.status ~= 429 }
        end
      end
    end
    return { results = results }
  elseif action == "pull" then
    if not tok then return { error = terr } end
    local url = base() .. path() .. "/consents/changes?limit=100"
    if data.after and data.after ~= "" then url = url .. "&source=" .. data.after end
    local r, err = destek.http.request { method = "GET", url = url, headers = { Authorization = "Bearer " .. tok }, timeout = 10 }
    if not r or r.status ~= 200 then return { error = "İYS changes: " .. (r and ("HTTP " .. r.status) or tostring(err)) } end
    local ok, j = pcall(destek.json.decode, r.body)
    if not ok or type(j) ~= "table" then return { error = "İYS changes: not JSON" } end
    return { changes = j.list or {}, after = j.after }
  end
  error("consent.registry:iys: unknown action " .. tostring(action))
end

local function enabled()
  return destek.setting("campaigns.iys_enabled") == true and base() ~= "" and (destek.setting("campaigns.iys_code") or "") ~= ""
    and (destek.setting("campaigns.iys_brand_code") or "") ~= ""
end

-- One sync: push what is not yet accepted (100 a run), then pull İYS's changes. Network first, writes last (a call
-- makes no request after it wrote). Returns {pushed, failed, pulled, recorded, error?}.
function iys.sync()
  if not enabled() then error(destek.error(409, "iys_not_configured", "set campaigns.iys_enabled, iys_url, iys_code and iys_brand_code")) end
  local records = destek.db.query("SELECT k.id, k.channel, k.status, k.source, k.at, k.address FROM core_consent k" ..
    " WHERE k.source <> 'iys' AND k.channel IN ('email', 'sms', 'call') AND k.erased_at IS NULL AND k.address IS NOT NULL" ..
    " AND NOT EXISTS (SELECT 1 FROM campaigns_iys_push p WHERE p.consent_id = k.id AND p.status IN ('done', 'refused'))" ..
    " ORDER BY k.id LIMIT 100")
  local state = destek.db.query("SELECT after FROM campaigns_iys_state WHERE id = 1")[1]
  local pushed = #records > 0 and destek.decide("consent.registry:iys", "push", { records = destek.json.array(records) }) or { results = {} }
  local pulled = destek.decide("consent.registry:iys", "pull", { after = state and state.after or "" })
  local now = os.time()
  local out = { pushed = 0, failed = 0, pulled = 0, recorded = 0 }
  for _, res in ipairs(pushed.results or {}) do
    local status = res.ok and "done" or (res.final and "refused" or "failed")
    destek.db.exec("INSERT INTO campaigns_iys_push(consent_id, status, transaction_id, error, attempts, at) VALUES (?1, ?2, ?3, ?4, 1, ?5)" ..
      " ON CONFLICT(consent_id) DO UPDATE SET status = excluded.status, transaction_id = excluded.transaction_id," ..
      " error = excluded.error, attempts = attempts + 1, at = excluded.at", res.consent_id, status, res.transaction_id, res.error, now)
    if res.ok then out.pushed = out.pushed + 1 else out.failed = out.failed + 1 end
  end
  if pulled.error then
    out.error = pulled.error
    destek.log.warn(pulled.error)
  else
    for _, ch in ipairs(pulled.changes or {}) do
      out.pulled = out.pulled + 1
      local channel = CHANNEL[ch.type]
      local at = utc_time(ch.consentDate)
      if channel and at and (ch.status == "ONAY" or ch.status == "RET") and type(ch.recipient) == "string" then
        local c = destek.call("contacts.find", { kind = channel == "email" and "email" or "phone", value = ch.recipient })
        if c then
          local r = destek.call("consent.record", { contact_id = c.id, channel = channel, status = ch.status, source = "iys",
            text_shown = "İYS: " .. tostring(ch.source or "") .. (ch.transactionId and (" (" .. tostring(ch.transactionId) .. ")") or ""),
            address = ch.recipient, at = at })
          if r then out.recorded = out.recorded + 1 end
        end
      end
    end
    destek.db.exec("INSERT INTO campaigns_iys_state(id, after, pulled_at) VALUES (1, ?1, ?2) ON CONFLICT(id) DO UPDATE SET" ..
      " after = excluded.after, pulled_at = excluded.pulled_at", pulled.after or (state and state.after) or "", now)
  end
  return out
end

-- {enabled, pushed, pending, failed, refused, overdue, pulled_at}: overdue are records collected 3 business days ago or
-- more that İYS has not accepted yet.
function iys.status()
  local now = os.time()
  local pend = destek.db.query("SELECT k.id, k.recorded_at FROM core_consent k WHERE k.source <> 'iys' AND" ..
    " k.channel IN ('email', 'sms', 'call') AND k.erased_at IS NULL AND k.address IS NOT NULL AND NOT EXISTS" ..
    " (SELECT 1 FROM campaigns_iys_push p WHERE p.consent_id = k.id AND p.status IN ('done', 'refused'))")
  local overdue = 0
  for _, r in ipairs(pend) do
    local t = util.parse_time(r.recorded_at)
    if t and business_days_since(t, now) >= 3 then overdue = overdue + 1 end
  end
  local c = destek.db.query("SELECT coalesce(sum(status = 'done'), 0) AS pushed, coalesce(sum(status = 'failed'), 0) AS failed," ..
    " coalesce(sum(status = 'refused'), 0) AS refused FROM campaigns_iys_push")[1]
  local st = destek.db.query("SELECT pulled_at FROM campaigns_iys_state WHERE id = 1")[1]
  return { enabled = enabled(), pushed = c.pushed, failed = c.failed, refused = c.refused, pending = #pend, overdue = overdue,
           pulled_at = st and util.iso(st.pulled_at) or destek.json.null }
end

function iys.register()
  destek.policy("consent.registry:iys", adapter)
  destek.every(60, function()
    if enabled() then
      local ok, err = pcall(iys.sync)
      if not ok then destek.log.warn("İYS sync: " .. tostring(type(err) == "table" and err.message or err)) end
    end
  end)
  destek.route("GET", "/api/v1/campaign-iys", "admin", function() return 200, iys.status() end)
  destek.route("POST", "/api/v1/campaign-iys/sync", "admin", function()
    local res = iys.sync()
    res.status = iys.status()
    return 200, res
  end)
end

return iys

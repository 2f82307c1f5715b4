-- campaigns/sms.lua: the SMS gateway adapter for the core's send path, the policy sms.gateway:netgsm. The core's sender
-- (consent.c) hands it the SMS that are due, commercial ones only with the contact's current ONAY for sms and with the
-- refusal line already in the text: decide("sms.gateway:netgsm", "send", {messages = [{id, to, text, commercial}]})
-- -> {results = [{id, ok, ref?, error?, final?}]}. A merchant's plugin may define another sms.gateway:<name> and set
-- sms.gateway to <name>.
--
-- Netgsm's REST v2 API (its public SDK @netgsm/sms, wave2-facts §4): POST <campaigns.netgsm_url>/sms/rest/v2/send with
-- HTTP Basic auth (API user and password) and {msgheader, encoding = "TR", iysfilter, messages = [{msg, no}]}; the
-- answer {code, description, jobid}, code "00" when the job was taken. iysfilter "11" makes Netgsm check İYS for an
-- individual (BIREYSEL) recipient of a commercial message, "12" a merchant (TACIR); "" is an informational message,
-- not checked. Commercial and service messages go in separate requests (iysfilter is per request), one request per
-- group: the core commits the outcomes after each call, so a crash re-sends at most one call's messages. The request
-- goes through the core's guard (destek.http.request: private addresses refused unless --allow-private-net).
local destek = require "destek"

local sms = {}

-- Netgsm's codes for a job it did not take: those that the same request will never pass (final) and the others (a
-- wrong password or header, a limit: tried again later with backoff, once the admin fixed it or the limit passed).
local REFUSED = {
  ["20"] = { "the message text is too long or invalid", true },
  ["30"] = { "wrong API user or password, or no API access from this IP", false },
  ["40"] = { "the sender name (msgheader) is not defined on the account", false },
  ["50"] = { "the account cannot send İYS-checked messages", false },
  ["51"] = { "no İYS brand code on the account", false },
  ["70"] = { "invalid parameters", true },
  ["80"] = { "the sending limit was exceeded", false },
  ["85"] = { "the same message to the same number too often", false },
}

local function base()
  return (destek.setting("campaigns.netgsm_url") or ""):gsub("/+$", "")
end

-- "+905321234567" -> "905321234567": the number as Netgsm takes it.
local function number(to)
  return (tostring(to):gsub("^%+", ""))
end

local function send_group(msgs, commercial)
  local results = {}
  local function all(ok, err, final, ref)
    for _, m in ipairs(msgs) do results[#results + 1] = { id = m.id, ok = ok, error = err, final = final, ref = ref } end
    return results
  end
  local user, header = destek.setting("campaigns.netgsm_user") or "", destek.setting("campaigns.netgsm_header") or ""
  if base() == "" or user == "" or header == "" then
    return all(false, "Netgsm is not set up (campaigns.netgsm_url, netgsm_user, netgsm_header)", false)
  end
  local list = {}
  for _, m in ipairs(msgs) do list[#list + 1] = { msg = m.text, no = number(m.to) } end
  local filter = ""
  if commercial then filter = destek.setting("campaigns.netgsm_recipient_type") == "TACIR" and "12" or "11" end
  local auth = destek.base64.encode(user .. ":" .. (destek.setting("campaigns.netgsm_password") or ""))
  local r, err = destek.http.request { method = "POST", url = base() .. "/sms/rest/v2/send", timeout = 15,
    headers = { Authorization = "Basic " .. auth, ["Content-Type"] = "application/json" },
    body = { msgheader = header, encoding = "TR", iysfilter = filter, messages = list } }
  if not r then return all(false, "Netgsm: " .. tostring(err), false) end
  local ok, j = pcall(destek.json.decode, r.body)
  if r.status ~= 200 or not ok or type(j) ~= "table" then
    return all(false, "Netgsm: HTTP " .. r.status, false)
  end
  local code = tostring(j.code or "")
  if code == "00" and j.jobid ~= nil then return all(true, nil, nil, tostring(j.jobid)) end
  local known = REFUSED[code]
  return all(false, "Netgsm " .. code .. ": " .. (known and known[1] or tostring(j.description or "refused")),
             known and known[2] or false)
end

-- Delivery reports (the core's job sms.reports, core/sms_report.c): POST <base>/sms/rest/v2/report with Basic auth and
-- {jobids = [...], pagenumber, pagesize}; the answer {code = "00", jobs = [{jobid, <number>, status, errorCode?,
-- deliveredDate?}]}, a row per number of a job. status 0 is waiting, 1 delivered, the others not delivered (the reasons
-- below). [U]: the name of the number's field in a row is not in our sources (telno, gsmno, phone or no is read); a job
-- of one number (a campaign's text is per contact) is matched by its jobid alone.
local UNDELIVERED = {
  ["2"] = "timed out at the operator", ["3"] = "wrong number", ["4"] = "not sent to the operator",
  ["11"] = "refused by the operator", ["12"] = "sending error", ["13"] = "duplicate message",
  ["15"] = "the number is on the blacklist", ["16"] = "refused by İYS (no consent on İYS)",
}

local function report(data)
  local user = destek.setting("campaigns.netgsm_user") or ""
  local results, jobids, seen = {}, {}, {}
  for _, m in ipairs(data.messages or {}) do
    if not seen[m.ref] then seen[m.ref] = true; jobids[#jobids + 1] = m.ref end
  end
  local rows = {}
  if base() ~= "" and user ~= "" and #jobids > 0 then
    local auth = destek.base64.encode(user .. ":" .. (destek.setting("campaigns.netgsm_password") or ""))
    local r, err = destek.http.request { method = "POST", url = base() .. "/sms/rest/v2/report", timeout = 15,
      headers = { Authorization = "Basic " .. auth, ["Content-Type"] = "application/json" },
      body = { jobids = destek.json.array(jobids), pagenumber = 0, pagesize = 1000 } }
    local ok, j = false, nil
    if r then ok, j = pcall(destek.json.decode, r.body) end
    if r and r.status == 200 and ok and type(j) == "table" and tostring(j.code) == "00" and type(j.jobs) == "table" then
      rows = j.jobs
    elseif tostring(type(j) == "table" and j.code or "") ~= "60" then   -- 60: no report yet
      destek.log.warn("Netgsm report: " .. tostring(err or (r and ("HTTP " .. r.status .. " " .. tostring(r.body):sub(1, 200)))))
    end
  end
  local by_job = {}
  for _, row in ipairs(rows) do
    local k = tostring(row.jobid or row.jobId or "")
    by_job[k] = by_job[k] or {}
    table.insert(by_job[k], row)
  end
  for _, m in ipairs(data.messages or {}) do
    local list, hit = by_job[tostring(m.ref)] or {}, nil
    for _, row in ipairs(list) do
      local no = tostring(row.telno or row.gsmno or row.phone or row.no or ""):gsub("^%+", "")
      if no == number(m.to) or (no == "" and #list == 1) then hit = row; break end
    end
    if not hit and #list == 1 then hit = list[1] end
    local st = hit and tostring(hit.status) or nil
    if st == "1" then results[#results + 1] = { id = m.id, status = "delivered" }
    elseif st and st ~= "0" then
      results[#results + 1] = { id = m.id, status = "undelivered",
                                error = "Netgsm " .. st .. ": " .. (UNDELIVERED[st] or "not delivered") }
    else results[#results + 1] = { id = m.id, status = "pending" } end
  end
  return { results = destek.json.array(results) }
end

-- The adapter.
local function netgsm(action, data)
  if action == "report" then return report(data) end
  if action ~= "send" then error("sms.gateway:netgsm: unknown action " .. tostring(action)) end
  local groups = { [true] = {}, [false] = {} }
  for _, m in ipairs(data.messages or {}) do
    local g = groups[m.commercial == true]
    g[#g + 1] = m
  end
  local results = {}
  for _, commercial in ipairs({ true, false }) do
    if #groups[commercial] > 0 then
      for _, r in ipairs(send_group(groups[commercial], commercial)) do results[#results + 1] = r end
    end
  end
  return { results = destek.json.array(results) }
end

-- The other adapters this module ships: İleti Merkezi and a generic HTTP one (their own files).
local others = { require "sms_iletimerkezi", require "sms_http" }

function sms.register()
  destek.policy("sms.gateway:netgsm", netgsm)
  for _, o in ipairs(others) do o.register() end
end

sms.SETTINGS = {
  { name = "campaigns.netgsm_url", type = "string", default = "https://api.netgsm.com.tr",
    description = "Netgsm API address (the SMS gateway adapter sms.gateway:netgsm)" },
  { name = "campaigns.netgsm_user", type = "string", default = "", description = "Netgsm API user (usercode)" },
  { name = "campaigns.netgsm_password", type = "string", default = "", secret = true, description = "Netgsm API password" },
  { name = "campaigns.netgsm_header", type = "string", default = "",
    description = "Netgsm sender name (msgheader) approved on the account" },
  { name = "campaigns.netgsm_recipient_type", type = "string", default = "BIREYSEL",
    description = "İYS recipient type of commercial SMS: BIREYSEL (iysfilter 11) or TACIR (12)" },
}
for _, o in ipairs(others) do
  for _, setting in ipairs(o.SETTINGS) do sms.SETTINGS[#sms.SETTINGS + 1] = setting end
end

return sms

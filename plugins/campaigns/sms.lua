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

-- The adapter.
local function netgsm(action, data)
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

function sms.register()
  destek.policy("sms.gateway:netgsm", netgsm)
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

return sms

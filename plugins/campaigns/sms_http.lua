-- campaigns/sms_http.lua: a generic HTTP SMS gateway adapter, sms.gateway:http (set sms.gateway to http), for a
-- provider Destek has no adapter for. One request a message to campaigns.sms_http_url with campaigns.sms_http_method
-- (POST or GET) and the body campaigns.sms_http_body, a template whose fields are filled per message:
--   {{to}} the number in E.164 ("+905321234567"), {{to_digits}} without "+" ("905321234567"), {{to_national}} the
--   national number ("5321234567"), {{text}} the text (its refusal line included), {{commercial}} true/false,
--   {{iys}} 1/0, {{id}} Destek's message id.
-- Values are escaped for the body's type: JSON string contents when campaigns.sms_http_content_type is JSON (put the
-- quotes in the template: "msg": "{{text}}"), form encoding otherwise; in the URL they are form encoded. The
-- Authorization header is campaigns.sms_http_authorization (secret; e.g. "Bearer …" or "Basic …"). A 2xx answer is
-- success unless campaigns.sms_http_success (a text the answer must contain) is set and missing; the provider's id for
-- the message is read from the JSON answer at campaigns.sms_http_ref_path (dots: "data.messageId") when set. A 4xx
-- answer is final (the same request will not pass), other failures are tried again with backoff. This adapter has no
-- delivery reports (report = false). Requests go through the core's guard.
local destek = require "destek"

local M = {}

local function json_escape(s)
  return (destek.json.encode(s):sub(2, -2))
end

local function form_escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function fill(template, m, esc)
  local digits = tostring(m.to):gsub("^%+", "")
  local national = (#digits == 12 and digits:sub(1, 2) == "90") and digits:sub(3) or digits
  local v = { to = m.to, to_digits = digits, to_national = national, text = m.text,
              commercial = m.commercial and "true" or "false", iys = m.commercial and "1" or "0", id = tostring(m.id) }
  return (template:gsub("{{%s*([%w_]+)%s*}}", function(k) return v[k] ~= nil and esc(v[k]) or "" end))
end

local function dig(j, path)
  for part in tostring(path):gmatch("[^%.]+") do
    if type(j) ~= "table" then return nil end
    j = j[tonumber(part) and tonumber(part) + 1 or part]
  end
  if type(j) == "string" or type(j) == "number" then return tostring(j) end
  return nil
end

local function send(data)
  local s = function(k) return destek.setting("campaigns.sms_http_" .. k) or "" end
  local url, method, ctype, body = s("url"), s("method"):upper(), s("content_type"), s("body")
  local results = {}
  for _, m in ipairs(data.messages or {}) do
    local res = { id = m.id, ok = false, report = false }
    if url == "" then
      res.error = "the generic SMS gateway is not set up (campaigns.sms_http_url)"
    else
      local json = ctype:lower():find("json", 1, true) ~= nil
      local headers = { Accept = "application/json" }
      if s("authorization") ~= "" then headers.Authorization = s("authorization") end
      local req = { method = method == "GET" and "GET" or "POST", url = fill(url, m, form_escape), timeout = 15,
                    headers = headers }
      if req.method == "POST" then
        headers["Content-Type"] = ctype ~= "" and ctype or "application/json"
        req.body = fill(body, m, json and json_escape or form_escape)
      end
      local r, err = destek.http.request(req)
      if not r then
        res.error = "HTTP gateway: " .. tostring(err)
      elseif r.status < 200 or r.status > 299 then
        res.error = "HTTP gateway: HTTP " .. r.status .. " " .. tostring(r.body):sub(1, 200)
        res.final = r.status >= 400 and r.status < 500 and r.status ~= 429 and r.status ~= 401 and r.status ~= 403
      elseif s("success") ~= "" and not tostring(r.body):find(s("success"), 1, true) then
        res.error = "HTTP gateway: the answer lacks \"" .. s("success") .. "\": " .. tostring(r.body):sub(1, 200)
        res.final = true
      else
        res.ok = true
        if s("ref_path") ~= "" then
          local okj, j = pcall(destek.json.decode, r.body)
          res.ref = okj and dig(j, s("ref_path")) or nil
        end
      end
    end
    results[#results + 1] = res
  end
  return { results = destek.json.array(results) }
end

function M.register()
  destek.policy("sms.gateway:http", function(action, data)
    if action == "send" then return send(data) end
    if action == "report" then   -- no reports: it says report = false when sending, so this is not asked
      local out = {}
      for _, m in ipairs(data.messages or {}) do out[#out + 1] = { id = m.id, status = "pending" } end
      return { results = destek.json.array(out) }
    end
    error("sms.gateway:http: unknown action " .. tostring(action))
  end)
end

M.SETTINGS = {
  { name = "campaigns.sms_http_url", type = "string", default = "",
    description = "Generic SMS gateway (sms.gateway:http): the URL; {{to}}, {{text}}, … are filled, form encoded" },
  { name = "campaigns.sms_http_method", type = "string", default = "POST", description = "POST or GET" },
  { name = "campaigns.sms_http_content_type", type = "string", default = "application/json",
    description = "Content type of the body (JSON: values are JSON-escaped; otherwise form encoded)" },
  { name = "campaigns.sms_http_body", type = "string", default = "",
    description = "Body template: {{to}}, {{to_digits}}, {{to_national}}, {{text}}, {{commercial}}, {{iys}}, {{id}}" },
  { name = "campaigns.sms_http_authorization", type = "string", default = "", secret = true,
    description = "The Authorization header sent (e.g. Bearer …)" },
  { name = "campaigns.sms_http_success", type = "string", default = "",
    description = "A text a successful answer contains (empty: any 2xx answer is success)" },
  { name = "campaigns.sms_http_ref_path", type = "string", default = "",
    description = "Where the provider's message id is in its JSON answer (dots: data.id)" },
}

return M

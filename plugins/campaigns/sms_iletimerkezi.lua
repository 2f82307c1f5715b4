-- campaigns/sms_iletimerkezi.lua: the SMS gateway adapter sms.gateway:iletimerkezi (set sms.gateway to iletimerkezi).
-- The core's sender hands it the due SMS as it does Netgsm's (sms.lua): decide(policy, "send", {messages = [{id, to,
-- text, commercial}]}) -> {results = [{id, ok, ref?, error?, final?}]}; and its delivery-report job asks
-- decide(policy, "report", {messages = [{id, ref, to, sent_at}]}) -> {results = [{id, status, error?}]}.
--
-- İleti Merkezi's JSON API (wave2-facts §4; its public clients): POST <campaigns.iletimerkezi_url>/v1/send-sms/json with
-- {request = {authentication = {key, hash}, order = {sender, sendDateTime = [], iys = "1"|"0", iysList = "BIREYSEL"|
-- "TACIR", message = {text, receipents = {number = [...]}}}}} (the misspelling "receipents" is the API's); the answer
-- {response = {status = {code, message}, order = {id}}}, code "200" when the order was taken. iys "1" makes İleti
-- Merkezi check İYS for a commercial message; "0" is an informational one. One order carries one text: messages with
-- the same text and kind go in one order (a campaign's text is per contact, so mostly one number an order).
-- Reports: POST …/v1/get-report/json {request = {authentication, order = {id, page, rowCount}}} -> {response = {status,
-- order = {id, status, message = [{number, status}]}}}; a number's status 110 is waiting, 111 delivered, 112 not
-- delivered. Requests go through the core's guard (private addresses refused unless --allow-private-net).
local destek = require "destek"

local M = {}

local function base()
  return (destek.setting("campaigns.iletimerkezi_url") or ""):gsub("/+$", "")
end

-- "+905321234567" -> "5321234567" (the national number, as İleti Merkezi's examples write it); other countries keep
-- their code, without the "+".
local function number(to)
  local s = tostring(to):gsub("^%+", "")
  if #s == 12 and s:sub(1, 2) == "90" then s = s:sub(3) end
  return s
end

local function auth()
  return { key = destek.setting("campaigns.iletimerkezi_key") or "", hash = destek.setting("campaigns.iletimerkezi_hash") or "" }
end

local function call(path, order)
  local r, err = destek.http.request { method = "POST", url = base() .. path, timeout = 15,
    headers = { ["Content-Type"] = "application/json", Accept = "application/json" },
    body = { request = { authentication = auth(), order = order } } }
  if not r then return nil, "İleti Merkezi: " .. tostring(err) end
  local ok, j = pcall(destek.json.decode, r.body)
  local resp = ok and type(j) == "table" and type(j.response) == "table" and j.response or nil
  local status = resp and type(resp.status) == "table" and resp.status or {}
  local code = tostring(status.code or r.status)
  if code ~= "200" then
    return nil, "İleti Merkezi " .. code .. ": " .. tostring(status.message or ("HTTP " .. r.status)), code
  end
  return resp
end

-- Codes for an order it did not take that the same order will never pass (final; others are tried again with backoff:
-- a wrong key, no balance, a sender name not approved yet). [U]: İleti Merkezi's full code list is not in our sources;
-- 400 (the request is invalid) is treated as final, the rest as passing.
local FINAL = { ["400"] = true }

local function send(data)
  local key, sender = auth().key, destek.setting("campaigns.iletimerkezi_sender") or ""
  local results = {}
  if base() == "" or key == "" or sender == "" then
    for _, m in ipairs(data.messages or {}) do
      results[#results + 1] = { id = m.id, ok = false, error = "İleti Merkezi is not set up (campaigns.iletimerkezi_url," ..
                                " iletimerkezi_key, iletimerkezi_hash, iletimerkezi_sender)" }
    end
    return { results = destek.json.array(results) }
  end
  -- orders: one per (kind, text)
  local orders, keys = {}, {}
  for _, m in ipairs(data.messages or {}) do
    local k = (m.commercial and "1" or "0") .. "\0" .. m.text
    if not orders[k] then orders[k] = { commercial = m.commercial == true, text = m.text, msgs = {} }; keys[#keys + 1] = k end
    table.insert(orders[k].msgs, m)
  end
  local list = destek.setting("campaigns.iletimerkezi_recipient_type") == "TACIR" and "TACIR" or "BIREYSEL"
  for _, k in ipairs(keys) do
    local o = orders[k]
    local numbers = {}
    for _, m in ipairs(o.msgs) do numbers[#numbers + 1] = number(m.to) end
    local resp, err, code = call("/v1/send-sms/json", { sender = sender, sendDateTime = destek.json.array({}),
      iys = o.commercial and "1" or "0", iysList = list,
      message = { text = o.text, receipents = { number = destek.json.array(numbers) } } })
    local id = resp and type(resp.order) == "table" and resp.order.id
    for _, m in ipairs(o.msgs) do
      if id ~= nil then results[#results + 1] = { id = m.id, ok = true, ref = tostring(id) }
      else results[#results + 1] = { id = m.id, ok = false, error = err or "İleti Merkezi: no order id", final = FINAL[code] or false } end
    end
  end
  return { results = destek.json.array(results) }
end

local function report(data)
  local by_order, results = {}, {}
  for _, m in ipairs(data.messages or {}) do
    by_order[m.ref] = by_order[m.ref] or {}
    table.insert(by_order[m.ref], m)
  end
  for ref, msgs in pairs(by_order) do
    local states, page = {}, 1
    while page <= 20 do   -- 1000 numbers a page
      local resp, err = call("/v1/get-report/json", { id = tonumber(ref) or ref, page = page, rowCount = 1000 })
      if not resp then destek.log.warn("İleti Merkezi report of order " .. ref .. ": " .. tostring(err)); break end
      local order = type(resp.order) == "table" and resp.order or {}
      local rows = type(order.message) == "table" and order.message or {}
      for _, row in ipairs(rows) do states[number(row.number or "")] = tostring(row.status) end
      if #rows < 1000 then break end
      page = page + 1
    end
    for _, m in ipairs(msgs) do
      local s = states[number(m.to)]
      if s == "111" then results[#results + 1] = { id = m.id, status = "delivered" }
      elseif s == "112" then results[#results + 1] = { id = m.id, status = "undelivered", error = "İleti Merkezi 112: not delivered" }
      else results[#results + 1] = { id = m.id, status = "pending" } end
    end
  end
  return { results = destek.json.array(results) }
end

function M.register()
  destek.policy("sms.gateway:iletimerkezi", function(action, data)
    if action == "send" then return send(data) end
    if action == "report" then return report(data) end
    error("sms.gateway:iletimerkezi: unknown action " .. tostring(action))
  end)
end

M.SETTINGS = {
  { name = "campaigns.iletimerkezi_url", type = "string", default = "https://api.iletimerkezi.com",
    description = "İleti Merkezi API address (the SMS gateway adapter sms.gateway:iletimerkezi)" },
  { name = "campaigns.iletimerkezi_key", type = "string", default = "", description = "İleti Merkezi API key" },
  { name = "campaigns.iletimerkezi_hash", type = "string", default = "", secret = true,
    description = "İleti Merkezi API hash (from the panel's API settings)" },
  { name = "campaigns.iletimerkezi_sender", type = "string", default = "",
    description = "İleti Merkezi sender name (başlık) approved on the account" },
  { name = "campaigns.iletimerkezi_recipient_type", type = "string", default = "BIREYSEL",
    description = "İYS recipient type of commercial SMS: BIREYSEL or TACIR (iysList)" },
}

return M

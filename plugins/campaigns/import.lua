-- campaigns/import.lua: importing a shop's existing consent list into the core's ledger, with its proof. A CSV with a
-- header row; columns (any order, names as below, case-insensitive):
--
--   contact     the person's e-mail address or phone number (required)
--   channel     email, sms, call, whatsapp (required)
--   status      ONAY or RET (required)
--   at          when the person gave it, "2026-11-01T10:00:00Z" or "2026-11-01" (required)
--   source      web_form, checkout, call_centre, reply, iys (required; how it was collected)
--   text_shown  the text the person was shown (required for an ONAY)
--   address     the e-mail address or phone number the consent is about (default: contact)
--   ip          the address it came from (required when collected on the web: web_form, checkout)
--   name        the person's name (optional; fills a new contact)
--   lang        tr or en (optional; fills a new contact)
--   tags        the module's tags for segments, separated by spaces (optional; added)
--
-- Every row is checked; one bad row refuses the whole file (422 invalid_rows, every bad row with its line, column and
-- why) and nothing is recorded. A good file records every row in one transaction through consent.record.
local destek = require "destek"
local util = require "util"

local import = {}

local MAX_ROWS = 2000
local CHANNELS = { email = true, sms = true, call = true, whatsapp = true }
local SOURCES = { web_form = true, checkout = true, call_centre = true, reply = true, iys = true }

-- RFC 4180 CSV (quoted fields with "" inside, CRLF or LF) into rows of fields; nil and a message when malformed.
function import.parse_csv(text)
  local rows, row, field, i, n = {}, {}, {}, 1, #text
  local line = 1
  if text:sub(1, 3) == "\239\187\191" then i = 4 end   -- a BOM (Excel)
  local quoted = false
  while i <= n do
    local ch = text:sub(i, i)
    if quoted then
      if ch == '"' then
        if text:sub(i + 1, i + 1) == '"' then field[#field + 1] = '"'; i = i + 1 else quoted = false end
      else
        if ch == "\n" then line = line + 1 end
        field[#field + 1] = ch
      end
    elseif ch == '"' then
      if #field > 0 then return nil, "line " .. line .. ": a quote inside a field that is not quoted" end
      quoted = true
    elseif ch == "," or ch == ";" then
      row[#row + 1] = table.concat(field); field = {}
    elseif ch == "\n" or ch == "\r" then
      if ch == "\r" and text:sub(i + 1, i + 1) == "\n" then i = i + 1 end
      row[#row + 1] = table.concat(field); field = {}
      rows[#rows + 1] = { line = line, fields = row }
      row = {}
      line = line + 1
    else
      field[#field + 1] = ch
    end
    i = i + 1
  end
  if quoted then return nil, "line " .. line .. ": a quoted field is not closed" end
  if #field > 0 or #row > 0 then
    row[#row + 1] = table.concat(field)
    rows[#rows + 1] = { line = line, fields = row }
  end
  -- blank lines are nothing
  local out = {}
  for _, r in ipairs(rows) do
    if not (#r.fields == 1 and r.fields[1]:match("^%s*$")) then out[#out + 1] = r end
  end
  return out
end

local COLUMNS = { "contact", "channel", "status", "at", "source", "text_shown", "address", "ip", "name", "lang", "tags" }

-- Checks every row: a list of {contact, channel, status, at, source, text_shown, address, ip, name} and a list of
-- problems [{line, column, message}].
function import.check(rows)
  local problems = {}
  local function bad(line, column, message) problems[#problems + 1] = { line = line, column = column, message = message } end
  if #rows < 2 then bad(1, destek.json.null, "the file needs a header row and at least one row"); return {}, problems end
  local index = {}
  for k, name in ipairs(rows[1].fields) do
    local key = name:gsub("^%s+", ""):gsub("%s+$", ""):lower()
    if index[key] then bad(rows[1].line, key, "the column " .. key .. " appears twice") end
    index[key] = k
  end
  for _, need in ipairs({ "contact", "channel", "status", "at", "source", "text_shown" }) do
    if not index[need] then bad(rows[1].line, need, "the header has no column " .. need) end
  end
  if #problems > 0 then return {}, problems end
  if #rows - 1 > MAX_ROWS then
    bad(rows[#rows].line, destek.json.null, "at most " .. MAX_ROWS .. " rows a file: split it")
    return {}, problems
  end
  local out = {}
  for r = 2, #rows do
    local f, line = rows[r].fields, rows[r].line
    local v = {}
    for _, col in ipairs(COLUMNS) do
      local s = index[col] and f[index[col]] or ""
      v[col] = (s:gsub("^%s+", ""):gsub("%s+$", ""))
    end
    local before = #problems
    if not utf8.len(table.concat(f, ",")) then bad(line, destek.json.null, "the row is not UTF-8 text") end
    if v.contact == "" then bad(line, "contact", "contact is required: an e-mail address or a phone number")
    elseif #v.contact > 254 then bad(line, "contact", "contact is too long") end
    if not CHANNELS[v.channel:lower()] then bad(line, "channel", "channel is email, sms, call or whatsapp") end
    v.channel = v.channel:lower()
    v.status = v.status:upper()
    if v.status ~= "ONAY" and v.status ~= "RET" then bad(line, "status", "status is ONAY or RET") end
    local t = util.parse_time(v.at)
    if not t then bad(line, "at", "at is when it was given: 2026-11-01T10:00:00Z or 2026-11-01")
    elseif t > os.time() + 300 then bad(line, "at", "at is in the future")
    else v.at = util.iso(t) end
    if not SOURCES[v.source] then bad(line, "source", "source is web_form, checkout, call_centre, reply or iys") end
    if v.status == "ONAY" and v.text_shown == "" then
      bad(line, "text_shown", "an ONAY needs the text the person was shown (the proof of what they agreed to)")
    end
    if #v.text_shown > 20000 then bad(line, "text_shown", "text_shown is at most 20000 bytes") end
    if (v.source == "web_form" or v.source == "checkout") and v.ip == "" then
      bad(line, "ip", "consent collected on the web needs the address (IP) it came from")
    end
    if v.ip ~= "" and (#v.ip > 45 or not v.ip:match("^[%x%.:]+$")) then bad(line, "ip", "ip is an IPv4 or IPv6 address") end
    if #v.name > 200 then bad(line, "name", "name is at most 200 bytes") end
    if v.lang ~= "" and v.lang ~= "tr" and v.lang ~= "en" then bad(line, "lang", "lang is tr or en") end
    local tags = {}
    for t in v.tags:gmatch("%S+") do
      local ok, tag = pcall(util.tag, t, "tags")
      if ok then tags[#tags + 1] = tag else bad(line, "tags", "a tag is 1 to 40 bytes without commas or quotes") end
    end
    v.tags = tags
    v.line = line
    if #problems == before then out[#out + 1] = v end
  end
  return out, problems
end

-- Records the checked rows: the contact of each (found or made), then its consent. Problems the core finds (an address
-- that is not one, an erased person) are collected too; any problem and the caller answers 422, so nothing is kept.
function import.record(rows)
  local problems = {}
  for _, v in ipairs(rows) do
    local email, phone
    if v.contact:find("@", 1, true) then email = v.contact else phone = v.contact end
    local c, err = destek.call("contacts.resolve", { email = email, phone = phone, name = v.name ~= "" and v.name or nil,
                                                     lang = v.lang ~= "" and v.lang or nil })
    if not c or not c.id or c.id == 0 then
      problems[#problems + 1] = { line = v.line, column = "contact",
                                  message = "contact is not an e-mail address or a phone number" .. (err and (": " .. err.message) or "") }
    else
      local res, rerr = destek.call("consent.record", { contact_id = c.id, channel = v.channel, status = v.status,
        source = v.source, text_shown = v.text_shown, address = v.address ~= "" and v.address or nil,
        ip = v.ip ~= "" and v.ip or nil, at = v.at })
      if not res then
        problems[#problems + 1] = { line = v.line, column = rerr.field or destek.json.null, message = rerr.message }
      end
      for _, t in ipairs(v.tags) do
        destek.db.exec("INSERT OR IGNORE INTO campaigns_tags(contact_id, tag) VALUES (?1, ?2)", c.id, t)
      end
    end
  end
  return problems
end

return import

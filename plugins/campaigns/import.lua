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

local MAX_ROWS = 250   -- what one request does within a call's time budget on a loaded 2-core box
local CHANNELS = { email = true, sms = true, call = true, whatsapp = true }
local SOURCES = { web_form = true, checkout = true, call_centre = true, reply = true, iys = true }

-- RFC 4180 CSV (quoted fields with "" inside, CRLF or LF; separated by commas, or by semicolons when the header has
-- semicolons and no comma, as Turkish spreadsheets write it) into rows {line, fields}; nil and a message when
-- malformed. Blank lines are skipped.
function import.parse_csv(text)
  local rows, row = {}, {}
  local i, n, line, row_line = 1, #text, 1, 1
  if text:sub(1, 3) == "\239\187\191" then i = 4 end   -- a BOM (Excel)
  local first = text:match("^[^\r\n]*", i)
  local sep = (first:find(";", 1, true) and not first:find(",", 1, true)) and ";" or ","
  local sepb = sep:byte()
  local plain = sep == ";" and "[;\r\n]" or "[,\r\n]"
  while i <= n do
    local field
    if text:byte(i) == 34 then
      local parts, j = {}, i + 1
      while true do
        local q = text:find('"', j, true)
        if not q then return nil, "line " .. line .. ": a quoted field is not closed" end
        parts[#parts + 1] = text:sub(j, q - 1)
        if text:byte(q + 1) == 34 then parts[#parts + 1] = '"'; j = q + 2 else j = q + 1; break end
      end
      field = table.concat(parts)
      for _ in field:gmatch("\n") do line = line + 1 end
      i = j
      local d = text:byte(i)
      if d and d ~= sepb and d ~= 10 and d ~= 13 then return nil, "line " .. line .. ": text after a quoted field" end
    else
      local j = text:find(plain, i) or n + 1
      field = text:sub(i, j - 1)
      if field:find('"', 1, true) then return nil, "line " .. line .. ": a quote inside a field that is not quoted" end
      i = j
    end
    row[#row + 1] = field
    local d = text:byte(i)
    if d == sepb then
      i = i + 1
      if i > n then row[#row + 1] = "" end
    end
    if d ~= sepb or i > n then
      if d == 13 and text:byte(i + 1) == 10 then i = i + 2 elseif d then i = i + 1 end
      if not (#row == 1 and row[1]:match("^%s*$")) then rows[#rows + 1] = { line = row_line, fields = row } end
      row = {}
      line = line + 1
      row_line = line
    end
  end
  return rows
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

-- Records the checked rows in one call of the core's consent.import (each row's contact found or made, then its
-- record, as consent.record writes it), then the rows' tags. Problems the core finds (an address that is not one, an
-- erased person) come back as the first refused row; the caller answers 422, so nothing is kept.
function import.record(rows)
  local list = {}
  for i, v in ipairs(rows) do
    list[i] = { contact = v.contact, name = v.name ~= "" and v.name or nil, lang = v.lang ~= "" and v.lang or nil,
                channel = v.channel, status = v.status, source = v.source, text_shown = v.text_shown,
                address = v.address ~= "" and v.address or nil, ip = v.ip ~= "" and v.ip or nil, at = v.at }
  end
  local res, err = destek.call("consent.import", { rows = destek.json.array(list) })
  if not res then
    local index, field = tostring(err.field or ""):match("^rows%[(%d+)%]%.(.+)$")
    local v = index and rows[tonumber(index) + 1]
    return { { line = v and v.line or destek.json.null, column = field or destek.json.null,
               message = (err.message or ""):gsub("^row %d+: ", "") } }
  end
  for i, v in ipairs(rows) do
    for _, t in ipairs(v.tags) do
      destek.db.exec("INSERT OR IGNORE INTO campaigns_tags(contact_id, tag) VALUES (?1, ?2)", res.contact_ids[i], t)
    end
  end
  return {}
end

return import

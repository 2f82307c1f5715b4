-- campaigns/util.lua: checks of what people send, times, strings.
local destek = require "destek"

local util = {}

-- Raises a 422 invalid_field error value for field.
function util.fail(field, message) error(destek.error(422, "invalid_field", message, field)) end

function util.int(v)
  if type(v) == "number" then return math.tointeger(v) end
  if type(v) == "string" and v:match("^%-?%d+$") then return math.tointeger(tonumber(v)) end
  return nil
end

-- A string of at most max bytes of valid UTF-8, trimmed; nil when it is not one.
function util.text(v, max)
  if type(v) ~= "string" or #v > max or not utf8.len(v) then return nil end
  return (v:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- A required text field: the trimmed text, or raises.
function util.need_text(b, field, max)
  local v = util.text(b[field], max)
  if not v or v == "" then util.fail(field, field .. " is required: 1 to " .. max .. " bytes of text") end
  return v
end

-- "2026-11-01" or "2026-11-01T10:00:00Z" -> Unix seconds (UTC), or nil.
function util.parse_time(v)
  if type(v) ~= "string" then return nil end
  local y, m, d = v:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  local H, M, S = 0, 0, 0
  if not y then y, m, d, H, M, S = v:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)Z$") end
  if not y then return nil end
  y, m, d, H, M, S = tonumber(y), tonumber(m), tonumber(d), tonumber(H), tonumber(M), tonumber(S)
  if m < 1 or m > 12 or d < 1 or d > 31 or H > 23 or M > 59 or S > 60 then return nil end
  -- days from the civil date (H. Hinnant's algorithm), UTC without os.time's local zone
  local yy = m <= 2 and y - 1 or y
  local era = (yy >= 0 and yy or yy - 399) // 400
  local yoe = yy - era * 400
  local mp = (m + 9) % 12
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  local days = era * 146097 + doe - 719468
  local t = days * 86400 + H * 3600 + M * 60 + S
  if os.date("!%Y-%m-%d", t) ~= string.format("%04d-%02d-%02d", y, m, d) then return nil end
  return t
end

function util.time_arg(v, field)
  local t = util.parse_time(v)
  if not t then util.fail(field, field .. " is a date (2026-11-01) or a UTC time (2026-11-01T10:00:00Z)") end
  return t
end

function util.iso(t)
  if not t or t == destek.json.null then return destek.json.null end
  return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

-- A tag folded the Turkish-aware way search does (destek.text.fold: "VIP", "vıp" and "Vip" are one tag, "İstanbul" is
-- "istanbul"): letters, digits, - and _; at most 40 bytes.
function util.tag(v, field)
  if type(v) ~= "string" then util.fail(field, field .. ": a tag is text") end
  local s = destek.text.fold((v:gsub("^%s+", ""):gsub("%s+$", "")))
  if s == "" or #s > 40 or not utf8.len(s) or s:find("[%s,;\"'<>]") then
    util.fail(field, field .. ": a tag is 1 to 40 bytes without spaces, commas or quotes")
  end
  return s
end

-- Start of today in Turkey (UTC+3), as Unix seconds.
function util.today_tr()
  local now = os.time() + 3 * 3600
  return now - now % 86400 - 3 * 3600
end

return util

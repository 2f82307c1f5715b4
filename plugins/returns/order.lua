-- returns/order.lua: what a return needs of an order, asked of the orders module through its service (orders.find);
-- this module never reads orders_* tables. The one place that knows the shape of the orders module's answer.
local destek = require "destek"

local order = {}

-- Unix seconds of an ISO-8601 time ("2026-01-01T10:00:00Z", "...+03:00", "2026-01-01 10:00:00"); nil when it is not
-- one. A time without an offset is UTC, as the orders module stores it.
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

function order.parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil end
  local h, mi, se, tail = rest:match("^[T ](%d%d):(%d%d):?(%d*)(.*)$")
  h, mi, se = tonumber(h) or 0, tonumber(mi) or 0, tonumber(se) or 0
  tail = (tail or ""):gsub("^%.%d+", "")
  local off = 0
  local sign, oh, om = tail:match("^([%+%-])(%d%d):?(%d%d)$")
  if sign then off = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "-" and -1 or 1) end
  return days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400 + h * 3600 + mi * 60 + se - off
end

-- Digits of a phone, the last ten (a Turkish number without 0 or +90): "0532 123 45 67" and "+905321234567" match.
local function phone_key(p)
  local digits = (p or ""):gsub("%D", "")
  if #digits < 10 then return nil end
  return digits:sub(-10)
end

local function fold_email(e)
  return ((e or ""):gsub("^%s+", ""):gsub("%s+$", ""):lower())
end

-- The order without JSON nulls (absent members instead), so that `x or default` and templates read them plainly.
local function strip(v, depth)
  if type(v) ~= "table" or depth > 4 then return v end
  for k, x in pairs(v) do
    if x == destek.json.null then v[k] = nil else strip(x, depth + 1) end
  end
  return v
end

-- The order with this number, or nil; raises the orders module's error when it is not installed (501 passed on).
function order.find(number)
  number = (number or ""):gsub("^%s+", ""):gsub("%s+$", "")
  if number == "" or #number > 64 then return nil end
  local found, err = destek.call("orders.find", { number = number })
  if not found then
    if err and err.status == 501 then
      error(destek.error(503, "orders_unavailable", "the orders module is not installed: returns need it"))
    end
    if err and err.status == 422 then return nil end
    error(err)
  end
  return found.items and found.items[1] and strip(found.items[1], 0) or nil
end

-- Whether contact (an e-mail or a phone as the customer typed it) is the order's.
function order.owned_by(o, contact)
  if not o or type(contact) ~= "string" then return false end
  local c = o.customer or {}
  if contact:find("@", 1, true) then
    return c.email ~= nil and c.email ~= "" and fold_email(c.email) == fold_email(contact)
  end
  local a, b = phone_key(contact), phone_key(c.phone)
  return a ~= nil and a == b
end

-- When the order's last item was delivered (Unix seconds), or nil when some shipment has not been delivered or there
-- is none: the withdrawal period runs from the last delivery (art. 9). exclude: tracking numbers that are returns'
-- own shipments (a return shipment is not a delivery to the customer).
function order.delivered_at(o, exclude)
  exclude = exclude or {}
  local last, any = nil, false
  for _, s in ipairs(o.shipments or {}) do
    if not (s.tracking_number and exclude[s.tracking_number]) then
      any = true
      local at = s.status == "Delivered" and order.parse_time(s.delivered_at) or nil
      if not at then return nil end
      if not last or at > last then last = at end
    end
  end
  return any and last or nil
end

-- Minor units of a money text ("549.90" -> 54990).
function order.minor(v)
  if type(v) == "number" then return math.floor(v * 100 + 0.5) end
  if type(v) ~= "string" then return 0 end
  local whole, frac = v:match("^(%-?%d+)%.?(%d*)$")
  if not whole then return 0 end
  frac = (frac .. "00"):sub(1, 2)
  return tonumber(whole) * 100 + (whole:sub(1, 1) == "-" and -1 or 1) * tonumber(frac)
end

return order

-- returns/iban.lua: Turkish IBANs for refunds of cash-on-delivery orders. An IBAN is checked by ISO 13616's mod-97
-- (the number, its first four characters moved to the end and letters as 10..35, leaves 1 when divided by 97) and
-- by Turkey's format: "TR", two check digits, a 5-digit bank code, a reserved "0", 16 account characters (26 in all).
local iban = {}

-- The IBAN without spaces, in capitals: the text, or nil and why ("format" or "checksum").
function iban.normalise(text)
  if type(text) ~= "string" then return nil, "format" end
  local s = text:gsub("[%s%-]", ""):upper()
  if not s:match("^TR%d%d%d%d%d%d%d0[%dA-Z]+$") or #s ~= 26 then return nil, "format" end
  local moved = s:sub(5) .. s:sub(1, 4)
  local rem = 0
  for i = 1, #moved do
    local c = moved:sub(i, i)
    local v = c:match("%d") and tonumber(c) or (c:byte() - 55)
    if v >= 10 then rem = (rem * 100 + v) % 97 else rem = (rem * 10 + v) % 97 end
  end
  if rem ~= 1 then return nil, "checksum" end
  return s
end

-- What agents see: the country, the check digits and the last four, "TR12 **** **** **** **** **34 56".
function iban.mask(s)
  if type(s) ~= "string" or #s < 8 then return nil end
  return s:sub(1, 4) .. " **** **** **** **** **" .. s:sub(-4, -3) .. " " .. s:sub(-2)
end

-- Grouped by four for reading: "TR33 0006 1005 1978 6457 8413 26".
function iban.format(s)
  return (s:gsub("(....)", "%1 "):gsub("%s+$", ""))
end

return iban

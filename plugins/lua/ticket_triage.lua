-- Built-in Lua plugin: the default triage of new tickets. The ticketing plugin asks for it on every new ticket with
--   decide("ticket.triage", ticket)  ->  {priority = ..., tags = {...}, assignee_id = ..., team_id = ...} or nil
-- where ticket is the agents' API view of the ticket plus `body` (the first message). Tags are added, never removed.
-- Matching is Turkish-aware: "KARGOM", "Kargom", "İADE", "ıade" all match (İ/I/ı -> i, ş -> s, ç -> c, ğ -> g,
-- ö -> o, ü -> u, then lower case). A merchant replaces this with a plugin in <data>/plugins/ declaring the same
-- policy (the last plugin to declare a policy wins).
local destek = require "destek"

local FOLD = {
  ["İ"] = "i", ["I"] = "i", ["ı"] = "i", ["Ş"] = "s", ["ş"] = "s", ["Ç"] = "c", ["ç"] = "c",
  ["Ğ"] = "g", ["ğ"] = "g", ["Ö"] = "o", ["ö"] = "o", ["Ü"] = "u", ["ü"] = "u",
  ["Â"] = "a", ["â"] = "a", ["Î"] = "i", ["î"] = "i", ["Û"] = "u", ["û"] = "u",
}

local function fold(s)
  -- a table as the replacement: letters it does not name stay as they are
  s = s:gsub("[\xC3\xC4\xC5][\x80-\xBF]", FOLD)
  s = s:gsub("I", "i")
  return s:lower()
end

-- Folded word stems; a stem matches at the start of a word ("kargom", "kargoya", "iadesi").
local RULES = {
  { tag = "kargo", stems = { "kargo", "kurye", "teslimat", "gonderi", "shipping", "shipment", "delivery", "courier",
                             "tracking" } },
  { tag = "iade",  stems = { "iade", "geri gonder", "return", "refund" } },
  { tag = "hasar", stems = { "hasar", "kirik", "bozuk", "ezik", "damage", "broken", "cracked" } },
}
local URGENT = { "acil", "urgent", "asap" }

local function has_stem(text, stem)
  local from = 1
  while true do
    local i = text:find(stem, from, true)
    if not i then return false end
    if i == 1 or not text:sub(i - 1, i - 1):match("[%w\x80-\xFF]") then return true end
    from = i + 1
  end
end

return {
  name = "ticket_triage",
  version = "1.0.0",
  init = function()
    destek.policy("ticket.triage", function(ticket)
      if type(ticket) ~= "table" then return nil end
      local text = fold((ticket.subject or "") .. "\n" .. (ticket.body or ""))
      local out, tags = {}, {}
      for _, rule in ipairs(RULES) do
        for _, stem in ipairs(rule.stems) do
          if has_stem(text, stem) then tags[#tags + 1] = rule.tag break end
        end
      end
      if #tags > 0 then out.tags = tags end
      for _, w in ipairs(URGENT) do
        if has_stem(text, w) and ticket.priority ~= "urgent" then out.priority = "high" break end
      end
      return out
    end)
  end,
}

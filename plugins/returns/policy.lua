-- returns/policy.lua: the default return policy, the law of Turkey for distance sales (Mesafeli Sözleşmeler
-- Yönetmeliği, RG 27.11.2014/29188 as amended; see plugins/returns/README.md, "The law as the default policy").
-- The returns module asks it about every item of a request:
--
--   destek.decide("returns.eligible", order, item, reason, ctx) -> decision
--
--   order  {number, status, delivered, delivered_at (Unix seconds or nil), delivered_days_ago (whole days or nil),
--           total_minor, cod, customer = {email, phone, contact_id}}
--   item   {line, sku, name, variant, quantity, price_minor, flags = {personalised = true, ...}}
--   reason "damaged" | "wrong_item" | "not_as_described" | "defective" | "changed_mind" | "exchange_size"
--   ctx    {now (Unix seconds), lang ("tr"/"en")}
--
--   -> eligible (bool), message (text for the customer, or nil), details {review = bool (a person decides),
--      photo = "required" | "optional" | "none", deadline = Unix seconds or nil, rule = the rule's id}
--   (a policy may answer only `eligible, message`: the module then asks a person about every eligible item.)
--
-- A merchant changes the rules without forking: a plugin in <data>/plugins/ that declares returns.eligible wins (the
-- last plugin to declare a policy is the one used, and built-in plugins load first). It may ask the default first
-- and adjust its answer: the default is published as the service returns.default_policy.
local destek = require "destek"

-- Turkey has kept UTC+3 all year since 2016: a day in Europe/Istanbul runs from 21:00 UTC to 21:00 UTC.
local ISTANBUL = 3 * 3600

-- The reasons that claim the goods are faulty (ayıplı mal): the 14-day withdrawal period and its exceptions do not
-- limit them; a person looks at them.
local DEFECT = { damaged = true, wrong_item = true, not_as_described = true, defective = true }
local WITHDRAWAL = { changed_mind = true, exchange_size = true }

-- The exceptions of art. 15 that a shop meets, as product flags (returns_product_flags, or the order item's own).
local EXCEPTIONS = { "personalised", "perishable", "hygiene", "mixed", "digital", "periodical", "service",
                     "financial" }

local function t(key, lang) return destek.t("policy_" .. key, lang) end

-- The end of the period: the last second of the `days`-th day after the day of delivery, in Istanbul.
local function period_end(delivered_at, days)
  local local_day = (delivered_at + ISTANBUL) // 86400
  return (local_day + days + 1) * 86400 - ISTANBUL - 1
end

local function decide(order, item, reason, ctx)
  ctx = ctx or {}
  local lang = ctx.lang
  local now = tonumber(ctx.now) or os.time()
  local days = destek.setting("returns.withdrawal_days") or 14
  order = type(order) == "table" and order or {}
  item = type(item) == "table" and item or {}
  if order.status == "cancelled" or order.status == "refunded" or order.status == "failed" then
    return { eligible = false, rule = "order_closed", message = t("order_closed", lang) }
  end
  if DEFECT[reason] then
    return { eligible = true, review = true, rule = "defect", photo = reason == "damaged" and "required" or "optional" }
  end
  if not WITHDRAWAL[reason] then
    return { eligible = false, rule = "unknown_reason", message = t("unknown_reason", lang) }
  end
  local flags = type(item.flags) == "table" and item.flags or {}
  for _, f in ipairs(EXCEPTIONS) do
    if flags[f] then
      return { eligible = false, rule = "exception_" .. f, message = t("exception_" .. f, lang) }
    end
  end
  local delivered_at = tonumber(order.delivered_at)
  if not delivered_at and tonumber(order.delivered_days_ago) then   -- a caller that knows only whole days
    if tonumber(order.delivered_days_ago) <= days then return { eligible = true, review = false, rule = "withdrawal" } end
    return { eligible = false, rule = "too_late", message = string.format(t("too_late_days", lang), days) }
  end
  if not delivered_at then
    -- Withdrawal before delivery is allowed (art. 9): the period has not begun.
    return { eligible = true, review = false, rule = "before_delivery", photo = "none" }
  end
  local deadline = period_end(delivered_at, days)
  if now <= deadline then
    return { eligible = true, review = false, rule = "withdrawal", photo = "none", deadline = deadline }
  end
  return { eligible = false, rule = "too_late", deadline = deadline,
           message = string.format(t("too_late", lang), days, os.date("!%d.%m.%Y", deadline + ISTANBUL)) }
end

-- The three values decide() answers.
local function default(order, item, reason, ctx)
  local d = decide(order, item, reason, ctx)
  return d.eligible, d.message, d
end

local policy = {}

function policy.register()
  destek.policy("returns.eligible", default)
  destek.service("returns.default_policy", function(a)
    return decide(a.order, a.item, a.reason, a.ctx)
  end)
end

return policy

-- Built-in Lua plugin: the default return policy. The returns module asks for it with
--   decide("returns.eligible", order, item, reason)  ->  eligible (boolean), message for the customer (or nil)
-- where order.delivered_days_ago is the number of whole days since delivery (nil when not delivered yet).
-- A merchant changes the rule without forking: a plugin in <data>/plugins/ that declares the same policy wins,
-- because built-in plugins load first and the last plugin to declare a policy is the one used.
local destek = require "destek"

return {
  name = "returns_policy",
  version = "1.0.0",
  settings = {
    { name = "returns_policy.days", type = "int", default = 14,
      description = "Days after delivery within which the default policy accepts a return" },
  },
  i18n = {
    tr = { not_delivered = "Sipariş henüz teslim edilmedi.",
           too_late = "İade süresi teslimattan sonra %d gündür; bu süre geçti." },
    en = { not_delivered = "The order has not been delivered yet.",
           too_late = "Returns are accepted for %d days after delivery; that time has passed." },
  },
  init = function()
    destek.policy("returns.eligible", function(order, item, reason)
      local days = destek.setting("returns_policy.days") or 14
      local ago = type(order) == "table" and tonumber(order.delivered_days_ago) or nil
      if not ago then return false, destek.t("not_delivered") end
      if ago <= days then return true end
      return false, string.format(destek.t("too_late"), days)
    end)
  end,
}

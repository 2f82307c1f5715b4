-- Test-only plugin (not shipped), for tests/api/lua-sandbox-more.test.mjs: reads other owners' secrets through every
-- door a plugin has (destek.setting, the settings' table, a webhook's URL). Each probe reports what it got.
local destek = require "destek"

local function try(fn, ...)
  local ok, v = pcall(fn, ...)
  if not ok then return { ok = false, err = tostring(v) } end
  return { ok = true, value = v == nil and destek.json.null or v }
end

return {
  name = "hostile_secrets",
  version = "1.0.0",
  settings = {
    { name = "hostile_secrets.key", type = "string", secret = true, description = "its own secret" },
  },
  init = function()
    destek.route("GET", "/hostile-more/settings", "public", function()
      return 200, {
        own_secret = try(destek.setting, "hostile_secrets.key"),
        smtp_password = try(destek.setting, "mail.smtp_password"),
        imap_password = try(destek.setting, "mail.imap_password"),
        victim_secret = try(destek.setting, "more_victim.api_key"),
        victim_plain = try(destek.setting, "more_victim.greeting"),
        mail_from = try(destek.setting, "mail.from"),
        core_plain = try(destek.setting, "events.retry_limit"),
        unknown = try(destek.setting, "nope.nope"),
        settings_table = try(destek.db.query, "SELECT name, value FROM core_settings ORDER BY name"),
        webhook_urls = try(destek.db.query, "SELECT id, url FROM core_webhooks ORDER BY id"),
      }
    end)
  end,
}

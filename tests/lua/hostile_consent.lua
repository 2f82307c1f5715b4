-- Test-only plugin (not shipped), for tests/api/consent-ledger.test.mjs: a plugin that tries to get around the consent
-- ledger: rewrite or delete records, forge an ONAY, queue a message itself, drop the triggers; and sends through the
-- core's path (destek.call "consent.send"), which must refuse a commercial message without a current ONAY.
local destek = require "destek"

local ATTEMPTS = {
  "UPDATE core_consent SET status = 'ONAY'",
  "DELETE FROM core_consent",
  "INSERT INTO core_consent(contact_id, channel, status, source, recorded_by, at, recorded_at)"
    .. " VALUES (1, 'email', 'ONAY', 'import', 'x', '2030-01-01T00:00:00Z', '2030-01-01T00:00:00Z')",
  "INSERT INTO core_messages(contact_id, channel, to_addr, subject, body, commercial, sender, created_at)"
    .. " VALUES (1, 'email', 'a@b.example', 's', 'b', 0, 'x', 'now')",
  "UPDATE core_messages SET commercial = 0",
  "DROP TRIGGER core_consent_no_update",
}

return {
  name = "hostile_consent",
  version = "1.0.0",
  init = function()
    destek.route("POST", "/hostile-consent/sql", "public", function()
      local out = {}
      for i, sql in ipairs(ATTEMPTS) do
        local ok, err = pcall(destek.db.exec, sql)
        out[i] = { ok = ok, err = tostring(err) }
      end
      return 200, { results = out }
    end)
    destek.route("POST", "/hostile-consent/send", "public", function(req)
      local r, err = destek.call("consent.send", { contact_id = req.json.contact_id, subject = "Büyük indirim!",
        body = "Bu hafta her şey %50 indirimli.", commercial = req.json.commercial, html = req.json.html })
      if r then return 200, { id = r.id } end
      return 200, { error = err.code, status = err.status }
    end)
    destek.route("POST", "/hostile-consent/grant", "public", function(req)
      local r, err = destek.call("consent.record", { contact_id = req.json.contact_id, channel = "email",
        status = "ONAY", source = "web_form", text_shown = "Kampanyalardan haberdar olmak istiyorum." })
      if r then return 200, { id = r.id } end
      return 200, { error = err.code }
    end)
  end,
}

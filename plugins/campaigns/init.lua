-- campaigns: commercial e-mail campaigns that the law allows (issue 17, the module part), written in Lua on the module
-- API. Segments over the core's contacts (tags, language, orders in a window through orders.buyers) counted before
-- sending (segments.lua); campaigns in Turkish and English with a preview per contact and a test send, scheduled and
-- throttled (per second, and a daily cap across campaigns), sent only through the core's commercial send path, which
-- refuses anyone without a current ONAY (send.lua); per-recipient results with who was skipped and why, delivery from
-- the core's queue, and refusals through the one-click link; the import of an existing consent list with its proof,
-- all or nothing (import.lua); the ledger kept in step with İYS through the consent.registry:iys policy (iys.lua).
local destek = require "destek"
local util = require "util"
local seg = require "segments"
local send = require "send"
local import = require "import"
local iys = require "iys"
local sms = require "sms"
local coupons = require "coupons"
local tracking = require "tracking"
local specialdays = require "specialdays"

local function must_campaign(req)
  local c = send.campaign_of(math.tointeger(req.params.id))
  if not c then error(destek.error(404, "not_found", "no such campaign")) end
  return c
end

local function out(c, with_results)
  local o = { id = c.id, name = c.name, channel = c.channel, rules = destek.json.decode(c.rules),
              subject_tr = c.subject_tr, body_tr = c.body_tr, subject_en = c.subject_en, body_en = c.body_en,
              body_html_tr = c.body_html_tr or destek.json.null, body_html_en = c.body_html_en or destek.json.null,
              per_second = c.per_second, status = c.status, scheduled_at = util.iso(c.scheduled_at),
              created_at = util.iso(c.created_at), started_at = util.iso(c.started_at), finished_at = util.iso(c.finished_at),
              gathering = c.collected == 0 and c.status ~= "draft" }
  if with_results then
    o.results = send.results(c)
    for k, v in pairs(tracking.results(c)) do o.results[k] = v end
  end
  o.pool_id = c.pool_id or destek.json.null
  o.occasion_id = c.occasion_id or destek.json.null
  local pool = c.pool_id and coupons.pool_of(c.pool_id)
  o.coupons = pool and coupons.out(pool) or destek.json.null
  return o
end

local function body_of(req)
  if type(req.json) ~= "table" then error(destek.error(400, "bad_json", "send a JSON object")) end
  return req.json
end

local function contact_arg(b)
  local id = util.int(b.contact_id)
  if not id or id < 1 then util.fail("contact_id", "contact_id is a contact's id") end
  local c = destek.call("contacts.get", { id = id })
  if not c or (c.erased_at and c.erased_at ~= destek.json.null) then
    error(destek.error(404, "not_found", "no such contact (or it was erased)"))
  end
  return c
end

-- The fields of a campaign from a request body (all for a new one; those given for a change of a draft). channel is
-- the campaign's (a draft keeps the channel it was made with): an SMS campaign has no subjects, and its texts are at
-- most 800 bytes (the core adds the refusal line).
local function fields(b, partial, channel)
  local f = {}
  if not partial then
    if b.channel ~= nil and b.channel ~= "email" and b.channel ~= "sms" then util.fail("channel", "channel is email or sms") end
    channel = b.channel or "email"
    f.channel = channel
  end
  local sms = channel == "sms"
  local function text(name, max)
    if partial and b[name] == nil then return end
    if sms and name:find("^subject") then
      if b[name] ~= nil and b[name] ~= "" then util.fail(name, "an SMS campaign has no subject") end
      f[name] = ""
      return
    end
    f[name] = util.need_text(b, name, max)
  end
  -- The HTML bodies (e-mail only; null or "" takes one away): the shop's HTML made safe here as the core's send path
  -- makes it (no script, no event handlers, no javascript: links), so what is stored is what is shown and sent.
  for _, k in ipairs({ "body_html_tr", "body_html_en" }) do
    local v = b[k]
    if v ~= nil and v ~= destek.json.null and v ~= "" then
      if sms then util.fail(k, "an SMS campaign has no HTML") end
      if type(v) ~= "string" or #v > 500000 or not utf8.len(v) then util.fail(k, k .. " is HTML of at most 500000 bytes") end
      local clean = destek.html.mail(v)
      if not clean:find("%S") then util.fail(k, k .. " has nothing left once made safe") end
      f[k] = clean
    elseif v ~= nil then
      f[k] = destek.json.null
    end
  end
  local function body(name, html)
    -- with HTML, the text body may be left out: the text part is the HTML's rendering
    -- (a change may blank it: the route checks that each language keeps a text or an HTML body)
    if (b[name] == "" or (b[name] == nil and not partial)) and (partial or type(f[html]) == "string") then
      f[name] = ""
      return
    end
    text(name, sms and 800 or 100000)
  end
  text("name", 200)
  text("subject_tr", 200); body("body_tr", "body_html_tr"); text("subject_en", 200); body("body_en", "body_html_en")
  for _, k in ipairs({ "subject_tr", "subject_en" }) do
    if f[k] and f[k]:find("[\r\n]") then util.fail(k, k .. " is one line") end
  end
  if not partial or b.rules ~= nil then f.rules = destek.json.encode(seg.check(b.rules)) end
  if not partial or b.per_second ~= nil then
    local n = b.per_second == nil and destek.setting("campaigns.per_second") or util.int(b.per_second)
    if not n or n < 1 or n > 2000 then util.fail("per_second", "per_second is 1 to 2000 messages a second") end
    f.per_second = n
  end
  if partial and b.channel ~= nil and b.channel ~= channel then
    util.fail("channel", "a campaign keeps the channel it was made with")
  end
  return f
end

local function register_routes()
  destek.route("POST", "/api/v1/campaign-segments/count", "agent", function(req)
    local b = body_of(req)
    if b.channel ~= nil and b.channel ~= "email" and b.channel ~= "sms" then util.fail("channel", "channel is email or sms") end
    local after = b.after
    if after ~= nil and (math.type(after) ~= "integer" or after < 0) then util.fail("after", "after is a contact id (next_after)") end
    return 200, seg.count(seg.check(b.rules), b.channel, after)
  end, { max_body = 16384 })

  destek.route("GET", "/api/v1/campaigns", "agent", function(req)
    local limit, after = destek.cursor(req)
    local rows = destek.db.query("SELECT * FROM campaigns_campaigns WHERE (?1 = 0 OR id < ?1) ORDER BY id DESC LIMIT ?2",
                                 after, limit + 1)
    local next_after
    if #rows > limit then rows[#rows] = nil; next_after = rows[#rows].id end
    for i, c in ipairs(rows) do rows[i] = out(c, true) end
    return 200, destek.list(rows, next_after)
  end)

  destek.route("POST", "/api/v1/campaigns", "admin", function(req)
    local b = body_of(req)
    local f = fields(b, false)
    local function h(k) return type(f[k]) == "string" and f[k] or nil end
    local pool_id = coupons.check_pool(b, { tr = f.subject_tr .. f.body_tr .. (h("body_html_tr") or ""),
                                            en = f.subject_en .. f.body_en .. (h("body_html_en") or "") })
    local r = destek.db.exec("INSERT INTO campaigns_campaigns(name, channel, rules, subject_tr, body_tr, subject_en, body_en," ..
      " per_second, status, created_by, created_at, pool_id, body_html_tr, body_html_en)" ..
      " VALUES (?1, ?10, ?2, ?3, ?4, ?5, ?6, ?7, 'draft', ?8, ?9, ?11, ?12, ?13)",
      f.name, f.rules, f.subject_tr, f.body_tr, f.subject_en, f.body_en, f.per_second, req.user.id, os.time(), f.channel,
      pool_id, h("body_html_tr"), h("body_html_en"))
    destek.audit("campaigns.created", "campaign:" .. r.last_id)
    return 201, out(send.campaign_of(r.last_id), true)
  end, { max_body = 256 * 1024 })

  destek.route("GET", "/api/v1/campaigns/{id}", "agent", function(req)
    return 200, out(must_campaign(req), true)
  end, { params = "id:int" })

  destek.route("PATCH", "/api/v1/campaigns/{id}", "admin", function(req)
    local c = must_campaign(req)
    if c.status ~= "draft" then return destek.error(409, "not_a_draft", "only a draft can be changed") end
    local b = body_of(req)
    local f = fields(b, true, c.channel)
    local function h(k)
      if f[k] == destek.json.null then return "" end
      return f[k] or c[k] or ""
    end
    for _, l in ipairs({ "tr", "en" }) do   -- a language keeps a text or an HTML body
      if (f["body_" .. l] or c["body_" .. l]) == "" and h("body_html_" .. l) == "" then
        util.fail("body_" .. l, "body_" .. l .. " is required: 1 to 100000 bytes of text (or body_html_" .. l .. ")")
      end
    end
    local texts = { tr = (f.subject_tr or c.subject_tr) .. (f.body_tr or c.body_tr) .. h("body_html_tr"),
                    en = (f.subject_en or c.subject_en) .. (f.body_en or c.body_en) .. h("body_html_en") }
    if b.pool_id ~= nil then f.pool_id = coupons.check_pool(b, texts) or destek.json.null
    else coupons.check_pool({ pool_id = c.pool_id }, texts) end
    if f.pool_id == destek.json.null then destek.db.exec("UPDATE campaigns_campaigns SET pool_id = NULL WHERE id = ?1", c.id) end
    for _, k in ipairs({ "name", "rules", "subject_tr", "body_tr", "subject_en", "body_en", "per_second", "pool_id" }) do
      if f[k] ~= nil and f[k] ~= destek.json.null then
        destek.db.exec("UPDATE campaigns_campaigns SET " .. k .. " = ?2 WHERE id = ?1", c.id, f[k])
      end
    end
    for _, k in ipairs({ "body_html_tr", "body_html_en" }) do
      if f[k] ~= nil then
        destek.db.exec("UPDATE campaigns_campaigns SET " .. k .. " = ?2 WHERE id = ?1", c.id,
                       f[k] ~= destek.json.null and f[k] or nil)
      end
    end
    destek.audit("campaigns.changed", "campaign:" .. c.id)
    return 200, out(send.campaign_of(c.id), true)
  end, { params = "id:int", max_body = 256 * 1024 })

  -- What one contact would get (their language's version), and whether the ledger lets it go to them now.
  destek.route("POST", "/api/v1/campaigns/{id}/preview", "agent", function(req)
    local c = must_campaign(req)
    local contact = contact_arg(body_of(req))
    local subject, body, html = send.message(c, contact)
    local st = destek.call("consent.state", { contact_id = contact.id, channel = c.channel })
    local to = c.channel == "sms" and contact.phone or contact.email
    if to == nil then to = destek.json.null end
    return 200, { contact_id = contact.id, lang = contact.lang, channel = c.channel, to = to, subject = subject,
                  body = body, html = html or destek.json.null,
                  may_send = (st and st.onay and to ~= destek.json.null) and true or false }
  end, { params = "id:int", max_body = 4096 })

  -- A test send to one contact (the agent's own, say): a commercial message like the others, so it too needs that
  -- contact's current ONAY (403 no_consent otherwise).
  destek.route("POST", "/api/v1/campaigns/{id}/test", "admin", function(req)
    local c = must_campaign(req)
    local contact = contact_arg(body_of(req))
    local subject, body, html = send.message(c, contact)
    local tag = "[" .. destek.t("test", contact.lang) .. "] "
    local res, err = destek.call("consent.send", { contact_id = contact.id, commercial = true, channel = c.channel,
                                                   subject = c.channel == "sms" and "" or tag .. subject,
                                                   body = c.channel == "sms" and tag .. body or body, html = html })
    if not res then return err end
    destek.audit("campaigns.test_sent", "campaign:" .. c.id, { contact_id = contact.id })
    return 201, { message_id = res.id, to = c.channel == "sms" and contact.phone or contact.email }
  end, { params = "id:int", max_body = 4096 })

  -- Starts sending now, or at `at` (scheduled). A campaign is sent once: a second schedule is refused.
  destek.route("POST", "/api/v1/campaigns/{id}/schedule", "admin", function(req)
    local c = must_campaign(req)
    local b = type(req.json) == "table" and req.json or {}
    if c.status ~= "draft" and c.status ~= "scheduled" then
      return destek.error(409, "already_sent", "the campaign is being sent or was sent")
    end
    if c.channel == "sms" then
      for _, k in ipairs({ "sms.trade_name", "sms.mersis", "sms.ret_keyword" }) do
        if (destek.setting(k) or "") == "" then
          return destek.error(409, "sms_not_configured", "a commercial SMS carries the trade name, MERSİS number and" ..
                              " the RET keyword for 3338: set sms.trade_name, sms.mersis and sms.ret_keyword")
        end
      end
    end
    local now = os.time()
    local at = now
    if b.at ~= nil and b.at ~= destek.json.null then
      at = util.time_arg(b.at, "at")
      if at < now - 60 then util.fail("at", "at is in the past") end
    end
    if at <= now then
      destek.db.exec("UPDATE campaigns_campaigns SET status = 'sending', scheduled_at = ?2, started_at = ?2 WHERE id = ?1", c.id, now)
    else
      destek.db.exec("UPDATE campaigns_campaigns SET status = 'scheduled', scheduled_at = ?2 WHERE id = ?1", c.id, at)
    end
    send.schedule(c, math.max(at, now))
    destek.audit("campaigns.scheduled", "campaign:" .. c.id, { at = util.iso(at) })
    return 202, out(send.campaign_of(c.id), true)
  end, { params = "id:int", max_body = 4096 })

  destek.route("POST", "/api/v1/campaigns/{id}/pause", "admin", function(req)
    local c = must_campaign(req)
    if c.status ~= "sending" and c.status ~= "scheduled" then
      return destek.error(409, "not_sending", "only a campaign being sent (or scheduled) can be paused")
    end
    destek.db.exec("UPDATE campaigns_campaigns SET status = 'paused' WHERE id = ?1", c.id)
    destek.audit("campaigns.paused", "campaign:" .. c.id)
    return 200, out(send.campaign_of(c.id), true)
  end, { params = "id:int" })

  destek.route("POST", "/api/v1/campaigns/{id}/resume", "admin", function(req)
    local c = must_campaign(req)
    if c.status ~= "paused" then return destek.error(409, "not_paused", "the campaign is not paused") end
    destek.db.exec("UPDATE campaigns_campaigns SET status = 'sending', started_at = coalesce(started_at, ?2) WHERE id = ?1",
                   c.id, os.time())
    send.schedule(c, os.time())
    destek.audit("campaigns.resumed", "campaign:" .. c.id)
    return 200, out(send.campaign_of(c.id), true)
  end, { params = "id:int" })

  -- Per-recipient results: ?status=queued|sent|skipped, ?reason=no_consent|no_address|erased.
  destek.route("GET", "/api/v1/campaigns/{id}/recipients", "agent", function(req)
    local c = must_campaign(req)
    local limit, after = destek.cursor(req)
    local status, reason = req.query.status or "", req.query.reason or ""
    local rows = destek.db.query("SELECT r.id, r.contact_id, r.status, r.reason, r.message_id, r.at, r.bounce, c.name, c.email, c.phone," ..
      " m.status AS delivery, m.last_error, m.delivery AS report, m.delivery_error FROM campaigns_recipients r JOIN core_contacts c ON c.id = r.contact_id" ..
      " LEFT JOIN core_messages m ON m.id = r.message_id WHERE r.campaign_id = ?1 AND r.id > ?2" ..
      " AND (?3 = '' OR r.status = ?3) AND (?4 = '' OR r.reason = ?4) ORDER BY r.id LIMIT ?5",
      c.id, after, status, reason, limit + 1)
    local next_after
    if #rows > limit then rows[#rows] = nil; next_after = rows[#rows].id end
    for i, r in ipairs(rows) do
      rows[i] = { id = r.id, contact_id = r.contact_id, name = r.name, email = r.email, phone = r.phone, status = r.status,
                  reason = r.reason, message_id = r.message_id, at = util.iso(r.at),
                  delivery = r.delivery == "sent" and "delivered" or r.delivery, error = r.last_error,
                  report = r.report, report_error = r.delivery_error, bounce = r.bounce }
    end
    return 200, destek.list(rows, next_after)
  end, { params = "id:int" })

  -- Tags of a contact, for segments.
  destek.route("GET", "/api/v1/campaign-tags/{contact_id}", "agent", function(req)
    local tags = {}
    for _, r in ipairs(destek.db.query("SELECT tag FROM campaigns_tags WHERE contact_id = ?1 ORDER BY tag",
                                       math.tointeger(req.params.contact_id))) do
      tags[#tags + 1] = r.tag
    end
    return 200, { contact_id = math.tointeger(req.params.contact_id), tags = destek.json.array(tags) }
  end, { params = "contact_id:int" })

  destek.route("PUT", "/api/v1/campaign-tags/{contact_id}", "agent", function(req)
    local id = math.tointeger(req.params.contact_id)
    local b = body_of(req)
    if type(b.tags) ~= "table" or #b.tags > 50 then util.fail("tags", "tags is a list of at most 50 tags") end
    local c = destek.call("contacts.get", { id = id })
    if not c then return destek.error(404, "not_found", "no such contact") end
    local tags = {}
    for _, t in ipairs(b.tags) do tags[#tags + 1] = util.tag(t, "tags") end
    destek.db.exec("DELETE FROM campaigns_tags WHERE contact_id = ?1", id)
    for _, t in ipairs(tags) do
      destek.db.exec("INSERT OR IGNORE INTO campaigns_tags(contact_id, tag) VALUES (?1, ?2)", id, t)
    end
    table.sort(tags)
    return 200, { contact_id = id, tags = destek.json.array(tags) }
  end, { params = "contact_id:int", max_body = 8192 })

  -- The import of a consent list (import.lua): {name, csv}. All or nothing.
  destek.route("POST", "/api/v1/campaign-imports", "admin", function(req)
    local b = body_of(req)
    local name = util.need_text(b, "name", 200)
    if type(b.csv) ~= "string" then util.fail("csv", "csv is the file's text") end
    local count, problems = import.record_csv(b.csv)
    if not count then
      return 422, { error = { code = "invalid_rows", message = #problems .. " row(s) of the file are refused; nothing was" ..
                    " imported", rows = problems } }
    end
    local r = destek.db.exec("INSERT INTO campaigns_imports(name, rows, created_by, created_at) VALUES (?1, ?2, ?3, ?4)",
                             name, count, req.user.id, os.time())
    destek.audit("campaigns.consent_imported", "import:" .. r.last_id, { rows = count, name = name })
    return 201, { id = r.last_id, name = name, rows = count }
  end, { max_body = 8 * 1024 * 1024 })

  destek.route("GET", "/api/v1/campaign-imports", "admin", function(req)
    local limit, after = destek.cursor(req)
    local rows = destek.db.query("SELECT * FROM campaigns_imports WHERE (?1 = 0 OR id < ?1) ORDER BY id DESC LIMIT ?2",
                                 after, limit + 1)
    local next_after
    if #rows > limit then rows[#rows] = nil; next_after = rows[#rows].id end
    for i, r in ipairs(rows) do
      rows[i] = { id = r.id, name = r.name, rows = r.rows, created_by = r.created_by, created_at = util.iso(r.created_at) }
    end
    return 200, destek.list(rows, next_after)
  end)
end

return {
  name = "campaigns",
  version = "1.0.0",
  events = { "campaign" },
  settings = {
    { name = "campaigns.per_second", type = "int", default = 100,
      description = "Messages a second a new campaign hands to the send path unless it says (1 to 2000)" },
    { name = "campaigns.daily_cap", type = "int", default = 0,
      description = "Most campaign messages a day across campaigns, for the SMTP account's limit (0: no cap)" },
    { name = "campaigns.iys_enabled", type = "bool", default = false,
      description = "Keep the consent ledger in step with İYS (push ONAY/RET, pull changes made on İYS)" },
    { name = "campaigns.iys_url", type = "string", default = "https://api.iys.org.tr",
      description = "İYS API address (sandbox: https://api.sandbox.iys.org.tr)" },
    { name = "campaigns.iys_code", type = "string", default = "", description = "İYS code of the company (iysCode)" },
    { name = "campaigns.iys_brand_code", type = "string", default = "", description = "İYS brand code (brandCode)" },
    { name = "campaigns.iys_username", type = "string", default = "", description = "İYS API user" },
    { name = "campaigns.iys_password", type = "string", default = "", secret = true, description = "İYS API password" },
    { name = "campaigns.coupon_format", type = "string", default = "XXXX-XXXX",
      description = "Format of generated coupon codes: each X a random letter or digit (at least 6), the rest kept" },
    { name = "campaigns.order_days", type = "int", default = 7,
      description = "Days after a campaign's message in which the recipient's orders count for the campaign" },
    { name = "campaigns.track_clicks", type = "bool", default = true,
      description = "Links of campaign mails go through a signed redirect that counts clicks (needs mail.public_url)" },
    { name = "campaigns.track_opens", type = "bool", default = true,
      description = "HTML campaign mails carry a 1x1 image that counts opens where the mail client loads images (needs" ..
                    " mail.public_url)" },
    table.unpack(sms.SETTINGS),
  },
  i18n = {
    tr = { test = "TEST" },
    en = { test = "TEST" },
  },
  init = function()
    send.register()
    register_routes()
    iys.register()
    sms.register()
    require("report").register()   -- campaigns.report_facts for the reports module (report.lua)
    coupons.register()
    tracking.register()
    specialdays.register(fields)
    destek.service("campaigns.contact_merged", function(m)
      destek.db.exec("UPDATE OR IGNORE campaigns_tags SET contact_id = ?1 WHERE contact_id = ?2", m.id, m.source_id)
      destek.db.exec("DELETE FROM campaigns_tags WHERE contact_id = ?1", m.source_id)
      destek.db.exec("UPDATE OR IGNORE campaigns_recipients SET contact_id = ?1 WHERE contact_id = ?2", m.id, m.source_id)
      specialdays.contact_merged(m)
      return {}
    end)
    destek.service("campaigns.contact_export", function(p)
      return {
        tags = destek.db.query("SELECT tag FROM campaigns_tags WHERE contact_id = ?1", p.id),
        campaigns = destek.db.query("SELECT r.campaign_id, c.name, r.status, r.reason, r.at FROM campaigns_recipients r" ..
                                    " JOIN campaigns_campaigns c ON c.id = r.campaign_id WHERE r.contact_id = ?1", p.id),
        birthday = specialdays.contact_export(p),
        coupons = destek.db.query("SELECT code, given_at FROM campaigns_coupons WHERE contact_id = ?1", p.id),
      }
    end)
    destek.service("campaigns.contact_erase", function(person)
      destek.db.exec("DELETE FROM campaigns_tags WHERE contact_id = ?1", person.id)
      specialdays.contact_erase(person)
      return {}
    end)
  end,
}

-- feedback/nps.lua: NPS surveys (0-10 and "why?") to the people who bought in a window, found through the orders
-- module's service orders.buyers. A promotional survey is a commercial message (law 6563): it goes through the core's
-- send path (the service consent.send, commercial), which sends only to a contact with a current e-mail ONAY in the
-- consent ledger and adds the one-click refusal; a contact without one is not asked. Non-promotional surveys (a
-- question about a purchase) go as service mail. On a core without the ledger a promotional survey is refused
-- (409 consent_unavailable). Sending
-- is throttled (per_minute) by a timer that gathers the buyers page by page, then mails a batch a minute; each
-- contact is asked once per survey (UNIQUE) and answers once.
local destek = require "destek"
local util = require "util"

local nps = {}
local LINK_DAYS = 60

local function survey_of(id) return destek.db.query("SELECT * FROM feedback_surveys WHERE id = ?1", id)[1] end
local function send_of(id) return destek.db.query("SELECT * FROM feedback_survey_sends WHERE id = ?1", id)[1] end

local function iso_arg(v, field)
  local t = util.parse_time(v)
  if not t then error(destek.error(422, "invalid_field", field .. " is a date (2026-11-01) or a UTC time", field)) end
  return util.iso(t)
end

-- Whether the core keeps a consent ledger (consent.state answers); nil and a reason when it does not.
local function ledger()
  local res, err = destek.call("consent.state", { contact_id = 1, channel = "email" })
  if res or err.status ~= 501 then return true end
  return nil, "consent_unavailable"
end

local function out(s)
  local counts = destek.db.query("SELECT count(*) AS total, sum(status = 'queued') AS queued, sum(status <> 'queued') AS sent," ..
                                 " sum(status = 'answered') AS answered FROM feedback_survey_sends WHERE survey_id = ?1", s.id)[1]
  return { id = s.id, name = s.name, question_tr = s.question_tr, question_en = s.question_en,
           promotional = s.promotional == 1, bought_from = s.bought_from, bought_to = s.bought_to, per_minute = s.per_minute,
           status = s.status, collected = s.collected == 1, created_at = util.iso(s.created_at), started_at = util.iso(s.started_at),
           recipients = counts.total, queued = counts.queued or 0, sent = counts.sent or 0, answered = counts.answered or 0 }
end

local function mail_of(s, row, base)
  local lang = row.lang
  local sig = destek.sign("nps:" .. row.id, os.time() + LINK_DAYS * util.DAY)
  local link = function(score) return base .. "/feedback/nps/" .. row.id .. "?score=" .. score .. "&sig=" .. sig end
  local question = lang == "en" and s.question_en or s.question_tr
  local hello = (row.name and row.name ~= "") and util.t("mail.hello_name", lang, { name = row.name }) or util.t("mail.hello", lang)
  local lines = { hello, "", question, "" }
  local buttons = {}
  for i = 0, 10 do
    lines[#lines + 1] = i .. ": " .. link(i)
    buttons[#buttons + 1] = { label = tostring(i), url = link(i) }
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = util.t("nps.mail_footer", lang)
  return util.t("nps.mail_subject", lang), table.concat(lines, "\n"),
         util.mail_html(lang, { hello, question, util.t("nps.scale", lang) }, buttons, util.t("nps.mail_footer", lang))
end

-- The sending timer: first gathers the buyers (a page of 500 a run), then mails per_minute a minute.
local function tick(key, payload)
  local s = survey_of(math.tointeger(payload.id))
  if not s or s.status ~= "sending" then return end
  local now = os.time()
  if s.collected == 0 then
    local page, err = destek.call("orders.buyers", { from = s.bought_from, to = s.bought_to, after = s.collect_after, limit = 500 })
    if not page then
      if err.status == 501 then
        destek.log.warn("survey " .. s.id .. ": the orders module is not installed; no buyers to ask")
        destek.db.exec("UPDATE feedback_surveys SET collected = 1, status = 'sent' WHERE id = ?1", s.id)
        return
      end
      error(err)
    end
    for _, b in ipairs(page.items) do
      if b.email and b.email ~= destek.json.null and b.email ~= "" then
        local lang = "tr"
        local c = destek.call("contacts.get", { id = b.contact_id })
        if c and c.lang then lang = util.lang(c.lang) end
        destek.db.exec("INSERT OR IGNORE INTO feedback_survey_sends(survey_id, contact_id, email, name, lang, status)" ..
                       " VALUES (?1, ?2, ?3, ?4, ?5, 'queued')", s.id, b.contact_id, b.email, b.name, lang)
      end
    end
    local next_after = page.next_after ~= destek.json.null and page.next_after or nil
    destek.db.exec("UPDATE feedback_surveys SET collect_after = ?2, collected = ?3 WHERE id = ?1", s.id,
                   next_after or s.collect_after, next_after and 0 or 1)
    destek.timer_at("feedback.survey", s.id .. ":collect:" .. (next_after or "done"), now, { id = s.id })
    return
  end
  local batch = destek.db.query("SELECT * FROM feedback_survey_sends WHERE survey_id = ?1 AND status = 'queued'" ..
                                " ORDER BY id LIMIT ?2", s.id, s.per_minute)
  local base = util.base_url()
  for _, row in ipairs(batch) do
    do
      local subject, text, html = mail_of(s, row, base)
      local ok, err
      if s.promotional == 1 then
        -- The core refuses it without the contact's current ONAY (checked again when it is sent) and adds the
        -- List-Unsubscribe headers and the free refusal text.
        ok, err = destek.call("consent.send", { contact_id = row.contact_id, commercial = true, subject = subject,
                                                body = text })
        if not ok and (err.code == "no_consent" or err.code == "no_address" or err.status == 404) then
          destek.db.exec("DELETE FROM feedback_survey_sends WHERE id = ?1", row.id)   -- no consent: not asked
          goto continue
        end
      else
        ok, err = util.mail("feedback:survey:" .. row.id, row.email, row.name or "", subject, text, html)
      end
      if not ok then
        if err.status == 503 or err.status == 501 then
          destek.log.warn("survey " .. s.id .. ": mail is not configured; sending paused")
          destek.timer_at("feedback.survey", s.id .. ":retry:" .. now, now + 300, { id = s.id })
          return
        end
        error(err)
      end
      destek.db.exec("UPDATE feedback_survey_sends SET status = 'sent', sent_at = ?2 WHERE id = ?1", row.id, now)
    end
    ::continue::
  end
  local left = destek.db.query("SELECT count(*) AS n FROM feedback_survey_sends WHERE survey_id = ?1 AND status = 'queued'", s.id)[1].n
  -- (a new key each time: the timer that is running is dropped when it ends, with any reschedule under its key)
  if left > 0 then destek.timer_at("feedback.survey", s.id .. ":batch:" .. now, now + 60, { id = s.id })
  else destek.db.exec("UPDATE feedback_surveys SET status = 'sent' WHERE id = ?1", s.id) end
end

-- promoters 9-10, passives 7-8, detractors 0-6; NPS = % promoters - % detractors.
local function figures(rows)
  local p, pa, d = 0, 0, 0
  for _, r in ipairs(rows) do
    if r.score >= 9 then p = p + 1 elseif r.score >= 7 then pa = pa + 1 else d = d + 1 end
  end
  local n = p + pa + d
  return { answered = n, promoters = p, passives = pa, detractors = d,
           nps = n > 0 and math.floor((100 * (p - d) / n) + 0.5) or destek.json.null }
end

function nps.results(survey_id)
  local rows = destek.db.query("SELECT score, answered_at FROM feedback_survey_sends WHERE status = 'answered'" ..
                               " AND (?1 = 0 OR survey_id = ?1) ORDER BY answered_at", survey_id)
  local res = figures(rows)
  -- The trend: week by week (the Monday the week starts on, UTC).
  local weeks, order = {}, {}
  for _, r in ipairs(rows) do
    local days = r.answered_at // util.DAY
    local monday = (days - ((days + 3) % 7)) * util.DAY
    local k = os.date("!%Y-%m-%d", monday)
    if not weeks[k] then weeks[k] = {}; order[#order + 1] = k end
    table.insert(weeks[k], r)
  end
  local trend = {}
  for _, k in ipairs(order) do
    local f = figures(weeks[k])
    f.week = k
    trend[#trend + 1] = f
  end
  res.trend = destek.json.array(trend)
  return res
end

local function must_survey(req)
  local s = survey_of(util.int(req.params.id))
  if not s then error(destek.error(404, "not_found", "no such survey")) end
  return s
end

local function verified(req, sig)
  local row = send_of(util.int(req.params.id))
  local ok, why = false, "bad"
  if row then ok, why = destek.verify("nps:" .. row.id, sig or "") end
  if not ok then
    local lang = util.page_lang(req, destek.lang())
    return nil, (why == "expired" and 410 or 404), util.render("message", { t = destek.strings(lang), lang = lang,
      title = destek.t(why == "expired" and "link.expired" or "link.invalid", lang) }, req)
  end
  return row
end

local function page(req, row, sig, chosen, err)
  local s = survey_of(row.survey_id)
  local lang = util.page_lang(req, row.lang)
  local scores = {}
  for i = 0, 10 do scores[#scores + 1] = { value = i, checked = (i == chosen) } end
  return util.render("nps", { t = destek.strings(lang), lang = lang, id = row.id, sig = sig, scores = scores,
    question = lang == "en" and s.question_en or s.question_tr, error = err }, req)
end

function nps.register()
  destek.timer("feedback.survey", tick)

  destek.route("GET", "/api/v1/feedback/surveys", "agent", function(req)
    local limit, after = destek.cursor(req)
    local rows = destek.db.query("SELECT * FROM feedback_surveys WHERE (?1 = 0 OR id < ?1) ORDER BY id DESC LIMIT ?2", after, limit + 1)
    local next_after
    if #rows > limit then rows[#rows] = nil; next_after = rows[#rows].id end
    for i, s in ipairs(rows) do rows[i] = out(s) end
    return 200, destek.list(rows, next_after)
  end)

  destek.route("POST", "/api/v1/feedback/surveys", "admin", function(req)
    local b = req.json
    if type(b) ~= "table" then return destek.error(400, "bad_json", "send a JSON object") end
    local name = util.text(b.name, 200)
    if not name or name == "" then return destek.error(422, "invalid_field", "name: 1 to 200 bytes", "name") end
    local qtr = util.text(b.question_tr or destek.t("nps.default_question", "tr"), 500)
    local qen = util.text(b.question_en or destek.t("nps.default_question", "en"), 500)
    if not qtr or qtr == "" then return destek.error(422, "invalid_field", "question_tr: 1 to 500 bytes", "question_tr") end
    if not qen or qen == "" then return destek.error(422, "invalid_field", "question_en: 1 to 500 bytes", "question_en") end
    if b.promotional ~= nil and type(b.promotional) ~= "boolean" then
      return destek.error(422, "invalid_field", "promotional is true or false", "promotional")
    end
    local from, to = iso_arg(b.bought_from, "bought_from"), iso_arg(b.bought_to, "bought_to")
    if from >= to then return destek.error(422, "invalid_field", "bought_to must be after bought_from", "bought_to") end
    local per_minute = util.int(b.per_minute or 60)
    if not per_minute or per_minute < 1 or per_minute > 1000 then
      return destek.error(422, "invalid_field", "per_minute is 1 to 1000", "per_minute")
    end
    local r = destek.db.exec("INSERT INTO feedback_surveys(name, question_tr, question_en, promotional, bought_from, bought_to," ..
      " per_minute, status, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'draft', ?8, ?9)",
      name, qtr, qen, b.promotional and 1 or 0, from, to, per_minute, req.user.id, os.time())
    destek.audit("feedback.survey_created", "survey:" .. r.last_id)
    return 201, out(survey_of(r.last_id))
  end, { max_body = 16384 })

  destek.route("GET", "/api/v1/feedback/surveys/{id}", "agent", function(req)
    return 200, out(must_survey(req))
  end, { params = "id:int" })

  destek.route("POST", "/api/v1/feedback/surveys/{id}/send", "admin", function(req)
    local s = must_survey(req)
    if s.status ~= "draft" then return destek.error(409, "already_sent", "the survey is being sent or was sent") end
    if s.promotional == 1 then
      local _, why = ledger()
      if why == "consent_unavailable" then
        return destek.error(409, "consent_unavailable", "this survey is promotional: it may go only to contacts with recorded" ..
          " consent, and this server keeps no consent ledger. Send a non-promotional survey instead.")
      end
    end
    destek.db.exec("UPDATE feedback_surveys SET status = 'sending', started_at = ?2 WHERE id = ?1", s.id, os.time())
    destek.timer_at("feedback.survey", tostring(s.id), os.time(), { id = s.id })
    destek.audit("feedback.survey_sent", "survey:" .. s.id)
    return 202, out(survey_of(s.id))
  end, { params = "id:int" })

  destek.route("GET", "/api/v1/feedback/surveys/{id}/results", "agent", function(req)
    local s = must_survey(req)
    local res = nps.results(s.id)
    res.survey = out(s)
    -- The latest answers with the customer's "why?" (no names or addresses: the figures are what the screen is for).
    local answers = destek.db.query("SELECT score, reason, answered_at FROM feedback_survey_sends WHERE survey_id = ?1" ..
                                    " AND status = 'answered' ORDER BY answered_at DESC, id DESC LIMIT 100", s.id)
    for i, a in ipairs(answers) do
      answers[i] = { score = a.score, reason = a.reason or destek.json.null, answered_at = util.iso(a.answered_at) }
    end
    res.answers = destek.json.array(answers)
    return 200, res
  end, { params = "id:int" })

  destek.route("GET", "/api/v1/feedback/nps", "agent", function() return 200, nps.results(0) end)

  destek.page("/feedback/nps/{id}", function(req)
    local row, status, pg = verified(req, req.query.sig)
    if not row then return status, pg end
    if row.status == "answered" then
      local lang = util.page_lang(req, row.lang)
      return 200, util.render("thanks", { t = destek.strings(lang), lang = lang, title = destek.t("nps.thanks", lang),
        detail = util.t("nps.recorded", lang, { score = row.score }) }, req)
    end
    return 200, page(req, row, req.query.sig, util.int(req.query.score))
  end, { params = "id:int", noindex = true })

  destek.route("POST", "/feedback/nps/{id}", "public", function(req)
    local f = req.form or {}
    local row, status, pg = verified(req, f.sig)
    if not row then return status, pg end
    local lang = util.page_lang(req, row.lang)
    if row.status == "answered" then
      return 200, util.render("thanks", { t = destek.strings(lang), lang = lang, title = destek.t("nps.thanks", lang),
        detail = util.t("nps.recorded", lang, { score = row.score }) }, req)
    end
    local score = util.int(f.score)
    if not score or score < 0 or score > 10 then return 422, page(req, row, f.sig, nil, destek.t("nps.pick", lang)) end
    local reason = util.text(f.reason, 2000)
    if not reason then return 422, page(req, row, f.sig, score, destek.t("csat.too_long", lang)) end
    destek.db.exec("UPDATE feedback_survey_sends SET status = 'answered', score = ?2, reason = ?3, answered_at = ?4 WHERE id = ?1",
                   row.id, score, reason ~= "" and reason or nil, os.time())
    destek.emit("survey.answered", { id = row.id, survey_id = row.survey_id, contact_id = row.contact_id, score = score },
                "survey:" .. row.survey_id)
    return 200, util.render("thanks", { t = destek.strings(lang), lang = lang, title = destek.t("nps.thanks", lang),
      detail = util.t("nps.recorded", lang, { score = score }) }, req)
  end, { params = "id:int", max_body = 16384 })
end

return nps

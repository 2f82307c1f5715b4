-- feedback/csat.lua: "How did we do?" after a solved ticket. The question is scheduled when ticketing says
-- ticket.solved, mailed after feedback.csat_delay_minutes in the ticket's customer's language (once per ticket,
-- at most once a week per contact), and answered on a page the mail's 1-5 links open: opening the page records
-- nothing (a link scanner's GET changes nothing), one click on "Send" records the score and the optional comment.
-- The score goes back to the ticket (ticketing.rate: ticket.rated, the admins' triggers) and out as csat.rated.
local destek = require "destek"
local util = require "util"

local csat = {}
local WEEK = 7 * util.DAY
local LINK_DAYS = 30

local function get(id)
  return destek.db.query("SELECT * FROM feedback_csat WHERE id = ?1", id)[1]
end

function csat.by_ticket(ticket_id)
  return destek.db.query("SELECT * FROM feedback_csat WHERE ticket_id = ?1", ticket_id)[1]
end

local function sig_for(id, sent_at)
  return destek.sign("csat:" .. id, (sent_at or os.time()) + LINK_DAYS * util.DAY)
end

-- ticket.solved (after commit, at least once): one question per ticket, scheduled after the delay.
local function on_solved(ev)
  local ticket_id = math.tointeger(ev.id)
  if not ticket_id or csat.by_ticket(ticket_id) then return end
  if not destek.setting("feedback.csat_enabled") then return end
  local c = ev.customer or {}
  local now = os.time()
  local due = now + math.max(0, destek.setting("feedback.csat_delay_minutes") or 0) * 60
  local email = c.email ~= destek.json.null and c.email or nil
  local r = destek.db.exec("INSERT INTO feedback_csat(ticket_id, reference, contact_id, email, name, lang, agent_id, team_id," ..
    " status, skip_reason, due_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    ticket_id, ev.reference or ("#" .. ticket_id), math.tointeger(c.id), email, c.name ~= destek.json.null and c.name or nil,
    util.lang(c.lang), math.tointeger(ev.assignee_id), math.tointeger(ev.team_id),
    email and "scheduled" or "skipped", (not email) and "no_email" or nil, due, now)
  if email then destek.timer_at("feedback.csat", tostring(r.last_id), due, { id = r.last_id }) end
end

-- The question's mail: five one-click links, each opening the page with that score chosen.
local function mail_of(q, base, sig)
  local lang = q.lang
  local link = function(score) return base .. "/feedback/csat/" .. q.id .. "?score=" .. score .. "&sig=" .. sig end
  local vars = { reference = q.reference, name = q.name or "" }
  local subject = util.t("csat.mail_subject", lang, vars)
  local hello = (q.name and q.name ~= "") and util.t("mail.hello_name", lang, vars) or util.t("mail.hello", lang)
  local lines = { hello, "", util.t("csat.mail_intro", lang, vars), "" }
  local buttons = {}
  for s = 5, 1, -1 do
    local label = s .. " - " .. util.t("csat.score_" .. s, lang)
    lines[#lines + 1] = label .. ": " .. link(s)
    buttons[#buttons + 1] = { label = label, url = link(s) }
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = util.t("csat.mail_footer", lang)
  local html = util.mail_html(lang, { hello, util.t("csat.mail_intro", lang, vars) }, buttons, util.t("csat.mail_footer", lang))
  return subject, table.concat(lines, "\n"), html
end

-- The timer: checks again (a reopened ticket, the weekly limit), then mails.
local function send(key, payload)
  local q = get(math.tointeger(payload.id))
  if not q or q.status ~= "scheduled" then return end
  local now = os.time()
  local function skip(reason)
    destek.db.exec("UPDATE feedback_csat SET status = 'skipped', skip_reason = ?2 WHERE id = ?1", q.id, reason)
  end
  local t = destek.call("ticketing.get", { ticket_id = q.ticket_id })
  if t and t.status ~= "solved" and t.status ~= "closed" then return skip("reopened") end
  if q.contact_id then
    local recent = destek.db.query("SELECT count(*) AS n FROM feedback_csat WHERE contact_id = ?1 AND id <> ?2" ..
                                   " AND sent_at IS NOT NULL AND sent_at > ?3", q.contact_id, q.id, now - WEEK)[1].n
    if recent > 0 then return skip("weekly_limit") end
  end
  local base = util.base_url(nil, q.ticket_id)
  local subject, text, html = mail_of(q, base, sig_for(q.id, now))
  local ok, err = util.mail("feedback:csat:" .. q.id, q.email, q.name or "", subject, text, html)
  if not ok then
    if err.status == 503 or err.status == 501 then return skip("mail_not_configured") end
    error(err)
  end
  destek.db.exec("UPDATE feedback_csat SET status = 'sent', sent_at = ?2 WHERE id = ?1", q.id, now)
  destek.emit("csat.requested", { id = q.id, ticket_id = q.ticket_id, contact_id = q.contact_id }, "ticket:" .. q.ticket_id)
end

-- Records an answer (once). Raises an error value for a bad score; answers the row after.
function csat.record(q, score, comment, via)
  if q.score then error(destek.error(409, "already_answered", "this question was already answered")) end
  score = util.int(score)
  if not score or score < 1 or score > 5 then error(destek.error(422, "invalid_field", "score is 1 to 5", "score")) end
  comment = util.text(comment, 2000)
  if not comment then error(destek.error(422, "invalid_field", "comment: text of at most 2000 bytes", "comment")) end
  local now = os.time()
  destek.db.exec("UPDATE feedback_csat SET status = 'answered', score = ?2, comment = ?3, answered_via = ?4," ..
                 " answered_at = ?5, sent_at = coalesce(sent_at, ?5) WHERE id = ?1", q.id, score,
                 comment ~= "" and comment or nil, via, now)
  destek.emit("csat.rated", { id = q.id, ticket_id = q.ticket_id, reference = q.reference, score = score,
                              has_comment = comment ~= "", agent_id = q.agent_id, team_id = q.team_id,
                              contact_id = q.contact_id }, "ticket:" .. q.ticket_id)
  local _, err = destek.call("ticketing.rate", { ticket_id = q.ticket_id, score = score, max = 5, source = "feedback",
                                                  comment = comment ~= "" and comment or nil })
  if err and err.status ~= 501 then error(err) end
  return get(q.id)
end

-- The service feedback.csat_rate {ticket_id, score, comment?, via} -> {id, ticket_id, score}: an answer given somewhere
-- else than the mail's page (the chat widget at the end of a chat, via "chat"); the caller has checked who answers.
-- Once per ticket (409 already_answered).
function csat.rate_service(args)
  local ticket_id = type(args) == "table" and util.int(args.ticket_id) or nil
  if not ticket_id then error(destek.error(422, "invalid_field", "ticket_id is required", "ticket_id")) end
  local via = type(args.via) == "string" and args.via:match("^[a-z_]+$") and #args.via <= 20 and args.via or "other"
  local q = csat.by_ticket(ticket_id)
  if not q then
    local tk, err = destek.call("ticketing.get", { ticket_id = ticket_id })
    if not tk then error(err) end
    local function id_of(v, k) return math.tointeger(v[k .. "_id"]) or (type(v[k]) == "table" and math.tointeger(v[k].id)) end
    local customer_id = id_of(tk, "customer")
    local c = customer_id and destek.call("contacts.get", { id = customer_id }) or {}
    for _, k in ipairs({ "email", "name", "lang" }) do if c[k] == destek.json.null then c[k] = nil end end
    local now = os.time()
    local r = destek.db.exec("INSERT INTO feedback_csat(ticket_id, reference, contact_id, email, name, lang, agent_id, team_id," ..
      " status, due_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'scheduled', ?9, ?9)", ticket_id,
      type(tk.reference) == "string" and tk.reference or ("#" .. ticket_id), customer_id, c.email, c.name, util.lang(c.lang),
      id_of(tk, "assignee"), id_of(tk, "team"), now)
    q = get(r.last_id)
  end
  q = csat.record(q, args.score, args.comment, via)
  return { id = q.id, ticket_id = q.ticket_id, score = q.score }
end

-- ------------------------------------------------------------------------------------------------ pages

local function page_data(q, lang, extra)
  local t = destek.strings(lang)
  local d = { t = t, lang = lang, reference = q.reference, id = q.id }
  for k, v in pairs(extra or {}) do d[k] = v end
  return d
end

local function verified(req, sig)
  local id = util.int(req.params.id)
  local q = id and get(id)
  local ok, why = false, "bad"
  if q then ok, why = destek.verify("csat:" .. q.id, sig or "") end
  if not ok then
    local lang = util.page_lang(req, destek.lang())
    return nil, (why == "expired" and 410 or 404), util.render("message", {
      t = destek.strings(lang), lang = lang, title = destek.t(why == "expired" and "link.expired" or "link.invalid", lang) }, req)
  end
  return q
end

local function scores(lang, chosen)
  local out = {}
  for s = 1, 5 do out[#out + 1] = { value = s, label = util.t("csat.score_" .. s, lang), checked = (s == chosen) } end
  return out
end

function csat.register()
  destek.on_async("ticket.solved", on_solved)
  destek.timer("feedback.csat", send)

  -- The page a mail's link opens: the score it names chosen, a comment box, one button. Nothing is recorded here.
  destek.page("/feedback/csat/{id}", function(req)
    local q, status, page = verified(req, req.query.sig)
    if not q then return status, page end
    local lang = util.page_lang(req, q.lang)
    if q.score then
      return 200, util.render("thanks", page_data(q, lang, { title = util.t("csat.thanks", lang),
        detail = util.t("csat.recorded", lang, { score = q.score }) }), req)
    end
    local chosen = util.int(req.query.score)
    return 200, util.render("csat", page_data(q, lang, { sig = req.query.sig, scores = scores(lang, chosen),
      question = util.t("csat.question", lang, { reference = q.reference }) }), req)
  end, { params = "id:int", noindex = true })

  -- One click: the score and the comment.
  destek.route("POST", "/feedback/csat/{id}", "public", function(req)
    local f = req.form or {}
    local q, status, page = verified(req, f.sig)
    if not q then return status, page end
    local lang = util.page_lang(req, q.lang)
    if q.score then
      return 200, util.render("thanks", page_data(q, lang, { title = util.t("csat.thanks", lang),
        detail = util.t("csat.recorded", lang, { score = q.score }) }), req)
    end
    local score = util.int(f.score)
    if not score or score < 1 or score > 5 then
      return 422, util.render("csat", page_data(q, lang, { sig = f.sig, scores = scores(lang, nil),
        question = util.t("csat.question", lang, { reference = q.reference }), error = util.t("csat.pick", lang) }), req)
    end
    local comment = util.text(f.comment, 2000)
    if not comment then
      return 422, util.render("csat", page_data(q, lang, { sig = f.sig, scores = scores(lang, score),
        question = util.t("csat.question", lang, { reference = q.reference }), error = util.t("csat.too_long", lang) }), req)
    end
    q = csat.record(q, score, comment, "mail")
    return 200, util.render("thanks", page_data(q, lang, { title = util.t("csat.thanks", lang),
      detail = util.t("csat.recorded", lang, { score = q.score }) }), req)
  end, { params = "id:int", max_body = 16384 })

  -- The ticket's page in the customer portal (ticketing's signed link): whether to offer the question, and the
  -- answer. A solved ticket not asked yet gets its row now; a scheduled mail then is not sent (the row is answered).
  local function portal_ticket(number, sig)
    local t, err = destek.call("ticketing.link_check", { number = number, sig = sig })
    if not t then
      if err.status == 501 then error(destek.error(404, "not_found", "no such ticket")) end
      error(err)
    end
    return t
  end
  destek.route("GET", "/api/v1/public/feedback/csat", "public", function(req)
    local t = portal_ticket(util.int(req.query.number) or 0, req.query.sig or "")
    local q = csat.by_ticket(t.ticket_id)
    local solved = t.status == "solved" or t.status == "closed"
    return 200, { offered = solved and destek.setting("feedback.csat_enabled") or (q ~= nil and q.score ~= nil),
                  score = q and q.score or destek.json.null }
  end)
  destek.route("POST", "/api/v1/public/feedback/csat", "public", function(req)
    local b = req.json
    if type(b) ~= "table" then return destek.error(400, "bad_json", "send a JSON object") end
    local t = portal_ticket(util.int(b.number) or 0, b.sig or "")
    if t.status ~= "solved" and t.status ~= "closed" then
      return destek.error(409, "not_solved", "a ticket is rated once it is solved")
    end
    local q = csat.by_ticket(t.ticket_id)
    if not q then
      local c = destek.call("contacts.get", { id = t.customer_id }) or {}
      for _, k in ipairs({ "email", "name", "lang" }) do if c[k] == destek.json.null then c[k] = nil end end
      local tk = destek.call("ticketing.get", { ticket_id = t.ticket_id }) or {}
      local now = os.time()
      local r = destek.db.exec("INSERT INTO feedback_csat(ticket_id, reference, contact_id, email, name, lang, agent_id, team_id," ..
        " status, due_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'scheduled', ?9, ?9)", t.ticket_id, t.reference,
        t.customer_id, c.email, c.name, util.lang(c.lang), math.tointeger(tk.assignee_id), math.tointeger(tk.team_id), now)
      q = get(r.last_id)
    end
    q = csat.record(q, b.score, b.comment, "portal")
    return 200, { offered = true, score = q.score }
  end, { max_body = 16384 })

  -- The agents: a ticket's question and answer (the panel beside the ticket).
  destek.route("GET", "/api/v1/feedback/csat", "agent", function(req)
    local ticket_id = util.int(req.query.ticket_id)
    if ticket_id then
      local q = csat.by_ticket(ticket_id)
      local items = destek.json.array({})
      if q then items[1] = csat.out(q) end
      return 200, { items = items, next_cursor = destek.json.null }
    end
    local limit, after = destek.cursor(req)
    local rows = destek.db.query("SELECT * FROM feedback_csat WHERE score IS NOT NULL AND (?1 = 0 OR id < ?1)" ..
                                 " ORDER BY id DESC LIMIT ?2", after, limit + 1)
    local next_after
    if #rows > limit then rows[#rows] = nil; next_after = rows[#rows].id end
    for i, q in ipairs(rows) do rows[i] = csat.out(q) end
    return 200, destek.list(rows, next_after)
  end)

  -- Figures: answered, average, CSAT (share of 4 and 5), overall, per agent and per team, over ?days (30).
  destek.route("GET", "/api/v1/feedback/csat/report", "agent", function(req)
    local days = util.int(req.query.days or 30)
    if not days or days < 1 or days > 3650 then return destek.error(422, "invalid_field", "days is 1 to 3650", "days") end
    local since = os.time() - days * util.DAY
    local function figures(where_col)
      local sql = "SELECT " .. (where_col and (where_col .. " AS key, ") or "") ..
        "count(*) AS answered, round(avg(score), 2) AS average, round(100.0 * sum(score >= 4) / count(*), 1) AS csat," ..
        " sum(score <= 2) AS bad FROM feedback_csat WHERE score IS NOT NULL AND answered_at >= ?1" ..
        (where_col and (" AND " .. where_col .. " IS NOT NULL GROUP BY " .. where_col .. " ORDER BY answered DESC LIMIT 200") or "")
      return destek.db.query(sql, since)
    end
    local overall = figures(nil)[1]
    local sent = destek.db.query("SELECT count(*) AS n FROM feedback_csat WHERE sent_at >= ?1", since)[1].n
    overall.sent = sent
    overall.response_rate = sent > 0 and math.floor(1000 * overall.answered / sent + 0.5) / 10 or destek.json.null
    local agents = figures("agent_id")
    for _, a in ipairs(agents) do
      a.agent_id = a.key; a.key = nil
      local u = destek.db.query("SELECT name FROM core_users WHERE id = ?1", a.agent_id)[1]
      a.name = u and u.name or destek.json.null
    end
    local teams = figures("team_id")
    for _, tm in ipairs(teams) do tm.team_id = tm.key; tm.key = nil end
    return 200, { days = days, overall = overall, agents = destek.json.array(agents), teams = destek.json.array(teams) }
  end)
end

function csat.out(q)
  return { id = q.id, ticket_id = q.ticket_id, reference = q.reference, status = q.status, skip_reason = q.skip_reason,
           score = q.score, comment = q.comment, agent_id = q.agent_id, team_id = q.team_id,
           due_at = util.iso(q.due_at), sent_at = util.iso(q.sent_at), answered_at = util.iso(q.answered_at),
           answered_via = q.answered_via }
end

return csat

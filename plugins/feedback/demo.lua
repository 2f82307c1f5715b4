-- feedback/demo.lua: the demo desk's feedback (the feedback.demo service, which `destek demo` runs after the
-- ticketing and orders demos): CSAT answers on solved tickets, product reviews of delivered demo orders in every
-- state of moderation (with rules, moderators and a reply), and an NPS survey with answers over the last weeks.
-- Loaded only when `destek demo` asks. A desk that has feedback is left as it is, unless --force.
local destek = require "destek"
local util = require "util"

local demo = {}

local COMMENTS = { "Çok hızlı döndünüz, teşekkürler!", "Sorunum aynı gün çözüldü.", "Biraz geç yanıt aldım ama ilgilendiniz.",
  "Kargo konusunda net bilgi verilmedi.", "Harika bir destek deneyimiydi.", "", "", "" }
local REVIEWS = {
  { 5, "Kumaşı çok kaliteli, bedeni tam oldu. Tavsiye ederim." }, { 4, "Rengi fotoğraftakinden biraz koyu ama güzel." },
  { 5, "Hızlı kargo, özenli paketleme. Teşekkürler!" }, { 3, "Ürün fena değil, dikişleri daha sağlam olabilirdi." },
  { 2, "İlk yıkamada biraz çekti, bir beden büyük alın." }, { 1, "Beklediğim gibi çıkmadı, iade ettim." },
  { 4, "Fiyatına göre gayet iyi." }, { 5, "İkinci kez alıyorum, yine çok memnunum." },
}

local function add_stats(product, rating)
  local col = "s" .. math.tointeger(rating)
  destek.db.exec("INSERT INTO feedback_product_stats(product, updated_at) VALUES (?1, ?2) ON CONFLICT(product) DO NOTHING",
                 product, os.time())
  destek.db.exec("UPDATE feedback_product_stats SET count = count + 1, total = total + ?2, " .. col .. " = " .. col ..
                 " + 1, updated_at = ?3 WHERE product = ?1", product, rating, os.time())
end

function demo.fill(args)
  local have = destek.db.query("SELECT (SELECT count(*) FROM feedback_csat) + (SELECT count(*) FROM feedback_reviews) +" ..
                               " (SELECT count(*) FROM feedback_surveys) AS n")[1].n
  if have > 0 and not args.force then return { message = "feedback: left as it is" } end
  local now = os.time()
  local admin = destek.db.query("SELECT id FROM core_users WHERE role = 'admin' AND active = 1 ORDER BY id LIMIT 1")[1]
  local moderator = admin and admin.id or 1

  -- CSAT on the solved tickets (through ticketing.get: the module reads no other module's tables).
  local scores, n_csat = { 5, 5, 4, 5, 4, 3, 5, 2, 4, 5, 1, 4 }, 0
  for id = 1, 150 do
    local t = destek.call("ticketing.get", { ticket_id = id })
    if t and (t.status == "solved" or t.status == "closed") and not destek.db.query("SELECT 1 AS x FROM feedback_csat WHERE ticket_id = ?1", id)[1] then
      local c = t.customer or {}
      local email = c.email ~= destek.json.null and c.email or nil
      n_csat = n_csat + 1
      local score = scores[n_csat % #scores + 1]
      local sent = now - (n_csat * 7919 % 28) * util.DAY - 3600
      local answered = n_csat % 4 ~= 0
      local comment = COMMENTS[n_csat % #COMMENTS + 1]
      local q = destek.db.exec("INSERT INTO feedback_csat(ticket_id, reference, contact_id, email, name, lang, agent_id, team_id, status," ..
        " due_at, sent_at, score, comment, answered_via, answered_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9," ..
        " ?10, ?10, ?11, ?12, ?13, ?14, ?10)", id, t.reference or ("#" .. id), math.tointeger(c.id), email,
        c.name ~= destek.json.null and c.name or nil, util.lang(c.lang), math.tointeger(t.assignee_id),
        math.tointeger(t.team_id), answered and "answered" or "sent", sent, answered and score or nil,
        (answered and comment ~= "") and comment or nil, answered and "mail" or nil, answered and (sent + 5400) or nil).last_id
      -- The event an answer emits (csat.lua): the reports module counts an answer when it hears it.
      if answered then
        destek.emit("csat.rated", { id = q, ticket_id = id, reference = t.reference or ("#" .. id), score = score,
                                    has_comment = comment ~= "", agent_id = math.tointeger(t.assignee_id),
                                    team_id = math.tointeger(t.team_id), contact_id = math.tointeger(c.id) }, "ticket:" .. id)
      end
    end
  end

  -- `destek demo` runs the modules' demos in name order, and the orders module's comes after this one: the reviews
  -- and the survey, which need its orders, are made by a timer when the server next starts.
  destek.timer_at("feedback.demo", "orders", now, {})
  return { message = string.format("feedback: %d CSAT questions (reviews and an NPS survey follow from the demo orders" ..
                                   " when the server starts)", n_csat) }
end

-- The timer: reviews of delivered demo orders and an NPS survey to the demo buyers (left alone when there are any).
-- Ten buyers a run (a Lua call has 250 ms): the run for `from` does buyers from+1 .. from+10 and schedules the next.
function demo.orders_part(from)
  from = from or 0
  local survey = destek.db.query("SELECT id FROM feedback_surveys WHERE name = 'Demo NPS'")[1]
  if from == 0 and (survey or destek.db.query("SELECT count(*) AS n FROM feedback_reviews")[1].n > 0) then return end
  local now = os.time()
  local admin = destek.db.query("SELECT id FROM core_users WHERE role = 'admin' AND active = 1 ORDER BY id LIMIT 1")[1]
  local moderator = admin and admin.id or 1
  local page = destek.call("orders.buyers", { from = "2000-01-01T00:00:00Z", to = "2100-01-01T00:00:00Z", limit = 60 })
  local all = page and page.items or {}
  local buyers = {}
  for i = from + 1, math.min(from + 10, #all) do buyers[#buyers + 1] = all[i] end
  -- Reviews of the demo shop's delivered orders, and an NPS survey to its buyers.
  local n_reviews, n_answers = 0, 0
  if #buyers > 0 then
    local s = survey and survey.id or destek.db.exec("INSERT INTO feedback_surveys(name, question_tr, question_en, promotional, bought_from, bought_to," ..
      " per_minute, status, collected, created_by, created_at, started_at) VALUES ('Demo NPS', ?1, ?2, 0, '2000-01-01T00:00:00Z'," ..
      " '2100-01-01T00:00:00Z', 60, 'sent', 1, ?3, ?4, ?4)", destek.t("nps.default_question", "tr"),
      destek.t("nps.default_question", "en"), moderator, now - 56 * util.DAY).last_id
    survey = { id = s }
    local nps_scores = { 10, 9, 8, 10, 6, 9, 7, 10, 3, 9, 8, 10, 5, 9 }
    for k, b in ipairs(buyers) do
      local i = from + k
      if b.email and b.email ~= destek.json.null then
        local answered = i % 3 ~= 0
        local sent = now - (i * 3 % 56) * util.DAY - 7200
        local score = answered and nps_scores[i % #nps_scores + 1] or nil
        local row = destek.db.exec("INSERT OR IGNORE INTO feedback_survey_sends(survey_id, contact_id, email, name, lang, status, score, reason," ..
          " sent_at, answered_at) VALUES (?1, ?2, ?3, ?4, 'tr', ?5, ?6, ?7, ?8, ?9)", s, b.contact_id, b.email, b.name,
          answered and "answered" or "sent", score,
          (answered and i % 2 == 0) and "Kargo hızlıydı, ürünler özenle paketlenmişti." or nil, sent, answered and sent + 3600 or nil)
        if answered and row.changes > 0 then
          n_answers = n_answers + 1
          -- The event an answer emits (nps.lua), for the reports module.
          destek.emit("survey.answered", { id = row.last_id, survey_id = s, contact_id = b.contact_id, score = score },
                      "survey:" .. s)
        end
      end
      if i <= 30 then
        local found = destek.call("orders.find", { contact_id = b.contact_id })
        local summary = found and found.items[1]
        local full = summary and destek.call("orders.find", { number = summary.number })
        local o = full and full.items[1]
        if o and o.items and #o.items > 0 and not destek.db.query("SELECT 1 AS x FROM feedback_review_requests WHERE order_id = ?1", o.id)[1] then
          local items = {}
          for _, it in ipairs(o.items) do
            items[#items + 1] = { sku = (it.sku ~= destek.json.null and it.sku ~= "" and it.sku) or it.name, name = it.name }
          end
          local delivered = now - (i % 20 + 1) * util.DAY
          local rq = destek.db.exec("INSERT INTO feedback_review_requests(order_id, order_number, contact_id, email, name, lang, items," ..
            " delivered_at, expires_at, status, sent_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'tr', ?6, ?7, ?8, 'sent', ?7, ?7)",
            o.id, o.number, b.contact_id, b.email, b.name, destek.json.encode(items), delivered, delivered + 45 * util.DAY).last_id
          local rv = REVIEWS[i % #REVIEWS + 1]
          local status = (i % 7 == 0) and "pending" or (i % 11 == 0) and "rejected" or "approved"
          local rule = status == "approved" and "meets_rules" or status == "rejected" and "off_topic" or nil
          local created = delivered + 2 * util.DAY
          local r = destek.db.exec("INSERT INTO feedback_reviews(request_id, product, product_name, order_number, contact_id, email," ..
            " author, lang, rating, body, verified, status, rule, moderator_id, moderated_at, reply, reply_by, reply_at, created_at)" ..
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'tr', ?8, ?9, 1, ?10, ?11, ?12, ?13, ?14, ?12, ?13, ?15)",
            rq, items[1].sku, items[1].name, o.number, b.contact_id, b.email, util.short_name(b.name), rv[1], rv[2], status, rule,
            rule and moderator or nil, rule and created + 3600 or nil,
            (status == "approved" and rv[1] <= 3) and "Geri bildiriminiz için teşekkürler; sizinle iletişime geçtik." or nil, created).last_id
          if rule then
            destek.db.exec("INSERT INTO feedback_moderation(review_id, decision, rule, moderator_id, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                           r, status, rule, moderator, created + 3600)
          end
          if status == "approved" then add_stats(items[1].sku, rv[1]) end
          n_reviews = n_reviews + 1
        end
      end
    end
  end
  if from + 10 < #all then destek.timer_at("feedback.demo", "orders:" .. (from + 10), now, { from = from + 10 }) end
  destek.log.info(string.format("demo: buyers %d to %d: %d reviews, %d NPS answers", from + 1, from + #buyers, n_reviews, n_answers))
end

return demo

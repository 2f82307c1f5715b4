-- feedback/reviews.lua: product reviews from buyers. When a shipment of an order is delivered (orders'
-- shipment.created / shipment.updated with status Delivered), the buyer is asked for a review by mail with a signed
-- link valid 45 days after the delivery; the link's page takes stars, text and photos for each product of the order.
-- Only a request's products can be reviewed (a review from a non-buyer is refused), and every review is marked as a
-- verified purchase. Moderation rejects only by a written rule (RULES), keeps each decision with its rule and its
-- moderator, and tells a rejected reviewer why. The shop replies in public. A 1-2 star review can open a ticket.
-- The public JSON API and the widget (static/widget.js) show a product's approved reviews, with CORS and no cookies.
local destek = require "destek"
local util = require "util"

local reviews = {}
local VALID_DAYS = 45
local BODY_MAX, REPLY_MAX, NOTE_MAX = 5000, 3000, 1000

-- The written rules a review may be rejected by (Turkish advertising rules: a shop may not hide negative reviews
-- selectively). "meets_rules" is the rule of an approval.
reviews.RULES = { "abuse", "personal_data", "spam", "off_topic" }
local RULE_SET = { abuse = true, personal_data = true, spam = true, off_topic = true }

local function request_of(id) return destek.db.query("SELECT * FROM feedback_review_requests WHERE id = ?1", id)[1] end
local function review_of(id) return destek.db.query("SELECT * FROM feedback_reviews WHERE id = ?1", id)[1] end

local function sig_for(rq) return destek.sign("review:" .. rq.id, rq.expires_at) end

-- shipment.created / shipment.updated: a delivered shipment's order gets one review request.
local function on_shipment(ev)
  if ev.status ~= "Delivered" or not ev.order_number then return end
  if not destek.setting("feedback.reviews_enabled") then return end
  local found, err = destek.call("orders.find", { number = ev.order_number })
  if not found then error(err) end
  local o = found.items[1]
  if not o or destek.db.query("SELECT 1 AS x FROM feedback_review_requests WHERE order_id = ?1", o.id)[1] then return end
  local items = {}
  for _, it in ipairs(o.items or {}) do
    local sku = (it.sku ~= nil and it.sku ~= destek.json.null and it.sku ~= "") and it.sku or it.name
    items[#items + 1] = { sku = sku, name = it.name }
  end
  if #items == 0 then return end
  local delivered = util.parse_time(ev.delivered_at) or os.time()
  local customer = o.customer or {}
  local function val(v) if v == nil or v == destek.json.null or v == "" then return nil end return v end
  local lang = "tr"
  local contact_id = math.tointeger(val(customer.contact_id))
  if contact_id then
    local c = destek.call("contacts.get", { id = contact_id })
    if c and c.lang then lang = util.lang(c.lang) end
  end
  local email, name = val(customer.email), val(customer.name)
  local now = os.time()
  local due = now + math.max(0, destek.setting("feedback.review_delay_hours") or 0) * 3600
  local r = destek.db.exec("INSERT INTO feedback_review_requests(order_id, order_number, contact_id, email, name, lang, items," ..
    " delivered_at, expires_at, status, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    o.id, o.number, contact_id, email, name, lang, destek.json.encode(items), delivered, delivered + VALID_DAYS * util.DAY,
    email and "scheduled" or "skipped", now)
  if email then destek.timer_at("feedback.review_request", tostring(r.last_id), due, { id = r.last_id }) end
end

local function send_request(key, payload)
  local rq = request_of(math.tointeger(payload.id))
  if not rq or rq.status ~= "scheduled" then return end
  if rq.expires_at <= os.time() then
    destek.db.exec("UPDATE feedback_review_requests SET status = 'skipped' WHERE id = ?1", rq.id)
    return
  end
  local lang = rq.lang
  local link = util.base_url() .. "/feedback/review/" .. rq.id .. "?sig=" .. sig_for(rq)
  local vars = { number = rq.order_number, name = rq.name or "", until_date = os.date("!%d.%m.%Y", rq.expires_at) }
  local hello = (rq.name and rq.name ~= "") and util.t("mail.hello_name", lang, vars) or util.t("mail.hello", lang)
  local intro = util.t("review.mail_intro", lang, vars)
  local text = table.concat({ hello, "", intro, "", link, "", util.t("review.mail_footer", lang, vars) }, "\n")
  local html = util.mail_html(lang, { hello, intro }, { { label = util.t("review.mail_button", lang), url = link } },
                              util.t("review.mail_footer", lang, vars))
  local ok, err = util.mail("feedback:review-request:" .. rq.id, rq.email, rq.name or "",
                            util.t("review.mail_subject", lang, vars), text, html)
  if not ok then
    if err.status == 503 or err.status == 501 then
      destek.db.exec("UPDATE feedback_review_requests SET status = 'skipped' WHERE id = ?1", rq.id)
      return
    end
    error(err)
  end
  destek.db.exec("UPDATE feedback_review_requests SET status = 'sent', sent_at = ?2 WHERE id = ?1", rq.id, os.time())
end

-- A product's approved reviews, summed up, kept with each change of status.
local function stats_add(product, rating, delta)
  reviews.changed()
  local col = "s" .. rating
  destek.db.exec("INSERT INTO feedback_product_stats(product, updated_at) VALUES (?1, ?2) ON CONFLICT(product) DO NOTHING",
                 product, os.time())
  destek.db.exec("UPDATE feedback_product_stats SET count = count + ?2, total = total + ?3, " .. col .. " = " .. col ..
                 " + ?2, updated_at = ?4 WHERE product = ?1", product, delta, delta * rating, os.time())
end
-- (col is "s1".."s5", made from a checked integer rating: no text of a person reaches the SQL.)

-- A review from a request (a buyer) for one of its products. Raises an error value for a mistake.
function reviews.submit(rq, sig, product, rating, body, files)
  local ok, why = destek.verify("review:" .. rq.id, sig or "")
  if not ok then
    if why == "expired" then error(destek.error(410, "link_expired", "the review link has expired (45 days after delivery)")) end
    error(destek.error(403, "not_a_buyer", "only a buyer's signed review link can post a review"))
  end
  local item
  for _, it in ipairs(destek.json.decode(rq.items)) do if it.sku == product then item = it end end
  if not item then error(destek.error(422, "not_purchased", "this product is not in the order: only buyers review", "product")) end
  rating = util.int(rating)
  if not rating or rating < 1 or rating > 5 then error(destek.error(422, "invalid_field", "rating is 1 to 5 stars", "rating")) end
  body = util.text(body, BODY_MAX)
  if not body or body == "" then error(destek.error(422, "invalid_field", "text of 1 to 5000 bytes", "body")) end
  if destek.db.query("SELECT 1 AS x FROM feedback_reviews WHERE request_id = ?1 AND product = ?2", rq.id, product)[1] then
    error(destek.error(409, "already_reviewed", "this product of this order has a review already"))
  end
  local now = os.time()
  local r = destek.db.exec("INSERT INTO feedback_reviews(request_id, product, product_name, order_number, contact_id, email," ..
    " author, lang, rating, body, verified, status, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, 'pending', ?11)",
    rq.id, product, item.name or product, rq.order_number, rq.contact_id, rq.email, util.short_name(rq.name), rq.lang,
    rating, body, now)
  local id = r.last_id
  for _, f in ipairs(files or {}) do
    local file_id, info = destek.files.save(f, { images_only = true })
    if not file_id then error(destek.error(415, "not_an_image", info or "photos must be JPEG, PNG, WebP or GIF", "photos")) end
    destek.db.exec("INSERT INTO feedback_review_photos(review_id, file_id, type, size) VALUES (?1, ?2, ?3, ?4)",
                   id, file_id, info.type, info.size)
  end
  destek.emit("review.submitted", { id = id, product = product, rating = rating, order_number = rq.order_number,
                                    verified = true }, "review:" .. id)
  -- A 1-2 star review can open a ticket (feedback.review_ticket_max_stars; 0: never).
  local max_stars = destek.setting("feedback.review_ticket_max_stars") or 0
  if rating <= max_stars and rq.email then
    local opened, err = destek.call("ticketing.open", {
      subject = util.t("review.ticket_subject", rq.lang, { stars = rating, product = item.name or product }),
      body = body, customer = { email = rq.email, name = rq.name, lang = rq.lang }, channel = "api",
      tags = { "review" }, order_number = rq.order_number })
    if opened then destek.db.exec("UPDATE feedback_reviews SET ticket_id = ?2 WHERE id = ?1", id, opened.id)
    elseif err.status ~= 501 then error(err) end
  end
  return review_of(id)
end

local function photos_of(id)
  local out = {}
  for _, p in ipairs(destek.db.query("SELECT id, file_id FROM feedback_review_photos WHERE review_id = ?1 ORDER BY id", id)) do
    out[#out + 1] = { id = p.id, url = "/feedback/photos/" .. p.file_id }
  end
  return destek.json.array(out)
end

-- What the public sees of an approved review.
local function public_out(r)
  return { id = r.id, rating = r.rating, body = r.body, author = r.author, verified = r.verified == 1,
           created_at = util.iso(r.created_at), photos = photos_of(r.id),
           reply = r.reply and { body = r.reply, at = util.iso(r.reply_at) } or destek.json.null }
end

function reviews.agent_out(r)
  local o = public_out(r)
  o.product = r.product; o.product_name = r.product_name; o.order_number = r.order_number; o.status = r.status
  o.rule = r.rule; o.moderator_id = r.moderator_id; o.moderated_at = util.iso(r.moderated_at); o.ticket_id = r.ticket_id
  o.lang = r.lang
  o.decisions = destek.json.array(destek.db.query("SELECT decision, rule, note, moderator_id, at FROM feedback_moderation" ..
    " WHERE review_id = ?1 ORDER BY id", r.id))
  for _, d in ipairs(o.decisions) do d.at = util.iso(d.at) end
  return o
end

-- A moderation decision: approve ("meets_rules") or reject by one written rule; kept with its moderator.
function reviews.moderate(r, user, decision, rule, note)
  if decision ~= "approve" and decision ~= "reject" then
    error(destek.error(422, "invalid_field", "decision is approve or reject", "decision"))
  end
  note = util.text(note, NOTE_MAX)
  if not note then error(destek.error(422, "invalid_field", "note: at most 1000 bytes of text", "note")) end
  if decision == "reject" then
    if not RULE_SET[rule or ""] then
      error(destek.error(422, "rule_required", "a review is rejected only by a written rule: abuse, personal_data, spam or off_topic", "rule"))
    end
  else
    rule = "meets_rules"
  end
  local status = decision == "approve" and "approved" or "rejected"
  if r.status == status then error(destek.error(409, "already_" .. status, "the review is " .. status .. " already")) end
  local now = os.time()
  if r.status == "approved" then stats_add(r.product, r.rating, -1) end
  if status == "approved" then stats_add(r.product, r.rating, 1) end
  reviews.changed()
  destek.db.exec("UPDATE feedback_reviews SET status = ?2, rule = ?3, moderator_id = ?4, moderated_at = ?5 WHERE id = ?1",
                 r.id, status, rule, user.id, now)
  local m = destek.db.exec("INSERT INTO feedback_moderation(review_id, decision, rule, note, moderator_id, at)" ..
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", r.id, status, rule, note ~= "" and note or nil, user.id, now)
  destek.audit("feedback.review_" .. status, "review:" .. r.id, { rule = rule })
  destek.emit("review.moderated", { id = r.id, product = r.product, decision = status, rule = rule, moderator_id = user.id },
              "review:" .. r.id)
  if status == "rejected" and r.email then
    -- The reviewer is told why: the rule in their language, and the moderator's note.
    local lang = r.lang
    local vars = { product = r.product_name, rule = util.t("rule." .. rule, lang) }
    local lines = { util.t("mail.hello", lang), "", util.t("review.rejected_intro", lang, vars), "",
                    util.t("review.rejected_rule", lang, vars) }
    if note ~= "" then lines[#lines + 1] = util.t("review.rejected_note", lang, { note = note }) end
    lines[#lines + 1] = ""
    lines[#lines + 1] = util.t("review.rejected_footer", lang)
    local paragraphs = { util.t("mail.hello", lang), util.t("review.rejected_intro", lang, vars),
                         util.t("review.rejected_rule", lang, vars) }
    if note ~= "" then paragraphs[#paragraphs + 1] = util.t("review.rejected_note", lang, { note = note }) end
    local ok, err = util.mail("feedback:review-rejected:" .. r.id .. ":" .. m.last_id, r.email, "",
      util.t("review.rejected_subject", lang, vars), table.concat(lines, "\n"),
      util.mail_html(lang, paragraphs, nil, util.t("review.rejected_footer", lang)))
    if not ok and err.status ~= 503 and err.status ~= 501 then error(err) end
  end
  return review_of(r.id)
end

-- The public list of a product as JSON text: its figures and a page of approved reviews, newest first
-- ({product, rating: {count, average, stars: {"1".."5"}}, items: [...], next_cursor}). Built by SQLite in one
-- statement (the figures row, the page and its photos): the widget's JSON is the module's hottest path.
local PUBLIC_SQL = [[
WITH page AS (
  SELECT id, rating, body, author, verified, created_at, reply, reply_at FROM feedback_reviews
  WHERE product = ?1 AND status = 'approved' AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3 + 1
), shown AS (SELECT * FROM page ORDER BY id DESC LIMIT ?3)
SELECT json_object(
  'product', ?1,
  'rating', json_object('count', coalesce(s.count, 0),
                        'average', CASE WHEN s.count > 0 THEN round(1.0 * s.total / s.count, 2) END,
                        'stars', json_object('1', coalesce(s.s1, 0), '2', coalesce(s.s2, 0), '3', coalesce(s.s3, 0),
                                             '4', coalesce(s.s4, 0), '5', coalesce(s.s5, 0))),
  'items', (SELECT json_group_array(json(x)) FROM (SELECT json_object(
      'id', r.id, 'rating', r.rating, 'body', r.body, 'author', r.author,
      'verified', json(CASE WHEN r.verified = 1 THEN 'true' ELSE 'false' END),
      'created_at', strftime('%Y-%m-%dT%H:%M:%SZ', r.created_at, 'unixepoch'),
      'photos', (SELECT json_group_array(json_object('id', p.id, 'url', '/feedback/photos/' || p.file_id))
                 FROM feedback_review_photos p WHERE p.review_id = r.id),
      'reply', CASE WHEN r.reply IS NOT NULL THEN json_object('body', r.reply,
                 'at', strftime('%Y-%m-%dT%H:%M:%SZ', r.reply_at, 'unixepoch')) END) AS x
    FROM shown r ORDER BY r.id DESC)),
  'next_cursor', CASE WHEN (SELECT count(*) FROM page) > ?3 THEN CAST((SELECT min(id) FROM shown) AS TEXT) END
) AS doc FROM (SELECT 1) LEFT JOIN feedback_product_stats s ON s.product = ?1
]]

-- The widget's JSON. The host keeps each answer in its page cache, shared by every worker (the route's `cache`
-- option), until a review, its reply or a product's figures change: every such write drops the cache
-- (reviews.changed), so a decision shows at once.
function reviews.public_json(product, limit, after)
  return destek.db.query(PUBLIC_SQL, product, after, limit)[1].doc
end

-- What the public JSON shows changed: the host's copies go, now and again after the commit.
function reviews.changed() destek.cache.clear() end

local function must_review(req)
  local r = review_of(util.int(req.params.id))
  if not r then error(destek.error(404, "not_found", "no such review")) end
  return r
end

local function verified_request(req, sig)
  local rq = request_of(util.int(req.params.id))
  local ok, why = false, "bad"
  if rq then ok, why = destek.verify("review:" .. rq.id, sig or "") end
  return rq, ok, why
end

local function form_page(req, rq, sig, lang, extra)
  local done = {}
  for _, r in ipairs(destek.db.query("SELECT product, status FROM feedback_reviews WHERE request_id = ?1", rq.id)) do
    done[r.product] = true
  end
  local items = {}
  for _, it in ipairs(destek.json.decode(rq.items)) do
    items[#items + 1] = { sku = it.sku, name = it.name, done = done[it.sku] or false }
  end
  local stars = {}
  for s = 5, 1, -1 do stars[#stars + 1] = { value = s, label = util.t("review.stars_" .. s, lang) } end
  local d = { t = destek.strings(lang), lang = lang, id = rq.id, sig = sig, items = items, stars = stars,
              number = rq.order_number, until_date = os.date("!%d.%m.%Y", rq.expires_at) }
  for k, v in pairs(extra or {}) do d[k] = v end
  return util.render("review", d, req)
end

function reviews.register()
  destek.on_async("shipment.created", on_shipment)
  destek.on_async("shipment.updated", on_shipment)
  destek.timer("feedback.review_request", send_request)

  -- The buyer's page: every product of the order with stars, text and photos (one form per product).
  destek.page("/feedback/review/{id}", function(req)
    local rq, ok, why = verified_request(req, req.query.sig)
    local lang = util.page_lang(req, rq and rq.lang or destek.lang())
    if not ok then
      return (why == "expired" and 410 or 404), util.render("message", { t = destek.strings(lang), lang = lang,
        title = destek.t(why == "expired" and "link.review_expired" or "link.invalid", lang) }, req)
    end
    return 200, form_page(req, rq, req.query.sig, lang)
  end, { params = "id:int", noindex = true })

  destek.route("POST", "/feedback/review/{id}", "public", function(req)
    local rq = request_of(util.int(req.params.id))
    local lang = util.page_lang(req, rq and rq.lang or destek.lang())
    local form = req.form or {}
    if not rq then return 404, util.render("message", { t = destek.strings(lang), lang = lang, title = destek.t("link.invalid", lang) }, req) end
    local files = {}
    for _, f in ipairs(req.files or {}) do if f.size > 0 then files[#files + 1] = f end end
    local ok, res = pcall(reviews.submit, rq, form.sig, form.product, form.rating, form.body, files)
    if not ok then
      if type(res) ~= "userdata" and type(res) ~= "table" then error(res) end
      local e = res
      local status = e.status or 422
      if status == 403 or status == 410 then
        return status, util.render("message", { t = destek.strings(lang), lang = lang,
          title = destek.t(status == 410 and "link.review_expired" or "link.invalid", lang) }, req)
      end
      return status, form_page(req, rq, form.sig, lang, { error = destek.t("review.error_" .. (e.code or "invalid"), lang) })
    end
    return 200, util.render("thanks", { t = destek.strings(lang), lang = lang, title = destek.t("review.thanks", lang),
      detail = destek.t("review.pending", lang), back = "/feedback/review/" .. rq.id .. "?sig=" .. form.sig .. "&lang=" .. lang }, req)
  end, { params = "id:int", uploads = { max_files = 4, max_file_bytes = 5000000, images_only = true } })

  -- The same for an integration (JSON): {request_id, sig, product, rating, body}. No photos.
  destek.route("POST", "/api/v1/public/reviews", "public", function(req)
    local b = req.json
    if type(b) ~= "table" then return destek.error(400, "bad_json", "send a JSON object") end
    local rq = request_of(util.int(b.request_id) or 0)
    if not rq then return destek.error(403, "not_a_buyer", "only a buyer's signed review link can post a review") end
    local r = reviews.submit(rq, b.sig, b.product, b.rating, b.body, nil)
    return 201, { id = r.id, status = r.status, verified = true }
  end, { max_body = 16384 })

  -- The public figures and reviews of a product (the widget's JSON): CORS for every site, no cookies, cacheable.
  destek.route("GET", "/api/v1/public/reviews", "public", function(req)
    local product = util.text(req.query.product, 200)
    if not product or product == "" then return destek.error(422, "invalid_field", "product (the SKU) is required", "product") end
    local limit = util.int(req.query.limit or 10)
    if not limit or limit < 1 or limit > 50 then return destek.error(422, "invalid_field", "limit is 1 to 50", "limit") end
    local after = util.int(req.query.cursor or 0)
    if not after or after < 0 then return destek.error(422, "invalid_cursor", "bad cursor", "cursor") end
    local max_age = destek.setting("feedback.widget_cache_seconds") or 0
    return 200, reviews.public_json(product, limit, after), {
      ["Content-Type"] = "application/json; charset=utf-8",
      ["Access-Control-Allow-Origin"] = "*", ["Cache-Control"] = "public, max-age=" .. max_age }
  end, { cache = { query = { "product", "limit", "cursor" } } })

  destek.route("GET", "/feedback/photos/{file}", "public", function(req)
    local f = req.params.file
    local p = destek.db.query("SELECT p.file_id FROM feedback_review_photos p JOIN feedback_reviews r ON r.id = p.review_id" ..
                              " WHERE p.file_id = ?1 AND r.status = 'approved'", f)[1]
    if not p then return destek.error(404, "not_found", "no such photo") end
    return destek.files.serve(p.file_id)
  end, { params = "file:text" })

  destek.route("GET", "/feedback/widget.js", "public", function() return destek.asset("widget.js") end)

  -- Agents: the moderation queue (?status=pending by default), a review, decisions, replies, the rules.
  destek.route("GET", "/api/v1/feedback/reviews", "agent", function(req)
    local status = req.query.status or "pending"
    if status ~= "pending" and status ~= "approved" and status ~= "rejected" and status ~= "all" then
      return destek.error(422, "invalid_field", "status is pending, approved, rejected or all", "status")
    end
    local limit, after = destek.cursor(req)
    local rows = destek.db.query("SELECT * FROM feedback_reviews WHERE (?1 = 'all' OR status = ?1) AND (?2 = 0 OR id < ?2)" ..
                                 " ORDER BY id DESC LIMIT ?3", status, after, limit + 1)
    local next_after
    if #rows > limit then rows[#rows] = nil; next_after = rows[#rows].id end
    for i, r in ipairs(rows) do rows[i] = reviews.agent_out(r) end
    return 200, destek.list(rows, next_after)
  end)

  destek.route("GET", "/api/v1/feedback/reviews/{id}", "agent", function(req)
    return 200, reviews.agent_out(must_review(req))
  end, { params = "id:int" })

  destek.route("POST", "/api/v1/feedback/reviews/{id}/moderate", "agent", function(req)
    local b = req.json
    if type(b) ~= "table" then return destek.error(400, "bad_json", "send a JSON object") end
    local r = reviews.moderate(must_review(req), req.user, b.decision, b.rule, b.note)
    return 200, reviews.agent_out(r)
  end, { params = "id:int", max_body = 8192 })

  destek.route("POST", "/api/v1/feedback/reviews/{id}/reply", "agent", function(req)
    local b = req.json
    if type(b) ~= "table" then return destek.error(400, "bad_json", "send a JSON object") end
    local r = must_review(req)
    local body = util.text(b.body, REPLY_MAX)
    if not body then return destek.error(422, "invalid_field", "body: text of at most 3000 bytes", "body") end
    reviews.changed()
    destek.db.exec("UPDATE feedback_reviews SET reply = ?2, reply_by = ?3, reply_at = ?4 WHERE id = ?1",
                   r.id, body ~= "" and body or nil, req.user.id, os.time())
    destek.emit("review.replied", { id = r.id, product = r.product, removed = body == "" }, "review:" .. r.id)
    return 200, reviews.agent_out(review_of(r.id))
  end, { params = "id:int", max_body = 16384 })

  -- Agents: an order's review request (when it was delivered, until when its link works, whether it was mailed).
  destek.route("GET", "/api/v1/feedback/review-requests", "agent", function(req)
    local number = util.text(req.query.order_number, 100)
    if not number or number == "" then return destek.error(422, "invalid_field", "order_number is required", "order_number") end
    local items = {}
    for _, rq in ipairs(destek.db.query("SELECT * FROM feedback_review_requests WHERE order_number = ?1", number)) do
      items[#items + 1] = { id = rq.id, order_number = rq.order_number, status = rq.status, items = destek.json.decode(rq.items),
        delivered_at = util.iso(rq.delivered_at), expires_at = util.iso(rq.expires_at), sent_at = util.iso(rq.sent_at) }
    end
    return 200, { items = destek.json.array(items), next_cursor = destek.json.null }
  end)

  destek.route("GET", "/api/v1/feedback/rules", "agent", function(req)
    local lang = req.user.lang
    local items = {}
    for _, r in ipairs(reviews.RULES) do
      items[#items + 1] = { rule = r, label = destek.t("rule." .. r, lang), text = destek.t("rule_text." .. r, lang) }
    end
    return 200, { items = items }
  end)
end

return reviews

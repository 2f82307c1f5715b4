-- returns/portal.lua: the customer's side, server-rendered and working without JavaScript (it opens on phones, from
-- a link in a mail). /returns asks for the order number and the order's e-mail or phone (as /track does); the
-- items form is signed for that order and contact for an hour; a request answers with the return's own page,
-- /returns/r/<code>?sig=..., which shows its status and history and takes the customer's messages (to the ticket)
-- and the return parcel's tracking number.
local destek = require "destek"
local order = require "order"
local flow = require "flow"

local portal = {}

local FORM_SECONDS = 3600
local MAX_PHOTOS = 3

local function lang_of(req)
  local l = req.query.lang
  if not l and req.method == "POST" then
    local ok, f = pcall(function() return req.form end)
    l = ok and f and f.lang or nil
  end
  if l == "tr" or l == "en" then return l end
  return destek.lang()
end

local function page(status, name, lang, data)
  data.t = destek.strings(lang)
  data.lang = lang
  -- The shop's face: the orders module's name for it, else the core's shop.* settings (logo, KVKK notice; the
  -- colour comes with /shop/theme.css).
  data.shop = flow.setting("orders.shop_name", nil) or flow.setting("shop.name", nil) or data.t.title
  data.logo = flow.setting("shop.logo_url", nil)
  data.privacy_url = flow.setting("shop.privacy_url", nil)
  data.other_lang = lang == "tr" and "en" or "tr"
  data.other_label = lang == "tr" and "English" or "Türkçe"
  data.lang_href = data.lang_href or ("/returns?lang=" .. data.other_lang)
  return status, destek.render(name, data), { ["Cache-Control"] = "no-store" }
end

local function trim(s)
  if type(s) ~= "string" then return nil end
  s = s:gsub("^%s+", ""):gsub("%s+$", "")
  return s ~= "" and s or nil
end

-- The items form for order o, contact as typed; err: a message to show, failed: the form's values to keep.
local function items_form(status, lang, o, contact, err, values)
  values = values or {}
  local sig = destek.sign("form:" .. o.number .. "\n" .. contact, os.time() + FORM_SECONDS)
  local taken = flow.returned_quantities(o.number)
  local t = destek.strings(lang)
  local items = {}
  for line, it in ipairs(o.items or {}) do
    local left = (it.quantity or 0) - (taken[line] or 0)
    local v = values[line] or {}
    local reasons, outcomes = {}, {}
    for _, r in ipairs(flow.REASONS) do
      reasons[#reasons + 1] = { value = r, label = t["reason_" .. r], selected = v.reason == r }
    end
    for _, x in ipairs(flow.OUTCOMES) do
      outcomes[#outcomes + 1] = { value = x, label = t["outcome_" .. x], selected = v.outcome == x }
    end
    local qty = {}
    for q = 0, math.max(left, 0) do qty[#qty + 1] = { value = q, selected = (v.quantity or 0) == q } end
    items[#items + 1] = { line = line, name = it.name, variant = it.variant, ordered = it.quantity,
                          can_return = left > 0, quantities = qty, reasons = reasons, outcomes = outcomes,
                          comment = v.comment, exchange_variant = v.variant }
  end
  return page(status, "items", lang, { order = o.number, contact = contact, sig = sig, items = items, error = err,
                                       cod = values.cod, iban = values.iban, iban_holder = values.iban_holder })
end

-- GET /returns
function portal.start(req)
  local lang = lang_of(req)
  return page(200, "start", lang, { number = req.query.order })
end

-- POST /returns: the order number and contact -> the items form, or the same 404 for a wrong contact and an
-- unknown number (someone else's order shows nothing).
function portal.lookup(req)
  local lang = lang_of(req)
  local number, contact = trim(req.form.order), trim(req.form.contact)
  -- Lookups are counted before the order is looked at (the right details wait too), per address and per order
  -- number: guessing someone's e-mail or phone for an order is slow.
  local window = flow.setting("returns.lookup_window_seconds", 600)
  local ok, wait = destek.rate_now("returns.lookup", "ip:" .. (req.ip or "?"), flow.setting("returns.lookup_limit", 10), window)
  if ok and number and #number <= 64 then
    ok, wait = destek.rate_now("returns.lookup", "order:" .. number:upper(), flow.setting("returns.lookup_number_limit", 20), window)
  end
  if not ok then
    local st, html, headers = page(429, "start", lang, { number = number, error = flow.fmt("too_many", lang, wait) })
    headers["Retry-After"] = tostring(wait)
    return st, html, headers
  end
  local o = number and contact and #contact <= 200 and order.find(number)
  if not o or not order.owned_by(o, contact) then
    return page(404, "start", lang, { number = number, error = destek.t("not_found", lang) })
  end
  return items_form(200, lang, o, contact)
end

-- POST /returns/new (multipart): the request.
function portal.create(req)
  -- A file that is not an image (whatever its name says) or is too big fails the body's parsing: the customer gets
  -- the form's first step again with why, in words, and the status (415, 413).
  local okb, form, files = pcall(function() return req.form, req.files end)
  local lang = lang_of(req)
  if not okb then
    local e = form
    if type(e) ~= "table" or not e.status then error(e) end
    return page(e.status, "start", lang, { error = destek.t(e.status == 415 and "err_not_image" or "err_too_large", lang) })
  end
  local number, contact, sig = trim(form.order), trim(form.contact), form.sig or ""
  if not number or not contact or not destek.verify("form:" .. number .. "\n" .. contact, sig) then
    return page(410, "start", lang, { number = number, error = destek.t("expired", lang) })
  end
  local o = order.find(number)
  if not o or not order.owned_by(o, contact) then
    return page(404, "start", lang, { number = number, error = destek.t("not_found", lang) })
  end
  local values = { cod = form.cod == "1", iban = trim(form.iban), iban_holder = trim(form.iban_holder) }
  local photos = {}
  for _, f in ipairs(files or {}) do
    local line = math.tointeger(tonumber((f.field or ""):match("^photo_(%d+)$")))
    if line and f.size > 0 then
      photos[line] = photos[line] or {}
      if #photos[line] < MAX_PHOTOS then table.insert(photos[line], f) end
    end
  end
  local items = {}
  for line = 1, #(o.items or {}) do
    local q = math.tointeger(tonumber(form["qty_" .. line] or "0")) or 0
    local v = { quantity = q, reason = form["reason_" .. line], outcome = form["outcome_" .. line],
                comment = trim(form["comment_" .. line]), variant = trim(form["variant_" .. line]) }
    values[line] = v
    if q > 0 then
      if v.comment and #v.comment > 2000 then v.comment = v.comment:sub(1, 2000) end
      if v.variant and #v.variant > 100 then v.variant = v.variant:sub(1, 100) end
      items[#items + 1] = { line = line, quantity = q, reason = v.reason, outcome = v.outcome, comment = v.comment,
                            variant = v.outcome == "exchange" and v.variant or nil, photos = photos[line] }
    end
  end
  local request = { lang = lang, cod = values.cod, iban = values.iban, iban_holder = values.iban_holder,
                    items = items, actor = "customer" }
  local now = os.time()
  local okc, checked = pcall(flow.check, o, request, now)
  if not okc then
    local e = checked
    if type(e) == "table" and e.status == 422 then return items_form(422, lang, o, contact, e.message, values) end
    error(e)
  end
  local r = flow.create(o, request, checked, now)
  return 303, nil, { Location = flow.page_path(r.code) .. "&lang=" .. lang }
end

local function load_signed(req)
  local code = req.params.code
  if not code:match("^IA%-[A-Z0-9]+$") then return nil end
  local sig = req.query.sig or (req.form and req.form.sig) or ""
  if not destek.verify("return:" .. code, sig) then return nil end
  return flow.by_code(code), sig
end

-- GET /returns/r/{code}?sig=: the return's page.
function portal.show(req)
  local lang = lang_of(req)
  local r, sig = load_signed(req)
  if not r then return page(404, "missing", lang, {}) end
  local t = destek.strings(lang)
  local steps = {}
  for _, h in ipairs(flow.history(r.id)) do
    if h.action ~= "note" then
      steps[#steps + 1] = { label = t["st_" .. h.action] or (h.action == "message" and t.message) or h.action,
                            date = flow.date(h.at), note = (h.action == "rejected" or h.action == "message") and h.note or nil }
    end
  end
  local items = {}
  for _, it in ipairs(flow.items(r.id)) do
    items[#items + 1] = { name = it.name, variant = it.variant, quantity = it.quantity, reason = t["reason_" .. it.reason],
                          outcome = t["outcome_" .. it.outcome], exchange_variant = it.exchange_variant }
  end
  local carrier, code = flow.setting("returns.carrier", ""), flow.setting("returns.carrier_code", "")
  return page(200, "return", lang, {
    code = r.code, sig = sig, order = r.order_number, status = t["st_" .. r.status], status_key = r.status,
    approved = r.status == "approved", review = r.status == "requested",
    review_note = r.status == "requested" and flow.fmt("review_note", lang, flow.setting("returns.review_hours", 24)) or nil,
    rejected = r.status == "rejected" and flow.fmt("rejected_because", lang, r.reject_reason or "") or nil,
    ship_by = r.ship_by and flow.date(r.ship_by), address = flow.setting("returns.address", ""),
    how = (carrier ~= "" and code ~= "") and flow.fmt("carrier_note", lang, carrier, code) or t.code_note,
    refund_due = not flow.FINAL[r.status] and flow.fmt("refund_due", lang, flow.date(r.refund_due_at)) or nil,
    tracking_number = r.tracking_number, items = items, history = steps, sent = req.query.sent == "1",
    open = not flow.FINAL[r.status], lang_href = flow.page_path(r.code) .. "&lang=" .. (lang == "tr" and "en" or "tr"),
  })
end

-- POST /returns/r/{code}/message: the customer's message goes to the return's ticket.
function portal.message(req)
  local lang = lang_of(req)
  local r, sig = load_signed(req)
  if not r then return page(404, "missing", lang, {}) end
  local body = trim(req.form.body)
  if not body or #body > 5000 or not utf8.len(body) then
    return destek.error(422, "invalid_field", "body: 1 to 5000 bytes of text", "body")
  end
  flow.add_history(r.id, r.status, "message", "customer", body, os.time())
  if r.ticket_id then
    local ok, err = destek.call("ticketing.customer_message", { ticket_id = r.ticket_id, body = body })
    if not ok and err.status ~= 501 then error(err) end
  end
  destek.emit("return.message_added", { id = r.id, code = r.code, ticket_id = r.ticket_id }, "return:" .. r.id)
  return 303, nil, { Location = flow.page_path(r.code) .. "&lang=" .. lang .. "&sent=1" }
end

-- POST /returns/r/{code}/shipped: the customer gave the parcel to the carrier.
function portal.shipped(req)
  local lang = lang_of(req)
  local r = load_signed(req)
  if not r then return page(404, "missing", lang, {}) end
  local tn = trim(req.form.tracking_number)
  if not tn or #tn > 64 or not tn:match("^[%w%-]+$") then
    return destek.error(422, "invalid_field", "tracking_number: letters, digits and dashes", "tracking_number")
  end
  flow.move(r, "shipped_back", "customer", nil, { tracking_number = tn })
  return 303, nil, { Location = flow.page_path(r.code) .. "&lang=" .. lang }
end

function portal.register()
  destek.page("/returns", portal.start, { noindex = true })
  destek.route("POST", "/returns", "public", portal.lookup, { max_body = 4096 })
  destek.route("POST", "/returns/new", "public", portal.create, {
    max_body = 16 * 1024 * 1024,
    uploads = { max_files = 10, max_file_bytes = 5 * 1024 * 1024, images_only = true },
  })
  destek.page("/returns/r/{code}", portal.show, { params = "code:text", noindex = true })
  destek.route("POST", "/returns/r/{code}/message", "public", portal.message, { params = "code:text", max_body = 16384 })
  destek.route("POST", "/returns/r/{code}/shipped", "public", portal.shipped, { params = "code:text", max_body = 4096 })
  destek.route("GET", "/returns/static/{file}", "public", function(req) return destek.asset(req.params.file) end,
               { params = "file:text" })
end

return portal

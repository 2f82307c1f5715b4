-- returns/flow.lua: a return's life. Every SQL statement of the module is here; so are the state machine, the
-- history, the events (return.<status>), the notices to the customer (public replies on the linked ticket, in the
-- customer's language, which ticketing mails) and the ticket itself (ticketing.open when the return has none).
local destek = require "destek"
local order = require "order"
local iban = require "iban"

local flow = {}

local ISTANBUL = 3 * 3600
local DAY = 86400

flow.REASONS = { "damaged", "wrong_item", "not_as_described", "defective", "changed_mind", "exchange_size" }
flow.OUTCOMES = { "refund", "exchange", "credit" }
flow.STATUSES = { "requested", "approved", "shipped_back", "received", "inspected", "refunded", "exchanged",
                  "credited", "rejected" }
flow.CONDITIONS = { "as_new", "opened", "used", "damaged", "missing" }
flow.FLAGS = { "personalised", "perishable", "hygiene", "mixed", "digital", "periodical", "service", "financial" }
flow.REFUND_METHODS = { "original", "card", "bank_transfer", "store_credit" }
flow.FINAL = { refunded = true, exchanged = true, credited = true, rejected = true }

-- Where each status may go next. A rejection always carries a written reason.
local NEXT = {
  requested = { approved = true, rejected = true },
  approved = { shipped_back = true, received = true, rejected = true },
  shipped_back = { received = true },
  received = { inspected = true },
  inspected = { refunded = true, exchanged = true, credited = true, rejected = true },
}

function flow.is(list, v)
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end

local function setting(name, dflt)
  local ok, v = pcall(destek.setting, name)
  if ok and v ~= nil and v ~= "" then return v end
  return dflt
end
flow.setting = setting

function flow.date(t) return os.date("!%d.%m.%Y", t + ISTANBUL) end

function flow.money(minor)
  minor = math.tointeger(minor) or 0
  local sign = minor < 0 and "-" or ""
  minor = math.abs(minor)
  return string.format("%s%d.%02d TL", sign, minor // 100, minor % 100)
end

local function fmt(key, lang, ...)
  return string.format(destek.t(key, lang), ...)
end
flow.fmt = fmt

-- The customer's page of a return: its path with a signature (no expiry: the link is in the customer's mail).
function flow.page_path(code)
  return "/returns/r/" .. code .. "?sig=" .. destek.sign("return:" .. code)
end

function flow.page_url(code)
  local base = setting("mail.public_url", "")
  return (base:gsub("/+$", "")) .. flow.page_path(code)
end

-- ------------------------------------------------------------------------------------------------- reading

local COLUMNS = "id, code, order_number, order_id, contact_id, email, phone, customer_name, lang, status," ..
  " reason_summary, review, policy_note, reject_reason, cod, iban_holder, ship_by, tracking_number, carrier," ..
  " ticket_id, refund_due_at, refund_minor, refund_method, refunded_at, exchange_tracking, delivered_at," ..
  " created_at, updated_at"

function flow.get(id)
  return destek.db.query("SELECT " .. COLUMNS .. " FROM returns_returns WHERE id = ?1", id)[1]
end

function flow.by_code(code)
  return destek.db.query("SELECT " .. COLUMNS .. " FROM returns_returns WHERE code = ?1", code)[1]
end

function flow.items(id)
  return destek.db.query("SELECT id, line, sku, name, variant, quantity, price_minor, reason, comment, outcome," ..
                         " exchange_variant, condition, condition_note FROM returns_items WHERE return_id = ?1" ..
                         " ORDER BY line", id)
end

function flow.photos(id)
  return destek.db.query("SELECT id, item_id, file_id, filename, type, size, created_at FROM returns_photos" ..
                         " WHERE return_id = ?1 ORDER BY id", id)
end

function flow.history(id)
  return destek.db.query("SELECT status, action, actor, note, at FROM returns_history WHERE return_id = ?1" ..
                         " ORDER BY id", id)
end

function flow.iban_of(id)
  local r = destek.db.query("SELECT iban FROM returns_returns WHERE id = ?1", id)[1]
  return r and r.iban
end

-- Quantities of each order line already in returns of this order that were not rejected: line -> quantity.
function flow.returned_quantities(number)
  local out = {}
  for _, r in ipairs(destek.db.query("SELECT i.line, sum(i.quantity) AS n FROM returns_items i" ..
      " JOIN returns_returns r ON r.id = i.return_id WHERE r.order_number = ?1 AND r.status <> 'rejected'" ..
      " GROUP BY i.line", number)) do
    out[r.line] = r.n
  end
  return out
end

-- Tracking numbers that are returns' own shipments for an order (return parcels and exchanges): not deliveries.
function flow.own_tracking(number)
  local out = {}
  for _, r in ipairs(destek.db.query("SELECT tracking_number, exchange_tracking FROM returns_returns" ..
                                     " WHERE order_number = ?1", number)) do
    if r.tracking_number then out[r.tracking_number] = true end
    if r.exchange_tracking then out[r.exchange_tracking] = true end
  end
  return out
end

-- Product flags by SKU: {personalised = true, ...}.
function flow.flags_of(sku)
  local out = {}
  if not sku then return out end
  local r = destek.db.query("SELECT flags FROM returns_product_flags WHERE sku = ?1", sku)[1]
  if r then for f in r.flags:gmatch("[%w_]+") do out[f] = true end end
  return out
end

function flow.flags_list()
  return destek.db.query("SELECT sku, flags, updated_at FROM returns_product_flags ORDER BY sku")
end

function flow.set_flags(sku, flags, now)
  if #flags == 0 then
    destek.db.exec("DELETE FROM returns_product_flags WHERE sku = ?1", sku)
  else
    destek.db.exec("INSERT INTO returns_product_flags(sku, flags, updated_at) VALUES (?1, ?2, ?3)" ..
                   " ON CONFLICT(sku) DO UPDATE SET flags = ?2, updated_at = ?3", sku, table.concat(flags, ","), now)
  end
end

-- ------------------------------------------------------------------------------------------------- the policy

-- The policy's answer for one item: eligible, message, details ({review, photo, deadline, rule}).
function flow.decide(o, item, reason, now, lang)
  local ok, msg, details = destek.decide("returns.eligible", o, item, reason, { now = now, lang = lang })
  if ok == nil and msg == nil then   -- no policy at all: a person decides everything
    return true, nil, { review = true, photo = reason == "damaged" and "required" or "optional", rule = "none" }
  end
  details = type(details) == "table" and details or { review = true, rule = "merchant" }
  if details.review == nil then details.review = true end
  if not details.photo then details.photo = reason == "damaged" and "required" or "optional" end
  return ok and true or false, msg, details
end

-- What the policy sees of an order: its number, status, delivery and the customer; and of an item, its flags.
function flow.policy_order(o)
  local delivered_at = order.delivered_at(o, flow.own_tracking(o.number))
  return {
    number = o.number, status = o.status, payment_status = o.payment_status,
    delivered = delivered_at ~= nil, delivered_at = delivered_at,
    total_minor = o.total_minor, customer = o.customer,
  }
end

function flow.policy_item(it, line)
  local flags = flow.flags_of(it.sku)
  if type(it.flags) == "table" then for _, f in ipairs(it.flags) do flags[f] = true end end
  return { line = line, sku = it.sku, name = it.name, variant = it.variant, quantity = it.quantity,
           price_minor = it.price_minor, flags = flags }
end

-- ------------------------------------------------------------------------------------------------- writing

local function history(id, status, action, actor, note, now)
  destek.db.exec("INSERT INTO returns_history(return_id, status, action, actor, note, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                 id, status, action, actor, note, now)
end
flow.add_history = history

-- The event payload: what triggers and webhooks need, never the IBAN.
function flow.summary(r)
  return {
    id = r.id, code = r.code, order_number = r.order_number, status = r.status, reason = r.reason_summary,
    contact_id = r.contact_id, ticket_id = r.ticket_id, refund_due_at = r.refund_due_at,
    refund_minor = r.refund_minor, refund_method = r.refund_method, tracking_number = r.tracking_number,
    reject_reason = r.reject_reason,
  }
end

local function emit(r, status)
  destek.emit("return." .. status, flow.summary(r), "return:" .. r.id)
end

-- A public reply on the return's ticket (ticketing mails it). Without ticketing, nothing.
local function notify(r, body)
  if not r.ticket_id or flow.quiet then return end
  local ok, err = destek.call("ticketing.reply", { ticket_id = r.ticket_id, body = body })
  if not ok and err.status ~= 501 then error(err) end
end

function flow.note(r, body)
  if not r.ticket_id then return end
  local ok, err = destek.call("ticketing.note", { ticket_id = r.ticket_id, body = body })
  if not ok and err.status ~= 501 then error(err) end
end

local function notice_for(r, status)
  local lang, link = r.lang, flow.page_url(r.code)
  if status == "approved" then
    local carrier, code = setting("returns.carrier", ""), setting("returns.carrier_code", "")
    local how = (carrier ~= "" and code ~= "") and fmt("carrier_note", lang, carrier, code) or destek.t("code_note", lang)
    return fmt("notice_approved", lang, r.code, how, setting("returns.address", "-"), flow.date(r.ship_by), link)
  elseif status == "rejected" then
    return fmt("notice_rejected", lang, r.code, r.reject_reason or "")
  elseif status == "refunded" then
    return fmt("notice_refunded", lang, r.code, flow.money(r.refund_minor), destek.t("refund_" .. (r.refund_method or "original"), lang),
               flow.date(r.refunded_at))
  elseif status == "credited" then
    return fmt("notice_credited", lang, r.code, flow.money(r.refund_minor))
  elseif status == "exchanged" then
    return fmt("notice_exchanged", lang, r.code, r.exchange_tracking or "-")
  else
    return fmt("notice_" .. status, lang, r.code)
  end
end

-- Moves return r to status `to` by actor: the columns in sets change with it ({column = value}), a history line
-- (with note), the event return.<to>, and the notice to the customer. 409 invalid_transition when `to` cannot follow.
local SETTABLE = { reject_reason = true, ship_by = true, tracking_number = true, carrier = true, refund_minor = true,
                   refund_method = true, refunded_at = true, exchange_tracking = true }

function flow.move(r, to, actor, note, sets, now)
  if not (NEXT[r.status] and NEXT[r.status][to]) then
    error(destek.error(409, "invalid_transition",
      string.format("return %s is %s: it cannot become %s", r.code, r.status, to)))
  end
  now = now or os.time()
  local names, values = { "status = ?2", "updated_at = ?3" }, { to, now }
  for k, v in pairs(sets or {}) do
    assert(SETTABLE[k], "not a settable column")
    values[#values + 1] = v
    names[#names + 1] = k .. " = ?" .. (#values + 1)
  end
  destek.db.exec("UPDATE returns_returns SET " .. table.concat(names, ", ") .. " WHERE id = ?1", r.id,
                 table.unpack(values))
  history(r.id, to, to, actor, note, now)
  local fresh = flow.get(r.id)
  emit(fresh, to)
  notify(fresh, notice_for(fresh, to))
  if flow.FINAL[to] then destek.timer_cancel("returns.refund_due", tostring(r.id)) end
  return fresh
end

-- Approval: the approval number is the return's code; the customer ships within returns.ship_days (the law: 10).
function flow.approve(r, actor, note, now)
  now = now or os.time()
  local days = setting("returns.ship_days", 10)
  return flow.move(r, "approved", actor, note, { ship_by = now + days * DAY }, now)
end

function flow.reject(r, actor, reason, now)
  return flow.move(r, "rejected", actor, reason, { reject_reason = reason }, now)
end

local CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
local function new_code()
  local t = {}
  for i = 1, 6 do
    local k = math.random(1, #CODE_ALPHABET)
    t[i] = CODE_ALPHABET:sub(k, k)
  end
  return "IA-" .. table.concat(t)
end

-- Creates a return. o: the order (orders.find); req: {lang, cod, iban, iban_holder, actor, ticket_id, items =
-- {{line, quantity, reason, comment, outcome, variant, photos = {file entries}}}}, checked by the caller
-- (flow.check). Returns the return as stored after any automatic approval.
function flow.create(o, req, checked, now)
  now = now or os.time()
  local delivered_at = checked.delivered_at
  local first = req.items[1]
  local review = checked.review and 1 or 0
  local id, code
  for _ = 1, 8 do
    code = new_code()
    local res, err, kind = destek.db.exec(
      "INSERT INTO returns_returns(code, order_number, order_id, contact_id, email, phone, customer_name, lang, status," ..
      " reason_summary, review, policy_note, cod, iban, iban_holder, ticket_id, refund_due_at, delivered_at," ..
      " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'requested', ?9, ?10, ?11, ?12, ?13, ?14," ..
      " ?15, ?16, ?17, ?18, ?18)",
      code, o.number, o.id, o.customer and o.customer.contact_id or nil, o.customer and o.customer.email or nil,
      o.customer and o.customer.phone or nil, o.customer and o.customer.name or nil, req.lang, first.reason, review,
      checked.policy_note, req.cod and 1 or 0, req.iban, req.iban_holder, req.ticket_id,
      now + setting("returns.refund_days", 14) * DAY, delivered_at, now)
    if res then id = res.last_id break end
    if kind ~= "constraint" then error(err) end
  end
  if not id then error(destek.error(500, "internal", "no free return code")) end
  for _, it in ipairs(req.items) do
    local oi = o.items[it.line]
    local res = destek.db.exec(
      "INSERT INTO returns_items(return_id, line, sku, name, variant, quantity, price_minor, reason, comment, outcome," ..
      " exchange_variant) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
      id, it.line, oi.sku, oi.name or "", oi.variant, it.quantity, oi.price_minor or 0, it.reason, it.comment,
      it.outcome, it.variant)
    for _, f in ipairs(it.photos or {}) do
      local file_id, info = destek.files.save(f, { images_only = true })
      if not file_id then error(destek.error(415, "not_an_image", info)) end
      destek.db.exec("INSERT INTO returns_photos(return_id, item_id, file_id, filename, type, size, created_at)" ..
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", id, res.last_id, file_id, f.filename, info.type, info.size, now)
    end
  end
  history(id, "requested", "requested", req.actor or "customer", checked.policy_note, now)
  local r = flow.get(id)
  -- The conversation lives in a ticket: opened now unless the return came from one.
  if not r.ticket_id then
    local lines = {}
    for _, it in ipairs(req.items) do
      local oi = o.items[it.line]
      lines[#lines + 1] = string.format("- %s%s × %d: %s, %s%s%s", oi.name or "", oi.variant and (" (" .. oi.variant .. ")") or "",
        it.quantity, destek.t("reason_" .. it.reason, req.lang), destek.t("outcome_" .. it.outcome, req.lang),
        it.variant and (" → " .. it.variant) or "", it.comment and ("\n  " .. it.comment) or "")
    end
    local customer = { name = o.customer and o.customer.name or nil, lang = req.lang }
    if o.customer and o.customer.email and o.customer.email ~= "" then customer.email = o.customer.email
    else customer.phone = o.customer and o.customer.phone and ("+" .. o.customer.phone) or nil end
    local t, err = destek.call("ticketing.open", {
      subject = fmt("ticket_subject", req.lang, code, o.number), body = table.concat(lines, "\n"),
      customer = customer, channel = "web", order_number = o.number, tags = destek.json.array({ "iade" }),
    })
    if t then
      destek.db.exec("UPDATE returns_returns SET ticket_id = ?2 WHERE id = ?1", id, t.id)
      r.ticket_id = t.id
    elseif err.status ~= 501 then
      error(err)
    end
  end
  emit(r, "requested")
  destek.timer_at("returns.refund_due", tostring(id), math.max(now, r.refund_due_at - 3 * DAY), { id = id })
  if review == 0 and setting("returns.auto_approve", true) then
    return flow.approve(r, "system", nil, now)
  end
  notify(r, fmt("notice_requested", r.lang, r.code, setting("returns.review_hours", 24), flow.page_url(r.code)))
  return r
end

-- Checks a request against the order and the policy before anything is written. req as flow.create takes it.
-- Returns checked {delivered_at, review, policy_note}, or raises a 422 error value whose message is for the
-- customer (in req.lang) and whose field names the item ("items.<line>").
function flow.check(o, req, now)
  local lang = req.lang
  local function refuse(code, message, field) error(destek.error(422, code, message, field)) end
  if #req.items == 0 then refuse("no_items", destek.t("err_no_items", lang), "items") end
  local taken = flow.returned_quantities(o.number)
  local po = flow.policy_order(o)
  local review, notes, seen = false, {}, {}
  for _, it in ipairs(req.items) do
    local oi = o.items[it.line]
    local field = "items." .. tostring(it.line)
    if not oi or seen[it.line] then refuse("invalid_field", destek.t("err_no_items", lang), field) end
    seen[it.line] = true
    local label = oi.name or ("#" .. it.line)
    local left = (oi.quantity or 0) - (taken[it.line] or 0)
    if not it.quantity or it.quantity < 1 or it.quantity > left then
      refuse("invalid_quantity", fmt("err_quantity", lang, label, math.max(left, 0)), field)
    end
    if not flow.is(flow.REASONS, it.reason) then refuse("invalid_field", destek.t("policy_unknown_reason", lang), field) end
    if not flow.is(flow.OUTCOMES, it.outcome) then refuse("invalid_field", fmt("err_outcome", lang, label), field) end
    if it.outcome == "exchange" and (not it.variant or it.variant == "") then
      refuse("missing_field", fmt("err_variant", lang, label), field)
    end
    local ok, msg, d = flow.decide(po, flow.policy_item(oi, it.line), it.reason, now, lang)
    if not ok then refuse("not_eligible", msg or destek.t("missing", lang), field) end
    if d.photo == "required" and #(it.photos or {}) == 0 then
      refuse("photo_required", fmt("err_photo_required", lang, label), field)
    end
    if d.review then review = true end
    notes[#notes + 1] = string.format("%d:%s", it.line, d.rule or "?")
  end
  if req.cod then
    for _, it in ipairs(req.items) do
      if it.outcome == "refund" then
        local s = iban.normalise(req.iban)
        if not s then refuse("invalid_iban", destek.t("err_iban", lang), "iban") end
        req.iban = s
        if not req.iban_holder or req.iban_holder == "" then
          refuse("missing_field", destek.t("err_iban_holder", lang), "iban_holder")
        end
        break
      end
    end
  end
  if not req.cod or not req.iban then req.iban, req.iban_holder = nil, nil end
  return { delivered_at = po.delivered_at, review = review, policy_note = table.concat(notes, " ") }
end

return flow

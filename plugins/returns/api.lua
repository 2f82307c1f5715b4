-- returns/api.lua: the agents' routes (the approval queue, a return with its order and photos, the steps after
-- approval, bulk approval, the CSV export, product flags, the policy's rules in words and its preview at a time).
local destek = require "destek"
local flow = require "flow"
local order = require "order"
local iban = require "iban"

local api = {}

local DAY = 86400

local function id_of(req) return math.tointeger(tonumber(req.params.id)) end

local function load(req)
  local r = flow.get(id_of(req))
  if not r then error(destek.error(404, "not_found", "no such return")) end
  return r
end

local function actor(req) return "user:" .. tostring(req.user.id) end

local function body(req)
  local b = req.json
  if b == nil and (req.body or "") == "" then return {} end
  if type(b) ~= "table" then error(destek.error(400, "bad_json", "the body must be a JSON object")) end
  return b
end

local function text_field(b, name, max, required)
  local v = b[name]
  if v == nil or v == destek.json.null then
    if required then error(destek.error(422, "missing_field", name .. " is required", name)) end
    return nil
  end
  if type(v) ~= "string" then error(destek.error(422, "invalid_field", name .. " must be text", name)) end
  v = v:gsub("^%s+", ""):gsub("%s+$", "")
  if v == "" then
    if required then error(destek.error(422, "missing_field", name .. " is required", name)) end
    return nil
  end
  if #v > max or not utf8.len(v) then
    error(destek.error(422, "invalid_field", string.format("%s: at most %d bytes of text", name, max), name))
  end
  return v
end

local function int_field(b, name, min, required)
  local v = b[name]
  if v == nil then
    if required then error(destek.error(422, "missing_field", name .. " is required", name)) end
    return nil
  end
  v = math.tointeger(v)
  if not v or v < min then error(destek.error(422, "invalid_field", name .. " must be a whole number", name)) end
  return v
end

-- The list row / detail of a return, as agents see it (the IBAN masked).
local function view(r, now)
  now = now or os.time()
  local v = flow.summary(r)
  v.email, v.phone, v.customer_name, v.lang = r.email, r.phone, r.customer_name, r.lang
  v.review = r.review == 1
  v.cod = r.cod == 1
  v.ship_by, v.carrier, v.delivered_at = r.ship_by, r.carrier, r.delivered_at
  v.refunded_at, v.exchange_tracking, v.policy_note = r.refunded_at, r.exchange_tracking, r.policy_note
  v.created_at, v.updated_at = r.created_at, r.updated_at
  local open = not flow.FINAL[r.status]
  v.refund_due_soon = open and now >= r.refund_due_at - 3 * DAY or false
  v.refund_overdue = open and now > r.refund_due_at or false
  v.page_url = flow.page_path(r.code)
  return v
end

local function detail(r)
  local v = view(r)
  v.items = destek.json.array(flow.items(r.id))
  local photos = {}
  for _, p in ipairs(flow.photos(r.id)) do
    photos[#photos + 1] = { id = p.id, item_id = p.item_id, filename = p.filename, type = p.type, size = p.size,
                            url = "/api/v1/returns/" .. r.id .. "/photos/" .. p.id }
  end
  v.photos = destek.json.array(photos)
  v.history = destek.json.array(flow.history(r.id))
  v.iban_masked = iban.mask(flow.iban_of(r.id))
  v.iban_holder = r.iban_holder
  local ok, o = pcall(order.find, r.order_number)
  v.order = ok and o or destek.json.null
  return v
end

-- GET /api/v1/returns?status=&reason=&order_number=&contact_id=&ticket_id=&review=: newest first.
function api.list(req)
  local limit, after = destek.cursor(req)
  local q = req.query
  if q.status and not flow.is(flow.STATUSES, q.status) then
    return destek.error(422, "invalid_field", "status: one of " .. table.concat(flow.STATUSES, ", "), "status")
  end
  if q.reason and not flow.is(flow.REASONS, q.reason) then
    return destek.error(422, "invalid_field", "reason: one of " .. table.concat(flow.REASONS, ", "), "reason")
  end
  local contact_id = q.contact_id and math.tointeger(tonumber(q.contact_id)) or 0
  local ticket_id = q.ticket_id and math.tointeger(tonumber(q.ticket_id)) or 0
  -- The WHERE clause is made of fixed fragments for the filters given (values always bound), so that SQLite uses the
  -- index of the filter (status, id), (reason_summary, id), ... instead of scanning every return.
  local where, args = {}, {}
  local function add(fragment, value)
    args[#args + 1] = value
    where[#where + 1] = fragment:gsub("%?", "?" .. #args)
  end
  if after > 0 then add("id < ?", after) end
  if q.status then add("status = ?", q.status) end
  if q.reason then add("reason_summary = ?", q.reason) end
  if q.order_number then add("order_number = ?", q.order_number) end
  if contact_id and contact_id > 0 then add("contact_id = ?", contact_id) end
  if ticket_id and ticket_id > 0 then add("ticket_id = ?", ticket_id) end
  args[#args + 1] = limit
  -- A row holds what the queue shows (GET /api/v1/returns/{id} has the rest). destek.db.json writes the page's JSON
  -- in one C pass over the rows (no Lua table per row, no json_object() per row in SQL).
  local now = os.time()
  args[#args + 1] = now + 3 * DAY   -- due within 3 days, as view() says (refund_due_at - 3 days <= now)
  args[#args + 1] = now
  local soon, late = "?" .. (#args - 1), "?" .. #args
  -- (open: not in a final status, written as a CASE: an IN list would build a temporary index on every run)
  local open = "CASE status WHEN 'refunded' THEN 0 WHEN 'exchanged' THEN 0 WHEN 'credited' THEN 0 WHEN 'rejected' THEN 0" ..
               " ELSE refund_due_at "
  -- flip:min, left out of the rows: the first time after now when a warning of a row on the page comes on ("due
  -- soon" at the limit - 3 days, "overdue" a second after the limit); the host keeps the page (private_cache = "role":
  -- it shows the same to anyone who may open the queue; any write of this module drops it) until then.
  local items, n, last, flip = destek.db.json("SELECT id, code, order_number, status, reason_summary AS reason, contact_id," ..
    " ticket_id, customer_name, email, review AS \"review:bool\", cod AS \"cod:bool\", tracking_number, refund_minor," ..
    " created_at, updated_at, refund_due_at," ..
    " " .. open .. "<= " .. soon .. " END AS \"refund_due_soon:bool\"," ..
    " " .. open .. "< " .. late .. " END AS \"refund_overdue:bool\"," ..
    " CASE WHEN status = 'refunded' OR status = 'exchanged' OR status = 'credited' OR status = 'rejected' THEN NULL" ..
    " WHEN refund_due_at > " .. soon .. " THEN refund_due_at - " .. (3 * DAY) .. " WHEN refund_due_at >= " .. late ..
    " THEN refund_due_at + 1 END AS \"flip:min\"" ..
    " FROM returns_returns" .. (#where > 0 and (" WHERE " .. table.concat(where, " AND ")) or "") ..
    " ORDER BY id DESC LIMIT ?" .. (#args - 2), table.unpack(args))
  if flip then destek.cache.valid_until(flip) end
  local cursor = n == limit and destek.list({}, last).next_cursor or nil
  return 200, '{"items":' .. items .. ',"next_cursor":' .. (cursor and ('"' .. cursor .. '"') or "null") .. "}",
         { ["Content-Type"] = "application/json" }
end

function api.get(req) return 200, detail(load(req)) end

function api.approve(req)
  local b = body(req)
  local r = flow.approve(load(req), actor(req), text_field(b, "note", 2000))
  destek.audit("returns.approved", "return:" .. r.id)
  return 200, detail(r)
end

function api.reject(req)
  local b = body(req)
  local reason = text_field(b, "reason", 2000, true)
  local r = flow.reject(load(req), actor(req), reason)
  destek.audit("returns.rejected", "return:" .. r.id, { reason = reason })
  return 200, detail(r)
end

-- POST /api/v1/returns/bulk-approve {ids: [...]} (at most 100): all or nothing.
function api.bulk_approve(req)
  local b = body(req)
  local ids = b.ids
  if type(ids) ~= "table" or #ids == 0 or #ids > 100 then
    return destek.error(422, "invalid_field", "ids: 1 to 100 return ids", "ids")
  end
  local out = {}
  for i, id in ipairs(ids) do
    local r = flow.get(math.tointeger(id) or 0)
    if not r then return destek.error(422, "invalid_field", "ids[" .. (i - 1) .. "]: no such return", "ids") end
    out[#out + 1] = flow.summary(flow.approve(r, actor(req)))
  end
  destek.audit("returns.bulk_approved", "returns", { count = #out })
  return 200, { items = out }
end

function api.shipped(req)
  local b = body(req)
  local tn = text_field(b, "tracking_number", 64, true)
  local r = flow.move(load(req), "shipped_back", actor(req), nil,
                      { tracking_number = tn, carrier = text_field(b, "carrier", 100) or "" })
  return 200, detail(r)
end

function api.receive(req)
  local b = body(req)
  local r = load(req)
  local note = text_field(b, "note", 2000)
  return 200, detail(flow.move(r, "received", actor(req), note))
end

-- POST /{id}/inspect {items: [{id, condition, note}]}: the condition of every item.
function api.inspect(req)
  local b = body(req)
  local r = load(req)
  if r.status ~= "received" then
    return destek.error(409, "invalid_transition", "return " .. r.code .. " is " .. r.status .. ": it cannot become inspected")
  end
  local items = {}
  for _, it in ipairs(flow.items(r.id)) do items[it.id] = it end
  if type(b.items) ~= "table" or #b.items == 0 then
    return destek.error(422, "missing_field", "items: the condition of each item", "items")
  end
  local notes = {}
  for i, it in ipairs(b.items) do
    local iid = math.tointeger(it.id)
    if not iid or not items[iid] then
      return destek.error(422, "invalid_field", "items[" .. (i - 1) .. "].id: not an item of this return", "items")
    end
    if not flow.is(flow.CONDITIONS, it.condition) then
      return destek.error(422, "invalid_field", "items[" .. (i - 1) .. "].condition: one of " ..
                          table.concat(flow.CONDITIONS, ", "), "items")
    end
    local note = text_field(it, "note", 1000)
    destek.db.exec("UPDATE returns_items SET condition = ?2, condition_note = ?3 WHERE id = ?1", iid, it.condition, note)
    notes[#notes + 1] = items[iid].name .. ": " .. it.condition .. (note and (" (" .. note .. ")") or "")
  end
  return 200, detail(flow.move(r, "inspected", actor(req), table.concat(notes, "; ")))
end

-- POST /{id}/refund {amount_minor, method, refunded_at}: the refund as paid.
function api.refund(req)
  local b = body(req)
  local amount = int_field(b, "amount_minor", 0, true)
  local method = b.method or "original"
  if not flow.is(flow.REFUND_METHODS, method) then
    return destek.error(422, "invalid_field", "method: one of " .. table.concat(flow.REFUND_METHODS, ", "), "method")
  end
  local at = os.time()
  if b.refunded_at ~= nil then
    at = order.parse_time(b.refunded_at)
    if not at then return destek.error(422, "invalid_field", "refunded_at: an ISO-8601 time", "refunded_at") end
  end
  local r = flow.move(load(req), "refunded", actor(req), flow.money(amount),
                      { refund_minor = amount, refund_method = method, refunded_at = at })
  destek.audit("returns.refunded", "return:" .. r.id, { amount_minor = amount, method = method })
  return 200, detail(r)
end

function api.credit(req)
  local b = body(req)
  local amount = int_field(b, "amount_minor", 0, true)
  local r = flow.move(load(req), "credited", actor(req), flow.money(amount),
                      { refund_minor = amount, refund_method = "store_credit", refunded_at = os.time() })
  return 200, detail(r)
end

-- POST /{id}/exchange {tracking_number, carrier}: the replacement goes out as a shipment of the order.
function api.exchange(req)
  local b = body(req)
  local r = load(req)
  local tn = text_field(b, "tracking_number", 64, true)
  local carrier = text_field(b, "carrier", 100)
  if r.status ~= "inspected" then
    return destek.error(409, "invalid_transition", "return " .. r.code .. " is " .. r.status .. ": it cannot become exchanged")
  end
  destek.db.exec("UPDATE returns_returns SET exchange_tracking = ?2 WHERE id = ?1", r.id, tn)
  local ok, err = destek.call("orders.ship", { number = r.order_number, tracking_number = tn, carrier = carrier,
                                              status = "InfoReceived", message = "exchange " .. r.code })
  if not ok and err.status ~= 501 then return err end
  return 200, detail(flow.move(r, "exchanged", actor(req), tn, { exchange_tracking = tn }))
end

function api.note(req)
  local b = body(req)
  local r = load(req)
  local text = text_field(b, "body", 5000, true)
  flow.add_history(r.id, r.status, "note", actor(req), text, os.time())
  flow.note(r, text)
  return 201, detail(r)
end

-- PATCH /{id} {ticket_id}: links the return to a ticket the conversation already has.
function api.patch(req)
  local b = body(req)
  local r = load(req)
  local tid = int_field(b, "ticket_id", 1, true)
  local t, err = destek.call("ticketing.get", { ticket_id = tid })
  if not t then return err end
  destek.db.exec("UPDATE returns_returns SET ticket_id = ?2, updated_at = ?3 WHERE id = ?1", r.id, tid, os.time())
  return 200, detail(flow.get(r.id))
end

function api.photo(req)
  local p = destek.db.query("SELECT file_id, filename FROM returns_photos WHERE id = ?1 AND return_id = ?2",
                            math.tointeger(tonumber(req.params.photo)), id_of(req))[1]
  if not p then return destek.error(404, "not_found", "no such photo") end
  return destek.files.serve(p.file_id, { filename = p.filename, download = true })
end

-- GET /{id}/iban (admins): the whole IBAN to pay a refund, audited.
function api.iban(req)
  local r = load(req)
  local s = flow.iban_of(r.id)
  if not s then return destek.error(404, "not_found", "this return has no IBAN") end
  destek.audit("returns.iban_viewed", "return:" .. r.id)
  return 200, { iban = iban.format(s), holder = r.iban_holder }
end

-- A CSV field of column c, written by SQLite: always quoted, quotes doubled, and a leading = + - @ made text (no
-- formulas when a spreadsheet opens it).
local function csv(c)
  return [['"' || replace(CASE WHEN substr(coalesce(]] .. c .. [[, ''), 1, 1) IN ('=', '+', '-', '@') THEN '''' || ]] ..
         c .. [[ ELSE coalesce(]] .. c .. [[, '') END, '"', '""') || '"']]
end
local function iso(c)
  return "coalesce(strftime('%Y-%m-%dT%H:%M:%SZ', " .. c .. ", 'unixepoch'), '')"
end

-- GET /api/v1/returns/export?status=: CSV of returns, oldest first, at most 50,000 rows; SQLite writes the text.
function api.export(req)
  local st = req.query.status
  if st and not flow.is(flow.STATUSES, st) then
    return destek.error(422, "invalid_field", "status: one of " .. table.concat(flow.STATUSES, ", "), "status")
  end
  local line = table.concat({ csv("r.code"), csv("r.order_number"), csv("r.status"), csv("r.reason_summary"),
    csv("r.customer_name"), csv("r.email"), "coalesce(q.n, 0)", iso("r.created_at"), iso("r.refund_due_at"),
    "CASE WHEN r.refund_minor IS NULL THEN '' ELSE printf('%d.%02d', r.refund_minor / 100, r.refund_minor % 100) END",
    csv("r.refund_method"), iso("r.refunded_at"), csv("r.tracking_number") }, " || ',' || ")
  local res = destek.db.query("SELECT coalesce(group_concat(line, char(13, 10)), '') AS text FROM (SELECT " .. line ..
    " AS line FROM (SELECT * FROM returns_returns WHERE (?1 = '' OR status = ?1) ORDER BY id LIMIT 50000) r" ..
    " LEFT JOIN (SELECT return_id, sum(quantity) AS n FROM returns_items GROUP BY return_id) q ON q.return_id = r.id" ..
    " ORDER BY r.id)", st or "")[1]
  local head = "code,order_number,status,reason,customer,email,quantity,requested_at,refund_due_at,refund_amount," ..
               "refund_method,refunded_at,tracking_number\r\n"
  return 200, head .. res.text .. (res.text ~= "" and "\r\n" or ""), { ["Content-Type"] = "text/csv; charset=utf-8",
    ["Content-Disposition"] = 'attachment; filename="returns.csv"' }
end

-- POST /api/v1/returns/preview {order_number, reason, at}: what the policy answers for each item of an order at a
-- time (default now): the agents' "would this be accepted on ...", and the law's edges in the tests.
function api.preview(req)
  local b = body(req)
  local number = text_field(b, "order_number", 64, true)
  local reason = b.reason or "changed_mind"
  if not flow.is(flow.REASONS, reason) then
    return destek.error(422, "invalid_field", "reason: one of " .. table.concat(flow.REASONS, ", "), "reason")
  end
  local now = os.time()
  if b.at ~= nil then
    now = order.parse_time(b.at)
    if not now then return destek.error(422, "invalid_field", "at: an ISO-8601 time", "at") end
  end
  local o = order.find(number)
  if not o then return destek.error(404, "not_found", "no such order") end
  local po = flow.policy_order(o)
  local lang = b.lang == "tr" and "tr" or b.lang == "en" and "en" or (req.user and req.user.lang) or "en"
  local items = {}
  for line, it in ipairs(o.items or {}) do
    local ok, msg, d = flow.decide(po, flow.policy_item(it, line), reason, now, lang)
    items[#items + 1] = { line = line, sku = it.sku, name = it.name, eligible = ok, message = msg, review = d.review,
                          photo = d.photo, rule = d.rule, deadline = d.deadline }
  end
  return 200, { order_number = o.number, delivered_at = po.delivered_at, at = now, reason = reason,
                items = destek.json.array(items) }
end

function api.flags_list(req)
  local out = {}
  for _, r in ipairs(flow.flags_list()) do
    local fl = {}
    for f in r.flags:gmatch("[%w_]+") do fl[#fl + 1] = f end
    out[#out + 1] = { sku = r.sku, flags = destek.json.array(fl), updated_at = r.updated_at }
  end
  return 200, { items = destek.json.array(out), known = destek.json.array(flow.FLAGS) }
end

-- PUT /api/v1/returns/product-flags/{sku} {flags: [...]}: the SKU's exceptions ([] clears them).
function api.flags_put(req)
  local b = body(req)
  local sku = req.params.sku
  if #sku > 100 then return destek.error(422, "invalid_field", "sku: at most 100 bytes", "sku") end
  if type(b.flags) ~= "table" then return destek.error(422, "missing_field", "flags: a list", "flags") end
  local fl = {}
  for i, f in ipairs(b.flags) do
    if not flow.is(flow.FLAGS, f) then
      return destek.error(422, "invalid_field", "flags[" .. (i - 1) .. "]: one of " .. table.concat(flow.FLAGS, ", "), "flags")
    end
    fl[#fl + 1] = f
  end
  flow.set_flags(sku, fl, os.time())
  destek.audit("returns.flags_changed", "sku:" .. sku, { flags = destek.json.array(fl) })
  return 200, { sku = sku, flags = destek.json.array(fl) }
end

-- GET /api/v1/returns/policy: the rules in force, in words, for the admin screen.
function api.policy(req)
  local lang = (req.query.lang == "tr" or req.query.lang == "en") and req.query.lang or (req.user and req.user.lang) or "en"
  local days = flow.setting("returns.withdrawal_days", 14)
  local t = destek.strings(lang)
  local rules = {}
  for _, key in ipairs({ "withdrawal", "before_delivery", "defect", "exceptions", "ship", "refund", "shipping_cost",
                         "review" }) do
    rules[#rules + 1] = { id = key, text = string.format(t["rule_" .. key], key == "ship" and flow.setting("returns.ship_days", 10)
      or key == "refund" and flow.setting("returns.refund_days", 14) or key == "review" and flow.setting("returns.review_hours", 24)
      or days) }
  end
  return 200, { rules = rules, merchant_policy = true }
end

-- Carrier scans (through the orders module: a shipment of the order whose tracking number is a return parcel's)
-- move the return to shipped_back and received.
local MOVING = { InfoReceived = false, InTransit = true, OutForDelivery = true, AttemptFail = true,
                 AvailableForPickup = true }
function api.on_shipment(s)
  if type(s) ~= "table" or not s.tracking_number then return end
  local r = destek.db.query("SELECT id FROM returns_returns WHERE tracking_number = ?1 AND order_number = ?2" ..
                            " AND status IN ('approved', 'shipped_back') ORDER BY id DESC LIMIT 1",
                            s.tracking_number, s.order_number or "")[1]
  if not r then
    -- a parcel the customer did not tell us about yet: its number is the return's code on the label
    r = destek.db.query("SELECT id FROM returns_returns WHERE code = ?1 AND status IN ('approved', 'shipped_back')",
                        s.tracking_number)[1]
  end
  if not r then return end
  local ret = flow.get(r.id)
  if s.status == "Delivered" then
    if ret.status == "approved" then ret = flow.move(ret, "shipped_back", "carrier", nil, { tracking_number = s.tracking_number }) end
    flow.move(ret, "received", "carrier", s.carrier_name or s.carrier)
  elseif MOVING[s.status] and ret.status == "approved" then
    flow.move(ret, "shipped_back", "carrier", s.carrier_name or s.carrier, { tracking_number = s.tracking_number })
  end
end

function api.register()
  destek.route("GET", "/api/v1/returns", "agent", api.list, { private_cache = "role" })
  destek.route("GET", "/api/v1/returns/export", "agent", api.export)
  destek.route("GET", "/api/v1/returns/policy", "agent", api.policy)
  destek.route("POST", "/api/v1/returns/preview", "agent", api.preview)
  destek.route("POST", "/api/v1/returns/bulk-approve", "agent", api.bulk_approve)
  destek.route("GET", "/api/v1/returns/product-flags", "agent", api.flags_list)
  destek.route("PUT", "/api/v1/returns/product-flags/{sku}", "admin", api.flags_put, { params = "sku:text" })
  destek.route("GET", "/api/v1/returns/{id}", "agent", api.get, { params = "id:int" })
  destek.route("PATCH", "/api/v1/returns/{id}", "agent", api.patch, { params = "id:int" })
  destek.route("POST", "/api/v1/returns/{id}/approve", "agent", api.approve, { params = "id:int" })
  destek.route("POST", "/api/v1/returns/{id}/reject", "agent", api.reject, { params = "id:int" })
  destek.route("POST", "/api/v1/returns/{id}/shipped", "agent", api.shipped, { params = "id:int" })
  destek.route("POST", "/api/v1/returns/{id}/receive", "agent", api.receive, { params = "id:int" })
  destek.route("POST", "/api/v1/returns/{id}/inspect", "agent", api.inspect, { params = "id:int" })
  destek.route("POST", "/api/v1/returns/{id}/refund", "agent", api.refund, { params = "id:int" })
  destek.route("POST", "/api/v1/returns/{id}/credit", "agent", api.credit, { params = "id:int" })
  destek.route("POST", "/api/v1/returns/{id}/exchange", "agent", api.exchange, { params = "id:int" })
  destek.route("POST", "/api/v1/returns/{id}/notes", "agent", api.note, { params = "id:int" })
  destek.route("GET", "/api/v1/returns/{id}/photos/{photo}", "agent", api.photo, { params = "id:int photo:int" })
  destek.route("GET", "/api/v1/returns/{id}/iban", "admin", api.iban, { params = "id:int" })
  destek.on_async("shipment.created", api.on_shipment)
  destek.on_async("shipment.updated", api.on_shipment)
end

return api

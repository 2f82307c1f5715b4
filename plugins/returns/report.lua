-- returns.report_facts — the returns' figures for the reports module, by its module-neutral contract
-- (plugins/reports/README.md, "The contract"): one fact per return request, from the module's own tables.
--   {describe = true} -> {kind = "return", subjects = {"return"}, durations = {"refund"}}
--   {after, limit} -> {items, next};  {ids = {...}} -> {items}
-- A fact: {id, ref (the approval code), at (requested), open (not refunded, exchanged, credited or rejected),
--   dims = {reason = {the items' reasons}, product = {the items' names}, status},
--   values = {returned = 1, rejected = 0/1, refund = seconds from the request to the refund}}
local destek = require "destek"

local M = {}

local SQL = "SELECT r.id, r.code, r.created_at, r.status, r.refunded_at," ..
  " (SELECT json_group_array(reason) FROM (SELECT DISTINCT reason FROM returns_items i WHERE i.return_id = r.id)) AS reasons," ..
  " (SELECT json_group_array(name) FROM (SELECT DISTINCT name FROM returns_items i WHERE i.return_id = r.id)) AS products" ..
  " FROM returns_returns r"
local FINAL = { refunded = true, exchanged = true, credited = true, rejected = true }

local function fact(r)
  local values = { returned = 1, rejected = r.status == "rejected" and 1 or 0 }
  if r.refunded_at then values.refund = math.max(0, r.refunded_at - r.created_at) end
  return {
    id = r.id, ref = r.code, at = r.created_at, open = FINAL[r.status] and 0 or 1,
    dims = { reason = destek.json.array(destek.json.decode(r.reasons)), product = destek.json.array(destek.json.decode(r.products)),
             status = r.status },
    values = values,
  }
end

function M.register()
  destek.service("returns.report_facts", function(args)
    if args.describe then
      return { kind = "return", subjects = { "return" }, durations = { "refund" } }
    end
    local items = {}
    if args.ids then
      for i, id in ipairs(args.ids) do
        if i > 500 then break end
        local rows = destek.db.query(SQL .. " WHERE r.id = ?1", math.tointeger(id) or 0)
        if rows[1] then items[#items + 1] = fact(rows[1]) end
      end
      return { items = destek.json.array(items) }
    end
    local limit = math.tointeger(args.limit) or 500
    if limit < 1 or limit > 200 then limit = 200 end
    local rows = destek.db.query(SQL .. " WHERE r.id > ?1 ORDER BY r.id LIMIT ?2", math.tointeger(args.after) or 0, limit)
    for _, r in ipairs(rows) do items[#items + 1] = fact(r) end
    return { items = destek.json.array(items), next = #rows == limit and rows[#rows].id or nil }
  end)
end

return M

-- campaigns/coupons.lua: pools of single-use coupon codes for campaigns and special days ({{coupon}} in a template).
-- Codes are generated (campaigns.coupon_format: X is a random letter or digit of an alphabet without look-alikes,
-- anything else is kept) or imported from the shop (a CSV, one code a line). A code is given to one recipient ever:
-- campaigns_coupons.code and .recipient_id are UNIQUE, and the code is taken in the transaction that queues its
-- message (send.lua); a message that could not be queued gives its code back in that same transaction, so a code is
-- never in two messages and never in none that went. A recipient for whom no code is left is withheld (skipped,
-- reason no_coupon), not sent without one.
local destek = require "destek"
local util = require "util"

local coupons = {}

local ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"   -- 32 letters: a random byte % 32 is uniform
local MAX_GENERATE = 5000                              -- codes a request (the call's time budget)
local MAX_IMPORT = 20000

function coupons.pool_of(id)
  return destek.db.query("SELECT * FROM campaigns_coupon_pools WHERE id = ?1", id)[1]
end

-- A pool with its counts: total, given, remaining, and low (remaining at or under low_at).
function coupons.out(p)
  local n = destek.db.query("SELECT count(*) AS total, count(recipient_id) AS given FROM campaigns_coupons WHERE pool_id = ?1",
                            p.id)[1]
  local remaining = n.total - n.given
  return { id = p.id, name = p.name, low_at = p.low_at, total = n.total, given = n.given, remaining = remaining,
           low = remaining <= p.low_at, created_at = util.iso(p.created_at) }
end

local function check_format(f)
  if type(f) ~= "string" or #f < 4 or #f > 40 or not f:match("^[%w%-_]+$") then return nil end
  local xs = select(2, f:gsub("X", ""))
  if xs < 6 then return nil end    -- at least 6 random letters: 32^6 = 10^9 codes to guess from
  return f
end

-- Generates n new codes of format into pool p (codes that collide with any existing code are drawn again).
function coupons.generate(p, n, format)
  format = check_format(format or destek.setting("campaigns.coupon_format"))
  if not format then
    util.fail("format", "format is 4 to 40 letters, digits, - or _, with at least 6 X (each X a random letter or digit)")
  end
  if not n or n < 1 or n > MAX_GENERATE then util.fail("count", "count is 1 to " .. MAX_GENERATE .. " codes a request") end
  local xs = select(2, format:gsub("X", ""))
  local now, made, tries = os.time(), 0, 0
  while made < n do
    tries = tries + 1
    if tries > n * 2 + 10 then error(destek.error(409, "format_exhausted", "the format has too few free codes left")) end
    -- SQLite's randomness (seeded from the OS): one blob per code
    local hex = destek.db.query("SELECT hex(randomblob(?1)) AS h", xs)[1].h
    local i = 0
    local code = format:gsub("X", function()
      i = i + 1
      local b = tonumber(hex:sub(i * 2 - 1, i * 2), 16)
      local k = b % 32 + 1
      return ALPHABET:sub(k, k)
    end)
    local r = destek.db.exec("INSERT OR IGNORE INTO campaigns_coupons(pool_id, code, source, created_at) VALUES (?1, ?2," ..
                             " 'generated', ?3)", p.id, code, now)
    if r.changes == 1 then made = made + 1 end
  end
  return made
end

-- Imports the shop's codes (CSV text: the first column of each line; a header "code" is skipped). All or nothing:
-- a code twice in the file, already in a pool, or not a code refuses the file with every such line.
function coupons.import(p, csv)
  if type(csv) ~= "string" or #csv == 0 then util.fail("csv", "csv is the file's text: one code a line") end
  local codes, problems, seen = {}, {}, {}
  local line = 0
  for raw in (csv:gsub("^\239\187\191", "") .. "\n"):gmatch("([^\n]*)\n") do
    line = line + 1
    local v = raw:gsub("\r$", ""):match("^%s*\"?([^,;\"]*)\"?")
    v = v and v:gsub("^%s+", ""):gsub("%s+$", "") or ""
    if v ~= "" and not (line == 1 and v:lower() == "code") then
      if #v > 64 or not v:match("^[%w%-_%.]+$") then
        problems[#problems + 1] = { line = line, message = "not a code (1 to 64 letters, digits, - _ .)" }
      elseif seen[v] then
        problems[#problems + 1] = { line = line, message = "the code is in the file twice (line " .. seen[v] .. ")" }
      else
        seen[v] = line
        codes[#codes + 1] = v
      end
      if #codes > MAX_IMPORT then util.fail("csv", "at most " .. MAX_IMPORT .. " codes a file") end
    end
  end
  if #codes == 0 and #problems == 0 then util.fail("csv", "the file has no codes") end
  if #problems == 0 then
    -- codes already known (in any pool): looked up in one statement
    for _, r in ipairs(destek.db.query("SELECT code FROM campaigns_coupons WHERE code IN (SELECT value FROM json_each(?1))",
                                       destek.json.encode(codes))) do
      problems[#problems + 1] = { line = seen[r.code], message = "the code is already in a pool" }
      if #problems >= 100 then break end
    end
  end
  if #problems > 0 then
    table.sort(problems, function(a, b) return a.line < b.line end)
    return nil, problems
  end
  destek.db.exec("INSERT INTO campaigns_coupons(pool_id, code, source, created_at) SELECT ?1, value, 'imported', ?2" ..
                 " FROM json_each(?3)", p.id, os.time(), destek.json.encode(codes))
  return #codes
end

-- Takes the pool's next free code for recipient rid (contact cid), in the caller's transaction: the code, or nil
-- when none is left.
function coupons.take(pool_id, rid, cid)
  local r = destek.db.exec("UPDATE campaigns_coupons SET recipient_id = ?2, contact_id = ?3, given_at = ?4 WHERE id =" ..
    " (SELECT id FROM campaigns_coupons WHERE pool_id = ?1 AND recipient_id IS NULL ORDER BY id LIMIT 1)",
    pool_id, rid, cid, os.time())
  if r.changes ~= 1 then return nil end
  return destek.db.query("SELECT code FROM campaigns_coupons WHERE recipient_id = ?1", rid)[1].code
end

-- Gives back recipient rid's code (its message could not be queued), in the caller's transaction.
function coupons.give_back(rid)
  destek.db.exec("UPDATE campaigns_coupons SET recipient_id = NULL, contact_id = NULL, given_at = NULL WHERE recipient_id = ?1",
                 rid)
end

-- A campaign's or occasion's pool_id from a request body: nil (none) or an existing pool's id. texts is {tr = subject
-- and body in Turkish, en = in English}: with a pool each language's version carries {{coupon}} (a code is taken for
-- every recipient), without one neither does.
function coupons.check_pool(b, texts)
  local with = 0
  for _, lang in ipairs({ "tr", "en" }) do
    if type(texts[lang]) == "string" and texts[lang]:find("{{%s*coupon%s*}}") then with = with + 1 end
  end
  if b.pool_id == nil or b.pool_id == destek.json.null then
    if with > 0 then util.fail("pool_id", "the text has {{coupon}}: choose a coupon pool (pool_id)") end
    return nil
  end
  local id = util.int(b.pool_id)
  if not id or not coupons.pool_of(id) then util.fail("pool_id", "pool_id is a coupon pool's id") end
  if with < 2 then util.fail("pool_id", "a campaign with a coupon pool puts {{coupon}} in its Turkish and English texts") end
  return id
end

local function must_pool(req)
  local p = coupons.pool_of(math.tointeger(req.params.id))
  if not p then error(destek.error(404, "not_found", "no such coupon pool")) end
  return p
end

local function body_of(req)
  if type(req.json) ~= "table" then error(destek.error(400, "bad_json", "send a JSON object")) end
  return req.json
end

-- The CSV of an import: JSON {csv} (the screen reads the chosen file and sends its text, as the consent import does).
local function csv_of(req) return body_of(req).csv end

function coupons.register()
  destek.route("GET", "/api/v1/campaign-coupons", "agent", function(req)
    local limit, after = destek.cursor(req)
    local rows = destek.db.query("SELECT * FROM campaigns_coupon_pools WHERE (?1 = 0 OR id < ?1) ORDER BY id DESC LIMIT ?2",
                                 after, limit + 1)
    local next_after
    if #rows > limit then rows[#rows] = nil; next_after = rows[#rows].id end
    for i, p in ipairs(rows) do rows[i] = coupons.out(p) end
    return 200, destek.list(rows, next_after)
  end)

  -- {name, low_at?, generate?: count, format?}: a pool, with generated codes when asked.
  destek.route("POST", "/api/v1/campaign-coupons", "admin", function(req)
    local b = body_of(req)
    local name = util.need_text(b, "name", 200)
    local low = b.low_at == nil and 50 or util.int(b.low_at)
    if not low or low < 0 or low > 1000000 then util.fail("low_at", "low_at is 0 to 1000000 codes") end
    local r = destek.db.exec("INSERT INTO campaigns_coupon_pools(name, low_at, created_by, created_at) VALUES (?1, ?2, ?3, ?4)",
                             name, low, req.user.id, os.time())
    local p = coupons.pool_of(r.last_id)
    if b.generate ~= nil then coupons.generate(p, util.int(b.generate), b.format) end
    destek.audit("campaigns.coupon_pool_created", "coupon_pool:" .. p.id)
    return 201, coupons.out(p)
  end, { max_body = 4096 })

  -- Pools in use (by a special day that is on, or a campaign not finished) at or under their low_at: the admins' banner.
  destek.route("GET", "/api/v1/campaign-coupons/low", "agent", function()
    local rows = destek.db.query("SELECT p.* FROM campaigns_coupon_pools p WHERE (EXISTS (SELECT 1 FROM campaigns_occasions o" ..
      " WHERE o.pool_id = p.id AND o.enabled = 1) OR EXISTS (SELECT 1 FROM campaigns_campaigns c WHERE c.pool_id = p.id AND" ..
      " c.status <> 'done')) AND (SELECT count(*) FROM campaigns_coupons k WHERE k.pool_id = p.id AND k.recipient_id IS NULL)" ..
      " <= p.low_at ORDER BY p.id LIMIT 20")
    for i, p in ipairs(rows) do rows[i] = coupons.out(p) end
    return 200, { items = destek.json.array(rows) }
  end)

  destek.route("GET", "/api/v1/campaign-coupons/{id}", "agent", function(req)
    return 200, coupons.out(must_pool(req))
  end, { params = "id:int" })

  destek.route("POST", "/api/v1/campaign-coupons/{id}/generate", "admin", function(req)
    local p = must_pool(req)
    local b = body_of(req)
    local n = coupons.generate(p, util.int(b.count), b.format)
    destek.audit("campaigns.coupons_generated", "coupon_pool:" .. p.id, { count = n })
    return 201, coupons.out(p)
  end, { params = "id:int", max_body = 4096 })

  destek.route("POST", "/api/v1/campaign-coupons/{id}/import", "admin", function(req)
    local p = must_pool(req)
    local n, problems = coupons.import(p, csv_of(req))
    if not n then
      return 422, { error = { code = "invalid_rows", message = #problems .. " line(s) of the file are refused; no code was" ..
                    " imported", rows = problems } }
    end
    destek.audit("campaigns.coupons_imported", "coupon_pool:" .. p.id, { count = n })
    return 201, coupons.out(p)
  end, { params = "id:int", max_body = 4 * 1024 * 1024 })

  -- Which codes were given to whom (?given=1), or are free (?given=0).
  destek.route("GET", "/api/v1/campaign-coupons/{id}/codes", "admin", function(req)
    local p = must_pool(req)
    local limit, after = destek.cursor(req)
    local given = req.query.given or ""
    local rows = destek.db.query("SELECT id, code, source, recipient_id, contact_id, given_at FROM campaigns_coupons" ..
      " WHERE pool_id = ?1 AND id > ?2 AND (?3 = '' OR (?3 = '1') = (recipient_id IS NOT NULL)) ORDER BY id LIMIT ?4",
      p.id, after, given, limit + 1)
    local next_after
    if #rows > limit then rows[#rows] = nil; next_after = rows[#rows].id end
    for i, r in ipairs(rows) do
      rows[i] = { id = r.id, code = r.code, source = r.source, recipient_id = r.recipient_id or destek.json.null,
                  contact_id = r.contact_id or destek.json.null, given_at = util.iso(r.given_at) }
    end
    return 200, destek.list(rows, next_after)
  end, { params = "id:int" })
end

return coupons

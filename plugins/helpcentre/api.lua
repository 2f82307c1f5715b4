-- helpcentre/api.lua: the agents' API. Categories are admins' to change; articles agents' (reads, writes, publishing,
-- versions, images, preview) and the report. Every write checks its body and answers 4xx {error} for a mistake.
local destek = require "destek"
local store = require "store"

local api = {}

local TITLE_MAX, BODY_MAX, DESC_MAX, SLUG_MAX = 200, 100000, 300, 80

local function bad(field, message) return destek.error(422, "invalid_field", message, field) end

-- A slug from a title: folded (ı ş ç ... to ascii), words joined by "-".
function api.slugify(title)
  local s = destek.text.fold(title or ""):gsub("[^a-z0-9]+", "-"):gsub("^-+", ""):gsub("-+$", "")
  return s:sub(1, SLUG_MAX):gsub("-+$", "")
end

local function valid_slug(s)
  return type(s) == "string" and #s >= 1 and #s <= SLUG_MAX and s:match("^[a-z0-9][a-z0-9-]*$") ~= nil
end

local function text_ok(v, max, empty_ok)
  return type(v) == "string" and (empty_ok or #v > 0) and #v <= max and utf8.len(v) ~= nil
end

-- texts = {tr = {title, body, description}, en = ... | json.null (remove)}: checked; raises an error value.
local function check_texts(texts, need_one)
  if texts == nil then
    if need_one then error(bad("texts", "texts: at least one language, {\"tr\": {\"title\", \"body\"}}")) end
    return
  end
  if type(texts) ~= "table" then error(bad("texts", "texts must be an object keyed by language (tr, en)")) end
  local n = 0
  for lang, t in pairs(texts) do
    if lang ~= "tr" and lang ~= "en" then error(bad("texts", "languages are tr and en")) end
    if t ~= destek.json.null then
      if type(t) ~= "table" then error(bad("texts." .. lang, "an object {title, body, description}")) end
      if not text_ok(t.title, TITLE_MAX) then error(bad("texts." .. lang .. ".title", "1 to 200 bytes of text")) end
      if not text_ok(t.body, BODY_MAX, true) then error(bad("texts." .. lang .. ".body", "Markdown, at most 100000 bytes")) end
      if t.description ~= nil and not text_ok(t.description, DESC_MAX, true) then
        error(bad("texts." .. lang .. ".description", "at most 300 bytes of text"))
      end
      n = n + 1
    end
  end
  if need_one and n == 0 then error(bad("texts", "texts: at least one language")) end
end

local function body_of(req)
  local b = req.json
  if type(b) ~= "table" then error(destek.error(400, "bad_json", "send a JSON object")) end
  return b
end

local function id_of(req, name) return math.tointeger(tonumber(req.params[name or "id"])) end

local function category_id_of(b)
  if b.category_id == nil or b.category_id == destek.json.null then return nil end
  local id = math.tointeger(b.category_id)
  if not id or not store.category(id) then error(bad("category_id", "no such category")) end
  return id
end

local function position_of(b)
  if b.position == nil then return nil end
  local p = math.tointeger(b.position)
  if not p or p < 0 or p > 1000000 then error(bad("position", "a whole number from 0 to 1000000")) end
  return p
end

local function article_out(a)
  a.images = destek.json.array(store.images(a.id))
  for _, im in ipairs(a.images) do im.url = "/help/img/" .. im.file_id end
  a.url = "/help/a/" .. a.slug
  return a
end

local function must_article(req)
  local a = store.article(id_of(req))
  if not a then error(destek.error(404, "not_found", "no such article")) end
  return a
end

-- Sets an article's texts from a checked texts table, recording a version for each language that changed.
local function apply_texts(a, texts, user, now, created)
  for _, lang in ipairs(store.LANGS) do
    local t = texts[lang]
    local old = a.texts and a.texts[lang]
    if t == destek.json.null then
      if old then
        store.article_text(a.id, lang, nil, now)
        store.version_add(a.id, lang, nil, "removed", user, now)
      end
    elseif t ~= nil then
      local new = { title = t.title, body = t.body, description = t.description or "" }
      local changed = {}
      for _, f in ipairs({ "title", "body", "description" }) do
        if not old or old[f] ~= new[f] then changed[#changed + 1] = f end
      end
      if #changed > 0 then
        store.article_text(a.id, lang, new, now)
        store.version_add(a.id, lang, new, (created or not old) and "created" or table.concat(changed, ","), user, now)
      end
    end
  end
end

local function slug_taken() return destek.error(409, "slug_taken", "this slug is taken", "slug") end

-- Publishes now, or schedules: the helpcentre.publish timer publishes it at publish_at.
local function publish(a, at, now)
  if at and at > now then
    store.set_status(a.id, "scheduled", at, a.published_at, now)
    destek.timer_at("helpcentre.publish", tostring(a.id), at, { id = a.id })
    return "scheduled"
  end
  destek.timer_cancel("helpcentre.publish", tostring(a.id))
  store.set_status(a.id, "published", nil, now, now)
  return "published"
end

function api.register()
  -- categories ----------------------------------------------------------------------------------------------------
  destek.route("GET", "/api/v1/helpcentre/categories", "agent", function(req)
    return 200, { items = destek.json.array(store.categories()) }
  end)

  local function category_write(req, id)
    local b = body_of(req)
    local now = os.time()
    if b.slug ~= nil and not valid_slug(b.slug) then return bad("slug", "lower-case letters, digits and -") end
    if not id then
      if b.slug == nil then return destek.error(422, "missing_field", "slug is required", "slug") end
      if type(b.texts) ~= "table" then return destek.error(422, "missing_field", "texts: {\"tr\": {\"title\"}}", "texts") end
    end
    local position = position_of(b)
    local texts = b.texts
    if texts ~= nil then
      if type(texts) ~= "table" then return bad("texts", "texts must be an object keyed by language (tr, en)") end
      for lang, t in pairs(texts) do
        if lang ~= "tr" and lang ~= "en" then return bad("texts", "languages are tr and en") end
        if t ~= destek.json.null and (type(t) ~= "table" or not text_ok(t.title, TITLE_MAX)
            or (t.description ~= nil and not text_ok(t.description, DESC_MAX, true))) then
          return bad("texts." .. lang, "{title: 1 to 200 bytes, description: at most 300}")
        end
      end
    end
    local ok, kind
    if id then
      ok, kind = store.category_update(id, { slug = b.slug, position = position }, now)
    else
      id, kind = store.category_add({ slug = b.slug, position = position }, now)
      ok = id ~= nil
    end
    if not ok then return kind == "constraint" and slug_taken() or destek.error(500, "internal", "not saved") end
    for lang, t in pairs(texts or {}) do store.category_text(id, lang, t ~= destek.json.null and t or nil) end
    destek.audit("helpcentre.category_saved", "helpcentre_category:" .. id)
    return 200, store.category(id)
  end

  destek.route("POST", "/api/v1/helpcentre/categories", "admin", function(req)
    local status, body = category_write(req, nil)
    if status == 200 then status = 201 end
    return status, body
  end)
  destek.route("PATCH", "/api/v1/helpcentre/categories/{id}", "admin", function(req)
    if not store.category(id_of(req)) then return destek.error(404, "not_found", "no such category") end
    return category_write(req, id_of(req))
  end, { params = "id:int" })
  destek.route("DELETE", "/api/v1/helpcentre/categories/{id}", "admin", function(req)
    if not store.category_delete(id_of(req)) then return destek.error(404, "not_found", "no such category") end
    destek.audit("helpcentre.category_deleted", "helpcentre_category:" .. id_of(req))
    return 204, nil
  end, { params = "id:int" })

  -- articles ------------------------------------------------------------------------------------------------------
  destek.route("GET", "/api/v1/helpcentre/articles", "agent", function(req)
    local status = req.query.status
    if status ~= nil and status ~= "draft" and status ~= "scheduled" and status ~= "published" then
      return bad("status", "draft, scheduled or published")
    end
    local category_id = req.query.category_id and math.tointeger(tonumber(req.query.category_id))
    if req.query.category_id and not category_id then return bad("category_id", "a category id") end
    local limit, after = destek.cursor(req)
    return 200, destek.list(store.articles({ status = status, category_id = category_id }, limit, after))
  end)

  destek.route("POST", "/api/v1/helpcentre/articles", "agent", function(req)
    local b = body_of(req)
    check_texts(b.texts, true)
    local slug = b.slug
    if slug == nil then
      local first = b.texts.tr ~= destek.json.null and b.texts.tr or b.texts.en
      slug = api.slugify(first.title)
      if slug == "" then slug = "article" end
    elseif not valid_slug(slug) then
      return bad("slug", "lower-case letters, digits and -")
    end
    local now = os.time()
    local id, kind = store.article_add({ slug = slug, category_id = category_id_of(b), position = position_of(b),
                                         author_id = req.user.id }, now)
    if not id then return kind == "constraint" and slug_taken() or destek.error(500, "internal", "not saved") end
    apply_texts({ id = id, texts = {} }, b.texts, req.user, now, true)
    if b.publish == true or b.publish_at ~= nil then
      local at = b.publish_at ~= nil and math.tointeger(b.publish_at)
      if b.publish_at ~= nil and not at then return bad("publish_at", "a time in Unix seconds") end
      publish({ id = id }, at or nil, now)
    end
    destek.audit("helpcentre.article_created", "helpcentre_article:" .. id, { slug = slug })
    return 201, article_out(store.article(id))
  end)

  destek.route("GET", "/api/v1/helpcentre/articles/{id}", "agent", function(req)
    store.flush_counts()       -- its views, current
    return 200, article_out(must_article(req))
  end, { params = "id:int" })

  destek.route("PATCH", "/api/v1/helpcentre/articles/{id}", "agent", function(req)
    local a = must_article(req)
    local b = body_of(req)
    if b.slug ~= nil and not valid_slug(b.slug) then return bad("slug", "lower-case letters, digits and -") end
    check_texts(b.texts, false)
    local now = os.time()
    local ok, kind = store.article_update(a.id, { slug = b.slug, set_category = b.category_id ~= nil,
                                                  category_id = category_id_of(b), position = position_of(b) }, now)
    if not ok then return kind == "constraint" and slug_taken() or destek.error(500, "internal", "not saved") end
    if b.texts then apply_texts(a, b.texts, req.user, now, false) end
    local after = store.article(a.id)
    if next(after.texts) == nil then return bad("texts", "an article keeps at least one language") end
    return 200, article_out(after)
  end, { params = "id:int" })

  destek.route("DELETE", "/api/v1/helpcentre/articles/{id}", "agent", function(req)
    local a = must_article(req)
    for _, im in ipairs(store.images(a.id)) do destek.files.delete(im.file_id) end
    destek.timer_cancel("helpcentre.publish", tostring(a.id))
    store.article_delete(a.id)
    destek.audit("helpcentre.article_deleted", "helpcentre_article:" .. a.id, { slug = a.slug })
    return 204, nil
  end, { params = "id:int" })

  -- publish now or at publish_at (Unix seconds); unpublish back to a draft.
  destek.route("POST", "/api/v1/helpcentre/articles/{id}/publish", "agent", function(req)
    local a = must_article(req)
    local b = req.json
    local at
    if type(b) == "table" and b.publish_at ~= nil then
      at = math.tointeger(b.publish_at)
      if not at or at < 0 then return bad("publish_at", "a time in Unix seconds") end
    end
    local status = publish(a, at, os.time())
    destek.audit("helpcentre.article_" .. status, "helpcentre_article:" .. a.id, { publish_at = at })
    return 200, article_out(store.article(a.id))
  end, { params = "id:int" })

  destek.route("POST", "/api/v1/helpcentre/articles/{id}/unpublish", "agent", function(req)
    local a = must_article(req)
    destek.timer_cancel("helpcentre.publish", tostring(a.id))
    store.set_status(a.id, "draft", nil, nil, os.time())
    destek.audit("helpcentre.article_unpublished", "helpcentre_article:" .. a.id)
    return 200, article_out(store.article(a.id))
  end, { params = "id:int" })

  destek.timer("helpcentre.publish", function(key, payload)
    local a = store.article(math.tointeger(payload.id) or 0)
    if not a or a.status ~= "scheduled" then return end          -- deleted or changed since: nothing to do
    store.set_status(a.id, "published", nil, os.time(), os.time())
    destek.emit("helpcentre.published", { id = a.id, slug = a.slug }, "helpcentre_article:" .. a.id)
  end)

  -- versions ------------------------------------------------------------------------------------------------------
  destek.route("GET", "/api/v1/helpcentre/articles/{id}/versions", "agent", function(req)
    local a = must_article(req)
    return 200, { items = destek.json.array(store.versions(a.id)) }
  end, { params = "id:int" })

  destek.route("GET", "/api/v1/helpcentre/articles/{id}/versions/{version}", "agent", function(req)
    local a = must_article(req)
    local v = store.version(a.id, id_of(req, "version"))
    if not v then return destek.error(404, "not_found", "no such version") end
    return 200, v
  end, { params = "id:int version:int" })

  destek.route("POST", "/api/v1/helpcentre/articles/{id}/versions/{version}/restore", "agent", function(req)
    local a = must_article(req)
    local v = store.version(a.id, id_of(req, "version"))
    if not v then return destek.error(404, "not_found", "no such version") end
    if v.title == nil then return destek.error(409, "nothing_to_restore", "this version removed the language") end
    local now = os.time()
    local t = { title = v.title, body = v.body, description = v.description or "" }
    store.article_text(a.id, v.lang, t, now)
    store.version_add(a.id, v.lang, t, "restored:" .. v.id, req.user, now)
    store.article_update(a.id, {}, now)
    destek.audit("helpcentre.article_restored", "helpcentre_article:" .. a.id, { version = v.id, lang = v.lang })
    return 200, article_out(store.article(a.id))
  end, { params = "id:int version:int" })

  -- preview: Markdown rendered as the public page renders it.
  destek.route("POST", "/api/v1/helpcentre/preview", "agent", function(req)
    local b = body_of(req)
    if not text_ok(b.body, BODY_MAX, true) then return bad("body", "Markdown, at most 100000 bytes") end
    return 200, { html = tostring(destek.markdown(b.body)) }
  end, { max_body = 256 * 1024 })

  -- images --------------------------------------------------------------------------------------------------------
  destek.route("POST", "/api/v1/helpcentre/articles/{id}/images", "agent", function(req)
    local a = must_article(req)
    local out, now = {}, os.time()
    local files = {}
    local b = (req.headers["content-type"] or ""):find("^application/json") and req.json
    if type(b) == "table" then
      -- The agents' app sends JSON: {filename, data_base64}.
      local bytes = type(b.data_base64) == "string" and destek.base64.decode(b.data_base64)
      if not bytes then return bad("data_base64", "the image, base64") end
      if type(b.filename) ~= "string" or #b.filename == 0 or #b.filename > 200 or not utf8.len(b.filename) then
        return bad("filename", "1 to 200 bytes of text")
      end
      if #bytes > 5 * 1024 * 1024 then return destek.error(413, "file_too_large", "an image may be at most 5 MiB") end
      files[1] = { filename = b.filename, bytes = bytes }
    else
      for _, f in ipairs(req.files) do files[#files + 1] = { filename = f.filename, file = f } end
    end
    for _, f in ipairs(files) do
      local file_id, info = destek.files.save(f.file or f.bytes, { images_only = true })
      if not file_id then
        if f.bytes then return destek.error(415, "not_an_image", "JPEG, PNG, WebP or GIF only") end
        return destek.error(500, "internal", info)
      end
      local id = store.image_add(a.id, file_id, f.filename, info, now)
      out[#out + 1] = { id = id, file_id = file_id, filename = f.filename, type = info.type, size = info.size,
                        url = "/help/img/" .. file_id, markdown = "![" .. f.filename:gsub("[%[%]]", "") .. "](/help/img/" .. file_id .. ")" }
    end
    if #out == 0 then return destek.error(422, "missing_field", "send images in a multipart/form-data body", "file") end
    return 201, { items = destek.json.array(out) }
  end, { params = "id:int", uploads = { max_files = 5, max_file_bytes = 5 * 1024 * 1024, images_only = true } })

  -- the report ----------------------------------------------------------------------------------------------------
  destek.route("GET", "/api/v1/helpcentre/report", "agent", function(req)
    store.flush_counts()       -- what was counted in memory since the job last wrote it, so that the report is current
    local r = store.report()
    local votes = r.helpful_yes + r.helpful_no
    r.helpful_pct = votes > 0 and math.floor(r.helpful_yes * 100 / votes + 0.5) or destek.json.null
    r.misses = destek.json.array(r.misses)
    r.articles_top = destek.json.array(r.articles_top)
    r.reasons = destek.json.array(r.reasons)
    return 200, r
  end)
end

return api

-- helpcentre/pages.lua: the public help centre under /help, server-rendered, working without JavaScript. A page's
-- language is ?lang= (tr, en), else the caller's (a signed-in user's, else Accept-Language's); links carry it on.
local destek = require "destek"
local store = require "store"

local pages = {}

local REASON_MAX = 500

-- What one visitor (by address; destek.rate keeps it as an HMAC, not as it is) can add to the counts: one vote, one
-- suggestion opened and one deflection per article a day, and at most PER_HOUR of each an hour across articles. More is
-- answered as usual and not counted, so a script cannot inflate an article's figures.
local DAY, PER_HOUR = 86400, 20

local function once(req, what, article_id)
  return destek.rate(what, req.ip, PER_HOUR, 3600) and destek.rate(what, req.ip .. "\0" .. article_id, 1, DAY)
end

local function setting(name)
  local ok, v = pcall(destek.setting, name)
  if ok and v ~= nil and v ~= "" then return v end
end

-- Rendered pages are kept by the host (destek.page's `cache` option: one cache for every worker, bounded in bytes),
-- keyed by path, ?lang, the caller's language and Host, and dropped when store.lua changes what they show or a setting
-- changes. A page served from there does not run this module: the host counts it under its path (count = true).

-- Counts (views, searches, searches that found nothing) are gathered in memory (destek.counter, shared by every
-- worker) and written by the helpcentre job every FLUSH_SECONDS in one transaction; when the counters are full, a
-- count is written at once. A crash loses at most those seconds' counts.
local FLUSH_SECONDS = 2

local function count(name, write)
  if not destek.counter.add(name) then write() end
end

local function lang_of(req)
  local l = req.query.lang
  if l == "tr" or l == "en" then return l end
  return destek.lang()
end

-- The site's address for canonical links and the sitemap: helpcentre.public_url, else mail.public_url, else this
-- request's Host.
local function base_url(req)
  local u = setting("helpcentre.public_url") or setting("mail.public_url")
  if not u then
    local host = req.headers.host or "localhost"
    if not host:match("^[%w%.%-:%[%]]+$") then host = "localhost" end
    u = "http://" .. host
  end
  return (u:gsub("/+$", ""))
end

-- What every page's layout needs: strings, theme, language switch, canonical and alternate links.
local function frame(req, lang, path, langs, extra)
  local t = destek.strings(lang)
  local base = base_url(req)
  local alternates = {}
  for _, l in ipairs(langs or store.LANGS) do
    alternates[#alternates + 1] = { hreflang = l, href = base .. path .. "?lang=" .. l,
                                    label = l == "tr" and "Türkçe" or "English", current = l == lang }
  end
  local d = {
    t = t, lang = lang, path = path, canonical = base .. path .. "?lang=" .. lang, alternates = alternates,
    -- The help centre's own name and logo, else the shop's (the core's shop.* settings), and its KVKK notice.
    shop = setting("helpcentre.shop_name") or setting("shop.name") or t.help_centre,
    logo = setting("helpcentre.logo_url") or setting("shop.logo_url"),
    privacy_url = setting("shop.privacy_url"),
    contact_url = setting("helpcentre.contact_url") or "/contact",
  }
  if d.logo then d.logo = destek.html.url(d.logo) end
  if d.privacy_url then d.privacy_url = destek.html.url(d.privacy_url) end
  for k, v in pairs(extra or {}) do d[k] = v end
  return d
end

local function not_found(req, lang)
  return 404, destek.render("missing", frame(req, lang, "/help", nil, { title = destek.strings(lang).not_found,
                                                                       noindex = true }))
end

function pages.home(req)
  local lang = lang_of(req)
  local cats = store.categories(lang)
  local shown = {}
  for _, c in ipairs(cats) do
    c.articles = store.published_in(c.id, lang)
    if #c.articles > 0 then
      for i = 6, #c.articles do c.articles[i] = nil end
      shown[#shown + 1] = c
    end
  end
  local t = destek.strings(lang)
  return 200, destek.render("home", frame(req, lang, "/help", nil, {
    title = t.help_centre, description = t.home_description, categories = shown }))
end

function pages.category(req)
  local lang = lang_of(req)
  local c = store.category_by_slug(req.params.slug, lang)
  if not c then return not_found(req, lang) end
  c.articles = store.published_in(c.id, lang)
  if #c.articles == 0 then return not_found(req, lang) end
  return 200, destek.render("category", frame(req, lang, "/help/c/" .. c.slug, nil, {
    title = c.title, description = c.description ~= "" and c.description or nil, category = c }))
end

-- The host answers most requests from its cache (count = true counts those views); this runs for the others: the first
-- since a change, ?from=contact (a suggestion opened: counted) and ?voted=1 (the thanks).
function pages.article(req)
  local lang = lang_of(req)
  local voted = req.query.voted == "1"
  local a = store.article_by_slug(req.params.slug)
  if not a or a.status ~= "published" then return not_found(req, lang) end
  count(req.path, function() store.add_views(a.slug, 1) end)
  if req.query.from == "contact" and once(req, "suggested", a.id) then store.count(a.id, "suggested") end
  local shown = a.texts[lang] and lang or (lang == "tr" and "en" or "tr")
  local text = a.texts[shown]
  local langs = {}
  for _, l in ipairs(store.LANGS) do if a.texts[l] then langs[#langs + 1] = l end end
  local cat = a.category_id and store.category(a.category_id)
  if cat then
    local ct = cat.texts[shown] or cat.texts.tr or cat.texts.en
    cat = { slug = cat.slug, title = ct and ct.title or cat.slug }
  end
  local t = destek.strings(shown)
  return 200, destek.render("article", frame(req, shown, "/help/a/" .. a.slug, langs, {
    title = text.title, description = text.description ~= "" and text.description or store.cut(store.plain(store.cut(text.body, 600)), 160),
    article = { slug = a.slug, title = text.title, body = destek.markdown(text.body),
                updated = os.date("!%Y-%m-%d", math.max(a.updated_at, text.updated_at)) },
    category = cat, other_lang = shown ~= lang and destek.strings(lang).only_in_other or nil,
    voted = voted,
  }))
end

function pages.search(req)
  local lang = lang_of(req)
  local q = req.query.q or ""
  if #q > 200 then q = q:sub(1, 200) end
  local searched = q:match("%S") ~= nil
  -- The page of a search is kept by the host (destek.cache) until the help centre changes: people ask the same few
  -- things. Its key holds what the page shows: the language, the site's address (Host) and the words.
  local key = "search\1" .. lang .. "\1" .. (req.headers.host or "") .. "\1" .. q
  local html, token = destek.cache.get(key)
  local found = destek.cache.get("found\1" .. lang .. "\1" .. q)
  if not html or not found then
    local t = destek.strings(lang)
    local results = {}
    if searched then
      results = store.search(q, lang, 20)
      for _, r in ipairs(results) do
        r.snippet = destek.text.snippet(store.plain(r.body), q, 24) or destek.html.lines(r.description)
        r.body = nil
      end
    end
    html = destek.render("search", frame(req, lang, "/help/search", nil, {
      title = t.search_title, q = q, results = results, searched = searched,
      count_text = string.format(t.results_count, #results), noindex = true }))
    found = #results > 0 and "1" or "0"
    if token then
      destek.cache.put(key, html, token)
      destek.cache.put("found\1" .. lang .. "\1" .. q, found, token)
    end
  end
  if searched then
    local now = os.time()
    count("searches", function() store.searched(nil, 1, now) end)
    if found == "0" then count("miss:" .. q, function() store.searched(q, 1, now) end) end
  end
  return 200, html
end

local XML = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;" }
local function xml(s) return (tostring(s):gsub("[&<>\"']", XML)) end

function pages.sitemap(req)
  local base = base_url(req)
  local by_slug, order = {}, {}
  for _, r in ipairs(store.published_all()) do
    if not by_slug[r.slug] then by_slug[r.slug] = {}; order[#order + 1] = r.slug end
    local e = by_slug[r.slug]
    e[#e + 1] = r
  end
  local out = { '<?xml version="1.0" encoding="UTF-8"?>\n',
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">\n' }
  for _, l in ipairs(store.LANGS) do
    out[#out + 1] = "<url><loc>" .. xml(base .. "/help?lang=" .. l) .. "</loc></url>\n"
  end
  for _, slug in ipairs(order) do
    for _, r in ipairs(by_slug[slug]) do
      out[#out + 1] = "<url><loc>" .. xml(base .. "/help/a/" .. slug .. "?lang=" .. r.lang) .. "</loc>" ..
                      "<lastmod>" .. os.date("!%Y-%m-%d", r.updated_at) .. "</lastmod>"
      for _, alt in ipairs(by_slug[slug]) do
        out[#out + 1] = '<xhtml:link rel="alternate" hreflang="' .. alt.lang .. '" href="' ..
                        xml(base .. "/help/a/" .. slug .. "?lang=" .. alt.lang) .. '"/>'
      end
      out[#out + 1] = "</url>\n"
    end
  end
  out[#out + 1] = "</urlset>\n"
  return 200, table.concat(out), { ["Content-Type"] = "application/xml; charset=utf-8" }
end

-- GET /help/suggest?q=&lang=: up to three published articles for what a customer types in the contact form.
function pages.suggest(req)
  local lang = lang_of(req)
  local q = req.query.q or ""
  if #q > 200 then return destek.error(422, "invalid_field", "q: at most 200 bytes", "q") end
  local headers = { ["Cache-Control"] = "no-store", ["Content-Type"] = "application/json; charset=utf-8" }
  local key = "suggest\1" .. lang .. "\1" .. q
  local json, token = destek.cache.get(key)     -- kept by the host until the help centre changes, as a search page
  if json then return 200, json, headers end
  local items = {}
  for _, r in ipairs(store.search(q, lang, 3)) do
    items[#items + 1] = { slug = r.slug, lang = r.lang, title = r.title,
                          description = r.description ~= "" and r.description or store.cut(store.plain(store.cut(r.body, 600)), 160),
                          url = "/help/a/" .. r.slug .. "?lang=" .. r.lang .. "&from=contact" }
  end
  json = destek.json.encode({ items = destek.json.array(items) })
  destek.cache.put(key, json, token)
  return 200, json, headers
end

-- The service helpcentre.suggest {q, lang, limit} -> {items: [{title, description, url}]}: published articles for what
-- someone types elsewhere (the chat widget's first message), at most 5; url is this site's path of the article.
function pages.suggest_service(args)
  local q = type(args) == "table" and args.q or nil
  if type(q) ~= "string" or #q > 200 then error(destek.error(422, "invalid_field", "q: text of at most 200 bytes", "q")) end
  local lang = args.lang == "en" and "en" or "tr"
  local limit = math.tointeger(args.limit) or 3
  if limit < 1 or limit > 5 then limit = 3 end
  local items, rows = {}, store.search(q, lang, limit)
  if #rows == 0 then
    -- A sentence rarely has every word in one article: then each longer word alone, the first words first.
    local seen, n = {}, 0
    for w in q:gmatch("[^%s%p]+") do
      n = n + 1
      if n > 8 or #rows >= limit then break end
      if #w >= 4 then
        for _, r in ipairs(store.search(w, lang, limit)) do
          if not seen[r.id] and #rows < limit then seen[r.id] = true; rows[#rows + 1] = r end
        end
      end
    end
  end
  for _, r in ipairs(rows) do
    items[#items + 1] = { title = r.title,
                          description = r.description ~= "" and r.description or store.cut(store.plain(store.cut(r.body, 600)), 160),
                          url = "/help/a/" .. r.slug .. "?lang=" .. r.lang .. "&from=contact" }
  end
  return { items = destek.json.array(items) }
end

-- POST /help/a/{slug}/vote (a form: helpful=yes|no, reason): counted, then back to the article.
function pages.vote(req)
  local lang = lang_of(req)
  local a = store.article_by_slug(req.params.slug)
  if not a or a.status ~= "published" then return not_found(req, lang) end
  local helpful = req.form.helpful
  if helpful ~= "yes" and helpful ~= "no" then
    return destek.error(422, "invalid_field", "helpful: yes or no", "helpful")
  end
  local reason = req.form.reason
  if reason ~= nil then
    reason = reason:gsub("^%s+", ""):gsub("%s+$", "")
    if reason == "" or helpful == "yes" then reason = nil
    elseif #reason > REASON_MAX or not utf8.len(reason) then
      return destek.error(422, "invalid_field", "reason: at most 500 bytes of text", "reason")
    end
  end
  if once(req, "vote", a.id) then
    store.vote(a.id, a.texts[lang] and lang or next(a.texts), helpful == "yes", reason, os.time())
  end
  return 303, nil, { Location = "/help/a/" .. a.slug .. "?lang=" .. lang .. "&voted=1#vote" }
end

-- POST /help/deflected (navigator.sendBeacon from the portal's contact form, web/portal/index.js, when the customer
-- opened a suggested article and left the form without sending it): the article's slug as the body.
function pages.deflected(req)
  local slug = (req.body or ""):match("^%s*([a-z0-9-]+)%s*$")
  local a = slug and store.article_by_slug(slug)
  if not a or a.status ~= "published" then return destek.error(404, "not_found", "no such article") end
  if once(req, "deflection", a.id) then store.count(a.id, "deflections") end
  return 204, nil
end

-- /help/theme.css: the shop's colour (helpcentre.colour, #rrggbb; left at its default, the core's shop.colour) as a
-- CSS variable; pages load no inline style.
function pages.theme(req)
  local c = setting("helpcentre.colour") or "#0b6e4f"
  if c == "#0b6e4f" and setting("shop.colour") then c = setting("shop.colour") end
  if not c:match("^#%x%x%x%x%x%x$") then c = "#0b6e4f" end
  return 200, ":root{--hc-accent:" .. c .. "}\n",
         { ["Content-Type"] = "text/css; charset=utf-8", ["Cache-Control"] = "public, max-age=300" }
end

-- /help/img/{file}: an image uploaded to an article (by its unguessable file id).
function pages.image(req)
  local f = req.params.file
  if not f:match("^f%x+$") or not store.image_by_file(f) then return destek.error(404, "not_found", "no such image") end
  return destek.files.serve(f)
end

function pages.register()
  destek.every(FLUSH_SECONDS, store.flush_counts)
  destek.page("/help", pages.home, { cache = { query = { "lang" } } })
  destek.page("/help/c/{slug}", pages.category, { params = "slug:text", cache = { query = { "lang" } } })
  destek.page("/help/a/{slug}", pages.article, { params = "slug:text", cache = { query = { "lang" }, count = true } })
  destek.page("/help/search", pages.search, { noindex = true })
  destek.route("GET", "/help/sitemap.xml", "public", pages.sitemap)
  destek.route("GET", "/help/suggest", "public", pages.suggest)
  destek.route("POST", "/help/a/{slug}/vote", "public", pages.vote, { params = "slug:text", max_body = 4096 })
  destek.route("POST", "/help/deflected", "public", pages.deflected, { max_body = 256 })
  destek.route("GET", "/help/theme.css", "public", pages.theme)
  destek.route("GET", "/help/img/{file}", "public", pages.image, { params = "file:text" })
  destek.route("GET", "/help/static/{file}", "public", function(req) return destek.asset(req.params.file) end,
               { params = "file:text" })
end

return pages

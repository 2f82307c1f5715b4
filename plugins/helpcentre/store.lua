-- helpcentre/store.lua: the module's data. Every statement of its SQL is here, with bound parameters.
local destek = require "destek"

local store = {}

store.LANGS = { "tr", "en" }
local LANG_BIT = { tr = 0, en = 1 }
store.LANG_BIT = LANG_BIT

-- What the public pages show changed: their cached copies (destek.page's cache, shared by every worker) are dropped,
-- now and again when this call's writes commit. Every write below that changes an article, a text or a topic says so.
local function changed() destek.cache.clear() end

local ARTICLE = "id, slug, category_id, position, status, publish_at, published_at, author_id, created_at, updated_at," ..
                " views, helpful_yes, helpful_no, suggested, deflections"

-- Markdown reduced to its words (the host's cmark), for the search index, snippets and descriptions written by no one.
function store.plain(md) return destek.markdown_text(md) end

-- s cut to at most n bytes, without a character cut in two.
function store.cut(s, n)
  if #s <= n then return s end
  return (s:sub(1, n):gsub("[\192-\255][\128-\191]*$", function(tail) return utf8.len(tail) and tail or "" end))
end

-- ------------------------------------------------------------------------------------------------ categories

function store.categories(lang)
  local rows = destek.db.query("SELECT id, slug, position, created_at, updated_at FROM helpcentre_categories" ..
                               " ORDER BY position, id")
  local texts = destek.db.query("SELECT category_id, lang, title, description FROM helpcentre_category_texts")
  local by_id = {}
  for _, c in ipairs(rows) do c.texts = {}; by_id[c.id] = c end
  for _, t in ipairs(texts) do
    local c = by_id[t.category_id]
    if c then c.texts[t.lang] = { title = t.title, description = t.description } end
  end
  if lang then
    for _, c in ipairs(rows) do
      local t = c.texts[lang] or c.texts.tr or c.texts.en or { title = c.slug, description = "" }
      c.title, c.description = t.title, t.description
    end
  end
  return rows
end

function store.category(id)
  for _, c in ipairs(store.categories()) do if c.id == id then return c end end
end

function store.category_by_slug(slug, lang)
  for _, c in ipairs(store.categories(lang)) do if c.slug == slug then return c end end
end

function store.category_add(c, now)
  changed()
  local r, err, kind = destek.db.exec("INSERT INTO helpcentre_categories(slug, position, created_at, updated_at)" ..
                                      " VALUES (?1, ?2, ?3, ?3)", c.slug, c.position or 0, now)
  if not r then return nil, kind end
  return r.last_id
end

function store.category_update(id, c, now)
  changed()
  local r, err, kind = destek.db.exec("UPDATE helpcentre_categories SET slug = coalesce(?2, slug)," ..
                                      " position = coalesce(?3, position), updated_at = ?4 WHERE id = ?1",
                                      id, c.slug, c.position, now)
  if not r then return nil, kind end
  return true
end

function store.category_text(id, lang, t)
  changed()
  if t == nil then
    destek.db.exec("DELETE FROM helpcentre_category_texts WHERE category_id = ?1 AND lang = ?2", id, lang)
  else
    destek.db.exec("INSERT INTO helpcentre_category_texts(category_id, lang, title, description) VALUES (?1, ?2, ?3, ?4)" ..
                   " ON CONFLICT(category_id, lang) DO UPDATE SET title = excluded.title," ..
                   " description = excluded.description", id, lang, t.title, t.description or "")
  end
end

function store.category_delete(id)
  changed()
  return destek.db.exec("DELETE FROM helpcentre_categories WHERE id = ?1", id).changes > 0
end

-- ------------------------------------------------------------------------------------------------ articles

local function with_texts(a)
  if not a then return nil end
  a.texts = {}
  for _, t in ipairs(destek.db.query("SELECT lang, title, body, description, updated_at FROM helpcentre_article_texts" ..
                                     " WHERE article_id = ?1", a.id)) do
    a.texts[t.lang] = { title = t.title, body = t.body, description = t.description, updated_at = t.updated_at }
  end
  return a
end

function store.article(id)
  return with_texts(destek.db.query("SELECT " .. ARTICLE .. " FROM helpcentre_articles WHERE id = ?1", id)[1])
end

function store.article_by_slug(slug)
  return with_texts(destek.db.query("SELECT " .. ARTICLE .. " FROM helpcentre_articles WHERE slug = ?1", slug)[1])
end

-- A page of articles, newest first, with their titles: {status?, category_id?}.
function store.articles(f, limit, after)
  local rows = destek.db.query(
    "SELECT " .. ARTICLE .. ", (SELECT json_group_object(lang, title) FROM helpcentre_article_texts t" ..
    " WHERE t.article_id = a.id) AS titles FROM helpcentre_articles a" ..
    " WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR category_id = ?2) AND (?3 = 0 OR id < ?3)" ..
    " ORDER BY id DESC LIMIT ?4", f.status, f.category_id, after, limit + 1)
  local next_after
  if #rows > limit then rows[#rows] = nil; next_after = rows[#rows].id end
  for _, r in ipairs(rows) do r.titles = destek.json.decode(r.titles or "{}") end
  return rows, next_after
end

function store.article_add(a, now)
  changed()
  local r, err, kind = destek.db.exec(
    "INSERT INTO helpcentre_articles(slug, category_id, position, status, author_id, created_at, updated_at)" ..
    " VALUES (?1, ?2, ?3, 'draft', ?4, ?5, ?5)", a.slug, a.category_id, a.position or 0, a.author_id, now)
  if not r then return nil, kind end
  return r.last_id
end

function store.article_update(id, a, now)
  changed()
  local r, err, kind = destek.db.exec(
    "UPDATE helpcentre_articles SET slug = coalesce(?2, slug), category_id = CASE WHEN ?3 THEN ?4 ELSE category_id END," ..
    " position = coalesce(?5, position), updated_at = ?6 WHERE id = ?1",
    id, a.slug, a.set_category and 1 or 0, a.category_id, a.position, now)
  if not r then return nil, kind end
  return true
end

function store.set_status(id, status, publish_at, published_at, now)
  changed()
  destek.db.exec("UPDATE helpcentre_articles SET status = ?2, publish_at = ?3, published_at = ?4, updated_at = ?5" ..
                 " WHERE id = ?1", id, status, publish_at, published_at, now)
end

function store.article_delete(id)
  changed()
  for bit = 0, 1 do destek.db.exec("DELETE FROM helpcentre_search WHERE rowid = ?1", id * 2 + bit) end
  return destek.db.exec("DELETE FROM helpcentre_articles WHERE id = ?1", id).changes > 0
end

-- Sets (t a table) or removes (t nil) an article's text in lang, and its search row.
function store.article_text(id, lang, t, now)
  changed()
  local rowid = id * 2 + LANG_BIT[lang]
  destek.db.exec("DELETE FROM helpcentre_search WHERE rowid = ?1", rowid)
  if t == nil then
    destek.db.exec("DELETE FROM helpcentre_article_texts WHERE article_id = ?1 AND lang = ?2", id, lang)
    return
  end
  destek.db.exec("INSERT INTO helpcentre_article_texts(article_id, lang, title, body, description, updated_at)" ..
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(article_id, lang) DO UPDATE SET title = excluded.title," ..
                 " body = excluded.body, description = excluded.description, updated_at = excluded.updated_at",
                 id, lang, t.title, t.body, t.description or "", now)
  destek.db.exec("INSERT INTO helpcentre_search(rowid, title, body) VALUES (?1, ?2, ?3)", rowid,
                 destek.text.fold(t.title), destek.text.fold(store.plain(t.body)))
end

-- ------------------------------------------------------------------------------------------------ versions

function store.version_add(id, lang, t, change, user, now)
  return destek.db.exec("INSERT INTO helpcentre_versions(article_id, lang, title, body, description, change, user_id," ..
                        " user_name, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", id, lang, t and t.title,
                        t and t.body, t and t.description, change, user and user.id, user and user.name, now).last_id
end

function store.versions(id)
  return destek.db.query("SELECT id, lang, title, description, change, user_id, user_name, at," ..
                         " length(body) AS body_length FROM helpcentre_versions WHERE article_id = ?1 ORDER BY id DESC",
                         id)
end

function store.version(id, version_id)
  return destek.db.query("SELECT id, lang, title, body, description, change, user_id, user_name, at" ..
                         " FROM helpcentre_versions WHERE article_id = ?1 AND id = ?2", id, version_id)[1]
end

-- ------------------------------------------------------------------------------------------------ public reads

-- Published articles of a category with a text in lang (else the other language), in order.
function store.published_in(category_id, lang)
  return destek.db.query(
    "SELECT a.id, a.slug, t.lang, t.title, t.description FROM helpcentre_articles a" ..
    " JOIN helpcentre_article_texts t ON t.article_id = a.id AND t.lang = coalesce(" ..
    "   (SELECT lang FROM helpcentre_article_texts WHERE article_id = a.id AND lang = ?2), ?3)" ..
    " WHERE a.category_id = ?1 AND a.status = 'published' ORDER BY a.position, a.id", category_id, lang,
    lang == "tr" and "en" or "tr")
end

-- Every published article with its languages and last change, for sitemap.xml.
function store.published_all()
  return destek.db.query(
    "SELECT a.slug, t.lang, max(a.updated_at, t.updated_at) AS updated_at FROM helpcentre_articles a" ..
    " JOIN helpcentre_article_texts t ON t.article_id = a.id WHERE a.status = 'published' ORDER BY a.id, t.lang")
end

-- Published articles matching what a person typed, best first: one row per article, in lang where that text matches,
-- else the other language. Title words weigh five times body words.
-- A common word matches most of the index: the ranking runs over the index alone and keeps a few times the rows
-- wanted, and only those are joined with their articles and texts (bodies are large). When that leaves fewer rows than
-- wanted (few matches, or many of the best are drafts), the search runs again over every match.
local SEARCH_SELECT = "SELECT a.id, a.slug, t.lang, t.title, t.body, t.description FROM "
local SEARCH_JOIN = " JOIN helpcentre_articles a ON a.id = s.rowid / 2 AND a.status = 'published'" ..
  " JOIN helpcentre_article_texts t ON t.article_id = a.id AND t.lang = CASE s.rowid % 2 WHEN 0 THEN 'tr' ELSE 'en' END"
local SEARCH_TOP = SEARCH_SELECT ..
  "(SELECT rowid, (rowid % 2 != ?2) AS other, bm25(helpcentre_search, 5.0, 1.0) AS score FROM helpcentre_search" ..
  " WHERE helpcentre_search MATCH ?1 ORDER BY other, score, rowid LIMIT ?4) s" .. SEARCH_JOIN ..
  " ORDER BY s.other, s.score, s.rowid LIMIT ?3"
local SEARCH_ALL = SEARCH_SELECT .. "helpcentre_search s" .. SEARCH_JOIN ..
  " WHERE helpcentre_search MATCH ?1 ORDER BY (s.rowid % 2 != ?2), bm25(helpcentre_search, 5.0, 1.0), a.id LIMIT ?3"

function store.search(text, lang, limit)
  local q = destek.text.fts_query(text or "")
  if not q then return {} end
  local bit, want = LANG_BIT[lang] or 0, limit * 2
  local rows = destek.db.query(SEARCH_TOP, q, bit, want, want * 4)
  if #rows < want then rows = destek.db.query(SEARCH_ALL, q, bit, want) end
  local seen, out = {}, {}
  for _, r in ipairs(rows) do
    if not seen[r.id] and #out < limit then seen[r.id] = true; out[#out + 1] = r end
  end
  return out
end

-- ------------------------------------------------------------------------------------------------ counters

local COUNTERS = { views = true, helpful_yes = true, helpful_no = true, suggested = true, deflections = true }

function store.count(id, column)
  assert(COUNTERS[column])            -- one of the module's own names, never a caller's text
  destek.db.exec("UPDATE helpcentre_articles SET " .. column .. " = " .. column .. " + 1 WHERE id = ?1", id)
end

function store.vote(id, lang, helpful, reason, now)
  destek.db.exec("INSERT INTO helpcentre_votes(article_id, lang, helpful, reason, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                 id, lang, helpful and 1 or 0, reason, now)
  store.count(id, helpful and "helpful_yes" or "helpful_no")
end

-- n searches (query nil), or n searches of query that found nothing.
function store.searched(query, n, now)
  if not query then
    destek.db.exec("INSERT INTO helpcentre_counters(name, n) VALUES ('searches', ?1)" ..
                   " ON CONFLICT(name) DO UPDATE SET n = n + excluded.n", n)
    return
  end
  destek.db.exec("INSERT INTO helpcentre_misses(folded, query, count, last_at) VALUES (?1, ?2, ?3, ?4)" ..
                 " ON CONFLICT(folded) DO UPDATE SET count = count + excluded.count, query = excluded.query," ..
                 " last_at = excluded.last_at", (destek.text.fold(query):gsub("%s+", " ")), query, n, now)
end

-- Writes the counts gathered in memory (destek.counter: views by page path, searches, misses by query): the
-- helpcentre job every few seconds, and the report before it reads them.
function store.flush_counts()
  local now = os.time()
  local views, nviews = {}, 0
  for name, n in pairs(destek.counter.take()) do
    local slug = name:match("^/help/a/([a-z0-9-]+)$")
    if slug then views[slug], nviews = n, nviews + 1
    elseif name == "searches" then store.searched(nil, n, now)
    else
      local q = name:match("^miss:(.*)$")
      if q then store.searched(q, n, now) end
    end
  end
  if nviews > 0 then   -- one statement for every article's views, however many
    destek.db.exec("UPDATE helpcentre_articles SET views = views + v.value FROM json_each(?1) v" ..
                   " WHERE helpcentre_articles.slug = v.key", destek.json.encode(views))
  end
end

function store.report()
  local totals = destek.db.query(
    "SELECT coalesce(sum(views), 0) AS views, coalesce(sum(helpful_yes), 0) AS helpful_yes," ..
    " coalesce(sum(helpful_no), 0) AS helpful_no, coalesce(sum(suggested), 0) AS suggested," ..
    " coalesce(sum(deflections), 0) AS deflections, count(*) AS articles," ..
    " coalesce(sum(status = 'published'), 0) AS published FROM helpcentre_articles")[1]
  totals.searches = (destek.db.query("SELECT n FROM helpcentre_counters WHERE name = 'searches'")[1] or { n = 0 }).n
  totals.misses = destek.db.query("SELECT query, count, last_at FROM helpcentre_misses ORDER BY count DESC, last_at DESC" ..
                                  " LIMIT 20")
  totals.articles_top = destek.db.query(
    "SELECT a.id, a.slug, a.views, a.helpful_yes, a.helpful_no, a.deflections," ..
    " (SELECT title FROM helpcentre_article_texts t WHERE t.article_id = a.id ORDER BY t.lang = 'tr' DESC LIMIT 1) AS title" ..
    " FROM helpcentre_articles a ORDER BY a.views DESC, a.id LIMIT 20")
  totals.reasons = destek.db.query("SELECT v.article_id, v.reason, v.at FROM helpcentre_votes v WHERE v.reason IS NOT NULL" ..
                                   " AND v.reason != '' ORDER BY v.id DESC LIMIT 20")
  return totals
end

-- ------------------------------------------------------------------------------------------------ images

function store.image_add(article_id, file_id, filename, info, now)
  return destek.db.exec("INSERT INTO helpcentre_images(article_id, file_id, filename, type, size, created_at)" ..
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", article_id, file_id, filename, info.type, info.size, now).last_id
end

function store.images(article_id)
  return destek.db.query("SELECT id, file_id, filename, type, size, created_at FROM helpcentre_images" ..
                         " WHERE article_id = ?1 ORDER BY id", article_id)
end

function store.image_by_file(file_id)
  return destek.db.query("SELECT id, article_id, file_id FROM helpcentre_images WHERE file_id = ?1", file_id)[1]
end

-- Views of an article page, by its slug (the counts gathered in memory, pages.lua).
function store.add_views(slug, n)
  destek.db.exec("UPDATE helpcentre_articles SET views = views + ?2 WHERE slug = ?1", slug, n)
end

function store.count_articles()
  return destek.db.query("SELECT count(*) AS n FROM helpcentre_articles")[1].n
end

return store

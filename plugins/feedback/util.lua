-- feedback/util.lua: what the module's parts share — the site's address for links, mail through the desk
-- (ticketing.mail_send), times, strings in a person's language, and checks of what people send.
local destek = require "destek"

local util = {}

local DAY = 86400
util.DAY = DAY

-- The address customers reach the desk at, for links in mails: feedback.public_url, else mail.public_url, else
-- the address ticketing's own links use (its signed ticket link), else the request's Host.
function util.base_url(req, ticket_id)
  local u = destek.setting("feedback.public_url")
  if not u or u == "" then u = destek.setting("mail.public_url") end
  if (not u or u == "") and ticket_id then
    local link = destek.call("ticketing.link", { ticket_id = ticket_id })
    if link and link.url then u = link.url:match("^(https?://[^/]+)") end
  end
  if (not u or u == "") and req then
    local host = req.headers.host or "localhost"
    if not host:match("^[%w%.%-:%[%]]+$") then host = "localhost" end
    u = "http://" .. host
  end
  if not u or u == "" then
    destek.log.warn("no public address for links: set mail.public_url (or feedback.public_url)")
    u = "http://localhost:8080"
  end
  return (u:gsub("/+$", ""))
end

function util.lang(l) return (l == "en") and "en" or "tr" end

-- A string of the module in lang, with {name} placeholders filled from vars.
function util.t(key, lang, vars)
  local s = destek.t(key, util.lang(lang))
  if vars then s = s:gsub("{(%w+)}", function(k) return vars[k] ~= nil and tostring(vars[k]) or "{" .. k .. "}" end) end
  return s
end

-- Queues a mail to a customer through the desk's mail settings, in this call's transaction (it is sent after the
-- commit, retried when the server fails). true, or false and the error value (503 mail_not_configured: nothing
-- is queued; 501 service_unavailable: ticketing, which owns the mail settings, is not installed).
function util.mail(key, to, to_name, subject, text, html)
  local ok, err = destek.call("ticketing.mail_send", { key = key, to = to, to_name = to_name ~= "" and to_name or nil,
                                                        subject = subject, text = text, html = html })
  if ok then return true end
  return false, err
end

-- The HTML of a mail: paragraphs of escaped text and buttons [{label, url}].
function util.mail_html(lang, paragraphs, buttons, footer)
  local parts = { '<!doctype html><html lang="', util.lang(lang), '"><body style="font-family:sans-serif;line-height:1.5">' }
  for _, p in ipairs(paragraphs) do parts[#parts + 1] = "<p>" .. destek.html.escape(p) .. "</p>" end
  if buttons and #buttons > 0 then
    parts[#parts + 1] = '<p>'
    for _, b in ipairs(buttons) do
      parts[#parts + 1] = '<a href="' .. destek.html.escape(b.url) .. '" style="display:inline-block;margin:0 6px 6px 0;' ..
        'padding:10px 14px;border:1px solid #0b6e4f;border-radius:6px;color:#0b6e4f;text-decoration:none">' ..
        destek.html.escape(b.label) .. '</a>'
    end
    parts[#parts + 1] = '</p>\n'
  end
  if footer then parts[#parts + 1] = '<p style="color:#666;font-size:90%">' .. destek.html.escape(footer) .. '</p>' end
  parts[#parts + 1] = '</body></html>\n'
  return table.concat(parts, "\n")
end

-- Unix seconds of a UTC time "YYYY-MM-DDTHH:MM:SS[.fff]Z" (or a date), or nil.
function util.parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, m, d = s:match("^(%d%d%d%d)-(%d%d)-(%d%d)")
  if not y then return nil end
  local hh, mm, ss = s:match("^%d+-%d+-%d+[T ](%d%d):(%d%d):(%d%d)")
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  -- days from the civil date (Howard Hinnant's algorithm)
  if m <= 2 then y = y - 1 end
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  local days = era * 146097 + doe - 719468
  return days * DAY + (tonumber(hh) or 0) * 3600 + (tonumber(mm) or 0) * 60 + (tonumber(ss) or 0)
end

function util.iso(t) return t and os.date("!%Y-%m-%dT%H:%M:%SZ", t) or nil end

-- Text a person typed: a string of valid UTF-8, trimmed, at most max bytes; "" when absent.
function util.text(v, max)
  if v == nil or v == destek.json.null then return "" end
  if type(v) ~= "string" or not utf8.len(v) then return nil end
  v = v:gsub("^%s+", ""):gsub("%s+$", "")
  if #v > max then return nil end
  return v
end

function util.int(v) return math.tointeger(tonumber(v)) end

local function shop_setting(name)
  local ok, v = pcall(destek.setting, name)
  if ok and v ~= nil and v ~= "" then return v end
  return nil
end

-- A public page of the module with the shop's face: its name, logo and KVKK notice (the core's shop.* settings;
-- the colour comes with /shop/theme.css). data is the template's table; it gains shop, logo and privacy_url.
-- The language of a page: the one its address or its form names (the page's TR|EN switch, a form posted from a
-- page in that language), else own (the person's, from the row the link names).
function util.page_lang(req, own)
  local l = (req.form and req.form.lang) or req.query.lang
  if l == "tr" or l == "en" then return l end
  return util.lang(own)
end

local function url_part(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- A page; with req, it gets the TR|EN switch: the same page (a GET of it: its signed link) in the other language.
function util.render(name, data, req)
  if req then
    local other = data.lang == "en" and "tr" or "en"
    local sig = (req.form and req.form.sig) or req.query.sig
    data.switch = { lang = other, label = other == "en" and "English" or "Türkçe",
                    href = req.path .. "?" .. (sig and sig ~= "" and ("sig=" .. url_part(sig) .. "&") or "") .. "lang=" .. other }
  end
  data.shop = data.shop or shop_setting("shop.name")
  data.logo = shop_setting("shop.logo_url")
  data.privacy_url = shop_setting("shop.privacy_url")
  return destek.render(name, data)
end

-- The shown name of a reviewer: the first name and the initial of the last ("Ayşe Y.").
function util.short_name(name)
  local words = {}
  for w in (name or ""):gmatch("%S+") do words[#words + 1] = w end
  if #words == 0 then return "" end
  if #words == 1 then return words[1] end
  local last = words[#words]
  local initial = last:match("^[%z\1-\127\194-\244][\128-\191]*") or ""
  return words[1] .. " " .. initial .. "."
end

return util

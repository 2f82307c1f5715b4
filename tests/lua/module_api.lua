-- Test-only plugin (not shipped): the parts of the destek module a whole module uses, one by one, for
-- tests/api/lua-module.test.mjs (the notes module, tests/lua/notes/, uses them together).
local destek = require "destek"

local function try(fn, ...)
  local ok, a, b = pcall(fn, ...)
  if not ok then return { ok = false, err = tostring(a) } end
  return { ok = true, value = a, second = b }
end

-- Declarations that must be refused, tried from init; what they said is kept for GET /modapi/refused.
local refused = {}

return {
  name = "module_api",
  version = "0.1.0",
  events = { "gadget" },
  templates = {                                   -- a single-file plugin's templates live in its table
    greet = "Merhaba {{name}}!{{> sign}}",
    sign = " — {{by}}",
    loop = "{{> loop}}",
  },
  i18n = { tr = { hi = "Selam" }, en = { hi = "Hi", only_en = "English" } },

  init = function()
    refused.service = select(2, pcall(destek.service, "notes.steal", function() end))
    refused.timer = select(2, pcall(destek.timer, "other.kind", function() end))
    refused.live = select(2, pcall(destek.live.events, "ticket.*", function() end))
    refused.subjects = select(2, pcall(destek.live.subjects, "ticket", function() end))
    refused.page = select(2, pcall(destek.page, "/api/v1/x", function() end))
    refused.route_opts = select(2, pcall(destek.route, "POST", "/modapi/x", "public", function() end,
                                         { max_body = -1 }))
    destek.route("GET", "/modapi/refused", "public", function()
      local late = select(2, pcall(destek.service, "module_api.late", function() end))
      return 200, { init = refused, late = late }
    end)

    -- templates ------------------------------------------------------------------------------------------------
    destek.route("POST", "/modapi/render", "public", function(req)
      local b = req.json
      local data = b.data or {}
      if b.html then data.html = destek.html.lines(b.html) end
      local r = try(destek.render_string, b.template, data)
      return 200, { ok = r.ok, out = r.ok and tostring(r.value) or nil, err = r.err, is_html = r.ok and destek.html.is(r.value) }
    end)
    destek.route("GET", "/modapi/render-named", "public", function()
      local greet = destek.render("greet", { name = "<Ayşe>", by = "Destek & Co" })
      local nested = destek.render_string("<p>{{{inner}}}</p>", { inner = greet })
      local missing = select(2, pcall(destek.render, "nope", {}))
      local loop = select(2, pcall(destek.render, "loop", {}))
      local bad_name = select(2, pcall(destek.render, "../etc/passwd", {}))
      return 200, { greet = tostring(greet), nested = tostring(nested), missing = missing, loop = loop,
                    bad_name = bad_name, strings_en = destek.strings("en"), strings_tr = destek.strings("tr"),
                    lang = destek.lang() }
    end)
    destek.route("GET", "/modapi/html", "public", function()
      return 200, {
        escape = destek.html.escape([[<a href="x" onclick='y'>&</a>]]),
        lines = tostring(destek.html.lines("a<b>\r\nc")),
        sanitize = tostring(destek.html.sanitize([[<p onclick="x">ok<script>alert(1)</script><a href="javascript:x">l</a></p>]])),
        urls = { destek.html.url("https://example.com/a"), destek.html.url("javascript:alert(1)"),
                 destek.html.url("/help/x"), destek.html.url("//evil.example"), destek.html.url("data:text/html,x") },
        meta = getmetatable(destek.html.lines("x")),
      }
    end)
    destek.route("GET", "/modapi/page", "public", function(req)
      return 200, destek.render_string("<h1>{{title}}</h1>", { title = req.query.title or "Başlık" })
    end)
    destek.route("GET", "/modapi/big-page", "public", function()
      local items = {}
      for i = 1, 200000 do items[i] = i end
      return 200, destek.render_string(string.rep("{{#items}}<li>{{.}}</li>{{/items}}", 200), { items = items })
    end)

    -- text -----------------------------------------------------------------------------------------------------
    destek.route("GET", "/modapi/text", "public", function(req)
      local q = req.query.q or ""
      local snip = destek.text.snippet(req.query.text or "", q, 8)
      return 200, { fold = destek.text.fold(q), query = destek.text.fts_query(q), snippet = snip and tostring(snip),
                    snippet_is_html = snip ~= nil and destek.html.is(snip) }
    end)
    destek.route("GET", "/modapi/base64", "public", function()
      local bytes = "\0\1\2ğ"
      local enc = destek.base64.encode(bytes)
      local bad, why = destek.base64.decode("###")
      return 200, { enc = enc, round = destek.base64.decode(enc) == bytes, bad = bad == nil, why = why }
    end)

    -- signed links ---------------------------------------------------------------------------------------------
    destek.route("GET", "/modapi/sign", "public", function(req)
      local text = req.query.text or "note:1"
      local forever = destek.sign(text)
      local soon = destek.sign(text, os.time() + 3600)
      local past = destek.sign(text, os.time() - 1)
      local tampered = soon:gsub("^(%d+)", function(d) return tostring(tonumber(d) + 7200) end)
      return 200, {
        forever = forever, soon = soon,
        ok_forever = destek.verify(text, forever), ok_soon = destek.verify(text, soon),
        past = { destek.verify(text, past) }, tampered = { destek.verify(text, tampered) },
        other_text = { destek.verify(text .. "x", forever) }, empty = { destek.verify(text, "") },
      }
    end)

    -- services -------------------------------------------------------------------------------------------------
    destek.route("POST", "/modapi/call", "agent", function(req)
      local b = req.json
      local r, err = destek.call(b.service, b.args)
      if r then return 200, { ok = true, result = r } end
      if b.raise then error(err) end
      return 200, { ok = false, status = err.status, code = err.code, message = err.message, field = err.field,
                    text = tostring(err) }
    end)
    destek.service("module_api.echo", function(args) return { echo = args, who = "module_api" } end)
    destek.service("module_api.fail", function(args)
      destek.db.exec("INSERT INTO module_api_log(text) VALUES (?1)", "from a failing service")
      if args.raise_plain then error("a plain error") end
      return destek.error(409, "conflict", "the gadget is busy", "gadget")
    end)
    destek.service("module_api.emit", function(args)
      destek.emit("gadget.made", { name = args.name })
      return {}
    end)
    destek.on("gadget.made", function(p) if p.name == "forbidden" then return nil, "gadgets may not be forbidden" end end)
    destek.route("GET", "/modapi/log", "public", function()
      return 200, destek.db.query("SELECT text FROM module_api_log ORDER BY id")
    end)

    -- errors ---------------------------------------------------------------------------------------------------
    destek.route("GET", "/modapi/error/{how}", "public", function(req)
      local how = req.params.how
      if how == "raise" then error(destek.error(409, "taken", "the name is taken", "name")) end
      if how == "return" then return destek.error(404, "not_found", "nothing here") end
      if how == "assert" then assert(destek.call("nothere.find", {})) end
      if how == "bad" then return 200, { bad = select(2, pcall(destek.error, 200, "ok")) } end
      return 200, { how = how }
    end)

    -- lists ----------------------------------------------------------------------------------------------------
    destek.route("GET", "/modapi/list", "public", function(req)
      local limit, after = destek.cursor(req)
      local items = {}
      local from = after > 0 and after - 1 or 10
      for id = from, 1, -1 do
        if #items == limit then break end
        items[#items + 1] = { id = id }
      end
      local last = items[#items]
      return 200, destek.list(items, last and last.id > 1 and last.id or nil)
    end)

    -- forms and files ------------------------------------------------------------------------------------------
    destek.route("POST", "/modapi/form", "public", function(req)
      local files = {}
      for _, f in ipairs(req.files) do
        files[#files + 1] = { field = f.field, filename = f.filename, size = f.size, type = f.type, image = f.image,
                              declared_type = f.declared_type }
      end
      return 200, { form = req.form, files = destek.json.array(files), ip = req.ip }
    end, { uploads = { max_files = 2, max_file_bytes = 1000 } })
    destek.route("POST", "/modapi/form-caught", "public", function(req)
      local ok, err = pcall(function() return req.files end)
      return 200, { ok = ok, status = not ok and err.status or nil, code = not ok and err.code or nil }
    end, { uploads = { max_files = 1, max_file_bytes = 10, images_only = true } })
    destek.route("POST", "/modapi/save", "public", function(req)
      local id, info = destek.files.save(req.json.bytes and destek.base64.decode(req.json.bytes) or "x",
                                         { images_only = req.json.images_only })
      return 200, { id = id, info = info }
    end)
    destek.route("GET", "/modapi/file/{id}", "public", function(req)
      return destek.files.serve(req.params.id, { filename = req.query.name, download = req.query.download == "1" })
    end)
    destek.route("GET", "/modapi/forged-save", "public", function()
      return 200, { err = select(2, pcall(destek.files.save, { part = 1 })) }
    end)

    -- timers and audit -----------------------------------------------------------------------------------------
    destek.route("POST", "/modapi/later", "public", function(req)
      destek.timer_at("module_api.later", req.json.key, os.time() - 1, { n = req.json.n })
      if req.json.cancel then destek.timer_cancel("module_api.later", req.json.key) end
      destek.audit("module_api.scheduled", req.json.key, { n = req.json.n })
      return 200, { foreign = select(2, pcall(destek.timer_at, "notes.remind", "x", 1)),
                    bad_audit = select(2, pcall(destek.audit, "user.deleted", "x")) }
    end)
    destek.timer("module_api.later", function(key, payload, meta)
      destek.db.exec("INSERT INTO module_api_log(text) VALUES (?1)", "timer " .. meta.kind .. " " .. key .. " " ..
                     tostring(payload.n))
    end)
  end,

  migrations = { "CREATE TABLE module_api_log (id INTEGER PRIMARY KEY, text TEXT)" },
}

-- notes: notes about a contact, a module written in Lua (test-only, not shipped). The worked example of
-- plugins/README.md, "A module in Lua"; tests/api/lua-module.test.mjs drives it against the binary.
--
-- A folder: this file returns the plugin table; store.lua holds its SQL, contact.lua what a contact is;
-- migrations/ its tables, templates/ its public page, i18n/ its strings, static/ the page's stylesheet.
local destek = require "destek"
local store = require "store"
local contact = require "contact"

local BODY_MAX = 4000

-- A note's public link, valid for notes.link_days days: /n/<id>?sig=<signature of "note:<id>">.
local function link(id)
  local sig = destek.sign("note:" .. id, os.time() + destek.setting("notes.link_days") * 86400)
  return "/n/" .. id .. "?sig=" .. sig
end

-- Adds a note and says so (note.added: to subscribers, webhooks and, summarized, the agents' screens). Returns its
-- id, or nil when its ref was added before.
local function add(note)
  local id = store.add(note)
  if id then
    destek.emit("note.added", { id = id, contact_id = note.contact_id, source = note.source or "agent" }, "note:" .. id)
  end
  return id
end

local function valid_body(body)
  return type(body) == "string" and #body > 0 and #body <= BODY_MAX and utf8.len(body) ~= nil
end

-- The public page of a note, or the page that says its link does not work.
local function page(req, id, status, message)
  local t, lang = destek.strings(), destek.lang()
  if message then
    return status, destek.render("missing", { t = t, lang = lang, message = t[message] })
  end
  local note = store.get(id)
  return 200, destek.render("note", {
    t = t, lang = lang, id = note.id, sig = req.query.sig, contact = contact.get(note.contact_id),
    created = os.date("!%Y-%m-%d %H:%M", note.created_at), body = destek.html.lines(note.body),
    files = store.files(note.id), seen = note.seen_at ~= nil,
  })
end

-- The note a public request's ?sig (or form field sig) opens: its id, or nil and the page's message.
local function signed(req, sig)
  local id = math.tointeger(tonumber(req.params.id))
  local ok, why = destek.verify("note:" .. id, sig or "")
  if ok and store.get(id) then return id end
  if why == "expired" then return nil, 410, "expired" end
  return nil, 404, "missing"
end

local function upload(req)
  local note = store.get(math.tointeger(tonumber(req.params.id)))
  if not note then return destek.error(404, "not_found", "no such note") end
  local out = {}
  for _, f in ipairs(req.files) do
    local file_id, info = destek.files.save(f)
    if not file_id then return destek.error(500, "internal", info) end
    out[#out + 1] = { id = store.add_file(note.id, file_id, f.filename, info), filename = f.filename,
                      type = info.type, size = info.size }
  end
  if #out == 0 then return destek.error(422, "missing_field", "send files in a multipart/form-data body", "file") end
  destek.audit("notes.files_added", "note:" .. note.id, { count = #out })
  return 201, { items = destek.json.array(out) }
end

return {
  name = "notes",
  version = "1.0.0",
  events = { "note" },     -- it emits note.added and note.reminded
  settings = {
    { name = "notes.link_days", type = "int", default = 7, description = "How long a note's public link works (days)" },
  },

  init = function()
    -- The agents' API ------------------------------------------------------------------------------------------
    destek.route("GET", "/api/v1/notes", "agent", function(req)
      local contact_id = math.tointeger(tonumber(req.query.contact_id))
      if not contact_id then return destek.error(422, "missing_field", "contact_id is required", "contact_id") end
      local limit, after = destek.cursor(req)
      return 200, destek.list(store.page(contact_id, limit, after))
    end)

    destek.route("POST", "/api/v1/notes", "agent", function(req)
      local b = req.json
      if type(b) ~= "table" then return destek.error(400, "bad_json", "send a JSON object") end
      local c = contact.get(b.contact_id)
      if not c then return destek.error(422, "invalid_field", "no such contact", "contact_id") end
      if not valid_body(b.body) then return destek.error(422, "invalid_field", "1 to 4000 bytes of text", "body") end
      local id = add { contact_id = c.id, body = b.body, author_id = req.user.id }
      destek.audit("notes.added", "note:" .. id, { contact_id = c.id })
      local out = { id = id, contact_id = c.id, link = link(id) }
      if b.ticket_id then
        -- Also an internal note on the ticket, when ticketing offers the service; when it refuses, nothing of this
        -- request stays (the error raised answers it).
        local noted, err = destek.call("ticketing.note", { ticket_id = b.ticket_id, body = b.body })
        if not noted and err.status ~= 501 then error(err) end
        out.ticket_note = noted and "added" or err.code
      end
      return 201, out
    end)

    destek.route("GET", "/api/v1/notes/search", "agent", function(req)
      local q = req.query.q or ""
      local items = {}
      for _, n in ipairs(store.search(q, 20)) do
        items[#items + 1] = { id = n.id, contact_id = n.contact_id,
                              snippet = tostring(destek.text.snippet(n.body, q) or "") }
      end
      return 200, { items = destek.json.array(items) }
    end)

    destek.route("GET", "/api/v1/notes/{id}", "agent", function(req)
      local note = store.get(math.tointeger(tonumber(req.params.id)))
      if not note then return destek.error(404, "not_found", "no such note") end
      destek.live.touch("note:" .. note.id)
      note.files = destek.json.array(store.files(note.id))
      note.link = link(note.id)
      note.viewers = destek.live.presence("note:" .. note.id)
      return 200, note
    end, { params = "id:int" })

    destek.route("POST", "/api/v1/notes/{id}/files", "agent", upload,
                 { params = "id:int", uploads = { max_files = 3, max_file_bytes = 200000 } })
    destek.route("POST", "/api/v1/notes/{id}/images", "agent", upload,
                 { params = "id:int", uploads = { max_files = 2, max_file_bytes = 200000, images_only = true } })
    destek.route("GET", "/api/v1/notes/{id}/files/{file}", "agent", function(req)
      local f = store.file(math.tointeger(tonumber(req.params.id)), math.tointeger(tonumber(req.params.file)))
      if not f then return destek.error(404, "not_found", "no such file") end
      return destek.files.serve(f.file_id, { filename = f.filename })
    end, { params = "id:int file:int" })

    -- A reminder: a one-shot timer, kept across restarts.
    destek.route("POST", "/api/v1/notes/{id}/remind", "agent", function(req)
      local note = store.get(math.tointeger(tonumber(req.params.id)))
      if not note then return destek.error(404, "not_found", "no such note") end
      local at = math.tointeger((req.json or {}).at)
      if not at then return destek.error(422, "invalid_field", "at: a time in Unix seconds", "at") end
      destek.timer_at("notes.remind", tostring(note.id), at, { note_id = note.id })
      store.set(note.id, "remind_at", at)
      return 200, { id = note.id, remind_at = at }
    end, { params = "id:int" })

    destek.timer("notes.remind", function(key, payload)
      local note = store.get(payload.note_id)
      if not note then return end                         -- deleted since: nothing to do
      store.set(note.id, "reminded_at", os.time())
      destek.emit("note.reminded", { id = note.id, contact_id = note.contact_id }, "note:" .. note.id)
    end)

    -- The public page of a note, through its signed link; no JavaScript: a form says the contact saw it.
    destek.page("/n/{id}", function(req)
      local id, status, message = signed(req, req.query.sig)
      return page(req, id, status, message)
    end, { params = "id:int", noindex = true })

    destek.route("POST", "/n/{id}/seen", "public", function(req)
      local sig = req.form.sig
      local id, status, message = signed(req, sig)
      if not id then return page(req, id, status, message) end
      store.set(id, "seen_at", os.time())
      return 303, nil, { Location = "/n/" .. id .. "?sig=" .. sig }
    end, { params = "id:int", max_body = 4096 })

    destek.route("GET", "/notes-static/{file}", "public", function(req) return destek.asset(req.params.file) end)

    -- Services: other modules (C or Lua) add notes and count them ------------------------------------------------
    destek.service("notes.add", function(args)
      local c = contact.get(args.contact_id)
      if not c then error(destek.error(422, "invalid_field", "no such contact", "contact_id")) end
      if not valid_body(args.body) then error(destek.error(422, "invalid_field", "1 to 4000 bytes of text", "body")) end
      return { id = add { contact_id = c.id, body = args.body, source = "service" } }
    end)
    destek.service("notes.count", function(args)
      return { count = store.count(math.tointeger(args.contact_id) or 0) }
    end)

    -- Its part in the life of a contact (plugins/README.md, "Contacts"): the core calls these when contacts are
    -- merged, exported (KVKK: what it answers is the module's part of the export) and erased (KVKK).
    destek.service("notes.contact_merged", function(args)
      destek.db.exec("UPDATE notes_notes SET contact_id = ?1 WHERE contact_id = ?2", args.id, args.source_id)
      return {}
    end)
    destek.service("notes.contact_export", function(args)
      return { notes = destek.db.query("SELECT id, body, source, created_at FROM notes_notes WHERE contact_id = ?1"
                                       .. " ORDER BY id", args.id) }
    end)
    destek.service("notes.contact_erase", function(person)
      destek.db.exec("UPDATE notes_notes SET body = '***' WHERE contact_id = ?1", person.id)
      return {}
    end)

    -- A subscriber: every new ticket leaves a note about its customer (once, however often it is delivered).
    destek.on_async("ticket.created", function(ticket)
      add { contact_id = ticket.customer.id, source = "ticket", ref = "ticket:" .. ticket.id,
            body = "Ticket " .. ticket.reference .. " opened: " .. ticket.subject }
    end)

    -- Live updates: agents' screens hear of notes (ids only, never the text), and may say who views one.
    destek.live.events("note.*", function(payload)
      return { note_id = payload.id, contact_id = payload.contact_id }
    end)
    destek.live.subjects("note", function(subject)
      local id = math.tointeger(tonumber(subject:match("^note:(%d+)$")))
      return id ~= nil and store.get(id) ~= nil
    end)
  end,
}

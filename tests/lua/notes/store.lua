-- notes/store.lua: the module's data. Every statement of its SQL is here.
local destek = require "destek"

local store = {}

local COLUMNS = "id, contact_id, body, author_id, source, created_at, remind_at, reminded_at, seen_at"

-- Adds a note {contact_id, body, author_id, source, ref} and its search row. Returns its id, or nil when a note
-- with the same ref exists (an event delivered twice).
function store.add(note)
  local r = destek.db.exec("INSERT OR IGNORE INTO notes_notes(contact_id, body, author_id, source, ref, created_at)" ..
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", note.contact_id, note.body, note.author_id,
                           note.source or "agent", note.ref, os.time())
  if r.changes == 0 then return nil end
  destek.db.exec("INSERT INTO notes_search(rowid, body) VALUES (?1, ?2)", r.last_id, destek.text.fold(note.body))
  return r.last_id
end

function store.get(id)
  return destek.db.query("SELECT " .. COLUMNS .. " FROM notes_notes WHERE id = ?1", id)[1]
end

-- A page of a contact's notes, newest first: the rows (at most limit) and the id the next page starts after.
function store.page(contact_id, limit, after)
  local rows = destek.db.query("SELECT " .. COLUMNS .. " FROM notes_notes WHERE contact_id = ?1" ..
                               " AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3", contact_id, after, limit + 1)
  local next_after
  if #rows > limit then
    rows[#rows] = nil
    next_after = rows[#rows].id
  end
  return rows, next_after
end

function store.count(contact_id)
  return destek.db.query("SELECT count(*) AS n FROM notes_notes WHERE contact_id = ?1", contact_id)[1].n
end

-- Notes whose body has every word of what a person typed (folded, prefixes), best first.
function store.search(text, limit)
  local q = destek.text.fts_query(text)
  if not q then return {} end
  return destek.db.query("SELECT n.id, n.contact_id, n.body FROM notes_search s JOIN notes_notes n ON n.id = s.rowid" ..
                         " WHERE notes_search MATCH ?1 ORDER BY bm25(notes_search), n.id LIMIT ?2", q, limit)
end

function store.add_file(note_id, file_id, filename, info)
  return destek.db.exec("INSERT INTO notes_files(note_id, file_id, filename, type, size) VALUES (?1, ?2, ?3, ?4, ?5)",
                        note_id, file_id, filename, info.type, info.size).last_id
end

function store.files(note_id)
  return destek.db.query("SELECT id, file_id, filename, type, size FROM notes_files WHERE note_id = ?1 ORDER BY id",
                         note_id)
end

function store.file(note_id, id)
  return destek.db.query("SELECT id, file_id, filename, type, size FROM notes_files WHERE note_id = ?1 AND id = ?2",
                         note_id, id)[1]
end

function store.set(id, column, value)
  -- column is one of the module's own names, never a caller's text
  assert(column == "remind_at" or column == "reminded_at" or column == "seen_at")
  destek.db.exec("UPDATE notes_notes SET " .. column .. " = ?2 WHERE id = ?1", id, value)
end

return store

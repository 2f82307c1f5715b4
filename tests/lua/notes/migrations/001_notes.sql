-- Notes about a contact (the core's contacts, keyed by id; see contact.lua).
CREATE TABLE notes_notes (
  id          INTEGER PRIMARY KEY,
  contact_id  INTEGER NOT NULL,
  body        TEXT NOT NULL,
  author_id   INTEGER,                          -- the core user who wrote it; NULL for the module itself
  source      TEXT NOT NULL DEFAULT 'agent',    -- agent | ticket (the ticket.created subscriber) | service
  ref         TEXT UNIQUE,                      -- what it was made from ("ticket:42"): an event delivered twice adds one
  created_at  INTEGER NOT NULL,
  remind_at   INTEGER,
  reminded_at INTEGER,
  seen_at     INTEGER                           -- when the contact opened its link and said they saw it
);
CREATE INDEX notes_notes_contact ON notes_notes(contact_id, id);

-- Files kept with a note: the host stores the bytes (destek.files.save), this table what they are.
CREATE TABLE notes_files (
  id       INTEGER PRIMARY KEY,
  note_id  INTEGER NOT NULL REFERENCES notes_notes(id) ON DELETE CASCADE,
  file_id  TEXT NOT NULL,
  filename TEXT NOT NULL,
  type     TEXT NOT NULL,
  size     INTEGER NOT NULL
);
CREATE INDEX notes_files_note ON notes_files(note_id);

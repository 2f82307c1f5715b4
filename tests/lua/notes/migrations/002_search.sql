-- The search index: a note's body folded (destek.text.fold: İ/ı/I to i, ş to s, ...), rowid = the note's id.
CREATE VIRTUAL TABLE notes_search USING fts5(body);

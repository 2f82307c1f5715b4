-- The help centre: categories and articles, each with a text per language (tr, en; an article may have one only).
CREATE TABLE helpcentre_categories (
  id         INTEGER PRIMARY KEY,
  slug       TEXT NOT NULL UNIQUE,
  position   INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE helpcentre_category_texts (
  category_id INTEGER NOT NULL REFERENCES helpcentre_categories(id) ON DELETE CASCADE,
  lang        TEXT NOT NULL CHECK (lang IN ('tr', 'en')),
  title       TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (category_id, lang)
);

-- status: draft (nobody outside sees it), scheduled (published by the helpcentre.publish timer at publish_at),
-- published (public; published_at says since when).
CREATE TABLE helpcentre_articles (
  id           INTEGER PRIMARY KEY,
  slug         TEXT NOT NULL UNIQUE,
  category_id  INTEGER REFERENCES helpcentre_categories(id) ON DELETE SET NULL,
  position     INTEGER NOT NULL DEFAULT 0,
  status       TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'scheduled', 'published')),
  publish_at   INTEGER,
  published_at INTEGER,
  author_id    INTEGER,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  views        INTEGER NOT NULL DEFAULT 0,
  helpful_yes  INTEGER NOT NULL DEFAULT 0,
  helpful_no   INTEGER NOT NULL DEFAULT 0,
  suggested    INTEGER NOT NULL DEFAULT 0,   -- opened from a suggestion of the contact form
  deflections  INTEGER NOT NULL DEFAULT 0    -- ... and the customer left without writing
);
CREATE INDEX helpcentre_articles_category ON helpcentre_articles(category_id, status, position, id);
CREATE INDEX helpcentre_articles_status ON helpcentre_articles(status, id);

CREATE TABLE helpcentre_article_texts (
  article_id  INTEGER NOT NULL REFERENCES helpcentre_articles(id) ON DELETE CASCADE,
  lang        TEXT NOT NULL CHECK (lang IN ('tr', 'en')),
  title       TEXT NOT NULL,
  body        TEXT NOT NULL,                 -- Markdown, rendered by destek.markdown
  description TEXT NOT NULL DEFAULT '',      -- the page's meta description (and the list's summary)
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (article_id, lang)
);

-- Every change of an article's text in a language: who, when, what changed, and the text after the change.
CREATE TABLE helpcentre_versions (
  id          INTEGER PRIMARY KEY,
  article_id  INTEGER NOT NULL REFERENCES helpcentre_articles(id) ON DELETE CASCADE,
  lang        TEXT NOT NULL,
  title       TEXT,                          -- NULL: the language was removed
  body        TEXT,
  description TEXT,
  change      TEXT NOT NULL,                 -- "created", "title,body", "removed", "restored:12"
  user_id     INTEGER,
  user_name   TEXT,
  at          INTEGER NOT NULL
);
CREATE INDEX helpcentre_versions_article ON helpcentre_versions(article_id, id);

-- Images uploaded to an article (the bytes are the host's: destek.files).
CREATE TABLE helpcentre_images (
  id         INTEGER PRIMARY KEY,
  article_id INTEGER NOT NULL REFERENCES helpcentre_articles(id) ON DELETE CASCADE,
  file_id    TEXT NOT NULL UNIQUE,
  filename   TEXT NOT NULL,
  type       TEXT NOT NULL,
  size       INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX helpcentre_images_article ON helpcentre_images(article_id);

-- "Was this helpful?" answers; reason only with a no.
CREATE TABLE helpcentre_votes (
  id         INTEGER PRIMARY KEY,
  article_id INTEGER NOT NULL REFERENCES helpcentre_articles(id) ON DELETE CASCADE,
  lang       TEXT NOT NULL,
  helpful    INTEGER NOT NULL,
  reason     TEXT,
  at         INTEGER NOT NULL
);
CREATE INDEX helpcentre_votes_article ON helpcentre_votes(article_id, id);

-- Searches of the public pages that found nothing: what to write next. Keyed by the folded query.
CREATE TABLE helpcentre_misses (
  folded  TEXT PRIMARY KEY,
  query   TEXT NOT NULL,
  count   INTEGER NOT NULL,
  last_at INTEGER NOT NULL
);
-- Counters of the help centre as a whole (name -> n): searches.
CREATE TABLE helpcentre_counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL);

-- The search index: an article's title and body in one language, folded (destek.text.fold);
-- rowid = article id * 2 + (0 for tr, 1 for en).
CREATE VIRTUAL TABLE helpcentre_search USING fts5(title, body);

-- Saved views of the inbox (views.c): a filter with a name, the agent's own (user_id) or shared with everyone (NULL).
CREATE TABLE tkt_views (
  id         INTEGER PRIMARY KEY,
  user_id    INTEGER,                               -- core_users.id; NULL: shared
  name       TEXT NOT NULL,
  query      TEXT NOT NULL,                         -- the inbox's filters as a URL query (status=open&tag=kargo)
  created_at TEXT NOT NULL
);
CREATE INDEX tkt_views_user ON tkt_views(user_id);

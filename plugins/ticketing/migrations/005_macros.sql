-- Macros (macros.c): a canned public reply in Turkish and English with variables ({{customer.name}},
-- {{ticket.reference}}, {{order_number}}, {{agent.name}}), plus field changes (a JSON object: status, priority,
-- add_tags, remove_tags, assignee_id), applied together by POST /api/v1/tickets/{id}/macros/{macro_id}/apply.
CREATE TABLE tkt_macros (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
  body_tr    TEXT NOT NULL DEFAULT '',
  body_en    TEXT NOT NULL DEFAULT '',
  changes    TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- Every duration again by the value of each dimension a source names in median_by (a ticket's agent and team, a
-- conversation's channel), for exact medians per agent, team or channel over any range, walked in value order.
CREATE TABLE reports_dim_values (
  kind      TEXT NOT NULL,
  measure   TEXT NOT NULL,
  dim       TEXT NOT NULL,
  dvalue    TEXT NOT NULL,
  value     REAL NOT NULL,
  day       INTEGER NOT NULL,
  entity_id INTEGER NOT NULL,
  PRIMARY KEY (kind, measure, dim, dvalue, value, day, entity_id)
) WITHOUT ROWID;

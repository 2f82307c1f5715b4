-- destek: foreign_keys off
-- SMS campaigns (sms.lua, send.lua): the channel's CHECK widens to 'sms', so campaigns_campaigns is rebuilt (SQLite's
-- ALTER TABLE procedure; the host runs this step with foreign keys off and checks them after). Columns, rows and ids
-- stay. An SMS campaign's text is body_tr / body_en; its subjects are ''.
CREATE TABLE campaigns_campaigns_new (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel = 'email' OR channel = 'sms'),
  rules TEXT NOT NULL,
  subject_tr TEXT NOT NULL,
  body_tr TEXT NOT NULL,
  subject_en TEXT NOT NULL,
  body_en TEXT NOT NULL,
  per_second INTEGER NOT NULL CHECK (per_second BETWEEN 1 AND 2000),
  status TEXT NOT NULL CHECK (status = 'draft' OR status = 'scheduled' OR status = 'sending' OR status = 'paused'
                              OR status = 'done'),
  scheduled_at INTEGER,
  collected INTEGER NOT NULL DEFAULT 0,
  collect_after INTEGER NOT NULL DEFAULT 0,
  sec INTEGER NOT NULL DEFAULT 0,
  sec_count INTEGER NOT NULL DEFAULT 0,
  ticks INTEGER NOT NULL DEFAULT 0,
  buyers_done INTEGER NOT NULL DEFAULT 0,
  buyers_after INTEGER NOT NULL DEFAULT 0,
  created_by INTEGER,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER
);
INSERT INTO campaigns_campaigns_new SELECT id, name, channel, rules, subject_tr, body_tr, subject_en, body_en, per_second,
  status, scheduled_at, collected, collect_after, sec, sec_count, ticks, buyers_done, buyers_after, created_by,
  created_at, started_at, finished_at FROM campaigns_campaigns;
DROP TABLE campaigns_campaigns;
ALTER TABLE campaigns_campaigns_new RENAME TO campaigns_campaigns;

-- Special days with single-use coupon codes (specialdays.lua, coupons.lua) and what recipients did after a campaign:
-- clicks through signed links, orders placed within the window after their message (tracking.lua).

-- A campaign may draw one code of a pool for each recipient ({{coupon}}); a special day's run is a campaign of its
-- occasion for one year.
ALTER TABLE campaigns_campaigns ADD COLUMN pool_id INTEGER;
ALTER TABLE campaigns_campaigns ADD COLUMN occasion_id INTEGER;
ALTER TABLE campaigns_campaigns ADD COLUMN occasion_day TEXT;         -- the Turkish day of the run (YYYY-MM-DD)
CREATE UNIQUE INDEX campaigns_campaigns_occasion_day ON campaigns_campaigns(occasion_id, occasion_day)
  WHERE occasion_id IS NOT NULL;

-- Birthdays the shop knows (the module's own, keyed by the core's contact id): month and day only ("05-14").
CREATE TABLE campaigns_birthdays (
  contact_id INTEGER PRIMARY KEY,
  md TEXT NOT NULL CHECK (length(md) = 5)
);
CREATE INDEX campaigns_birthdays_md ON campaigns_birthdays(md, contact_id);

-- A special day: each contact's birthday, or a date (every year "MM-DD", or once "YYYY-MM-DD"), Turkish time. On the
-- day, from `hour`, its run sends the template to the segment's contacts with consent.
CREATE TABLE campaigns_occasions (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind = 'birthday' OR kind = 'date'),
  date TEXT,                            -- kind date: "MM-DD" or "YYYY-MM-DD"
  hour INTEGER NOT NULL DEFAULT 10 CHECK (hour BETWEEN 0 AND 23),
  channel TEXT NOT NULL CHECK (channel = 'email' OR channel = 'sms'),
  rules TEXT NOT NULL,
  subject_tr TEXT NOT NULL,
  body_tr TEXT NOT NULL,
  subject_en TEXT NOT NULL,
  body_en TEXT NOT NULL,
  per_second INTEGER NOT NULL CHECK (per_second BETWEEN 1 AND 2000),
  pool_id INTEGER,
  enabled INTEGER NOT NULL DEFAULT 1,
  next_day TEXT,                        -- the day of the next run its timer is set for (NULL: none)
  created_by INTEGER,
  created_at INTEGER NOT NULL
);

-- Once per contact, per occasion, per year: the row is written in the transaction that queues the message.
CREATE TABLE campaigns_occasion_sent (
  occasion_id INTEGER NOT NULL,
  year INTEGER NOT NULL,
  contact_id INTEGER NOT NULL,
  recipient_id INTEGER NOT NULL,
  PRIMARY KEY (occasion_id, year, contact_id)
) WITHOUT ROWID;

-- Coupon pools and their single-use codes, generated or imported from the shop. A code is given to one recipient
-- ever: recipient_id is UNIQUE, and a code is taken (recipient_id set) in the transaction that queues its message.
CREATE TABLE campaigns_coupon_pools (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  low_at INTEGER NOT NULL DEFAULT 50,   -- warn when this many or fewer are left
  created_by INTEGER,
  created_at INTEGER NOT NULL
);
CREATE TABLE campaigns_coupons (
  id INTEGER PRIMARY KEY,
  pool_id INTEGER NOT NULL REFERENCES campaigns_coupon_pools(id),
  code TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL CHECK (source = 'generated' OR source = 'imported'),
  recipient_id INTEGER UNIQUE,
  contact_id INTEGER,
  given_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX campaigns_coupons_free ON campaigns_coupons(pool_id, id) WHERE recipient_id IS NULL;
CREATE INDEX campaigns_coupons_pool ON campaigns_coupons(pool_id, recipient_id);
CREATE INDEX campaigns_coupons_contact ON campaigns_coupons(contact_id) WHERE contact_id IS NOT NULL;

-- Links of a campaign's template (only these are redirected to), and the clicks through them, per recipient.
CREATE TABLE campaigns_links (
  id INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL,
  url TEXT NOT NULL,
  UNIQUE (campaign_id, url)
);
CREATE TABLE campaigns_clicks (
  campaign_id INTEGER NOT NULL,         -- a campaign's figures are one range of the key
  recipient_id INTEGER NOT NULL,
  link_id INTEGER NOT NULL,
  first_at INTEGER NOT NULL,
  count INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (campaign_id, recipient_id, link_id)
) WITHOUT ROWID;

-- Orders placed by a recipient within campaigns.order_days after their message (order.created of the orders module).
CREATE TABLE campaigns_orders (
  campaign_id INTEGER NOT NULL,
  order_id INTEGER NOT NULL,
  recipient_id INTEGER NOT NULL,
  total_minor INTEGER NOT NULL DEFAULT 0,
  currency TEXT,
  placed_at INTEGER NOT NULL,
  PRIMARY KEY (campaign_id, order_id)
) WITHOUT ROWID;
